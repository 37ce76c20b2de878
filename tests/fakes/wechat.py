"""A fake WeChat Work API: ``GET /cgi-bin/gettoken`` and ``POST /cgi-bin/message/send``.

    async with FakeWeChat(corp_id="ww00", secret="s" * 43) as wx:
        config = {"corp_id": "ww00", "api_secret": ..., "api_url": wx.api_url, ...}
        wx.messages[0]["text"]["content"]; wx.expire_tokens()

As WeChat documents it, every answer is 200 with ``errcode``/``errmsg``: gettoken gives an
``access_token`` and ``expires_in`` for the right corp id (40013 otherwise) and secret (40001);
message/send wants a token it issued (40014; 42001 once ``expire_tokens`` ran), ``agentid``, a
recipient, and content within 2,048 (text) or 4,096 (markdown) bytes; it answers a ``msgid``.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiohttp import web

from fakes.http import FakeHTTPServer, RecordedRequest

__all__ = ["FakeWeChat"]

LIMITS = {"text": 2048, "markdown": 4096}


class FakeWeChat(FakeHTTPServer):
    """Issues tokens (``tokens_issued``) and records accepted messages (``messages``)."""

    def __init__(self, *, corp_id: str, secret: str) -> None:
        self.corp_id = corp_id
        self.secret = secret
        self.messages: list[dict[str, Any]] = []
        self.tokens_issued = 0
        self._live: set[str] = set()
        self._expired: set[str] = set()
        super().__init__()

    def setup(self, app: web.Application) -> None:
        """Register the two endpoints."""
        app.router.add_get("/cgi-bin/gettoken", self.route(self._gettoken))
        app.router.add_post("/cgi-bin/message/send", self.route(self._send))

    @property
    def api_url(self) -> str:
        """The URL to configure as ``api_url`` (ends with a slash, as Alertmanager's)."""
        return f"{self.url}/cgi-bin/"

    def expire_tokens(self) -> None:
        """Every issued token expires now (the next send gets 42001)."""
        self._expired |= self._live
        self._live.clear()

    @staticmethod
    def answer(code: int, message: str, **extra: Any) -> web.Response:
        """WeChat's answer: always 200, the outcome in ``errcode``."""
        return web.json_response({"errcode": code, "errmsg": message, **extra})

    async def _gettoken(self, request: RecordedRequest) -> web.StreamResponse:
        query = {k: v[0] for k, v in parse_qs(urlsplit(request.path).query).items()}
        if query.get("corpid") != self.corp_id:
            return self.answer(40013, "invalid corpid")
        if query.get("corpsecret") != self.secret:
            return self.answer(40001, "invalid credential")
        token = uuid.uuid4().hex * 2
        self._live.add(token)
        self.tokens_issued += 1
        return self.answer(0, "ok", access_token=token, expires_in=7200)

    async def _send(self, request: RecordedRequest) -> web.StreamResponse:
        token = parse_qs(urlsplit(request.path).query).get("access_token", [""])[0]
        if token in self._expired:
            return self.answer(42001, "access_token expired")
        if token not in self._live:
            return self.answer(40014, "invalid access_token")
        try:
            message = request.json()
        except ValueError:
            return self.answer(40016, "invalid button size")  # WeChat's answer to bad JSON
        kind = message.get("msgtype")
        if kind not in LIMITS:
            return self.answer(40008, "invalid message type")
        if not message.get("agentid"):
            return self.answer(40056, "invalid agentid")
        if not any(message.get(k) for k in ("touser", "toparty", "totag")):
            return self.answer(40031, "invalid user list")
        content = (message.get(kind) or {}).get("content", "")
        if not content or len(content.encode()) > LIMITS[kind]:
            return self.answer(45002, "content size out of limit")
        self.messages.append(message)
        return self.answer(0, "ok", msgid=uuid.uuid4().hex)
