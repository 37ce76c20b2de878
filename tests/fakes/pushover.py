"""A fake Pushover API (``/1/messages.json``, ``/1/receipts/cancel_by_tag/{tag}.json``).

    async with FakePushover(token="a" * 30, user="u" * 30) as po:
        config = {"token": ..., "user_key": ..., "api_url": po.messages_url}
        po.messages[0]["title"]; po.cancelled == ["<tag>"]

It checks what Pushover checks (https://pushover.net/api): a form body, the application token
and user key (400 with ``"token": "invalid"`` / ``"user": "invalid"`` and ``errors``), a
non-empty message within the limits, emergency priority's ``retry`` >= 30 and ``expire`` <=
10800. Success is ``{"status": 1, "request": ...}``, with a ``receipt`` for priority 2.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from fakes.http import FakeHTTPServer, RecordedRequest

__all__ = ["FakePushover"]

LIMITS = {"title": 250, "message": 1024, "url": 512, "url_title": 100}


class FakePushover(FakeHTTPServer):
    """Accepts valid messages into ``messages``; tag cancellations go to ``cancelled``."""

    def __init__(self, *, token: str, user: str) -> None:
        self.token = token
        self.user = user
        self.messages: list[dict[str, str]] = []
        self.cancelled: list[str] = []
        self.emergencies: dict[str, str] = {}  # receipt -> tags, until cancelled
        super().__init__()

    def setup(self, app: web.Application) -> None:
        """Register the two endpoints."""
        app.router.add_post("/1/messages.json", self.route(self._message))
        app.router.add_post("/1/receipts/cancel_by_tag/{tag}.json", self.route(self._cancel))

    @property
    def messages_url(self) -> str:
        """The URL to configure as ``api_url``."""
        return f"{self.url}/1/messages.json"

    @staticmethod
    def error(status: int, *errors: str, **flags: str) -> web.Response:
        """Pushover's error answer."""
        body: dict[str, Any] = {**flags, "errors": list(errors), "status": 0}
        body["request"] = str(uuid.uuid4())
        return web.json_response(body, status=status)

    def _form(self, request: RecordedRequest) -> dict[str, str] | None:
        if not request.headers.get("Content-Type", "").startswith(
            "application/x-www-form-urlencoded"
        ):
            return None
        return dict(parse_qsl(request.body.decode(), keep_blank_values=True))

    async def _message(self, request: RecordedRequest) -> web.StreamResponse:
        form = self._form(request)
        if form is None:
            return self.error(400, "want a form body")
        if form.get("token") != self.token:
            return self.error(400, "application token is invalid", token="invalid")
        if form.get("user") != self.user:
            return self.error(400, "user identifier is not a valid user", user="invalid")
        if not form.get("message"):
            return self.error(400, "message cannot be blank", message="cannot be blank")
        for name, limit in LIMITS.items():
            if len(form.get(name, "")) > limit:
                return self.error(400, f"{name} is too long ({limit} characters max)")
        body: dict[str, Any] = {"status": 1, "request": str(uuid.uuid4())}
        if form.get("priority") == "2":
            if int(form.get("retry", "0")) < 30 or int(form.get("expire", "0")) > 10800:
                return self.error(400, "retry must be >= 30 and expire <= 10800")
            body["receipt"] = uuid.uuid4().hex[:30]
            self.emergencies[body["receipt"]] = form.get("tags", "")
        self.messages.append(form)
        return web.json_response(body)

    async def _cancel(self, request: RecordedRequest) -> web.StreamResponse:
        form = self._form(request)
        if form is None or form.get("token") != self.token:
            return self.error(400, "application token is invalid", token="invalid")
        tag = request.path.rsplit("/", 1)[-1].removesuffix(".json")
        hit = [r for r, tags in self.emergencies.items() if tag in tags.split(",")]
        for receipt in hit:
            del self.emergencies[receipt]
        self.cancelled.append(tag)
        return web.json_response({"status": 1, "canceled": len(hit), "request": "r"})
