"""A fake VictorOps REST endpoint (``POST /alert/{api_key}/{routing_key}``).

    async with FakeVictorOps(api_key="k" * 36) as vo:
        config = {"api_key": ..., "routing_key": "ops", "api_url": vo.api_url}
        vo.events[0]["message_type"]; vo.incidents == {entity_id: "RECOVERY"}

It validates as the REST endpoint documents: a JSON object with ``message_type`` one of
CRITICAL, WARNING, INFO, ACKNOWLEDGEMENT, RECOVERY and a string ``entity_id``; an unknown key is
404 ``{"result": "failure"}``. Success is ``{"result": "success", "entity_id": ...}``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from fakes.http import FakeHTTPServer, RecordedRequest

__all__ = ["FakeVictorOps"]

MESSAGE_TYPES = ("CRITICAL", "WARNING", "INFO", "ACKNOWLEDGEMENT", "RECOVERY")


class FakeVictorOps(FakeHTTPServer):
    """Records accepted events (with their routing key) and each entity's last state."""

    def __init__(self, *, api_key: str) -> None:
        self.api_key = api_key
        self.events: list[dict[str, Any]] = []
        self.routing_keys: list[str] = []
        self.incidents: dict[str, str] = {}
        super().__init__()

    def setup(self, app: web.Application) -> None:
        """Register the alert endpoint."""
        app.router.add_post("/alert/{key}/{routing}", self.route(self._alert))

    @property
    def api_url(self) -> str:
        """The URL to configure as ``api_url`` (ends with a slash, as Alertmanager's)."""
        return f"{self.url}/alert/"

    @staticmethod
    def failure(status: int, message: str) -> web.Response:
        """The endpoint's error answer."""
        return web.json_response({"result": "failure", "message": message}, status=status)

    async def _alert(self, request: RecordedRequest) -> web.StreamResponse:
        _, _, key, routing = request.path.split("?")[0].split("/", 3)
        if key != self.api_key:
            return self.failure(404, f"Could not find organization for key {key}")
        try:
            event = request.json()
        except ValueError:
            return self.failure(400, "body is not JSON")
        if not isinstance(event, dict) or event.get("message_type") not in MESSAGE_TYPES:
            return self.failure(400, "message_type is missing or invalid")
        if not isinstance(event.get("entity_id"), str) or not event["entity_id"]:
            return self.failure(400, "entity_id is missing")
        self.events.append(event)
        self.routing_keys.append(routing)
        self.incidents[event["entity_id"]] = event["message_type"]
        return web.json_response({"result": "success", "entity_id": event["entity_id"]})
