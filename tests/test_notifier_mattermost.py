"""The Mattermost notifier against a fake Mattermost incoming webhook on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from pydantic import ValidationError

from alertrouter.config.loader import parse_routing_config
from alertrouter.errors import NotifierError, PermanentNotifierError, RetryableNotifierError
from alertrouter.notifiers.mattermost import MattermostConfig, MattermostNotifier
from chat_factories import firing, make_alert, make_notification, resolved
from fakes.http import ScriptedAnswer
from fakes.mattermost import FakeMattermost

HOOK = "hOoKsEcReT-mattermost-4321"

Make = Callable[..., MattermostNotifier]


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """The shared HTTP session."""
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
async def mattermost() -> AsyncIterator[FakeMattermost]:
    """A running fake Mattermost."""
    async with FakeMattermost(hook_id=HOOK) as fake:
        yield fake


@pytest.fixture
def make(session: aiohttp.ClientSession, mattermost: FakeMattermost) -> Make:
    """A MattermostNotifier aimed at the fake; ``failures`` counts template errors."""

    def build(failures: list[int] | None = None, **fields: Any) -> MattermostNotifier:
        config = MattermostConfig.model_validate(
            {"webhook_url": mattermost.webhook_url(), **fields}
        )
        return MattermostNotifier(
            config,
            session,
            receiver="team-chat",
            integration="mattermost[0]",
            on_template_error=(lambda: failures.append(1)) if failures is not None else None,
        )

    return build


async def test_defaults_are_alertmanagers(mattermost: FakeMattermost, make: Make) -> None:
    """Unset fields give Alertmanager's post: username, one danger attachment, subject, link."""
    receipt = await make().send(firing(2))

    assert receipt.provider_status == "200 OK"
    (post,) = mattermost.posts
    assert set(post) == {"username", "attachments"}
    assert post["username"] == "Alertmanager"
    (attachment,) = post["attachments"]
    link = "http://alertmanager:9093/#/alerts?receiver=team-chat"
    assert attachment["title"] == "[FIRING:2] HighLatency (critical)"
    assert attachment["title_link"] == link
    assert attachment["fallback"] == f"[FIRING:2] HighLatency (critical) | {link}"
    assert attachment["color"] == "danger"
    assert attachment["text"].startswith("\n\n# Alerts Firing:\n")


async def test_resolved_is_good(mattermost: FakeMattermost, make: Make) -> None:
    """A resolved group's attachment is coloured good."""
    await make().send(resolved(1))

    assert mattermost.posts[0]["attachments"][0]["color"] == "good"


async def test_templated_top_level_fields(mattermost: FakeMattermost, make: Make) -> None:
    """channel, username, icon and attachment fields are templates over Alertmanager's data."""
    await make(
        channel="town-{{ .CommonLabels.severity }}",
        username="am-{{ .Status }}",
        icon_emoji=":fire:",
        pretext="{{ len .Alerts }} alerts",
        fields=[{"title": "Severity", "value": "{{ .CommonLabels.severity }}", "short": True}],
        type="custom_alert",
        props={"card": "**{{ .GroupLabels.alertname }}**"},
    ).send(firing(2))

    (post,) = mattermost.posts
    assert post["channel"] == "town-critical"
    assert post["username"] == "am-firing"
    assert post["icon_emoji"] == ":fire:"
    assert post["type"] == "custom_alert"
    assert post["props"] == {"card": "**HighLatency**"}
    attachment = post["attachments"][0]
    assert attachment["pretext"] == "2 alerts"
    assert attachment["fields"] == [{"title": "Severity", "value": "critical", "short": True}]


async def test_configured_attachments_replace_the_default(
    mattermost: FakeMattermost, make: Make
) -> None:
    """With ``attachments``, each is rendered and ``text`` becomes the post's own text."""
    await make(
        text="{{ .Status }}",
        attachments=[{"title": "{{ .CommonLabels.alertname }}", "color": "#FF0000"}],
    ).send(firing(1))

    (post,) = mattermost.posts
    assert post["text"] == "firing"
    assert post["attachments"] == [{"title": "HighLatency", "color": "#FF0000"}]


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        ({"priority": "URGENT", "requested_ack": True, "persistent_notifications": True},
         {"priority": "urgent", "requested_ack": True, "persistent_notifications": True}),
        ({"priority": "important", "requested_ack": True, "persistent_notifications": True},
         {"priority": "important", "requested_ack": True}),
        ({"priority": "whatever", "requested_ack": True}, {"priority": "standard"}),
    ],
)  # fmt: skip
async def test_priority_is_normalised(
    mattermost: FakeMattermost, make: Make, given: dict[str, Any], sent: dict[str, Any]
) -> None:
    """priority is lower-cased, standard when unknown; ack and persistence only where valid."""
    await make(priority=given).send(firing(1))

    assert mattermost.posts[0]["priority"] == sent


