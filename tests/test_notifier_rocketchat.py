"""The Rocket.Chat notifier against a fake Rocket.Chat REST API on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pydantic import ValidationError

from alertrouter.config.loader import parse_routing_config
from alertrouter.errors import NotifierError, PermanentNotifierError, RetryableNotifierError
from alertrouter.notifiers.http import Answer
from alertrouter.notifiers.rocketchat import (
    RocketchatConfig,
    RocketchatNotifier,
    rate_limit_wait,
)
from chat_factories import firing, resolved
from fakes.http import ScriptedAnswer
from fakes.rocketchat import FakeRocketChat

USER = "rCuSeR-0123456789"
TOKEN = "rCtOkEn-sEcReT-abcdef0123456789"

Make = Callable[..., RocketchatNotifier]


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """The shared HTTP session."""
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
async def rocket() -> AsyncIterator[FakeRocketChat]:
    """A running fake Rocket.Chat."""
    async with FakeRocketChat(user_id=USER, token=TOKEN) as fake:
        yield fake


@pytest.fixture
def make(session: aiohttp.ClientSession, rocket: FakeRocketChat) -> Make:
    """A RocketchatNotifier aimed at the fake, posting to #alerts."""

    def build(failures: list[int] | None = None, **fields: Any) -> RocketchatNotifier:
        base = {"api_url": rocket.url, "token_id": USER, "token": TOKEN, "channel": "#alerts"}
        config = RocketchatConfig.model_validate({**base, **fields})
        return RocketchatNotifier(
            config,
            session,
            receiver="team-chat",
            integration="rocketchat[0]",
            on_template_error=(lambda: failures.append(1)) if failures is not None else None,
        )

    return build


async def test_post_message_shape_and_auth(rocket: FakeRocketChat, make: Make) -> None:
    """chat.postMessage gets the token headers and Alertmanager's one-attachment message."""
    receipt = await make().send(firing(2))

    (request,) = rocket.requests
    assert request.path == "/api/v1/chat.postMessage"
    assert request.headers["X-Auth-Token"] == TOKEN
    assert request.headers["X-User-Id"] == USER
    assert receipt.message_id
    (message,) = rocket.messages
    assert message == {
        "channel": "#alerts",
        "attachments": [
            {
                "title": "[FIRING:2] HighLatency (critical)",
                "title_link": "http://alertmanager:9093/#/alerts?receiver=team-chat",
                "color": "red",
            }
        ],
    }


async def test_resolved_is_green(rocket: FakeRocketChat, make: Make) -> None:
    """A resolved group's attachment is green."""
    await make().send(resolved(1))

    assert rocket.messages[0]["attachments"][0]["color"] == "green"


async def test_templated_fields_fields_and_actions(rocket: FakeRocketChat, make: Make) -> None:
    """Texts, fields (short from short_fields) and button actions are rendered."""
    await make(
        channel="#{{ .CommonLabels.severity }}",
        emoji=":fire:",
        icon_url="https://example.com/am.png",
        text="{{ range .Alerts }}{{ .Annotations.summary }}\n{{ end }}",
        image_url="https://example.com/{{ .GroupLabels.alertname }}.png",
        short_fields=True,
        fields=[
            {"title": "Instances", "value": "{{ len .Alerts }}"},
            {"title": "Severity", "value": "{{ .CommonLabels.severity }}", "short": False},
        ],
        actions=[{"text": "Silence {{ .GroupLabels.alertname }}", "url": "https://am/silence"}],
    ).send(firing(2))

    (message,) = rocket.messages
    assert message["channel"] == "#critical"
    assert message["emoji"] == ":fire:"
    assert message["avatar"] == "https://example.com/am.png"
    attachment = message["attachments"][0]
    assert attachment["text"] == "p99 latency above 1s on api-0\np99 latency above 1s on api-1\n"
    assert attachment["image_url"] == "https://example.com/HighLatency.png"
    assert attachment["fields"] == [
        {"short": True, "title": "Instances", "value": "2"},
        {"short": False, "title": "Severity", "value": "critical"},
    ]
    assert attachment["actions"] == [
        {
            "type": "button",
            "text": "Silence HighLatency",
            "url": "https://am/silence",
            "is_webview": False,
            "msg_in_chat_window": False,
        }
    ]


async def test_long_title_is_cut(rocket: FakeRocketChat, make: Make) -> None:
    """The title is cut to 1,024 characters with "…", as Alertmanager cuts it."""
    await make(title="t" * 2000).send(firing(1))

    title = rocket.messages[0]["attachments"][0]["title"]
    assert len(title) == 1024
    assert title.endswith("…")


