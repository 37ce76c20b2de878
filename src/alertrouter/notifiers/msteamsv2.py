"""Microsoft Teams through a Workflows (Power Automate) webhook: Alertmanager's Adaptive Card.

The body is Alertmanager's: a ``message`` whose one attachment is an Adaptive Card 1.2 with a
heading TextBlock (the title, coloured Attention while firing, Good once resolved) and a
wrapped TextBlock (the text), full width. The trigger answers 202 when it accepts the run;
Teams posts within the same 28 KB message limit as connectors, so the text is cut to fit.
"""

from __future__ import annotations

from typing import Any, ClassVar

import aiohttp

from alertrouter.config.integrations import IntegrationConfig
from alertrouter.config.templating import GoTemplate
from alertrouter.notifiers.base import Notification, Receipt
from alertrouter.notifiers.default_texts import MARKDOWN_ALERTS
from alertrouter.notifiers.http import Masker, answer_error, request
from alertrouter.notifiers.msteams import MAX_MESSAGE_BYTES
from alertrouter.notifiers.posting import (
    HTTPNotifier,
    Renderer,
    WebhookURLConfig,
    fit_json_text,
    json_size,
)
from alertrouter.notifiers.render import notification_title
from alertrouter.notifiers.webhook import encode_go_json

__all__ = ["MSTeamsV2Config", "MSTeamsV2Notifier", "build_message"]

# Alertmanager's Adaptive Card colours.
COLOR_FIRING = "Attention"
COLOR_RESOLVED = "Good"

SUBJECT = '{{ template "__subject" . }}'  # what msteamsv2.default.title renders


class MSTeamsV2Config(WebhookURLConfig):
    """``msteamsv2_configs`` entry: Alertmanager's fields and defaults (``send_resolved`` true)."""

    title: GoTemplate | None = None
    text: GoTemplate | None = None

    default_send_resolved: ClassVar[bool] = True
    provider: ClassVar[str] = "msteamsv2"


def build_message(
    notification: Notification, config: MSTeamsV2Config, fields: Renderer
) -> dict[str, Any]:
    """Alertmanager's Workflows message for ``notification``, within Teams' size limit."""
    title = fields.with_default("title", config.title, "msteamsv2.default.title", SUBJECT)
    text = fields.with_default("text", config.text, "msteamsv2.default.text", MARKDOWN_ALERTS)
    heading: dict[str, Any] = {
        "type": "TextBlock",
        "text": title or notification_title(notification),
        "weight": "Bolder",
        "size": "Medium",
        "wrap": True,
        "style": "heading",
        "color": COLOR_FIRING if notification.status == "firing" else COLOR_RESOLVED,
    }
    content_block: dict[str, Any] = {"type": "TextBlock", "text": "", "wrap": True}
    message = {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.2",
                    "body": [heading, content_block],
                    "msteams": {"width": "full"},
                },
            }
        ],
    }
    content_block["text"] = fit_json_text(text, MAX_MESSAGE_BYTES - json_size(message) - 64)
    return message


class MSTeamsV2Notifier(HTTPNotifier[MSTeamsV2Config]):
    """Posts each notification as an Adaptive Card to a Teams Workflows webhook."""

    type_name: ClassVar[str] = "msteamsv2"
    config_model: ClassVar[type[IntegrationConfig]] = MSTeamsV2Config
    # Teams accepts about 4 bot posts a second per channel; flows are throttled per run rate.
    default_rate_per_second: ClassVar[float] = 1.0
    default_burst: ClassVar[int] = 4
    max_message_bytes: ClassVar[int] = MAX_MESSAGE_BYTES

    def __init__(
        self, config: MSTeamsV2Config, session: aiohttp.ClientSession, **options: Any
    ) -> None:
        super().__init__(config, session, **options)
        self._scrub = Masker.for_http([config.url], config.http_config, _signature(config.url))

    async def send(self, notification: Notification) -> Receipt:
        """POST the message; 2xx (202) is delivered, 429 waits Retry-After, 5xx retried."""
        body = build_message(notification, self.config, Renderer(self, notification))
        answer = await request(
            self.session,
            "POST",
            self.config.url,
            provider="msteamsv2",
            data=encode_go_json(body),
            **self.request_options,
        )
        if answer.ok:
            return Receipt(answer.line, answer.headers.get("x-ms-workflow-run-id"), answer.duration)
        raise answer_error("msteamsv2", answer, self._scrub)


def _signature(url: str) -> str | None:
    """The ``sig`` query parameter: the trigger URL's secret, also masked on its own."""
    for part in url.partition("?")[2].split("&"):
        name, _, value = part.partition("=")
        if name == "sig" and value:
            return value
    return None