async def test_failing_template_falls_back_and_counts(
    mattermost: FakeMattermost, make: Make
) -> None:
    """A title template failing at send time gets Alertmanager's default title, counted."""
    failures: list[int] = []
    await make(failures, title='{{ template "nope" . }}').send(firing(1))

    assert mattermost.posts[0]["attachments"][0]["title"].startswith("[FIRING:1] HighLatency")
    assert failures == [1]


async def test_long_text_is_cut(mattermost: FakeMattermost, make: Make) -> None:
    """A text over 16,383 characters is cut with "…" and accepted."""
    alerts = [make_alert(index=i, summary="y" * 1000) for i in range(40)]
    await make().send(make_notification(alerts))

    text = mattermost.posts[0]["attachments"][0]["text"]
    assert len(text) == 16383
    assert text.endswith("…")


@pytest.mark.parametrize(
    ("answer", "error", "reason", "retry_after"),
    [
        (FakeMattermost.app_error(400, "web.incoming_webhook.text.app_error"),
         PermanentNotifierError, "clientError", None),
        (FakeMattermost.app_error(403, "web.incoming_webhook.channel_locked.app_error"),
         PermanentNotifierError, "authError", None),
        (ScriptedAnswer(429, "", {"Retry-After": "2"}), RetryableNotifierError, "rateLimited",
         2.0),
        (ScriptedAnswer(500), RetryableNotifierError, "serverError", None),
    ],
)  # fmt: skip
async def test_answers_are_classified(
    mattermost: FakeMattermost,
    make: Make,
    answer: ScriptedAnswer,
    error: type[NotifierError],
    reason: str,
    retry_after: float | None,
) -> None:
    """4xx permanent (403 authError), 429 waits Retry-After, 5xx retried."""
    mattermost.fail_next(answer)
    with pytest.raises(NotifierError) as caught:
        await make().send(firing(1))

    assert type(caught.value) is error
    assert caught.value.reason == reason
    assert getattr(caught.value, "retry_after", None) == retry_after


async def test_unknown_hook_is_permanent_and_masked(
    mattermost: FakeMattermost, session: aiohttp.ClientSession
) -> None:
    """An unknown hook is a permanent clientError that never quotes the hook id."""
    config = MattermostConfig.model_validate(
        {"webhook_url": mattermost.webhook_url("no-such-hook-9")}
    )
    notifier = MattermostNotifier(config, session, receiver="r", integration="mattermost[0]")
    with pytest.raises(PermanentNotifierError) as caught:
        await notifier.send(firing(1))

    assert "invalid.app_error" in str(caught.value)
    assert "no-such-hook-9" not in str(caught.value)


def test_global_webhook_url_is_inherited() -> None:
    """``global: mattermost_webhook_url`` fills an entry without its own URL."""
    routing = f"""\
global:
  mattermost_webhook_url: https://mm.example/hooks/{HOOK}
route: {{receiver: mm}}
receivers:
  - name: mm
    mattermost_configs:
      - channel: alerts
      - webhook_url: https://other.example/hooks/own-hook-id
"""
    config = parse_routing_config(routing, "mm.yml", {})
    first, second = config.receivers["mm"].integrations
    assert first.config.url == f"https://mm.example/hooks/{HOOK}"
    assert second.config.url == "https://other.example/hooks/own-hook-id"
    assert first.config.resolved_wanted is True


def test_config_requires_a_url_and_valid_fields() -> None:
    """No URL anywhere is an error, as is a field without its value."""
    with pytest.raises(ValidationError, match="webhook_url"):
        MattermostConfig.model_validate({"channel": "x"})
    with pytest.raises(ValidationError, match="value"):
        MattermostConfig.model_validate(
            {"webhook_url": "https://mm.example/hooks/x", "fields": [{"title": "t"}]}
        )
