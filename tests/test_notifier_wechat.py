"""The WeChat notifier against a fake WeChat Work API on 127.0.0.1."""

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
from alertrouter.notifiers.wechat import WeChatConfig, WeChatNotifier
from fakes.http import ScriptedAnswer
from fakes.wechat import FakeWeChat
from notifier_kit import alert, notification

CORP = "ww0000000000000000"
SECRET = "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"

Make = Callable[..., WeChatNotifier]


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """The shared HTTP session."""
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
async def wx() -> AsyncIterator[FakeWeChat]:
    """A fake WeChat Work API knowing CORP and SECRET."""
    async with FakeWeChat(corp_id=CORP, secret=SECRET) as fake:
        yield fake


@pytest.fixture
def make(session: aiohttp.ClientSession, wx: FakeWeChat) -> Make:
    """A WeChatNotifier aimed at the fake (as amconfigs/030 configures it), plus fields."""

    def build(**fields: Any) -> WeChatNotifier:
        raw = {
            "corp_id": CORP, "api_secret": SECRET, "api_url": wx.api_url, "to_party": "2",
            "agent_id": "1000002", **fields,
        }  # fmt: skip
        config = WeChatConfig.model_validate(raw)
        return WeChatNotifier(config, session, receiver="oncall", integration="wechat[0]")

    return build


async def test_token_then_default_text_message(wx: FakeWeChat, make: Make) -> None:
    """A token is fetched, then a text message with Alertmanager's default content is sent."""
    receipt = await make().send(notification())
    (message,) = wx.messages
    assert message["msgtype"] == "text"
    assert (message["toparty"], message["agentid"], message["safe"]) == ("2", "1000002", "0")
    assert "touser" not in message  # empty, so left out as Go's omitempty does
    assert message["text"]["content"].startswith("[FIRING:2] DiskFull")
    assert receipt.message_id
    assert wx.tokens_issued == 1


async def test_token_is_kept_until_it_expires(wx: FakeWeChat, make: Make) -> None:
    """The token is reused until ``expires_in`` (less a margin) has passed on the clock."""
    notifier = make()
    now = [1000.0]
    notifier.clock = lambda: now[0]
    await notifier.send(notification())
    now[0] += 6000
    await notifier.send(notification())
    assert wx.tokens_issued == 1
    now[0] += 1000  # past 7200 - 300 seconds
    await notifier.send(notification())
    assert wx.tokens_issued == 2


@pytest.mark.parametrize("stale", ["expired", "invalid"])
async def test_stale_token_is_renewed_and_resent(wx: FakeWeChat, make: Make, stale: str) -> None:
    """errcode 42001 (expired) or 40014 (invalid) renews the token and sends once more."""
    notifier = make()
    await notifier.send(notification())
    if stale == "expired":
        wx.expire_tokens()
    else:
        notifier._token = "not-a-token-we-issued"
    receipt = await notifier.send(notification())
    assert receipt.detail["token_renewed"] is True
    assert wx.tokens_issued == 2
    assert len(wx.messages) == 2


async def test_markdown_and_templated_recipients(wx: FakeWeChat, make: Make) -> None:
    """``message_type: markdown`` sends markdown; recipients and agent id are templates."""
    await make(
        message_type="markdown",
        message="**{{ .CommonLabels.alertname }}**",
        to_user="{{ .CommonLabels.severity }}-team",
        to_tag="ops",
        agent_id="{{ if true }}42{{ end }}",
    ).send(notification())
    (message,) = wx.messages
    assert message["markdown"] == {"content": "**DiskFull**"}
    assert (message["touser"], message["totag"], message["agentid"]) == (
        "critical-team",
        "ops",
        "42",
    )
    assert "text" not in message


@pytest.mark.parametrize(("kind", "limit"), [("text", 2048), ("markdown", 4096)])
async def test_content_is_cut_to_wechats_limit(
    wx: FakeWeChat, make: Make, kind: str, limit: int
) -> None:
    """Content over WeChat's byte limit is cut, never inside a character, with a marker."""
    await make(message_type=kind, message="告警" * 3000).send(notification())
    content = wx.messages[0][kind]["content"]
    assert len(content.encode()) <= limit
    assert content.endswith("…")


