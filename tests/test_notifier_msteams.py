"""The Teams connector notifier (MessageCard) against a fake Office 365 connector on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pydantic import ValidationError

from alertrouter.errors import NotifierError, PermanentNotifierError, RetryableNotifierError
from alertrouter.notifiers.msteams import (
    COLOR_FIRING,
    COLOR_RESOLVED,
    MAX_MESSAGE_BYTES,
    MSTeamsConfig,
    MSTeamsNotifier,
)
from alertrouter.notifiers.webhook import encode_go_json
from alertrouter.templates import from_globs
from chat_factories import firing, make_alert, make_notification, resolved
from fakes.http import ScriptedAnswer
from fakes.msteams import FakeTeamsConnector

SECRET = "c0nNeCtOrSeCrEt-9876543210"

Make = Callable[..., MSTeamsNotifier]


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """The shared HTTP session."""
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
async def teams() -> AsyncIterator[FakeTeamsConnector]:
    """A running fake connector."""
    async with FakeTeamsConnector(secret=SECRET) as fake:
        yield fake


@pytest.fixture
def make(session: aiohttp.ClientSession, teams: FakeTeamsConnector) -> Make:
    """An MSTeamsNotifier aimed at the fake; ``failures`` counts template errors."""

    def build(failures: list[int] | None = None, **fields: Any) -> MSTeamsNotifier:
        config = MSTeamsConfig.model_validate({"webhook_url": teams.webhook_url(), **fields})
        return MSTeamsNotifier(
            config,
            session,
            receiver="team-chat",
            integration="msteams[0]",
            on_template_error=(lambda: failures.append(1)) if failures is not None else None,
        )

    return build


async def test_firing_group_is_alertmanagers_message_card(
    teams: FakeTeamsConnector, make: Make
) -> None:
    """A firing group posts Alertmanager's MessageCard: subject title and summary, red theme."""
    receipt = await make().send(firing(2))

    assert receipt.provider_status == "200 OK"
    (card,) = teams.cards
    assert list(card) == ["@context", "type", "title", "summary", "text", "themeColor"]
    assert card["@context"] == "http://schema.org/extensions"
    assert card["type"] == "MessageCard"
    assert card["title"] == card["summary"] == "[FIRING:2] HighLatency (critical)"
    assert card["themeColor"] == COLOR_FIRING
    assert card["text"].startswith("\n\n# Alerts Firing:\n\nLabels:\n  - alertname = HighLatency\n")
    assert "Source: http://prometheus:9090/graph?g0.expr=up1" in card["text"]
    assert "# Alerts Resolved:" not in card["text"]


async def test_resolved_group_is_green(teams: FakeTeamsConnector, make: Make) -> None:
    """A resolved group is titled RESOLVED with the green theme."""
    await make().send(resolved(2))

    (card,) = teams.cards
    assert card["title"] == "[RESOLVED] HighLatency (critical)"
    assert card["themeColor"] == COLOR_RESOLVED
    assert "# Alerts Resolved:" in card["text"]


async def test_templated_fields(teams: FakeTeamsConnector, make: Make) -> None:
    """title, summary and text are Go templates over Alertmanager's data."""
    await make(
        title="{{ .Status | toUpper }} {{ .CommonLabels.alertname }}",
        summary="{{ len .Alerts }} alerts",
        text="{{ range .Alerts }}**{{ .Labels.instance }}** {{ end }}",
    ).send(firing(2))

    (card,) = teams.cards
    assert (card["title"], card["summary"]) == ("FIRING HighLatency", "2 alerts")
    assert card["text"] == "**api-0** **api-1** "


async def test_failing_template_falls_back_and_counts(
    teams: FakeTeamsConnector, make: Make
) -> None:
    """A text template failing at send time gets Alertmanager's default text, counted."""
    failures: list[int] = []
    await make(failures, text="{{ .Nope.Deeper }}").send(firing(1))

    assert "# Alerts Firing:" in teams.cards[0]["text"]
    assert failures == [1]


async def test_big_group_is_cut_to_28_kb(teams: FakeTeamsConnector, make: Make) -> None:
    """200 alerts with long annotations fit the connector's 28 KB, the text ending in "…"."""
    alerts = [make_alert(index=i, summary="s & <x> " * 40) for i in range(200)]
    await make().send(make_notification(alerts))

    (card,) = teams.cards
    assert card["text"].endswith("…")
    assert len(encode_go_json(card)) <= MAX_MESSAGE_BYTES
    assert len(teams.requests[0].body) <= MAX_MESSAGE_BYTES


async def test_throttled_200_is_retried(teams: FakeTeamsConnector, make: Make) -> None:
    """A 200 quoting Teams' HTTP error 429 is a retryable rateLimited, not a delivery."""
    teams.fail_next(FakeTeamsConnector.quoted_error(429))
    with pytest.raises(RetryableNotifierError) as caught:
        await make().send(firing(1))

    assert caught.value.reason == "rateLimited"
    assert "returned HTTP error 429" in str(caught.value)


