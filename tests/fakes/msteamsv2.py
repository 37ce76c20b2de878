"""A fake Teams Workflows (Power Automate "When a Teams webhook request is received") trigger.

    async with FakeTeamsWorkflow() as flow:
        config = {"webhook_url": flow.webhook_url()}
        ...
        flow.messages                           # every accepted body (Adaptive Card messages)

It answers 202 for a message whose ``attachments`` hold Adaptive Cards; 401
``DirectApiInvalidAuthorizationSignature`` for a wrong ``sig``; 400
``TriggerInputSchemaMismatch`` for another shape; errors as ``{"error": {"code", "message"}}``.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiohttp import web

from fakes.http import FakeHTTPServer, RecordedRequest, ScriptedAnswer

__all__ = ["FakeTeamsWorkflow"]

CARD_TYPE = "application/vnd.microsoft.card.adaptive"


class FakeTeamsWorkflow(FakeHTTPServer):
    """``POST /workflows/{id}/triggers/manual/paths/invoke?...&sig=...``."""

    def __init__(self, sig: str = "wOrKfLoWsIgNaTuRe-0123456789abcdef") -> None:
        self.sig = sig
        self.messages: list[dict[str, Any]] = []
        super().__init__()

    def setup(self, app: web.Application) -> None:
        """The manual trigger's invoke path."""
        app.router.add_post("/workflows/{id}/triggers/manual/paths/invoke", self.route(self._run))

    def webhook_url(self, sig: str | None = None) -> str:
        """The trigger URL, signed with ``sig`` (the right one by default)."""
        query = "api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0"
        path = f"{self.url}/workflows/f00dfeed/triggers/manual/paths/invoke"
        return f"{path}?{query}&sig={sig or self.sig}"

    @staticmethod
    def error(
        status: int, code: str, message: str = "", retry_after: int | None = None
    ) -> ScriptedAnswer:
        """A Logic Apps error body, with Retry-After when given."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        body = json.dumps({"error": {"code": code, "message": message or code}})
        return ScriptedAnswer(status, body, headers)

    async def _run(self, request: RecordedRequest) -> web.StreamResponse:
        sig = parse_qs(urlsplit(request.path).query).get("sig", [""])[0]
        if sig != self.sig:
            return _error(401, "DirectApiInvalidAuthorizationSignature")
        try:
            body = json.loads(request.body)
        except ValueError:
            return _error(400, "InvalidRequestContent")
        problem = _shape_problem(body)
        if problem:
            return _error(400, "TriggerInputSchemaMismatch", problem)
        self.messages.append(body)
        return web.Response(status=202)


def _error(status: int, code: str, message: str = "") -> web.Response:
    return web.json_response({"error": {"code": code, "message": message or code}}, status=status)


def _shape_problem(body: Any) -> str:
    if not isinstance(body, dict) or body.get("type") != "message":
        return "type must be message"
    attachments = body.get("attachments")
    if not isinstance(attachments, list) or not attachments:
        return "attachments required"
    for attachment in attachments:
        if attachment.get("contentType") != CARD_TYPE:
            return "contentType must be an Adaptive Card"
        content = attachment.get("content") or {}
        if content.get("type") != "AdaptiveCard" or not isinstance(content.get("body"), list):
            return "content must be an AdaptiveCard with a body"
    return ""
