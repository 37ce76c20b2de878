"""Microsoft Teams through an Office 365 connector webhook: Alertmanager's MessageCard.

The card is Alertmanager's (``@context``, ``type: MessageCard``, ``title``, ``summary``,
``text``, ``themeColor`` red while firing, green once resolved), cut to the connector's 28 KB
message limit. A connector answers 200 with the body ``1`` on success, and sometimes 200 with
an error text instead, "... Microsoft Teams endpoint returned HTTP error 429 ...": Alertmanager
takes any 200 as delivered; we classify such an answer by the status it quotes, so a throttled
message is retried rather than lost.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import aiohttp

from alertrouter.config.integrations import IntegrationConfig
from alertrouter.config.templating import GoTemplate
from alertrouter.notifiers.base import Notification, Receipt
from alertrouter.notifiers.default_texts import MARKDOWN_ALERTS
from alertrouter.notifiers.http import Answer, Masker, answer_error, request
from alertrouter.notifiers.posting import (
    HTTPNotifier,
    Renderer,
    WebhookURLConfig,
    fit_json_text,
    json_size,
)
from alertrouter.notifiers.render import notification_title, truncate
from alertrouter.notifiers.webhook import encode_go_json

__all__ = ["MSTeamsConfig", "MSTeamsNotifier", "build_card", "quoted_status"]

# Teams connectors refuse messages over 28 KB (Microsoft's "Message size limits").
MAX_MESSAGE_BYTES = 28 * 1024
MAX_SUMMARY_CHARS = 1000  # the notification preview; longer ones only bloat the card

# Alertmanager's theme colours.
COLOR_FIRING = "8C1A1A"
COLOR_RESOLVED = "2DC72D"

SUBJECT = '{{ template "__subject" . }}'  # what msteams.default.title and .summary render

_QUOTED_STATUS = re.compile(r"returned HTTP error (\d{3})")


class MSTeamsConfig(WebhookURLConfig):
    """``msteams_configs`` entry: Alertmanager's fields and defaults (``send_resolved`` true)."""

    title: GoTemplate | None = None
    summary: GoTemplate | None = None
    text: GoTemplate | None = None

    default_send_resolved: ClassVar[bool] = True
    provider: ClassVar[str] = "msteams"


def build_card(
    notification: Notification, config: MSTeamsConfig, fields: Renderer
) -> dict[str, Any]:
    """Alertmanager's MessageCard for ``notification``, within the connector's size limit."""
    plain_title = notification_title(notification)
    title = fields.with_default("title", config.title, "msteams.default.title", SUBJECT)
    summary = fields.with_default("summary", config.summary, "msteams.default.summary", SUBJECT)
    text = fields.with_default("text", config.text, "msteams.default.text", MARKDOWN_ALERTS)
    card: dict[str, Any] = {
        "@context": "http://schema.org/extensions",
        "type": "MessageCard",
        "title": title or plain_title,
        "summary": truncate(summary or plain_title, MAX_SUMMARY_CHARS),
        "text": "",
        "themeColor": COLOR_FIRING if notification.status == "firing" else COLOR_RESOLVED,
    }
    card["text"] = fit_json_text(text, MAX_MESSAGE_BYTES - json_size(card) - 64)
    return card


def quoted_status(answer: Answer) -> int | None:
    """The status a connector's 200 quotes from Teams ("returned HTTP error 429"), if any."""
    if answer.status != 200 or answer.text.strip() in ("", "1"):
        return None
    found = _QUOTED_STATUS.search(answer.text)
    return int(found.group(1)) if found else None


class MSTeamsNotifier(HTTPNotifier[MSTeamsConfig]):
    """Posts each notification as a MessageCard to a Teams connector webhook."""

    type_name: ClassVar[str] = "msteams"
    config_model: ClassVar[type[IntegrationConfig]] = MSTeamsConfig
    # Connectors take 4 messages a second and 100 an hour per webhook.
    default_rate_per_second: ClassVar[float] = 100 / 3600
    default_burst: ClassVar[int] = 4
    max_message_bytes: ClassVar[int] = MAX_MESSAGE_BYTES

    def __init__(
        self, config: MSTeamsConfig, session: aiohttp.ClientSession, **options: Any
    ) -> None:
        super().__init__(config, session, **options)
        self._scrub = Masker.for_http([config.url], config.http_config)

    async def send(self, notification: Notification) -> Receipt:
        """POST the card; 2xx is delivered unless its body quotes a Teams error."""
        card = build_card(notification, self.config, Renderer(self, notification))
        answer = await request(
            self.session,
            "POST",
            self.config.url,
            provider="msteams",
            data=encode_go_json(card),
            **self.request_options,
        )
        quoted = quoted_status(answer)
        if quoted is not None and quoted >= 400:
            failed = Answer(quoted, "(quoted in a 200)", answer.text, None, answer.duration)
            raise answer_error("msteams", failed, self._scrub, retry_after=answer.retry_after)
        if answer.ok:
            return Receipt(
                answer.line, None, answer.duration, {"answer": self._scrub(answer.text)[:20]}
            )
        raise answer_error("msteams", answer, self._scrub)