@pytest.mark.parametrize(
    ("fields", "reason"),
    [({"api_secret": "wrong-secret"}, "authError"), ({"corp_id": "ww-wrong"}, "authError")],
)
async def test_bad_secret_or_corp_is_auth_error(
    make: Make, fields: dict[str, str], reason: str
) -> None:
    """gettoken's 40001 (secret) and 40013 (corp id) are permanent authErrors, masked."""
    with pytest.raises(PermanentNotifierError) as caught:
        await make(**fields).send(notification())
    assert caught.value.reason == reason
    assert "wrong-secret" not in str(caught.value)


@pytest.mark.parametrize(
    ("answer", "error", "reason"),
    [
        (ScriptedAnswer(200, '{"errcode":45009,"errmsg":"api freq out of limit"}'),
         RetryableNotifierError, "rateLimited"),
        (ScriptedAnswer(200, '{"errcode":-1,"errmsg":"system busy"}'), RetryableNotifierError,
         "serverError"),
        (ScriptedAnswer(200, '{"errcode":40003,"errmsg":"invalid userid"}'),
         PermanentNotifierError, "clientError"),
        (ScriptedAnswer(502), RetryableNotifierError, "serverError"),
        (ScriptedAnswer(429, headers={"Retry-After": "5"}), RetryableNotifierError,
         "rateLimited"),
    ],
)  # fmt: skip
async def test_answers_are_classified(
    wx: FakeWeChat,
    make: Make,
    answer: ScriptedAnswer,
    error: type[NotifierError],
    reason: str,
) -> None:
    """WeChat's errcodes and HTTP statuses become Alertmanager's reasons."""
    notifier = make()
    await notifier.send(notification())  # the token is cached: the next request is the send
    wx.fail_next(answer)
    with pytest.raises(NotifierError) as caught:
        await notifier.send(notification())
    assert type(caught.value) is error
    assert caught.value.reason == reason


async def test_access_token_never_shows(wx: FakeWeChat, make: Make) -> None:
    """A token WeChat echoes back in an error is masked like the configured secret."""
    notifier = make()
    await notifier.send(notification(alert(1)))
    token = notifier._token
    assert token is not None
    wx.fail_next(ScriptedAnswer(200, f'{{"errcode":40003,"errmsg":"bad {token} {SECRET}"}}'))
    with pytest.raises(PermanentNotifierError) as caught:
        await notifier.send(notification())
    assert token not in str(caught.value)
    assert SECRET not in str(caught.value)


def test_globals_fill_url_secret_and_corp(tmp_path: Path) -> None:
    """``wechat_api_url``, ``wechat_api_secret`` and ``wechat_api_corp_id`` fill unset fields."""
    routing = textwrap.dedent(
        f"""\
        global:
          wechat_api_url: http://127.0.0.1:9/cgi-bin/
          wechat_api_secret: {SECRET}
          wechat_api_corp_id: {CORP}
        route: {{receiver: r}}
        receivers:
          - name: r
            wechat_configs:
              - to_user: someone
        """
    )
    config = parse_routing_config(routing, "wx.yml", {}, base_dir=tmp_path)
    (spec,) = config.receivers["r"].integrations
    assert isinstance(spec.config, WeChatConfig)
    assert spec.config.api_secret is not None
    assert (spec.config.api_url, spec.config.corp_id) == ("http://127.0.0.1:9/cgi-bin/", CORP)
    assert spec.config.api_secret.get_secret_value() == SECRET
    assert not spec.config.resolved_wanted  # Alertmanager's default for WeChat


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "no global Wechat ApiSecret set"),
        ({"api_secret": "s", "message_type": "news"}, "message_type"),
    ],
)
def test_config_is_checked_as_alertmanager(fields: dict[str, Any], message: str) -> None:
    """A missing secret or an unknown message type is refused."""
    with pytest.raises(ValidationError, match=message):
        WeChatConfig.model_validate(fields)
