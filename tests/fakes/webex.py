"""A fake Webex messages API (``POST /v1/messages``).

    async with FakeWebex(token="bot-token") as webex:
        config = {"api_url": webex.messages_url, "room_id": webex.room_id,
                  "http_config": {"authorization": {"credentials": "bot-token"}}}
        webex.messages[0]["markdown"]

It answers as Webex documents: 401 without ``Authorization: Bearer <token>``, 400 without a
``markdown``/``text`` or with more than 7,439 bytes, 404 for a room the bot is not in, and
200 with the created message (``id``, ``roomId``, ``markdown``). Errors carry ``message``,
``errors`` and ``trackingId``.
"""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from fakes.http import FakeHTTPServer, RecordedRequest

__all__ = ["FakeWebex"]

MAX_BYTES = 7439


class FakeWebex(FakeHTTPServer):
    """Records created messages; the bot is a member of ``room_id`` only."""

    def __init__(self, *, token: str) -> None:
        self.token = token
        self.room_id = "Y2lzY29zcGFyazovL3VzL1JPT00vYWxlcnRz"
        self.messages: list[dict[str, Any]] = []
        super().__init__()

    def setup(self, app: web.Application) -> None:
        """Register ``POST /v1/messages``."""
        app.router.add_post("/v1/messages", self.route(self._create))

    @property
    def messages_url(self) -> str:
        """The URL to configure as ``api_url``."""
        return f"{self.url}/v1/messages"

    @staticmethod
    def error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
        """Webex's error answer."""
        body = {"message": message, "errors": [{"description": message}], "trackingId": "T"}
        return web.json_response(body, status=status, headers=headers)

    async def _create(self, request: RecordedRequest) -> web.StreamResponse:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return self.error(401, "The request requires a valid access token set in the header.")
        try:
            body = request.json()
        except ValueError:
            return self.error(400, "Unable to parse the request body")
        text = body.get("markdown") or body.get("text")
        if not text:
            return self.error(400, "Either text, markdown or files must be specified")
        if len(text.encode()) > MAX_BYTES:
            return self.error(400, "Message length limit exceeded")
        if body.get("roomId") != self.room_id:
            return self.error(404, "Could not find a room with provided ID.")
        created = {"id": str(uuid.uuid4()), "roomId": self.room_id, "markdown": text}
        self.messages.append(created)
        return web.json_response(created)
