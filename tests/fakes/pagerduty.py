"""A fake PagerDuty Events API v2 (``POST /v2/enqueue``) and v1 (``POST
/generic/2010-04-15/create_event.json``) that validate like the real ones.

    async with FakePagerDuty() as pd:
        config = {"routing_key": "k" * 32, "url": pd.events_url}
        ...
        assert pd.incidents == {key: "resolved"}

``events`` holds every accepted v2 event (routing_key included), ``v1_events`` every accepted
v1 event (service_key included); ``incidents`` maps dedup_key (v1: incident_key) to
``triggered`` / ``acknowledged`` / ``resolved``. ``v1_rate_limited`` answers v1's 403.
``fail_next`` / ``outage`` script other answers (from FakeHTTPServer); ``delay`` holds each
contract answer that many seconds (released on stop).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from datetime import datetime
from typing import Any

from aiohttp import web

from fakes.http import FakeHTTPServer, RecordedRequest

__all__ = ["MAX_BODY_BYTES", "FakePagerDuty"]

MAX_BODY_BYTES = 512 * 1024
ACTIONS = ("trigger", "acknowledge", "resolve")
SEVERITIES = ("critical", "error", "warning", "info")


class FakePagerDuty(FakeHTTPServer):
    """PagerDuty's enqueue endpoint: 202 for a valid event, 400 with ``errors``, 413 if big."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.v1_events: list[dict[str, Any]] = []
        self.v1_rate_limited = False
        self.incidents: dict[str, str] = {}
        self.delay = 0.0
        self._released = asyncio.Event()
        super().__init__()

    def setup(self, app: web.Application) -> None:
        """Register ``POST /v2/enqueue``."""
        app.router.add_post("/v2/enqueue", self.route(self._enqueue))
        app.router.add_post("/generic/2010-04-15/create_event.json", self.route(self._v1))

    @property
    def events_url(self) -> str:
        """The URL to configure as ``url``."""
        return f"{self.url}/v2/enqueue"

    @property
    def v1_url(self) -> str:
        """The v1 endpoint's URL."""
        return f"{self.url}/generic/2010-04-15/create_event.json"

    @property
    def routing_keys(self) -> list[str]:
        """The routing key of each accepted event, in order."""
        return [str(e["routing_key"]) for e in self.events]

    async def __aenter__(self) -> FakePagerDuty:
        await self.start()
        return self

    async def stop(self) -> None:
        """Release delayed answers, then stop listening."""
        self._released.set()
        await super().stop()

    async def _enqueue(self, request: RecordedRequest) -> web.StreamResponse:
        if self.delay:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._released.wait(), self.delay)
        if len(request.body) > MAX_BODY_BYTES:
            return web.json_response(
                {"status": "invalid event", "message": "Request entity too large"}, status=413
            )
        try:
            event = json.loads(request.body)
        except ValueError:
            return _invalid(["Malformed JSON"])
        if not isinstance(event, dict):
            return _invalid(["Event object is not a JSON object"])
        errors = validate_event(event)
        if errors:
            return _invalid(errors)
        action = event["event_action"]
        key = event.get("dedup_key") or uuid.uuid4().hex
        if action == "trigger":
            self.incidents[key] = "triggered"  # a trigger after a resolve opens a new one
        elif key in self.incidents and self.incidents[key] != "resolved":
            self.incidents[key] = "acknowledged" if action == "acknowledge" else "resolved"
        self.events.append(event)
        return web.json_response(
            {"status": "success", "message": "Event processed", "dedup_key": key}, status=202
        )

    async def _v1(self, request: RecordedRequest) -> web.StreamResponse:
        if self.v1_rate_limited:  # v1 says "too many requests" with a 403
            return web.json_response(
                {"status": "throttle exceeded", "message": "Requests for this service are "
                 "arriving too quickly. Please retry later."},
                status=403,
            )  # fmt: skip
        try:
            event = json.loads(request.body)
        except ValueError:
            return _invalid(["Malformed JSON"])
        if not isinstance(event, dict):
            return _invalid(["Event object is not a JSON object"])
        errors = validate_v1_event(event)
        if errors:
            return _invalid(errors)
        kind = event["event_type"]
        key = event.get("incident_key") or uuid.uuid4().hex
        if kind == "trigger":
            self.incidents[key] = "triggered"
        elif key in self.incidents and self.incidents[key] != "resolved":
            self.incidents[key] = "acknowledged" if kind == "acknowledge" else "resolved"
        self.v1_events.append(event)
        return web.json_response(
            {"status": "success", "message": "Event processed", "incident_key": key}, status=200
        )


