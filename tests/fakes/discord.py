"""A fake Discord webhook endpoint (``POST /api/webhooks/{id}/{token}``) that validates as Discord.

    async with FakeDiscord(token="t0ken") as discord:
        config = {"webhook_url": discord.webhook_url()}
        ...
        discord.messages                          # every accepted body, parsed
        discord.fail_next(FakeDiscord.rate_limited(2.5))

It answers 204 for a valid message; 401 ``Invalid Webhook Token`` (code 50027) for another
token; 400 ``Cannot send an empty message`` (50006) without content or embeds; 400 ``Invalid
Form Body`` (50035) with ``errors`` when a text exceeds Discord's limits; 415 without JSON.
"""

from __future__ import annotations

import json
import math
from typing import Any

from aiohttp import web

from fakes.http import FakeHTTPServer, RecordedRequest, ScriptedAnswer

__all__ = ["FakeDiscord"]

WEBHOOK_ID = "112233445566778899"
LIMITS = {"content": 2000, "title": 256, "description": 4096, "username": 80}
MAX_EMBEDS = 10
MAX_EMBED_TOTAL = 6000


class FakeDiscord(FakeHTTPServer):
    """Discord's execute-webhook endpoint for one webhook id and token."""

    def __init__(self, token: str = "dIsCoRdToKeN-0123456789abcdef") -> None:
        self.token = token
        self.messages: list[dict[str, Any]] = []
        super().__init__()

    def setup(self, app: web.Application) -> None:
        """POST /api/webhooks/{id}/{token}."""
        app.router.add_post("/api/webhooks/{id}/{token}", self.route(self._execute))

    def webhook_url(self, token: str | None = None) -> str:
        """The webhook URL on this fake (with another ``token`` to provoke a 401)."""
        return f"{self.url}/api/webhooks/{WEBHOOK_ID}/{token or self.token}"

    @staticmethod
    def rate_limited(retry_after: float, header: str | None = None) -> ScriptedAnswer:
        """Discord's 429: ``retry_after`` seconds in the body, the header rounded up."""
        body = {"message": "You are being rate limited.", "retry_after": retry_after}
        body["global"] = False
        wait = header if header is not None else str(math.ceil(retry_after))
        return ScriptedAnswer(429, json.dumps(body), {"Retry-After": wait})

    @staticmethod
    def error(status: int, message: str, code: int = 0) -> ScriptedAnswer:
        """An error as Discord words it: ``{"message": ..., "code": ...}``."""
        return ScriptedAnswer(status, json.dumps({"message": message, "code": code}))

    async def _execute(self, request: RecordedRequest) -> web.StreamResponse:
        parts = request.path.split("?")[0].split("/")
        if parts[-2] != WEBHOOK_ID or parts[-1] != self.token:
            return web.json_response(
                {"message": "Invalid Webhook Token", "code": 50027}, status=401
            )
        if not request.headers.get("Content-Type", "").startswith("application/json"):
            return web.json_response({"message": "Unsupported content type"}, status=415)
        try:
            body = json.loads(request.body)
        except ValueError:
            return web.json_response({"message": "400: Bad Request", "code": 0}, status=400)
        if not isinstance(body, dict):
            return web.json_response({"message": "400: Bad Request", "code": 0}, status=400)
        errors = _problems(body)
        if errors:
            return web.json_response(
                {"message": "Invalid Form Body", "code": 50035, "errors": errors}, status=400
            )
        if not body.get("content") and not body.get("embeds"):
            return web.json_response(
                {"message": "Cannot send an empty message", "code": 50006}, status=400
            )
        self.messages.append(body)
        return web.Response(status=204)


def _problems(body: dict[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for key in ("content", "username"):
        if len(str(body.get(key) or "")) > LIMITS[key]:
            errors[key] = f"Must be {LIMITS[key]} or fewer in length."
    embeds = body.get("embeds") or []
    if len(embeds) > MAX_EMBEDS:
        errors["embeds"] = f"Must be {MAX_EMBEDS} or fewer in length."
    total = 0
    for index, embed in enumerate(embeds):
        for key in ("title", "description"):
            text = str(embed.get(key) or "")
            total += len(text)
            if len(text) > LIMITS[key]:
                errors[f"embeds.{index}.{key}"] = f"Must be {LIMITS[key]} or fewer in length."
        if not isinstance(embed.get("color", 0), int):
            errors[f"embeds.{index}.color"] = "Value is not int."
    if total > MAX_EMBED_TOTAL:
        errors["embeds"] = "Embed size exceeds maximum size of 6000"
    return errors
