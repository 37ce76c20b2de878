"""A fake incident.io Alertmanager alert source (``POST /v2/alert_events/alertmanager/{id}``).

    async with FakeIncidentio(token="inc_...") as inc:
        config = {"url": inc.source_url, "alert_source_token": "inc_..."}
        inc.alerts == {groupKey: "firing"}

As incident.io documents its Alertmanager source: ``Authorization: Bearer <token>`` (401
otherwise), a JSON body of Alertmanager's webhook shape with ``version`` "1" and a
``groupKey`` (422 with ``errors`` otherwise), 413 over 512 KB; 202 with ``status``,
``message`` and ``deduplication_key`` (the group key) when accepted. Alerts are deduplicated
and resolved by ``groupKey``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from fakes.http import FakeHTTPServer, RecordedRequest

__all__ = ["FakeIncidentio"]

REQUIRED = ("receiver", "status", "alerts", "groupLabels", "commonLabels", "version", "groupKey")


class FakeIncidentio(FakeHTTPServer):
    """Records accepted events; ``alerts`` maps each groupKey to its last status."""

    def __init__(self, *, token: str) -> None:
        self.token = token
        self.events: list[dict[str, Any]] = []
        self.alerts: dict[str, str] = {}
        super().__init__()

    def setup(self, app: web.Application) -> None:
        """Register the alert source endpoint."""
        app.router.add_post("/v2/alert_events/alertmanager/{source}", self.route(self._event))

    @property
    def source_url(self) -> str:
        """The alert source's URL (configured as ``url``)."""
        return f"{self.url}/v2/alert_events/alertmanager/01HALERTSOURCE0000000000"

    @staticmethod
    def error(status: int, kind: str, message: str) -> web.Response:
        """incident.io's error answer."""
        body = {"type": kind, "status": status, "errors": [{"code": kind, "message": message}]}
        return web.json_response(body, status=status)

    async def _event(self, request: RecordedRequest) -> web.StreamResponse:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return self.error(401, "authentication_error", "invalid alert source token")
        if len(request.body) > 512 * 1024:
            return self.error(413, "payload_too_large", "payload is over 512 KB")
        try:
            body = request.json()
        except ValueError:
            return self.error(400, "invalid_json", "body is not JSON")
        missing = [k for k in REQUIRED if k not in body]
        if missing or body.get("version") != "1" or not body.get("groupKey"):
            return self.error(422, "validation_error", f"invalid payload (missing {missing})")
        self.events.append(body)
        self.alerts[body["groupKey"]] = body["status"]
        return web.json_response(
            {
                "status": "success",
                "message": "Event accepted for processing",
                "deduplication_key": body["groupKey"],
            },
            status=202,
        )
