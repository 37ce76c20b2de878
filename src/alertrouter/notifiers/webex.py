"""Webex messages (``POST /v1/messages``): the group's markdown message in one room.

As Alertmanager: ``{"markdown": message, "roomId": room_id}`` with the bot's token from
``http_config.authorization``, the message cut to Webex's 7,439 bytes.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any, ClassVar

import aiohttp
from pydantic import model_validator
from pydantic_core import PydanticCustomError

from alertrouter.config.integrations import Duration, HTTPClientConfig, IntegrationConfig
from alertrouter.config.templating import GoTemplate
from alertrouter.notifiers.base import Notification, Notifier, Receipt
from alertrouter.notifiers.http import (
    Masker,
    answer_error,
    authorization_header,
    request,
    request_options,
)
from alertrouter.notifiers.render import truncate_bytes
from alertrouter.notifiers.templating import FieldRenderer

__all__ = ["WebexConfig", "WebexNotifier"]

DEFAULT_API_URL = "https://webexapis.com/v1/messages"
MAX_MESSAGE_BYTES = 7439  # Webex's markdown limit, as Alertmanager applies it
DEFAULT_MESSAGE = '{{ template "webex.default.message" . }}'


class WebexConfig(IntegrationConfig):
    """``webex_configs`` entry: Alertmanager's fields; ``api_url`` from ``global:``
    ``webex_api_url`` when unset; ``http_config.authorization`` carries the bot token."""

    api_url: str = DEFAULT_API_URL
    room_id: GoTemplate = ""
    message: GoTemplate | None = None
    http_config: HTTPClientConfig = HTTPClientConfig()
    timeout: Duration = timedelta(seconds=10)

    default_send_resolved: ClassVar[bool] = True
    global_defaults: ClassVar[dict[str, str]] = {"api_url": "webex_api_url"}

    @model_validator(mode="after")
    def _check(self) -> WebexConfig:
        if not self.room_id:
            raise PydanticCustomError("webex", "missing room_id on webex_config")
        authorization = self.http_config.authorization
        if authorization is None or authorization.credentials is None:
            raise PydanticCustomError("webex", "missing webex_configs.http_config.authorization")
        if self.timeout <= timedelta(0):
            raise PydanticCustomError("webex", "timeout must be greater than 0")
        return self


class WebexNotifier(Notifier[WebexConfig]):
    """Posts one message per notification; the Receipt carries the message id.

    401/403 are permanent authErrors, other 4xx permanent clientErrors (a room the bot is not
    in is 404); 429 waits for ``Retry-After``; 5xx are retried.
    """

    type_name: ClassVar[str] = "webex"
    config_model: ClassVar[type[IntegrationConfig]] = WebexConfig
    default_rate_per_second: ClassVar[float] = 1.0  # Webex asks bots for about one a second
    default_burst: ClassVar[int] = 5
    max_message_bytes: ClassVar[int] = MAX_MESSAGE_BYTES
    coalesce: ClassVar[bool] = True

    def __init__(self, config: WebexConfig, session: aiohttp.ClientSession, **options: Any):
        super().__init__(config, session, **options)
        header = authorization_header(config.http_config) or ""
        secrets = [header, header.partition(" ")[2]]
        self._mask = Masker(values=secrets)
        self._timeout = config.timeout.total_seconds()

    async def send(self, notification: Notification) -> Receipt:
        """Post the message; 2xx delivered, anything else classified."""
        started = time.monotonic()
        body, truncated = self.body(notification)
        answer = await request(
            self.session,
            "POST",
            self.config.api_url,
            provider="Webex",
            timeout=self._timeout,
            json=body,
            **request_options(self.config.http_config),
        )
        payload = answer.json()
        if not answer.ok:
            detail = str(payload.get("message", "")) if isinstance(payload, dict) else ""
            raise answer_error("Webex", answer, self._mask, detail=detail)
        message_id = payload.get("id") if isinstance(payload, dict) else None
        return Receipt(
            provider_status=f"{answer.status} {answer.reason}".strip(),
            message_id=str(message_id) if message_id else None,
            duration=time.monotonic() - started,
            detail={"truncated": truncated},
        )

    def body(self, notification: Notification) -> tuple[dict[str, str], bool]:
        """The request body, and whether the message had to be cut."""
        fields = FieldRenderer(self, notification)
        message = fields.text(
            "message", self.config.message, lambda: fields.text("message", DEFAULT_MESSAGE)
        )
        message, truncated = truncate_bytes(message, MAX_MESSAGE_BYTES)
        body = {"markdown": message, "roomId": fields.text("room_id", self.config.room_id)}
        return {k: v for k, v in body.items() if v or k == "markdown"}, truncated
