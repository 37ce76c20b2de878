"""A fake Mattermost incoming webhook (``POST /hooks/{id}``) that answers as Mattermost does.

    async with FakeMattermost() as mm:
        config = {"webhook_url": mm.webhook_url()}
        ...
        mm.posts                                  # every accepted body, parsed

It answers 200 ``ok`` for a valid post; 400 with Mattermost's app error JSON for an unknown
hook (``web.incoming_webhook.invalid.app_error``), an unparsable body, a post with neither
text nor attachments, or a text over 16,383 characters.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from fakes.http import FakeHTTPServer, RecordedRequest, ScriptedAnswer

__all__ = ["FakeMattermost"]

MAX_TEXT = 16383


class FakeMattermost(FakeHTTPServer):
    """One incoming webhook, by its secret id."""

    def __init__(self, hook_id: str = "mAtTeRmOsThOoKiD0123456789") -> None:
        self.hook_id = hook_id
        self.posts: list[dict[str, Any]] = []
        super().__init__()

    def setup(self, app: web.Application) -> None:
        """POST /hooks/{id}."""
        app.router.add_post("/hooks/{id}", self.route(self._post))

    def webhook_url(self, hook_id: str | None = None) -> str:
        """The hook URL (another ``hook_id`` is an unknown hook)."""
        return f"{self.url}/hooks/{hook_id or self.hook_id}"

    @staticmethod
    def app_error(status: int, error_id: str, message: str = "") -> ScriptedAnswer:
        """An error in Mattermost's AppError shape."""
        return ScriptedAnswer(status, json.dumps(_app_error(status, error_id, message)))

    async def _post(self, request: RecordedRequest) -> web.StreamResponse:
        if request.path.rsplit("/", 1)[-1] != self.hook_id:
            return _error(400, "web.incoming_webhook.invalid.app_error", "Invalid webhook.")
        try:
            post = json.loads(request.body)
        except ValueError:
            return _error(400, "web.incoming_webhook.parse.app_error", "Unable to parse data.")
        if not isinstance(post, dict) or not (post.get("text") or post.get("attachments")):
            return _error(400, "web.incoming_webhook.text.app_error", "No text specified.")
        texts = [post.get("text") or ""] + [a.get("text") or "" for a in post["attachments"] or []]
        if any(len(text) > MAX_TEXT for text in texts):
            return _error(400, "model.post.is_valid.msg.app_error", "Invalid message.")
        self.posts.append(post)
        return web.Response(text="ok", content_type="text/plain")


def _app_error(status: int, error_id: str, message: str) -> dict[str, Any]:
    return {
        "id": error_id,
        "message": message or error_id,
        "detailed_error": "",
        "request_id": "fakerequestid",
        "status_code": status,
    }


def _error(status: int, error_id: str, message: str) -> web.Response:
    return web.json_response(_app_error(status, error_id, message), status=status)