def validate_v1_event(event: dict[str, Any]) -> list[str]:
    """What PagerDuty's v1 endpoint would say is wrong with ``event`` (empty when valid)."""
    errors: list[str] = []
    service_key = event.get("service_key")
    if not isinstance(service_key, str) or len(service_key) != 32:
        errors.append("Service key is the wrong length (should be 32 characters)")
    kind = event.get("event_type")
    if kind not in ACTIONS:
        errors.append("Event type is invalid (must be trigger, acknowledge or resolve)")
    key = event.get("incident_key")
    if key is not None and (not isinstance(key, str) or len(key) > 255):
        errors.append("Incident key must be a string of at most 255 characters")
    if kind in ("acknowledge", "resolve") and not key:
        errors.append("Incident key is required for acknowledge and resolve")
    description = event.get("description")
    if kind == "trigger" and (not isinstance(description, str) or not description):
        errors.append("Description is missing or blank")
    elif isinstance(description, str) and len(description) > 1024:
        errors.append("Description is too long (maximum is 1024 characters)")
    if "details" in event and not isinstance(event["details"], dict):
        errors.append("Details must be an object")
    return errors


def validate_event(event: dict[str, Any]) -> list[str]:
    """What PagerDuty would say is wrong with ``event`` (empty when valid)."""
    errors: list[str] = []
    routing_key = event.get("routing_key")
    if not isinstance(routing_key, str) or not routing_key:
        errors.append("'routing_key' is missing or blank")
    action = event.get("event_action")
    if action not in ACTIONS:
        errors.append(
            "'event_action' is invalid (must be one of the following: "
            "'trigger', 'acknowledge' or 'resolve')"
        )
    dedup_key = event.get("dedup_key")
    if dedup_key is not None and (not isinstance(dedup_key, str) or len(dedup_key) > 255):
        errors.append("'dedup_key' must be a string of at most 255 characters")
    if action in ("acknowledge", "resolve") and not dedup_key:
        errors.append("'dedup_key' is missing or blank")
    if action == "trigger":
        errors.extend(_payload_errors(event.get("payload")))
    for name, required in (("links", "href"), ("images", "src")):
        items = event.get(name, [])
        if not isinstance(items, list) or not all(
            isinstance(i, dict) and isinstance(i.get(required), str) for i in items
        ):
            errors.append(f"'{name}' must be a list of objects with '{required}'")
    for name in ("client", "client_url"):
        if name in event and not isinstance(event[name], str):
            errors.append(f"'{name}' must be a string")
    return errors


def _payload_errors(payload: Any) -> list[str]:
    if not isinstance(payload, dict):
        return ["'payload' is missing or not an object"]
    errors: list[str] = []
    summary = payload.get("summary")
    if not isinstance(summary, str) or not summary:
        errors.append("'payload.summary' is missing or blank")
    elif len(summary) > 1024:
        errors.append("'payload.summary' is too long (maximum is 1024 characters)")
    source = payload.get("source")
    if not isinstance(source, str) or not source:
        errors.append("'payload.source' is missing or blank")
    if payload.get("severity") not in SEVERITIES:
        errors.append(
            "'payload.severity' is invalid (must be one of the following: "
            "'critical', 'warning', 'error' or 'info')"
        )
    timestamp = payload.get("timestamp")
    if timestamp is not None:
        try:
            datetime.fromisoformat(str(timestamp))
        except ValueError:
            errors.append("'payload.timestamp' is not a valid ISO 8601 timestamp")
    for name in ("component", "group", "class"):
        if name in payload and not isinstance(payload[name], str):
            errors.append(f"'payload.{name}' must be a string")
    return errors


def _invalid(errors: list[str]) -> web.Response:
    return web.json_response(
        {"status": "invalid event", "message": "Event object is invalid", "errors": errors},
        status=400,
    )
