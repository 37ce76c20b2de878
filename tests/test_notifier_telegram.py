"""Telegram notifier against a fake Bot API on loopback: message shape, HTML, limits, answers."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pydantic import ValidationError

from alertrouter.config.loader import load_routing_config
from alertrouter.errors import NotifierError, PermanentNotifierError, RetryableNotifierError
from alertrouter.notifiers.base import Notification
from alertrouter.notifiers.telegram import TelegramConfig, TelegramNotifier, fit_html
from fakes.http import ScriptedAnswer
from fakes.telegram import FakeTelegram

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
CHAT = -1001234567890


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TOKEN, chats={CHAT}) as fake:
        yield fake


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


def make(session: aiohttp.ClientSession, tg: FakeTelegram, **fields: Any) -> TelegramNotifier:
    config = TelegramConfig.model_validate(
        {"bot_token": TOKEN, "chat_id": CHAT, "api_url": tg.url, **fields}
    )
    return TelegramNotifier(config, session, receiver="tg", integration="telegram[0]")


def note(status: str = "firing", **annotations: str) -> Notification:
    alert = {
        "status": status,
        "labels": {"alertname": "DiskFull", "severity": "critical", "instance": "db<1>"},
        "annotations": annotations or {"summary": "disk & inode usage > 95%"},
        "startsAt": "2024-05-01T12:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.example:9090/graph",
        "fingerprint": "aa01",
    }
    return Notification(
        receiver="tg",
        integration="telegram[0]",
        alerts=(alert,),
        group={"status": status, "groupKey": "{}:{}", "externalURL": "http://am.example"},
    )


async def test_request_shape_and_default_message(
    tg: FakeTelegram, session: aiohttp.ClientSession
) -> None:
    """sendMessage goes to /bot<token>/ with the chat, HTML parse mode, no link preview, and
    Alertmanager's telegram.default.message, HTML-escaped; the receipt is the message id."""
    receipt = await make(session, tg).send(note())
    (message,) = tg.messages
    assert tg.requests[0].path == f"/bot{TOKEN}/sendMessage"
    assert message["chat_id"] == CHAT
    assert message["parse_mode"] == "HTML"
    assert message["disable_notification"] is False
    assert message["link_preview_options"] == {"is_disabled": True}
    assert "message_thread_id" not in message
    assert "disk &amp; inode usage &gt; 95%" in message["text"]
    assert "db&lt;1&gt;" in message["text"]
    assert (receipt.provider_status, receipt.message_id) == ("200", "1")


async def test_thread_silence_parse_mode_and_template(
    tg: FakeTelegram, session: aiohttp.ClientSession
) -> None:
    """``message_thread_id``, ``disable_notifications``, ``parse_mode`` and a templated
    ``message`` reach the request as Telegram names them."""
    notifier = make(
        session,
        tg,
        message_thread_id=42,
        disable_notifications=True,
        parse_mode="MarkdownV2",
        message="*{{ .Status | toUpper }}* {{ .CommonLabels.alertname }}",
    )
    await notifier.send(note())
    (message,) = tg.messages
    assert message["text"] == "*FIRING* DiskFull"
    assert (message["message_thread_id"], message["disable_notification"]) == (42, True)
    assert message["parse_mode"] == "MarkdownV2"


async def test_resolved_notification_is_sent(
    tg: FakeTelegram, session: aiohttp.ClientSession
) -> None:
    """A resolve is a message of its own (send_resolved defaults to true, as Alertmanager's)."""
    notifier = make(session, tg, message="{{ .Status }}")
    await notifier.send(note())
    await notifier.send(note("resolved"))
    assert [m["text"] for m in tg.messages] == ["firing", "resolved"]
    assert notifier.config.resolved_wanted


async def test_long_html_message_is_cut_and_still_parses(
    tg: FakeTelegram, session: aiohttp.ClientSession
) -> None:
    """A message over 4,096 characters is cut with a marker, tags closed, entities whole, and
    Telegram (the fake parses the HTML) accepts it."""
    notifier = make(session, tg, message="<b>{{ .CommonAnnotations.summary }}</b>")
    await notifier.send(note(summary="a&b " * 3000))
    (message,) = tg.messages
    assert len(message["text"]) <= 4096
    assert message["text"].endswith("…</b>")


def test_fit_html_never_cuts_a_tag_or_an_entity() -> None:
    """Cuts fall before a half tag or entity, and open tags are closed after the marker."""
    text = "<i>" + "x" * 10 + "&amp;" + "<a href='u'>link</a>" + "</i>"
    for limit in range(8, len(text)):
        cut = fit_html(text, limit)
        assert len(cut) <= limit
        assert cut.count("<i>") == cut.count("</i>")
        assert "&am…" not in cut
        assert "<a h" not in cut or "</a>" in cut