async def test_failing_template_falls_back_and_counts(rocket: FakeRocketChat, make: Make) -> None:
    """A colour template failing at send time gets Alertmanager's default colour, counted."""
    failures: list[int] = []
    await make(failures, color='{{ template "nope" . }}').send(firing(1))

    assert rocket.messages[0]["attachments"][0]["color"] == "red"
    assert failures == [1]


async def test_success_false_in_a_200_is_permanent(rocket: FakeRocketChat, make: Make) -> None:
    """A 200 saying ``success: false`` is a permanent clientError, as in Alertmanager."""
    rocket.fail_next(FakeRocketChat.soft_error("[invalid-channel]"))
    with pytest.raises(PermanentNotifierError) as caught:
        await make().send(firing(1))

    assert caught.value.reason == "clientError"
    assert "invalid-channel" in str(caught.value)


async def test_rate_limited_waits_for_the_reset(rocket: FakeRocketChat, make: Make) -> None:
    """The limiter's 429 is retryable after X-RateLimit-Reset."""
    rocket.fail_next(FakeRocketChat.rate_limited(20))
    with pytest.raises(RetryableNotifierError) as caught:
        await make().send(firing(1))

    assert caught.value.reason == "rateLimited"
    assert caught.value.retry_after is not None
    assert 15 < caught.value.retry_after <= 20


def test_rate_limit_wait_reads_the_error_text() -> None:
    """Without headers, the wait comes from "You must wait N seconds"."""
    answer = Answer(429, "", "... You must wait 21 seconds before trying ...", None, 0.0)
    assert rate_limit_wait(answer) == 21.0
    header = Answer(429, "", "", None, 0.0, {"x-ratelimit-reset": "61000"})
    assert rate_limit_wait(header, now=1.0) == 60.0


async def test_wrong_token_is_auth_error_and_masked(
    rocket: FakeRocketChat, session: aiohttp.ClientSession
) -> None:
    """The API's 401 is a permanent authError; no token shows in it."""
    config = RocketchatConfig.model_validate(
        {"api_url": rocket.url, "token_id": USER, "token": "wrong-token-0000", "channel": "#a"}
    )
    notifier = RocketchatNotifier(config, session, receiver="r", integration="rocketchat[0]")
    with pytest.raises(PermanentNotifierError) as caught:
        await notifier.send(firing(1))

    assert caught.value.reason == "authError"
    assert "wrong-token-0000" not in str(caught.value)


@pytest.mark.parametrize(
    ("answer", "error", "reason"),
    [
        (ScriptedAnswer(400, '{"success": false, "error": "bad"}'), PermanentNotifierError,
         "clientError"),
        (ScriptedAnswer(403), PermanentNotifierError, "authError"),
        (ScriptedAnswer(500), RetryableNotifierError, "serverError"),
        (ScriptedAnswer(200, "<html>proxy</html>", content_type="text/html"),
         RetryableNotifierError, "other"),
    ],
)  # fmt: skip
async def test_answers_are_classified(
    rocket: FakeRocketChat,
    make: Make,
    answer: ScriptedAnswer,
    error: type[NotifierError],
    reason: str,
) -> None:
    """4xx permanent (403 authError), 5xx and an unreadable 200 retried."""
    rocket.fail_next(answer)
    with pytest.raises(NotifierError) as caught:
        await make().send(firing(1))

    assert type(caught.value) is error
    assert caught.value.reason == reason


def test_globals_and_files_are_inherited(tmp_path: Path) -> None:
    """api_url, token and token_id come from ``global:`` (tokens from files) when unset."""
    (tmp_path / "token").write_text(TOKEN + "\n")
    routing = f"""\
global:
  rocketchat_api_url: https://chat.example.com/
  rocketchat_token_id: {USER}
  rocketchat_token_file: token
route: {{receiver: rc}}
receivers:
  - name: rc
    rocketchat_configs:
      - channel: '#alerts'
"""
    path = tmp_path / "rc.yml"
    path.write_text(routing)
    config = parse_routing_config(routing, str(path), {}, base_dir=tmp_path)
    (spec,) = config.receivers["rc"].integrations
    assert spec.config.post_message_url == "https://chat.example.com/api/v1/chat.postMessage"
    assert spec.config.token.get_secret_value() == TOKEN
    assert spec.config.resolved_wanted is False
    assert TOKEN not in repr(spec.config)


def test_config_requires_credentials() -> None:
    """token and token_id are required; the default API is open.rocket.chat's."""
    with pytest.raises(ValidationError, match="token_id"):
        RocketchatConfig.model_validate({"token": TOKEN})
    with pytest.raises(ValidationError, match="token"):
        RocketchatConfig.model_validate({"token_id": USER})
    config = RocketchatConfig.model_validate({"token": TOKEN, "token_id": USER})
    assert config.post_message_url == "https://open.rocket.chat/api/v1/chat.postMessage"
