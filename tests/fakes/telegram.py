"""A fake Telegram Bot API (``POST /bot<token>/sendMessage``) that checks what Telegram checks.

    async with FakeTelegram(token=TOKEN, chats={-100123}) as tg:
        config = {"bot_token": TOKEN, "chat_id": -100123, "api_url": tg.url}
        ...
        assert tg.messages[0]["text"].startswith("[FIRING")

``messages`` holds every accepted sendMessage body. Answers are Telegram's JSON envelope
(``ok``, ``result`` / ``error_code``, ``description``): 401 for a wrong token, 400 for an
unknown chat, an empty or too long text, or HTML Telegram cannot parse; ``flood_wait`` makes
the next send a 429 whose ``parameters.retry_after`` says how long to wait (no header).
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from typing import Any

from aiohttp import web

from fakes.http import FakeHTTPServer, RecordedRequest

__all__ = ["FakeTelegram", "flood_answer"]

MAX_TEXT = 4096
HTML_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
             "span", "tg-spoiler", "tg-emoji", "blockquote"}  # fmt: skip
_ENTITY = re.compile(r"&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")


class FakeTelegram(FakeHTTPServer):
    """sendMessage for one bot token and a set of chats it may post to."""

    def __init__(self, token: str, chats: set[int]) -> None:
        self.token = token
        self.chats = chats
        self.messages: list[dict[str, Any]] = []
        self.flood_wait: int | None = None
        super().__init__()

    def setup(self, app: web.Application) -> None:
        """Register ``POST /bot{token}/sendMessage``."""
        app.router.add_post("/bot{token}/sendMessage", self.route(self._send))

    async def _send(self, request: RecordedRequest) -> web.StreamResponse:
        if request.path != f"/bot{self.token}/sendMessage":
            return _error(401, "Unauthorized")
        if self.flood_wait is not None:
            wait, self.flood_wait = self.flood_wait, None
            return flood_answer(wait)
        try:
            body = json.loads(request.body)
        except ValueError:
            return _error(400, "Bad Request: can't parse JSON")
        if body.get("chat_id") not in self.chats:
            return _error(400, "Bad Request: chat not found")
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            return _error(400, "Bad Request: message text is empty")
        visible = _visible_text(text) if body.get("parse_mode") == "HTML" else text
        if visible is None:
            return _error(400, "Bad Request: can't parse entities: unsupported or unclosed tag")
        if len(visible) > MAX_TEXT:
            return _error(400, "Bad Request: message is too long")
        self.messages.append(body)
        chat = {"id": body["chat_id"], "type": "supergroup"}
        result = {"message_id": len(self.messages), "chat": chat, "text": visible}
        return web.json_response({"ok": True, "result": result})


def flood_answer(wait: int) -> web.Response:
    """Telegram's flood control: 429 with ``parameters.retry_after`` in the body only."""
    return web.json_response(
        {"ok": False, "error_code": 429, "description": f"Too Many Requests: retry after {wait}",
         "parameters": {"retry_after": wait}},
        status=429,
    )  # fmt: skip


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []
        self.bad = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.bad |= tag not in HTML_TAGS
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.bad = True

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _visible_text(text: str) -> str | None:
    """The text Telegram shows for ``text`` in HTML mode, or None when it cannot parse it."""
    stray = re.sub(r"<[^<>]*>", "", _ENTITY.sub("", text))
    if "<" in stray or ">" in stray or "&" in stray:
        return None  # Telegram wants <, > and & escaped outside tags
    checker = _Checker()
    checker.feed(text)
    checker.close()
    if checker.bad or checker.stack:
        return None
    return "".join(checker.text)


def _error(code: int, description: str) -> web.Response:
    return web.json_response(
        {"ok": False, "error_code": code, "description": description}, status=code
    )
