"""A fake Rocket.Chat REST API (``POST /api/v1/chat.postMessage``) that answers as Rocket.Chat.

    async with FakeRocketChat(user_id="u1", token="t0k") as rc:
        config = {"api_url": rc.url, "token_id": "u1", "token": "t0k", "channel": "#alerts"}
        ...
        rc.messages                                # every accepted body, parsed

It answers 200 ``{"success": true, "message": {...}}`` for a valid post; 401 ``You must be
logged in to do this.`` without the right ``X-Auth-Token`` / ``X-User-Id``; 400 ``success:
false`` without a channel. ``soft_error`` is a 200 that says ``success: false``, and
``rate_limited`` the limiter's 429 (``X-RateLimit-Reset`` in epoch ms, "wait N seconds").
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from aiohttp import web

from fakes.http import FakeHTTPServer, RecordedRequest, ScriptedAnswer

__all__ = ["FakeRocketChat"]


class FakeRocketChat(FakeHTTPServer):
    """chat.postMessage for one user's personal access token."""

    def __init__(
        self, user_id: str = "rCuSeRiD0123", token: str = "rCpErSoNaLtOkEn-0123456789"
    ) -> None:
        self.user_id = user_id
        self.token = token
        self.messages: list[dict[str, Any]] = []
        super().__init__()

    def setup(self, app: web.Application) -> None:
        """The REST endpoint."""
        app.router.add_post("/api/v1/chat.postMessage", self.route(self._post))

    @staticmethod
    def soft_error(error: str) -> ScriptedAnswer:
        """HTTP 200 whose body says ``success: false``."""
        return ScriptedAnswer(200, json.dumps({"success": False, "error": error}))

    @staticmethod
    def rate_limited(seconds: int, reset_in_ms: bool = True) -> ScriptedAnswer:
        """The API rate limiter's 429."""
        error = (
            "Error, too many requests. Please slow down. You must wait "
            f"{seconds} seconds before trying this endpoint again. [error-too-many-requests]"
        )
        headers = {"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "0"}
        if reset_in_ms:
            headers["X-RateLimit-Reset"] = str(int((time.time() + seconds) * 1000))
        return ScriptedAnswer(429, json.dumps({"success": False, "error": error}), headers)

    async def _post(self, request: RecordedRequest) -> web.StreamResponse:
        if (
            request.headers.get("X-Auth-Token") != self.token
            or request.headers.get("X-User-Id") != self.user_id
        ):
            return web.json_response(
                {"status": "error", "message": "You must be logged in to do this."}, status=401
            )
        try:
            body = json.loads(request.body)
        except ValueError:
            return web.json_response({"success": False, "error": "invalid JSON"}, status=400)
        if not isinstance(body, dict) or not (body.get("channel") or body.get("roomId")):
            error = (
                'The parameter "roomId" or "channel" is required [error-roomId-param-not-provided]'
            )
            return web.json_response({"success": False, "error": error}, status=400)
        self.messages.append(body)
        message = {"_id": uuid.uuid4().hex[:17], "rid": "GENERAL", "msg": body.get("text", "")}
        return web.json_response(
            {"ts": int(time.time() * 1000), "channel": body["channel"], "message": message,
             "success": True}
        )  # fmt: skip
