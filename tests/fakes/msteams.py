"""A fake Office 365 connector (Teams incoming webhook) that answers as Teams' connectors do.

    async with FakeTeamsConnector() as teams:
        config = {"webhook_url": teams.webhook_url()}
        ...
        teams.cards                                   # every accepted MessageCard
        teams.fail_next(FakeTeamsConnector.quoted_error(429))

It answers 200 with the body ``1`` for a valid card; 400 ``Summary or Text is required.``
without either; 413 over 28 KB; 410 for an unknown webhook path. ``quoted_error`` is the 200
whose body carries an error Teams gave the connector.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from fakes.http import FakeHTTPServer, RecordedRequest, ScriptedAnswer

__all__ = ["FakeTeamsConnector"]

MAX_BYTES = 28 * 1024
TENANT = "0f1e2d3c-aaaa-bbbb-cccc-000000000000@11111111-2222-3333-4444-555555555555"


class FakeTeamsConnector(FakeHTTPServer):
    """``POST /webhookb2/{tenant}/IncomingWebhook/{id}/{secret}``."""

    def __init__(self, secret: str = "c0nNeCtOrSeCrEt0123456789") -> None:
        self.secret = secret
        self.cards: list[dict[str, Any]] = []
        super().__init__()

    def setup(self, app: web.Application) -> None:
        """The connector path."""
        app.router.add_post(
            "/webhookb2/{tenant}/IncomingWebhook/{id}/{secret}", self.route(self._post)
        )

    def webhook_url(self, secret: str | None = None) -> str:
        """The connector URL on this fake (another ``secret`` is an unknown webhook)."""
        return f"{self.url}/webhookb2/{TENANT}/IncomingWebhook/a1b2c3d4/{secret or self.secret}"

    @staticmethod
    def quoted_error(status: int) -> ScriptedAnswer:
        """HTTP 200 whose text says Teams refused the message with ``status``."""
        text = (
            "Webhook message delivery failed with error: Microsoft Teams endpoint returned "
            f"HTTP error {status} with ContextId tcid=0,server=msgapi-production,cv=AbCdEf.0"
        )
        return ScriptedAnswer(200, text, content_type="text/plain")

    async def _post(self, request: RecordedRequest) -> web.StreamResponse:
        if request.path.rsplit("/", 1)[-1] != self.secret:
            return web.Response(status=410, text="Connector configuration not found")
        if len(request.body) > MAX_BYTES:
            return web.Response(status=413, text="Payload too large")
        try:
            card = json.loads(request.body)
        except ValueError:
            return web.Response(
                status=400, text="Bad payload received by generic incoming webhook."
            )
        if not isinstance(card, dict) or not (card.get("text") or card.get("summary")):
            return web.Response(status=400, text="Summary or Text is required.")
        self.cards.append(card)
        return web.Response(status=200, text="1")
