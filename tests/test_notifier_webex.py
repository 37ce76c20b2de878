"""The Webex notifier against a fake Webex messages API on 127.0.0.1."""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pydantic import ValidationError

from alertrouter.config.loader import parse_routing_config
from alertrouter.errors import NotifierError, PermanentNotifierError, RetryableNotifierError
from alertrouter.notifiers.webex import WebexConfig, WebexNotifier
from fakes.http import ScriptedAnswer
from fakes.webex import FakeWebex
from notifier_kit import alert, notification

TOKEN = "NjY4YjQ2ZmYtZjE5Ni00bot-token-0123456789"

Make = Callable[..., WebexNotifier]


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """The shared HTTP session."""
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
async def webex() -> AsyncIterator[FakeWebex]:
    """A fake Webex knowing TOKEN."""
    async with FakeWebex(token=TOKEN) as fake:
        yield fake


@pytest.fixture
def make(session: aiohttp.ClientSession, webex: FakeWebex) -> Make:
    """A WebexNotifier aimed at the fake's room, plus extra fields."""

    def build(**fields: Any) -> WebexNotifier:
        raw = {
            "api_url": webex.messages_url,
            "room_id": webex.room_id,
            "http_config": {"authorization": {"credentials": TOKEN}},
            **fields,
        }
        config = WebexConfig.model_validate(raw)
        return WebexNotifier(config, session, receiver="oncall", integration="webex[0]")

    return build


async def test_default_message_to_the_room(webex: FakeWebex, make: Make) -> None:
    """The bot token is a Bearer header; the body is Alertmanager's markdown and roomId."""
    receipt = await make().send(notification())
    (created,) = webex.messages
    request = webex.requests[0]
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert set(request.json()) == {"markdown", "roomId"}
    assert "disk on db-1 is full" in created["markdown"]
    assert receipt.message_id == created["id"]
    assert receipt.detail == {"truncated": False}


async def test_templated_message_and_room(webex: FakeWebex, make: Make) -> None:
    """Message and room id are templates over the group."""
    await make(
        message="**{{ .Status }}** {{ .CommonLabels.alertname }}",
        room_id="{{ if true }}" + webex.room_id + "{{ end }}",
    ).send(notification(alert(1, "resolved")))
    assert webex.messages[0]["markdown"] == "**resolved** DiskFull"


async def test_message_is_cut_to_webex_limit(webex: FakeWebex, make: Make) -> None:
    """A message over 7,439 bytes is cut (never inside a character) with a marker."""
    receipt = await make(message="ü" * 5000).send(notification())
    text = webex.messages[0]["markdown"]
    assert len(text.encode()) <= 7439
    assert text.endswith("…")
    assert receipt.detail == {"truncated": True}


@pytest.mark.parametrize(
    ("answer", "error", "reason", "retry_after"),
    [
        (ScriptedAnswer(400, '{"message":"bad"}'), PermanentNotifierError, "clientError", None),
        (ScriptedAnswer(404, '{"message":"no room"}'), PermanentNotifierError, "clientError",
         None),
        (ScriptedAnswer(403), PermanentNotifierError, "authError", None),
        (ScriptedAnswer(429, headers={"Retry-After": "9"}), RetryableNotifierError,
         "rateLimited", 9.0),
        (ScriptedAnswer(503), RetryableNotifierError, "serverError", None),
    ],
)  # fmt: skip
async def test_answers_are_classified(
    webex: FakeWebex,
    make: Make,
    answer: ScriptedAnswer,
    error: type[NotifierError],
    reason: str,
    retry_after: float | None,
) -> None:
    """4xx permanent (401/403 authError), 429 after Retry-After, 5xx retried."""
    webex.fail_next(answer)
    with pytest.raises(NotifierError) as caught:
        await make().send(notification())
    assert type(caught.value) is error
    assert caught.value.reason == reason
    assert getattr(caught.value, "retry_after", None) == retry_after


async def test_wrong_token_is_an_auth_error(make: Make) -> None:
    """Webex's 401 for a bad token is a permanent authError that never shows the token."""
    notifier = make(http_config={"authorization": {"credentials": "wrong-token-123"}})
    with pytest.raises(PermanentNotifierError) as caught:
        await notifier.send(notification())
    assert caught.value.reason == "authError"
    assert "wrong-token-123" not in repr(notifier.config)


def test_global_api_url(tmp_path: Path) -> None:
    """``webex_api_url`` fills an unset ``api_url``."""
    routing = textwrap.dedent(
        """\
        global:
          webex_api_url: http://127.0.0.1:9/v1/messages
        route: {receiver: r}
        receivers:
          - name: r
            webex_configs:
              - room_id: room
                http_config: {authorization: {credentials: t0ken}}
        """
    )
    config = parse_routing_config(routing, "webex.yml", {}, base_dir=tmp_path)
    (spec,) = config.receivers["r"].integrations
    assert isinstance(spec.config, WebexConfig)
    assert spec.config.api_url == "http://127.0.0.1:9/v1/messages"
    assert spec.config.resolved_wanted


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"http_config": {"authorization": {"credentials": "t"}}}, "missing room_id"),
        ({"room_id": "r"}, "http_config.authorization"),
        ({"room_id": "r", "http_config": {"bearer_token": "t"}}, "http_config.authorization"),
    ],
)
def test_config_is_checked_as_alertmanager(fields: dict[str, Any], message: str) -> None:
    """A room id and ``http_config.authorization`` are required, as in Alertmanager."""
    with pytest.raises(ValidationError, match=message):
        WebexConfig.model_validate(fields)