async def test_plain_text_is_truncated_to_4096(
    tg: FakeTelegram, session: aiohttp.ClientSession
) -> None:
    """Without a parse mode the message is cut to 4,096 characters with a marker."""
    await make(session, tg, parse_mode="", message="{{ .CommonAnnotations.summary }}").send(
        note(summary="y" * 5000)
    )
    (message,) = tg.messages
    assert len(message["text"]) == 4096
    assert "parse_mode" not in message


async def test_flood_control_waits_the_retry_after_of_the_body(
    tg: FakeTelegram, session: aiohttp.ClientSession
) -> None:
    """Telegram's 429 carries ``parameters.retry_after`` (no header): retried after it."""
    tg.flood_wait = 35
    with pytest.raises(RetryableNotifierError) as caught:
        await make(session, tg).send(note())
    assert (caught.value.reason, caught.value.retry_after) == ("rateLimited", 35.0)


@pytest.mark.parametrize(
    ("answer", "error", "reason"),
    [
        (ScriptedAnswer(400, json.dumps({"ok": False, "error_code": 400,
                                         "description": "Bad Request: chat not found"})),
         PermanentNotifierError, "clientError"),
        (ScriptedAnswer(403, json.dumps({"ok": False, "error_code": 403,
                                         "description": "Forbidden: bot was kicked"})),
         PermanentNotifierError, "authError"),
        (ScriptedAnswer(502, "Bad Gateway", content_type="text/plain"), RetryableNotifierError,
         "serverError"),
    ],
)  # fmt: skip
async def test_answers_are_classified(
    tg: FakeTelegram,
    session: aiohttp.ClientSession,
    answer: ScriptedAnswer,
    error: type[NotifierError],
    reason: str,
) -> None:
    """400 is a permanent clientError, 403 (bot removed) authError, 5xx retried."""
    tg.fail_next(answer)
    with pytest.raises(NotifierError) as caught:
        await make(session, tg).send(note())
    assert (type(caught.value), caught.value.reason) == (error, reason)


async def test_wrong_token_is_an_auth_error_and_the_token_never_shows(
    tg: FakeTelegram, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """A wrong token is Telegram's 401 (authError); the token, which travels in the URL path,
    is in no error, repr or log, even when the connection fails."""
    caplog.set_level(logging.DEBUG)
    wrong = TelegramNotifier(
        TelegramConfig.model_validate(
            {"bot_token": "999:wrong", "chat_id": CHAT, "api_url": tg.url}
        ),
        session,
        receiver="tg",
        integration="telegram[0]",
    )
    with pytest.raises(PermanentNotifierError) as caught:
        await wrong.send(note())
    assert caught.value.reason == "authError"
    notifier = make(session, tg)
    await tg.stop()
    with pytest.raises(RetryableNotifierError) as refused:
        await notifier.send(note())
    for text in (str(caught.value), str(refused.value), repr(notifier.config), caplog.text):
        assert TOKEN not in text
        assert "999:wrong" not in text


def test_globals_token_file_and_chat_id_file(tmp_path: Path) -> None:
    """``global.telegram_api_url``/``telegram_bot_token`` fill what an entry lacks; token and
    chat id may come from files next to the config."""
    (tmp_path / "token").write_text(TOKEN + "\n")
    (tmp_path / "chat").write_text(f"{CHAT}\n")
    file = tmp_path / "am.yml"
    file.write_text(
        """\
global:
  telegram_api_url: https://tg-proxy.example
  telegram_bot_token: 1:global
route: {receiver: t}
receivers:
  - name: t
    telegram_configs:
      - chat_id: 17
      - {bot_token_file: token, chat_id_file: chat, parse_mode: ''}
"""
    )
    config = load_routing_config(file)
    first, second = (s.config for s in config.receivers["t"].integrations)
    assert isinstance(first, TelegramConfig)
    assert isinstance(second, TelegramConfig)
    assert (first.api_url, first.chat_id, first.parse_mode) == (
        "https://tg-proxy.example",
        17,
        "HTML",
    )
    assert first.bot_token is not None
    assert first.bot_token.get_secret_value() == "1:global"
    assert second.bot_token is not None
    assert (second.bot_token.get_secret_value(), second.chat_id) == (TOKEN, CHAT)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"chat_id": 1}, "missing bot_token or bot_token_file"),
        ({"bot_token": "t"}, "missing chat_id or chat_id_file"),
        ({"bot_token": "t", "chat_id": 1, "parse_mode": "html"}, "parse_mode"),
        ({"bot_token": "t", "chat_id": "YOUR_CHAT_ID"}, "chat_id"),
    ],
)
def test_config_errors_as_alertmanager_words_them(fields: dict[str, Any], message: str) -> None:
    """A missing token or chat, an unknown parse mode or a non-numeric chat id is refused."""
    with pytest.raises(ValidationError, match=message):
        TelegramConfig.model_validate(fields)
