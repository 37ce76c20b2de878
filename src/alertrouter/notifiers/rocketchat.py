"""Rocket.Chat's REST API ``chat.postMessage``, as Alertmanager's ``rocketchat_configs`` sends.

One message per notification with one attachment (title cut to 1,024 characters, link, text,
colour red/green, images, fields, button actions), authenticated by the personal access token
headers ``X-Auth-Token`` and ``X-User-Id``. Rocket.Chat may answer 200 with ``success: false``:
that is a permanent clientError, as in Alertmanager. Its rate limiter answers 429 with
``X-RateLimit-Reset`` (epoch milliseconds) and "wait N seconds" in the error; we wait for that.
"""

from __future__ import annotations

import re
import time
from typing import Any, ClassVar

import aiohttp
from pydantic import Field, SecretStr, model_validator
from pydantic_core import PydanticCustomError

from alertrouter.config.integrations import IntegrationConfig, StrictModel
from alertrouter.config.templating import GoTemplate
from alertrouter.errors import PermanentNotifierError, RetryableNotifierError
from alertrouter.notifiers.base import Notification, Receipt
from alertrouter.notifiers.http import Answer, Masker, answer_error, request
from alertrouter.notifiers.posting import (
    HTTPIntegrationConfig,
    HTTPNotifier,
    Renderer,
)
from alertrouter.notifiers.render import truncate
from alertrouter.notifiers.templating import FieldRenderer
from alertrouter.notifiers.webhook import encode_go_json

__all__ = ["RocketchatConfig", "RocketchatNotifier", "build_message"]

DEFAULT_API_URL = "https://open.rocket.chat/"
MAX_TITLE_CHARS = 1024  # Alertmanager's cut

# Alertmanager's defaults: (template name, what it renders); .emoji, .iconurl, .text render "".
DEFAULT_COLOR = '{{ if eq .Status "firing" }}red{{ else }}green{{ end }}'
NAMED_DEFAULTS = {
    "title": ("rocketchat.default.title", '{{ template "__subject" . }}'),
    "title_link": ("rocketchat.default.titlelink", '{{ template "__alertmanagerURL" . }}'),
    "emoji": ("rocketchat.default.emoji", ""),
    "icon_url": ("rocketchat.default.iconurl", ""),
    "text": ("rocketchat.default.text", ""),
}

_WAIT_SECONDS = re.compile(r"wait (\d+(?:\.\d+)?) seconds")


class RocketchatField(StrictModel):
    """An attachment field; ``short`` defaults to the config's ``short_fields``."""

    title: GoTemplate = ""
    value: GoTemplate = ""
    short: bool | None = None


class RocketchatAction(StrictModel):
    """A button; Alertmanager sends ``text``, ``url`` and ``msg`` (templated) as a button."""

    type: str = ""
    text: GoTemplate = ""
    url: GoTemplate = ""
    image_url: str = ""
    is_webview: bool = False
    webview_height_ratio: str = ""
    msg: GoTemplate = ""
    msg_in_chat_window: bool = False
    msg_processing_type: str = ""


class RocketchatConfig(HTTPIntegrationConfig):
    """``rocketchat_configs`` entry: Alertmanager's fields, defaults and ``global:`` keys.

    ``send_resolved`` defaults to false, as in Alertmanager. ``link_names`` is accepted and,
    as in Alertmanager, not sent.
    """

    api_url: str = DEFAULT_API_URL
    token: SecretStr | None = None
    token_id: SecretStr | None = None
    channel: GoTemplate = ""
    color: GoTemplate | None = None
    title: GoTemplate | None = None
    title_link: GoTemplate | None = None
    text: GoTemplate | None = None
    fields: list[RocketchatField] = Field(default_factory=list)
    short_fields: bool = False
    emoji: GoTemplate | None = None
    icon_url: GoTemplate | None = None
    image_url: GoTemplate = ""
    thumb_url: GoTemplate = ""
    link_names: bool = False
    actions: list[RocketchatAction] = Field(default_factory=list)

    default_send_resolved: ClassVar[bool] = False
    secret_files: ClassVar[dict[str, str]] = {"token_file": "token", "token_id_file": "token_id"}
    global_defaults: ClassVar[dict[str, str]] = {
        "api_url": "rocketchat_api_url",
        "token": "rocketchat_token",
        "token_file": "rocketchat_token_file",
        "token_id": "rocketchat_token_id",
        "token_id_file": "rocketchat_token_id_file",
    }

    @model_validator(mode="after")
    def _credentials(self) -> RocketchatConfig:
        for name in ("token_id", "token"):
            value = getattr(self, name)
            if value is None or not value.get_secret_value():
                raise PydanticCustomError(
                    "rocketchat",
                    "no {name} set (nor {name}_file, nor global rocketchat_{name})",
                    {"name": name},
                )
        if self.api_url.partition("://")[0].lower() not in ("http", "https"):
            raise PydanticCustomError("rocketchat", "api_url must be an http:// or https:// URL")
        return self

    @property
    def post_message_url(self) -> str:
        """``<api_url>/api/v1/chat.postMessage``."""
        return self.api_url.rstrip("/") + "/api/v1/chat.postMessage"


