"""A fake Opsgenie Alert API v2 that checks what the real one checks.

    async with FakeOpsgenie(api_key=KEY) as og:
        config = {"api_key": KEY, "api_url": og.api_url}
        ...
        assert og.alerts[alias]["status"] == "closed"

``alerts`` maps alias to the alert (``status`` open/closed, ``count`` of creates deduplicated
into it, ``message``, ``description``, ``notes``, the create body); ``actions`` lists every
accepted (action, alias) in order. Answers are Opsgenie's: 202 with a ``requestId``; 401 for a
wrong ``GenieKey``; 422 with ``errors`` for an invalid body; scripted 429s from FakeHTTPServer.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from aiohttp import web

from fakes.http import FakeHTTPServer, RecordedRequest

__all__ = ["FakeOpsgenie", "validate_create"]

LIMITS = {"message": 130, "alias": 512, "description": 15000, "source": 100, "entity": 512,
          "note": 25000, "user": 100}  # fmt: skip
PRIORITIES = ("P1", "P2", "P3", "P4", "P5")
RESPONDER_TYPES = ("team", "user", "escalation", "schedule")


class FakeOpsgenie(FakeHTTPServer):
    """Opsgenie's create, close, notes, message and description endpoints, by alias."""

    def __init__(self, api_key: str) -> None:
        self.api_key = api_key
        self.alerts: dict[str, dict[str, Any]] = {}
        self.actions: list[tuple[str, str]] = []
        super().__init__()

    def setup(self, app: web.Application) -> None:
        """Register the Alert API routes."""
        app.router.add_post("/v2/alerts", self.route(self._create))
        app.router.add_route("*", "/v2/alerts/{alias}/{action}", self.route(self._by_alias))

    @property
    def api_url(self) -> str:
        """The URL to configure as ``api_url`` (Alertmanager's form, with a slash)."""
        return f"{self.url}/"

    def _refused(self, request: RecordedRequest) -> web.Response | None:
        if request.headers.get("Authorization") != f"GenieKey {self.api_key}":
            return _answer(401, message="Could not authenticate")
        if request.headers.get("Content-Type", "").split(";")[0] != "application/json":
            return _answer(415, message="Unsupported Media Type")
        return None

    async def _create(self, request: RecordedRequest) -> web.StreamResponse:
        refused = self._refused(request)
        if refused is not None:
            return refused
        try:
            body = json.loads(request.body)
        except ValueError:
            return _answer(400, message="Could not parse the request body")
        errors = validate_create(body)
        if errors:
            return _answer(422, message="Request body is not processable", errors=errors)
        alias = str(body.get("alias") or uuid.uuid4())
        alert = self.alerts.get(alias)
        if alert is not None and alert["status"] == "open":
            alert["count"] += 1  # Opsgenie's de-duplication by alias
        else:
            self.alerts[alias] = {"status": "open", "count": 1, "notes": [], "body": body,
                                  "message": body["message"],
                                  "description": body.get("description", "")}  # fmt: skip
        self.actions.append(("create", alias))
        return _answer(202)

    async def _by_alias(self, request: RecordedRequest) -> web.StreamResponse:
        refused = self._refused(request)
        if refused is not None:
            return refused
        path, _, query = request.path.partition("?")
        parts = path.split("/")
        alias, action = parts[-2], parts[-1]
        if "identifierType=alias" not in query:
            return _answer(422, message="identifierType must be alias here")
        expected = {"close": "POST", "notes": "POST", "message": "PUT", "description": "PUT"}
        if expected.get(action) != request.method:
            return _answer(404, message="Not found")
        body = json.loads(request.body or b"{}")
        alert = self.alerts.get(alias)
        # Opsgenie answers 202 and processes later: an unknown alias fails only then.
        if alert is not None:
            if action == "close":
                alert["status"] = "closed"
            elif action == "notes":
                alert["notes"].append(body.get("note", ""))
            else:
                alert[action] = body.get(action, "")
        self.actions.append((action, alias))
        return _answer(202)


def validate_create(body: Any) -> dict[str, str]:
    """What Opsgenie would say is wrong with a create-alert body, by field."""
    if not isinstance(body, dict):
        return {"body": "must be an object"}
    errors: dict[str, str] = {}
    if not isinstance(body.get("message"), str) or not body["message"].strip():
        errors["message"] = "Message can not be empty."
    for field, limit in LIMITS.items():
        value = body.get(field)
        if value is not None and (not isinstance(value, str) or len(value) > limit):
            errors[field] = f"must be a string of at most {limit} characters"
    for field, count, each in (("tags", 20, 50), ("actions", 10, 50)):
        items = body.get(field, [])
        if (
            not isinstance(items, list)
            or len(items) > count
            or any(not isinstance(i, str) or len(i) > each for i in items)
        ):
            errors[field] = f"at most {count} strings of at most {each} characters"
    details = body.get("details", {})
    if not isinstance(details, dict) or any(not isinstance(v, str) for v in details.values()):
        errors["details"] = "must be an object of strings"
    elif sum(len(k) + len(v) for k, v in details.items()) > 8000:
        errors["details"] = "can be at most 8000 characters"
    if "priority" in body and body["priority"] not in PRIORITIES:
        errors["priority"] = "should be one of [P1, P2, P3, P4, P5]"
    for responder in body.get("responders", []):
        if responder.get("type") not in RESPONDER_TYPES or not (
            responder.get("id") or responder.get("name") or responder.get("username")
        ):
            errors["responders"] = "each needs a type and an id, name or username"
    return errors


def _answer(status: int, **fields: Any) -> web.Response:
    body = {"result": "Request will be processed"} if status == 202 else {}
    body.update(fields)
    body.update({"took": 0.01, "requestId": str(uuid.uuid4())})
    return web.json_response(body, status=status)
