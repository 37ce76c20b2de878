"""A fake Slack on 127.0.0.1: incoming webhooks and the Web API's chat.postMessage.

    async with FakeSlack(token="xoxb-test") as slack:
        config = {"api_url": slack.webhook_url()}            # incoming webhook
        config = {"token": "xoxb-test", "channel": "#alerts",
                  "api_base_url": slack.api_base_url}          # Web API
        ...
        slack.messages            # every accepted payload, parsed
        slack.fail_next(FakeSlack.webhook_error(429, "rate_limited", retry_after=3))
        slack.fail_next(FakeSlack.api_error("invalid_auth"))

Validation follows Slack's: a webhook answers 200 ``ok`` (text/html) or 4xx with the error code
as a text body; chat.postMessage answers HTTP 200 with ``{"ok": false, "error": ...}``.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from fakes.http import FakeHTTPServer, RecordedRequest, ScriptedAnswer

__all__ = ["FakeSlack"]

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_ATTACHMENTS = 100
MAX_MESSAGE_TEXT = 40_000


class FakeSlack(FakeHTTPServer):
    """Incoming webhooks at POST /services/T/B/X and the Web API at POST /api/chat.postMessage."""

    def __init__(self, token: str = "xoxb-fake-token") -> None:
        self.token = token
        self.messages: list[dict[str, Any]] = []
        self._next_ts = 100
        super().__init__()

    def setup(self, app: web.Application) -> None:
        """Route both endpoints through the recording wrapper."""
        app.router.add_post("/services/{team}/{bot}/{secret}", self.route(self._webhook))
        app.router.add_post("/api/chat.postMessage", self.route(self._post_message))

    def webhook_url(self, path: str = "T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX") -> str:
        """An incoming-webhook URL on this fake (``path`` is the team/bot/secret part)."""
        return f"{self.url}/services/{path}"

    @property
    def api_base_url(self) -> str:
        """The Web API base, for ``api_base_url``."""
        return f"{self.url}/api/"

    @staticmethod
    def webhook_error(status: int, code: str, retry_after: int | None = None) -> ScriptedAnswer:
        """A webhook failure as Slack sends it: the error code as a text/html body."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        return ScriptedAnswer(status, code, headers, content_type="text/html")

    @staticmethod
    def api_error(code: str, status: int = 200, retry_after: int | None = None) -> ScriptedAnswer:
        """A Web API failure: ``{"ok": false, "error": code}`` (HTTP 200 unless ``status``)."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        return ScriptedAnswer(status, json.dumps({"ok": False, "error": code}), headers)

    async def __aenter__(self) -> FakeSlack:
        await self.start()
        return self

    # -- incoming webhooks ---------------------------------------------------------------------

    async def _webhook(self, request: RecordedRequest) -> web.StreamResponse:
        payload = _parse_body(request)
        if payload is None and "payload" in (form := _form(request)):
            try:
                payload = json.loads(form["payload"])
            except ValueError:
                payload = None
        if not isinstance(payload, dict):
            return _text(400, "invalid_payload")
        problem = _message_problem(payload)
        if problem is not None:
            return _text(400, problem)
        self.messages.append(payload)
        return _text(200, "ok")

    # -- Web API -------------------------------------------------------------------------------

    async def _post_message(self, request: RecordedRequest) -> web.StreamResponse:
        payload = _parse_body(request)
        token = _bearer(request.headers)
        if payload is None:
            form = _form(request)
            payload = dict(form)
            token = token or form.get("token")
            for key in ("blocks", "attachments"):
                if isinstance(payload.get(key), str):
                    try:
                        payload[key] = json.loads(payload[key])
                    except ValueError:
                        return _api(False, error="invalid_blocks")
        if not token:
            return _api(False, error="not_authed")
        if token != self.token:
            return _api(False, error="invalid_auth")
        if not isinstance(payload, dict):
            return _api(False, error="invalid_arguments")
        channel = payload.get("channel")
        if not channel:
            return _api(False, error="channel_not_found")
        if len(str(payload.get("text") or "")) > MAX_MESSAGE_TEXT:
            return _api(False, error="msg_too_long")
        problem = _message_problem(payload)
        if problem is not None:
            return _api(False, error=problem)
        self.messages.append(payload)
        ts = f"1700000000.{self._next_ts:06d}"
        self._next_ts += 100
        message = {k: payload[k] for k in ("text", "blocks", "attachments") if k in payload}
        return _api(True, channel="C123", ts=ts, message={"type": "message", "ts": ts, **message})


def _parse_body(request: RecordedRequest) -> Any:
    """The JSON body, or None when it is not JSON (Slack then reads form fields)."""
    if "json" not in request.headers.get("Content-Type", ""):
        return None
    try:
        return json.loads(request.body)
    except ValueError:
        return "invalid"  # not None: a JSON request with a broken body is invalid_payload


def _form(request: RecordedRequest) -> dict[str, str]:
    return dict(parse_qsl(request.body.decode("utf-8", "replace")))


def _bearer(headers: dict[str, str]) -> str | None:
    value = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _message_problem(payload: dict[str, Any]) -> str | None:
    """Slack's error code for a message it would refuse, or None."""
    blocks = payload.get("blocks")
    attachments = payload.get("attachments")
    if not payload.get("text") and not blocks and not attachments:
        return "no_text"
    if attachments is not None and (
        not isinstance(attachments, list) or len(attachments) > MAX_ATTACHMENTS
    ):
        return "too_many_attachments"
    groups = [blocks] if blocks is not None else []
    groups += [a.get("blocks") for a in attachments or [] if isinstance(a, dict) and "blocks" in a]
    for group in groups:
        if not isinstance(group, list) or len(group) > MAX_BLOCKS:
            return "invalid_blocks"
        if any(not _block_ok(block) for block in group):
            return "invalid_blocks"
    return None


def _block_ok(block: Any) -> bool:
    if not isinstance(block, dict) or not isinstance(block.get("type"), str):
        return False
    text = block.get("text")
    if block["type"] == "header":
        return (
            isinstance(text, dict)
            and text.get("type") == "plain_text"
            and 0 < len(str(text.get("text", ""))) <= MAX_HEADER_TEXT
        )
    if block["type"] == "section":
        fields = block.get("fields")
        if text is None and not fields:
            return False
        if text is not None and (
            not isinstance(text, dict)
            or text.get("type") not in ("plain_text", "mrkdwn")
            or not 0 < len(str(text.get("text", ""))) <= MAX_SECTION_TEXT
        ):
            return False
        return fields is None or (isinstance(fields, list) and len(fields) <= 10)
    if block["type"] == "context":
        elements = block.get("elements")
        return isinstance(elements, list) and 0 < len(elements) <= 10
    return True


def _text(status: int, body: str) -> web.Response:
    return web.Response(status=status, text=body, content_type="text/html")


def _api(ok: bool, **fields: Any) -> web.Response:
    return web.json_response({"ok": ok, **fields})
