"""Discord: one webhook message per notification, an embed coloured by status, as Alertmanager.

The body is Alertmanager's: ``content``, one embed (``title``, ``description``, ``color``),
``username`` and ``avatar_url``. Each text is cut to Discord's limits with "…" (content 2,000,
embed title 256, description 4,096, all embed texts together 6,000). A 429 waits for the
answer's ``retry_after`` (seconds, a float in the JSON body), else its Retry-After header.
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import urlsplit

import aiohttp

from alertrouter.config.integrations import IntegrationConfig
from alertrouter.config.templating import GoTemplate
from alertrouter.notifiers.base import Notification, Receipt
from alertrouter.notifiers.http import Masker, answer_error, request
from alertrouter.notifiers.posting import (
    HTTPNotifier,
    WebhookURLConfig,
)
from alertrouter.notifiers.render import notification_title, truncate
from alertrouter.notifiers.templating import FieldRenderer
from alertrouter.notifiers.webhook import encode_go_json

__all__ = ["DiscordConfig", "DiscordNotifier", "build_message"]

# https://discord.com/developers/docs/resources/message#embed-object-embed-limits
MAX_CONTENT_CHARS = 2000
MAX_TITLE_CHARS = 256
MAX_DESCRIPTION_CHARS = 4096
MAX_EMBED_TOTAL_CHARS = 6000
MAX_USERNAME_CHARS = 80

# Alertmanager's embed colours.
COLOR_FIRING = 0x992D22
COLOR_RESOLVED = 0x2ECC71

DEFAULT_TITLE = '{{ template "discord.default.title" . }}'
DEFAULT_MESSAGE = '{{ template "discord.default.message" . }}'


class DiscordConfig(WebhookURLConfig):
    """``discord_configs`` entry: Alertmanager's fields and defaults (``send_resolved`` true).

    ``title``, ``message`` and ``content`` are Go templates; ``username`` and ``avatar_url``
    are plain, as in Alertmanager.
    """

    title: GoTemplate | None = None
    message: GoTemplate | None = None
    content: GoTemplate | None = None
    username: str = ""
    avatar_url: str = ""

    default_send_resolved: ClassVar[bool] = True
    provider: ClassVar[str] = "discord"


def build_message(
    notification: Notification, config: DiscordConfig, fields: FieldRenderer
) -> dict[str, Any]:
    """The webhook body for ``notification``, every text within Discord's limits."""
    # A failing user template falls back to Alertmanager's default, and that to plain text.
    title = fields.text(
        "title",
        config.title or DEFAULT_TITLE,
        lambda: fields.text("title", DEFAULT_TITLE, notification_title(notification)),
    )
    description = fields.text(
        "message",
        config.message or DEFAULT_MESSAGE,
        lambda: fields.text("message", DEFAULT_MESSAGE, ""),
    )
    title = truncate(title, MAX_TITLE_CHARS)
    # One embed: the total limit bounds the description by what the title leaves.
    room = min(MAX_DESCRIPTION_CHARS, MAX_EMBED_TOTAL_CHARS - len(title))
    body: dict[str, Any] = {
        "content": truncate(fields.text("content", config.content), MAX_CONTENT_CHARS),
        "embeds": [
            {
                "title": title,
                "description": truncate(description, room),
                "color": COLOR_FIRING if notification.status == "firing" else COLOR_RESOLVED,
            }
        ],
    }
    if config.username:
        body["username"] = truncate(config.username, MAX_USERNAME_CHARS)
    if config.avatar_url and urlsplit(config.avatar_url).scheme in ("http", "https"):
        body["avatar_url"] = config.avatar_url
    return body


class DiscordNotifier(HTTPNotifier[DiscordConfig]):
    """Posts each notification to a Discord channel webhook."""

    type_name: ClassVar[str] = "discord"
    config_model: ClassVar[type[IntegrationConfig]] = DiscordConfig
    # Discord allows a webhook about 30 messages a minute, in bursts of 5 per 2 s.
    default_rate_per_second: ClassVar[float] = 0.5
    default_burst: ClassVar[int] = 5
    max_message_bytes: ClassVar[int] = 8 * 1024 * 1024

    def __init__(
        self, config: DiscordConfig, session: aiohttp.ClientSession, **options: Any
    ) -> None:
        super().__init__(config, session, **options)
        self._scrub = Masker.for_http([config.url], config.http_config)

    async def send(self, notification: Notification) -> Receipt:
        """POST the message; 2xx is delivered, 429 waits ``retry_after``, 5xx retried."""
        body = build_message(notification, self.config, FieldRenderer(self, notification))
        answer = await request(
            self.session,
            "POST",
            self.config.url,
            provider="discord",
            data=encode_go_json(body),
            **self.request_options,
        )
        if answer.ok:
            return Receipt(answer.line, None, answer.duration)
        found = answer.json()
        wait = found.get("retry_after") if isinstance(found, dict) else None
        retry_after = float(wait) if isinstance(wait, int | float) and wait >= 0 else None
        raise answer_error("discord", answer, self._scrub, retry_after=retry_after)
