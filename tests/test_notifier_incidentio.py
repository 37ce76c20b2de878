"""The incident.io notifier against a fake incident.io alert source on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pydantic import ValidationError

from alertrouter.errors import NotifierError, PermanentNotifierError, RetryableNotifierError
from alertrouter.notifiers.incidentio import IncidentioConfig, IncidentioNotifier
from fakes.http import ScriptedAnswer
from fakes.incidentio import FakeIncidentio
from notifier_kit import GROUP_KEY, alert, notification

TOKEN = "inc_alert_source_0123456789abcdef"

Make = Callable[..., IncidentioNotifier]


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """The shared HTTP session."""
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
async def inc() -> AsyncIterator[FakeIncidentio]:
    """A fake alert source knowing TOKEN."""
    async with FakeIncidentio(token=TOKEN) as fake:
        yield fake


@pytest.fixture
def make(session: aiohttp.ClientSession, inc: FakeIncidentio) -> Make:
    """An IncidentioNotifier aimed at the fake, plus extra fields."""

    def build(**fields: Any) -> IncidentioNotifier:
        raw = {"url": inc.source_url, "alert_source_token": TOKEN, **fields}
        config = IncidentioConfig.model_validate(raw)
        return IncidentioNotifier(config, session, receiver="oncall", integration="incidentio[0]")

    return build


async def test_body_is_alertmanagers_version_1(inc: FakeIncidentio, make: Make) -> None:
    """The webhook body with version "1" and the groupKey, sent with the Bearer token."""
    receipt = await make().send(notification())
    (event,) = inc.events
    assert inc.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert list(event) == [
        "receiver", "status", "alerts", "groupLabels", "commonLabels", "commonAnnotations",
        "externalURL", "version", "groupKey", "truncatedAlerts",
    ]  # fmt: skip
    assert (event["version"], event["groupKey"], event["status"]) == ("1", GROUP_KEY, "firing")
    assert len(event["alerts"]) == 2
    assert receipt.message_id == GROUP_KEY


async def test_resolve_closes_by_group_key(inc: FakeIncidentio, make: Make) -> None:
    """The resolved group is posted with the same groupKey, which closes incident.io's alert."""
    notifier = make()
    await notifier.send(notification())
    await notifier.send(notification(alert(1, "resolved"), alert(2, "resolved")))
    assert inc.alerts == {GROUP_KEY: "resolved"}


async def test_max_alerts_truncates(inc: FakeIncidentio, make: Make) -> None:
    """``max_alerts`` keeps the first alerts and counts the rest in truncatedAlerts."""
    await make(max_alerts=1).send(notification(alert(1), alert(2), alert(3)))
    (event,) = inc.events
    assert (len(event["alerts"]), event["truncatedAlerts"]) == (1, 2)


async def test_oversized_body_keeps_one_alert(inc: FakeIncidentio, make: Make) -> None:
    """A body over 512 KB is sent with its first alert only, as Alertmanager does."""
    big = [alert(i) | {"annotations": {"description": "x" * 100_000}} for i in range(8)]
    receipt = await make().send(notification(*big))
    assert len(inc.events[0]["alerts"]) == 1
    assert receipt.detail["alerts"] == 1


async def test_authorization_from_http_config(
    inc: FakeIncidentio, session: aiohttp.ClientSession
) -> None:
    """``http_config.authorization`` may carry the token instead of alert_source_token."""
    config = IncidentioConfig.model_validate(
        {"url": inc.source_url, "http_config": {"authorization": {"credentials": TOKEN}}}
    )
    await IncidentioNotifier(config, session, receiver="r", integration="incidentio[0]").send(
        notification()
    )
    assert len(inc.events) == 1


@pytest.mark.parametrize(
    ("answer", "error", "reason", "retry_after"),
    [
        (ScriptedAnswer(422, json.dumps({"errors": [{"message": "bad"}]})),
         PermanentNotifierError, "clientError", None),
        (ScriptedAnswer(401), PermanentNotifierError, "authError", None),
        (ScriptedAnswer(429, headers={"Retry-After": "6"}), RetryableNotifierError,
         "rateLimited", 6.0),
        (ScriptedAnswer(500), RetryableNotifierError, "serverError", None),
    ],
)  # fmt: skip
async def test_answers_are_classified(
    inc: FakeIncidentio,
    make: Make,
    answer: ScriptedAnswer,
    error: type[NotifierError],
    reason: str,
    retry_after: float | None,
) -> None:
    """4xx permanent (401 authError), 429 after Retry-After, 5xx retried."""
    inc.fail_next(answer)
    with pytest.raises(NotifierError) as caught:
        await make().send(notification())
    assert type(caught.value) is error
    assert caught.value.reason == reason
    assert getattr(caught.value, "retry_after", None) == retry_after


def test_url_and_token_files(tmp_path: Path) -> None:
    """``url_file`` and ``alert_source_token_file`` are read relative to the config."""
    (tmp_path / "url").write_text("https://api.incident.io/v2/alert_events/alertmanager/x\n")
    (tmp_path / "token").write_text(TOKEN)
    config = IncidentioConfig.model_validate(
        {"url_file": "url", "alert_source_token_file": "token"}, context={"base_dir": tmp_path}
    )
    assert config.url == "https://api.incident.io/v2/alert_events/alertmanager/x"
    assert config.alert_source_token is not None
    assert config.alert_source_token.get_secret_value() == TOKEN
    assert TOKEN not in repr(config)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "one of url or url_file"),
        ({"url": "http://x", "url_file": "f"}, "at most one of url & url_file"),
        ({"url": "http://x", "alert_source_token": "t",
          "http_config": {"authorization": {"credentials": "c"}}}, "cannot specify"),
        ({"url": "http://x", "http_config": {}}, "at least one of alert_source_token"),
    ],
)  # fmt: skip
def test_config_is_checked_as_alertmanager(fields: dict[str, Any], message: str) -> None:
    """URL and token rules are Alertmanager's."""
    with pytest.raises(ValidationError, match=message):
        IncidentioConfig.model_validate(fields)