def build_message(
    notification: Notification, config: RocketchatConfig, fields: Renderer
) -> dict[str, Any]:
    """The chat.postMessage body for ``notification``, as Alertmanager builds it."""

    def named(key: str) -> str:
        return fields.with_default(key, getattr(config, key), *NAMED_DEFAULTS[key])

    color = config.color if config.color is not None else DEFAULT_COLOR
    attachment: dict[str, Any] = {
        "title": truncate(named("title"), MAX_TITLE_CHARS),
        "title_link": named("title_link"),
        "text": named("text"),
        "image_url": fields.text("image_url", config.image_url),
        "thumb_url": fields.text("thumb_url", config.thumb_url),
        "color": fields.text("color", color, lambda: fields.text("color", DEFAULT_COLOR)),
    }
    attachment = {k: v for k, v in attachment.items() if v}  # Go's omitempty
    if config.fields:
        attachment["fields"] = [
            {
                "short": config.short_fields if item.short is None else item.short,
                **{
                    key: value
                    for key in ("title", "value")
                    if (value := fields.text(f"fields[{i}].{key}", getattr(item, key)))
                },
            }
            for i, item in enumerate(config.fields)
        ]
    if config.actions:
        attachment["actions"] = [_action(fields, i, item) for i, item in enumerate(config.actions)]
    message: dict[str, Any] = {
        "channel": fields.text("channel", config.channel),
        "emoji": named("emoji"),
        "avatar": named("icon_url"),
    }
    message = {k: v for k, v in message.items() if v}
    message["attachments"] = [attachment]
    return message


def _action(fields: FieldRenderer, index: int, item: RocketchatAction) -> dict[str, Any]:
    action: dict[str, Any] = {"type": "button"}  # the only type Rocket.Chat supports
    for key in ("text", "url"):
        value = fields.text(f"actions[{index}].{key}", getattr(item, key))
        if value:
            action[key] = value
    action["is_webview"] = False
    msg = fields.text(f"actions[{index}].msg", item.msg)
    if msg:
        action["msg"] = msg
    action["msg_in_chat_window"] = False
    return action


def rate_limit_wait(answer: Answer, now: float | None = None) -> float | None:
    """Seconds until Rocket.Chat's rate limiter lets us in: Retry-After, X-RateLimit-Reset
    (epoch milliseconds), or the "wait N seconds" of its error text."""
    if answer.retry_after is not None:
        return answer.retry_after
    reset = answer.headers.get("x-ratelimit-reset")
    if reset is not None:
        try:
            return max(0.0, float(reset) / 1000 - (time.time() if now is None else now))
        except ValueError:
            pass
    found = _WAIT_SECONDS.search(answer.text)
    return float(found.group(1)) if found else None


class RocketchatNotifier(HTTPNotifier[RocketchatConfig]):
    """Posts each notification through Rocket.Chat's chat.postMessage."""

    type_name: ClassVar[str] = "rocketchat"
    config_model: ClassVar[type[IntegrationConfig]] = RocketchatConfig
    # Rocket.Chat's default API rate limiter: 10 calls a minute per endpoint and user.
    default_rate_per_second: ClassVar[float] = 10 / 60
    default_burst: ClassVar[int] = 10

    def __init__(
        self, config: RocketchatConfig, session: aiohttp.ClientSession, **options: Any
    ) -> None:
        super().__init__(config, session, **options)
        assert config.token is not None  # the validator requires both
        assert config.token_id is not None
        self._auth = {
            "X-Auth-Token": config.token.get_secret_value(),
            "X-User-Id": config.token_id.get_secret_value(),
        }
        self._scrub = Masker.for_http([], config.http_config, *self._auth.values())

    async def send(self, notification: Notification) -> Receipt:
        """POST the message; ``success: false`` is permanent, 429 waits, 5xx retried."""
        body = build_message(notification, self.config, Renderer(self, notification))
        options = dict(self.request_options)
        options["headers"] = {**options["headers"], **self._auth}
        answer = await request(
            self.session,
            "POST",
            self.config.post_message_url,
            provider="rocketchat",
            data=encode_go_json(body),
            **options,
        )
        if not answer.ok:
            wait = rate_limit_wait(answer) if answer.status == 429 else None
            raise answer_error("rocketchat", answer, self._scrub, retry_after=wait)
        found = answer.json()
        if not isinstance(found, dict):
            # As Alertmanager: an unreadable 200 may be a proxy's page; try again.
            raise RetryableNotifierError("other", "rocketchat: answer is not JSON")
        if found.get("success") is not True:
            error = self._scrub(str(found.get("error") or "success is false"))[:200]
            raise PermanentNotifierError("clientError", f"rocketchat: {error}")
        message = found.get("message")
        message_id = message.get("_id") if isinstance(message, dict) else None
        return Receipt(answer.line, message_id, answer.duration, {"ts": found.get("ts")})