async def test_quoted_4xx_in_a_200_is_permanent(teams: FakeTeamsConnector, make: Make) -> None:
    """A 200 quoting Teams' 400 is a permanent clientError."""
    teams.fail_next(FakeTeamsConnector.quoted_error(400))
    with pytest.raises(PermanentNotifierError) as caught:
        await make().send(firing(1))

    assert caught.value.reason == "clientError"


async def test_other_200_bodies_are_delivered(teams: FakeTeamsConnector, make: Make) -> None:
    """A 200 with any other body is delivered, as Alertmanager takes it."""
    teams.fail_next(ScriptedAnswer(200, "ok", content_type="text/plain"))

    receipt = await make().send(firing(1))

    assert receipt.detail == {"answer": "ok"}


@pytest.mark.parametrize(
    ("answer", "error", "reason", "retry_after"),
    [
        (ScriptedAnswer(400, "Summary or Text is required."), PermanentNotifierError,
         "clientError", None),
        (ScriptedAnswer(403, "Forbidden"), PermanentNotifierError, "authError", None),
        (ScriptedAnswer(410, "Connector configuration not found"), PermanentNotifierError,
         "clientError", None),
        (ScriptedAnswer(429, "", {"Retry-After": "4"}), RetryableNotifierError, "rateLimited", 4.0),
        (ScriptedAnswer(500), RetryableNotifierError, "serverError", None),
        (ScriptedAnswer(503), RetryableNotifierError, "serverError", None),
    ],
)  # fmt: skip
async def test_answers_are_classified(
    teams: FakeTeamsConnector,
    make: Make,
    answer: ScriptedAnswer,
    error: type[NotifierError],
    reason: str,
    retry_after: float | None,
) -> None:
    """4xx are permanent (403 authError), 429 waits Retry-After, 5xx retried."""
    teams.fail_next(answer)
    with pytest.raises(NotifierError) as caught:
        await make().send(firing(1))

    assert type(caught.value) is error
    assert caught.value.reason == reason
    assert getattr(caught.value, "retry_after", None) == retry_after


async def test_unknown_webhook_is_permanent_and_masked(
    teams: FakeTeamsConnector, session: aiohttp.ClientSession
) -> None:
    """A removed connector (410) is permanent, and its URL secret is never quoted."""
    config = MSTeamsConfig.model_validate({"webhook_url": teams.webhook_url("gone-secret-4242")})
    notifier = MSTeamsNotifier(config, session, receiver="r", integration="msteams[0]")
    with pytest.raises(PermanentNotifierError) as caught:
        await notifier.send(firing(1))

    assert "410" in str(caught.value)
    assert "gone-secret-4242" not in str(caught.value)


def test_config_follows_alertmanager() -> None:
    """webhook_url is required; resolves are sent by default, as Alertmanager."""
    config = MSTeamsConfig.model_validate(
        {"webhook_url": "https://x.webhook.office.com/w/" + SECRET}
    )
    assert config.resolved_wanted is True
    assert SECRET not in repr(config)
    with pytest.raises(ValidationError, match="webhook_url"):
        MSTeamsConfig.model_validate({"title": "x"})


# Alertmanager 0.34's msteams.default.text for one firing and one resolved alert, as amtool
# renders it with Alertmanager's template/default.tmpl.
ALERTMANAGER_TEXT = (
    "\n\n# Alerts Firing:\n\nLabels:\n  - alertname = HighLatency\n  - instance = api-0\n"
    "  - severity = critical\n\nAnnotations:\n  - summary = p99 high\n\n"
    "Source: http://prom/graph\n\n\n\n\n# Alerts Resolved:\n\nLabels:\n"
    "  - alertname = HighLatency\n  - instance = api-1\n  - severity = critical\n\n"
    "Annotations:\n  - summary = p99 high\n\nSource: http://prom/graph\n\n\n\n"
)


async def test_default_text_is_alertmanagers(teams: FakeTeamsConnector, make: Make) -> None:
    """The default text is exactly what Alertmanager's msteams.default.text renders."""
    alerts = [make_alert(index=0), make_alert(status="resolved", index=1)]
    for alert in alerts:
        alert["annotations"] = {"summary": "p99 high"}
        alert["generatorURL"] = "http://prom/graph"
    await make().send(make_notification(alerts))

    assert teams.cards[0]["text"] == ALERTMANAGER_TEXT


async def test_routing_file_may_redefine_the_default_names(
    teams: FakeTeamsConnector, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    """A ``templates:`` file defining msteams.default.text replaces the default, as Alertmanager."""
    (tmp_path / "teams.tmpl").write_text(
        '{{ define "msteams.default.text" }}{{ len .Alerts }} alerts, see runbook{{ end }}'
    )
    config = MSTeamsConfig.model_validate({"webhook_url": teams.webhook_url()})
    notifier = MSTeamsNotifier(
        config,
        session,
        receiver="team-chat",
        integration="msteams[0]",
        templates=from_globs([str(tmp_path / "*.tmpl")]),
    )
    await notifier.send(firing(2))

    assert teams.cards[0]["text"] == "2 alerts, see runbook"
    assert teams.cards[0]["title"] == "[FIRING:2] HighLatency (critical)"
