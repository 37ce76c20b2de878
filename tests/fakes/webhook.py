"""A webhook receiver that accepts exactly what an Alertmanager webhook receiver accepts.

    async with FakeWebhookReceiver(bearer="t0ken") as hook:   # or basic=("user", "pw")
        config = {"url": hook.url, "http_config": {"bearer_token": "t0ken"}}  # .../hook
        ...
        hook.payloads[0].alerts                 # validated WebhookPayload objects
        hook.fail_next(ScriptedAnswer(503))    # from fakes.http

It answers 415 unless ``Content-Type`` is ``application/json``; 401 without the configured
credentials; 400 when the body is not a valid v4 payload (alertrouter.payload.WebhookPayload)
or its key sets differ from Alertmanager 0.25's; 200 otherwise. ``delay`` slows every answer.
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from alertrouter.payload import WebhookPayload
from fakes.http import FakeHTTPServer, RecordedRequest

__all__ = ["ALERTMANAGER_ALERT_KEYS", "ALERTMANAGER_BODY_KEYS", "FakeWebhookReceiver"]

# The keys of every body and alert in the Alertmanager 0.25 fixtures, in the order it sends them.
ALERTMANAGER_BODY_KEYS = (
    "receiver", "status", "alerts", "groupLabels", "commonLabels", "commonAnnotations",
    "externalURL", "version", "groupKey", "truncatedAlerts",
)  # fmt: skip
ALERTMANAGER_ALERT_KEYS = (
    "status", "labels", "annotations", "startsAt", "endsAt", "generatorURL", "fingerprint",
)  # fmt: skip


class FakeWebhookReceiver(FakeHTTPServer):
    """Records validated payloads posted to any path; ``url`` is ``.../hook``."""

    def __init__(
        self,
        *,
        bearer: str | None = None,
        basic: tuple[str, str] | None = None,
        delay: float = 0.0,
    ) -> None:
        self.bearer = bearer
        self.basic = basic
        self.delay = delay
        self.payloads: list[WebhookPayload] = []
        super().__init__()

    def setup(self, app: web.Application) -> None:
        """POST on any path."""
        app.router.add_post("/{tail:.*}", self.route(self._receive))

    @property
    def url(self) -> str:
        """The URL to configure as the webhook ``url`` (``/hook`` on the fake)."""
        return f"http://127.0.0.1:{self.port}/hook"

    def _authorized(self, headers: dict[str, str]) -> bool:
        given = headers.get("Authorization", "")
        if self.bearer is not None and given != f"Bearer {self.bearer}":
            return False
        if self.basic is None:
            return True
        pair = base64.b64encode(":".join(self.basic).encode()).decode()
        return given == f"Basic {pair}"

    async def _receive(self, request: RecordedRequest) -> web.StreamResponse:
        if self.delay:
            await asyncio.sleep(self.delay)
        if not self._authorized(request.headers):
            return web.json_response(
                {"error": "unauthorized"},
                status=401,
                headers={"WWW-Authenticate": "Bearer" if self.bearer else "Basic"},
            )
        if request.headers.get("Content-Type") != "application/json":
            return web.json_response({"error": "want application/json"}, status=415)
        try:
            raw: Any = json.loads(request.body)
            payload = WebhookPayload.model_validate(raw)
        except (ValueError, ValidationError) as exc:
            return web.json_response({"error": f"invalid payload: {exc}"}, status=400)
        problems = _key_problems(raw)
        if problems:
            return web.json_response({"error": problems}, status=400)
        self.payloads.append(payload)
        return web.json_response({"status": "ok"})


def _key_problems(raw: dict[str, Any]) -> list[str]:
    problems = []
    if set(raw) != set(ALERTMANAGER_BODY_KEYS):
        problems.append(f"body keys {sorted(raw)}")
    for index, alert in enumerate(raw.get("alerts", [])):
        if set(alert) != set(ALERTMANAGER_ALERT_KEYS):
            problems.append(f"alerts[{index}] keys {list(alert)}")
    return problems
