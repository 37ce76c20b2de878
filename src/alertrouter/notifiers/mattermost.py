"""Mattermost incoming webhooks, as Alertmanager 0.34's ``mattermost_configs`` sends them.

One post per notification. Without ``attachments`` in the config, the top-level fields make one
Slack-style attachment (text, colour, title and link, fields, ...) with Alertmanager's defaults
(``danger``/``good``, the subject, the alert list in Markdown); with ``attachments``, each is
rendered and ``text`` is the post's own text. Texts are cut to Mattermost's 16,383 characters.
``priority`` is normalised as Alertmanager does (standard when unknown; ``requested_ack`` only
above standard, ``persistent_notifications`` only when urgent).
"""

from __future__ import annotations

from typing import Any, ClassVar

import aiohttp
from pydantic import Field

from alertrouter.config.integrations import IntegrationConfig, StrictModel
from alertrouter.config.templating import GoTemplate
from alertrouter.notifiers.base import Notification, Receipt
from alertrouter.notifiers.default_texts import MARKDOWN_ALERTS
from alertrouter.notifiers.http import Masker, answer_error, request
from alertrouter.notifiers.posting import (
    HTTPNotifier,
    Renderer,
    WebhookURLConfig,
)
from alertrouter.notifiers.render import truncate
from alertrouter.notifiers.templating import FieldRenderer
from alertrouter.notifiers.webhook import encode_go_json

__all__ = ["MattermostConfig", "MattermostNotifier", "build_post"]

# https://developers.mattermost.com/integrate/webhooks/incoming/ ("16383 characters")
MAX_TEXT_CHARS = 16383

# Alertmanager's defaults: field -> (its template name, what that renders).
NAMED_DEFAULTS = {
    "username": ("mattermost.default.username", '{{ template "__alertmanager" . }}'),
    "color": (
        "mattermost.default.color",
        '{{ if eq .Status "firing" }}danger{{ else }}good{{ end }}',
    ),
    "title": ("mattermost.default.title", '{{ template "__subject" . }}'),
    "title_link": ("mattermost.default.titlelink", '{{ template "__alertmanagerURL" . }}'),
    "fallback": (
        "mattermost.default.fallback",
        '{{ template "__subject" . }} | {{ template "__alertmanagerURL" . }}',
    ),
    "text": ("mattermost.default.text", MARKDOWN_ALERTS),
}
_ATTACHMENT_KEYS = (
    "fallback", "color", "pretext", "text", "author_name", "author_link", "author_icon",
    "title", "title_link", "thumb_url", "footer", "footer_icon", "image_url",
)  # fmt: skip
_PRIORITIES = ("urgent", "important", "standard")


class MattermostField(StrictModel):
    """An attachment field; ``title`` and ``value`` are required and templated."""

    title: GoTemplate = Field(min_length=1)
    value: GoTemplate = Field(min_length=1)
    short: bool | None = None


class MattermostAttachment(StrictModel):
    """One attachment of ``attachments``: every text is templated."""

    fallback: GoTemplate = ""
    color: GoTemplate = ""
    pretext: GoTemplate = ""
    text: GoTemplate = ""
    author_name: GoTemplate = ""
    author_link: GoTemplate = ""
    author_icon: GoTemplate = ""
    title: GoTemplate = ""
    title_link: GoTemplate = ""
    fields: list[MattermostField] = Field(default_factory=list)
    thumb_url: GoTemplate = ""
    footer: GoTemplate = ""
    footer_icon: GoTemplate = ""
    image_url: GoTemplate = ""


class MattermostProps(StrictModel):
    """Post props; only ``card`` (templated) has an effect, as in Alertmanager."""

    card: GoTemplate = ""


class MattermostPriority(StrictModel):
    """Message priority (Mattermost 9.x+)."""

    priority: GoTemplate = ""
    requested_ack: bool = False
    persistent_notifications: bool = False


class MattermostConfig(WebhookURLConfig):
    """``mattermost_configs`` entry: Alertmanager's fields, defaults and ``global:`` URL.

    A field left unset (None) gets Alertmanager's default template for it.
    """

    channel: GoTemplate = ""
    username: GoTemplate | None = None
    text: GoTemplate | None = None
    fallback: GoTemplate | None = None
    color: GoTemplate | None = None
    pretext: GoTemplate = ""
    author_name: GoTemplate = ""
    author_link: GoTemplate = ""
    author_icon: GoTemplate = ""
    title: GoTemplate | None = None
    title_link: GoTemplate | None = None
    fields: list[MattermostField] = Field(default_factory=list)
    thumb_url: GoTemplate = ""
    footer: GoTemplate = ""
    footer_icon: GoTemplate = ""
    image_url: GoTemplate = ""
    icon_url: GoTemplate = ""
    icon_emoji: GoTemplate = ""
    attachments: list[MattermostAttachment] = Field(default_factory=list)
    type: GoTemplate = ""
    props: MattermostProps | None = None
    priority: MattermostPriority | None = None

    default_send_resolved: ClassVar[bool] = True
    global_defaults: ClassVar[dict[str, str]] = {
        "webhook_url": "mattermost_webhook_url",
        "webhook_url_file": "mattermost_webhook_url_file",
    }
    provider: ClassVar[str] = "mattermost"


def _render(fields: Renderer, name: str, template: str | None) -> str:
    """A field's template, Alertmanager's default when unset or failing ("" if it has none)."""
    if name in NAMED_DEFAULTS:
        return fields.with_default(name, template, *NAMED_DEFAULTS[name])
    return fields.text(name, template)


def _fields(fields: FieldRenderer, where: str, items: list[MattermostField]) -> list[Any]:
    out = []
    for i, item in enumerate(items):
        rendered: dict[str, Any] = {
            "title": fields.text(f"{where}[{i}].title", item.title),
            "value": fields.text(f"{where}[{i}].value", item.value),
        }
        if item.short is not None:
            rendered["short"] = item.short
        out.append(rendered)
    return out


def _drop_empty(mapping: dict[str, Any]) -> dict[str, Any]:
    # Go's omitempty, as Alertmanager marshals the request.
    return {k: v for k, v in mapping.items() if v not in ("", None, [], {})}


def build_post(
    notification: Notification, config: MattermostConfig, fields: Renderer
) -> dict[str, Any]:
    """The incoming-webhook body for ``notification``, as Alertmanager builds it."""
    text = truncate(_render(fields, "text", config.text), MAX_TEXT_CHARS)
    post: dict[str, Any] = {
        "channel": fields.text("channel", config.channel),
        "username": _render(fields, "username", config.username),
        "icon_url": fields.text("icon_url", config.icon_url),
        "icon_emoji": fields.text("icon_emoji", config.icon_emoji),
        "type": fields.text("type", config.type),
    }
    if config.attachments:
        post["text"] = text
        attachments = []
        for i, item in enumerate(config.attachments):
            where = f"attachments[{i}]"
            rendered: dict[str, Any] = {
                k: fields.text(f"{where}.{k}", getattr(item, k)) for k in _ATTACHMENT_KEYS
            }
            rendered["text"] = truncate(rendered["text"], MAX_TEXT_CHARS)
            rendered["fields"] = _fields(fields, f"{where}.fields", item.fields)
            attachments.append(_drop_empty(rendered))
    else:
        attachment: dict[str, Any] = {
            key: _render(fields, key, getattr(config, key))
            for key in _ATTACHMENT_KEYS
            if key != "text"
        }
        attachment["text"] = text
        attachment["fields"] = _fields(fields, "fields", config.fields)
        attachments = [_drop_empty(attachment)]
    post["attachments"] = attachments
    if config.props is not None and config.props.card:
        post["props"] = {"card": fields.text("props.card", config.props.card)}
    if config.priority is not None and config.priority.priority:
        post["priority"] = _priority(fields, config.priority)
    return _drop_empty(post)


def _priority(fields: FieldRenderer, config: MattermostPriority) -> dict[str, Any]:
    """The priority block, normalised as Alertmanager normalises it."""
    level = fields.text("priority.priority", config.priority).lower()
    if level not in _PRIORITIES:
        level = "standard"
    out: dict[str, Any] = {"priority": level}
    if config.requested_ack and level != "standard":
        out["requested_ack"] = True
    if config.persistent_notifications and level == "urgent":
        out["persistent_notifications"] = True
    return out


class MattermostNotifier(HTTPNotifier[MattermostConfig]):
    """Posts each notification to a Mattermost incoming webhook."""

    type_name: ClassVar[str] = "mattermost"
    config_model: ClassVar[type[IntegrationConfig]] = MattermostConfig
    # Mattermost's API rate limit, when a server enables it, is 10 requests a second.
    default_rate_per_second: ClassVar[float] = 5.0
    default_burst: ClassVar[int] = 10
    max_message_bytes: ClassVar[int] = 800 * 1024

    def __init__(
        self, config: MattermostConfig, session: aiohttp.ClientSession, **options: Any
    ) -> None:
        super().__init__(config, session, **options)
        self._scrub = Masker.for_http([config.url], config.http_config)

    async def send(self, notification: Notification) -> Receipt:
        """POST the post; 2xx is delivered, 429 waits Retry-After, 5xx retried."""
        post = build_post(notification, self.config, Renderer(self, notification))
        answer = await request(
            self.session,
            "POST",
            self.config.url,
            provider="mattermost",
            data=encode_go_json(post),
            **self.request_options,
        )
        if answer.ok:
            return Receipt(answer.line, None, answer.duration)
        raise answer_error("mattermost", answer, self._scrub)
