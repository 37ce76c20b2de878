"""Telegram Bot API: one ``sendMessage`` per notification to a chat (and forum topic).

The message is Alertmanager's ``telegram.default.message`` unless configured, rendered with
html/template escaping in the default HTML parse mode, and cut to Telegram's 4,096 characters
without breaking its HTML. Telegram says "slow down" with a 429 whose body carries
``parameters.retry_after``; that wait is honoured like a Retry-After header.
"""

from __future__ import annotations

import functools
import json
import re
import time
from typing import Any, ClassVar, Literal

from pydantic import SecretStr, ValidationInfo, model_validator
from pydantic_core import PydanticCustomError

from alertrouter.config.integrations import (
    MISSING_FILE_PLACEHOLDER,
    HTTPClientConfig,
    IntegrationConfig,
    read_secret_files,
)
from alertrouter.config.templating import GoTemplate
from alertrouter.notifiers import render
from alertrouter.notifiers.base import Notification, Notifier, Receipt, http_status_error
from alertrouter.notifiers.http import Masker, request, request_options
from alertrouter.notifiers.templating import FieldRenderer

__all__ = ["TelegramConfig", "TelegramNotifier", "fit_html"]

DEFAULT_API_URL = "https://api.telegram.org"
DEFAULT_MESSAGE = '{{ template "telegram.default.message" . }}'
MAX_MESSAGE = 4096  # Telegram: characters of a message's text, after entity parsing
TIMEOUT_SECONDS = 30.0
MARKER = "…"
# The tags Telegram's HTML parse mode knows; anything cut open is closed again.
_TAG = re.compile(r"<(/?)([a-zA-Z-]+)[^>]*>")
_UNFINISHED = re.compile(r"<[^>]*$|&[#a-zA-Z0-9]*$")


class TelegramConfig(IntegrationConfig):
    """``telegram_configs`` entry: Alertmanager's fields, defaults and globals.

    ``api_url`` and ``bot_token`` (or ``bot_token_file``) come from ``global.telegram_api_url``
    / ``telegram_bot_token`` when absent; ``chat_id`` or ``chat_id_file`` is required.
    """

    api_url: str = DEFAULT_API_URL
    bot_token: SecretStr | None = None
    chat_id: int = 0
    message_thread_id: int = 0
    message: GoTemplate = DEFAULT_MESSAGE
    disable_notifications: bool = False
    parse_mode: Literal["", "Markdown", "MarkdownV2", "HTML"] = "HTML"
    http_config: HTTPClientConfig = HTTPClientConfig()

    default_send_resolved: ClassVar[bool] = True
    global_defaults: ClassVar[dict[str, str]] = {
        "api_url": "telegram_api_url",
        "bot_token": "telegram_bot_token",
        "bot_token_file": "telegram_bot_token_file",
    }
    secret_files: ClassVar[dict[str, str]] = {"bot_token_file": "bot_token"}

    @model_validator(mode="before")
    @classmethod
    def _chat_id_file(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, dict) or data.get("chat_id_file") is None:
            return data
        if data.get("chat_id") not in (None, 0, "0"):
            raise PydanticCustomError(
                "telegram", "at most one of chat_id & chat_id_file must be configured"
            )
        # Read as a secret file is (relative to the config), then parsed as the number it is.
        out = {k: v for k, v in data.items() if k != "chat_id"}
        read: dict[str, Any] = read_secret_files(out, {"chat_id_file": "chat_id"}, info)
        if read["chat_id"] == MISSING_FILE_PLACEHOLDER:
            read["chat_id"] = -1  # an allowed missing file: stands in for the real chat
        return read

    @model_validator(mode="after")
    def _required(self) -> TelegramConfig:
        if self.bot_token is None or not self.bot_token.get_secret_value():
            raise PydanticCustomError(
                "telegram", "missing bot_token or bot_token_file on telegram_config"
            )
        if self.chat_id == 0:
            raise PydanticCustomError(
                "telegram", "missing chat_id or chat_id_file on telegram_config"
            )
        return self


def fit_html(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` (Telegram HTML) cut to ``limit`` characters with a marker, still valid: no
    tag or entity cut in half, and every tag left open closed again."""
    if len(text) <= limit:
        return text
    cut = text[: limit - len(MARKER)]
    while True:
        cut = _UNFINISHED.sub("", cut)
        open_tags: list[str] = []
        for match in _TAG.finditer(cut):
            closing, name = match.group(1), match.group(2).lower()
            if not closing:
                open_tags.append(name)
            elif open_tags and open_tags[-1] == name:
                open_tags.pop()
        closing_tags = "".join(f"</{name}>" for name in reversed(open_tags))
        if len(cut) + len(MARKER) + len(closing_tags) <= limit:
            return cut + MARKER + closing_tags
        cut = cut[: limit - len(MARKER) - len(closing_tags)]


class TelegramNotifier(Notifier[TelegramConfig]):
    """Sends each notification as one message through the shared aiohttp session.

    ``ok: true`` is success; 401/403 (a wrong token, a bot blocked or removed) are authError
    and other 4xx clientError, permanent; 429 (after ``retry_after``), 5xx and network
    failures are retried.
    """

    type_name: ClassVar[str] = "telegram"
    config_model: ClassVar[type[IntegrationConfig]] = TelegramConfig
    # Telegram: about one message a second per chat, at most 20 a minute in a group.
    default_rate_per_second: ClassVar[float] = 20 / 60
    default_burst: ClassVar[int] = 3
    max_message_bytes: ClassVar[int] = 4 * MAX_MESSAGE  # up to 4 UTF-8 bytes a character

    async def send(self, notification: Notification) -> Receipt:
        """Post the rendered message; the receipt carries Telegram's message id."""
        started = time.monotonic()
        body: dict[str, Any] = {
            "chat_id": self.config.chat_id,
            "text": self._text(notification),
            "disable_notification": self.config.disable_notifications,
            "link_preview_options": {"is_disabled": True},  # as Alertmanager: no previews
        }
        if self.config.parse_mode:
            body["parse_mode"] = self.config.parse_mode
        if self.config.message_thread_id:
            body["message_thread_id"] = self.config.message_thread_id
        status, answer = await self._post(body)
        result = answer.get("result")
        message_id = result.get("message_id") if isinstance(result, dict) else None
        return Receipt(
            provider_status=str(status),
            message_id=None if message_id is None else str(message_id),
            duration=time.monotonic() - started,
            detail={"chat_id": self.config.chat_id},
        )

    def _text(self, notification: Notification) -> str:
        fields = FieldRenderer(self, notification)
        if self.config.parse_mode == "HTML":
            text = fields.html(
                "message", self.config.message, lambda: fields.html("message", DEFAULT_MESSAGE)
            )
            return fit_html(text.strip() or render.notification_title(notification))
        text = fields.text(
            "message", self.config.message, lambda: fields.text("message", DEFAULT_MESSAGE)
        )
        return render.truncate(text.strip() or render.notification_title(notification), MAX_MESSAGE)

    async def _post(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        reply = await request(
            self.session,
            "POST",
            self._url,
            provider="Telegram",
            timeout=TIMEOUT_SECONDS,
            data=json.dumps(body, ensure_ascii=False).encode(),
            **self._request_options,
        )
        status, header_wait, text = reply.status, reply.retry_after, reply.text
        answer = reply.json_object()
        if 200 <= status < 300 and answer.get("ok") is True:
            return status, answer
        parameters = answer.get("parameters")
        body_wait = parameters.get("retry_after") if isinstance(parameters, dict) else None
        wait = float(body_wait) if isinstance(body_wait, int | float) else header_wait
        code = answer.get("error_code")
        status = code if isinstance(code, int) and status < 300 else status
        found = str(answer.get("description") or " ".join(text.split()))
        detail = f": {render.truncate(self._mask(found), 500)}" if found else ""
        raise http_status_error(status, f"Telegram answered {status}{detail}", wait)

    @functools.cached_property
    def _url(self) -> str:
        assert self.config.bot_token is not None  # the config validator guarantees it
        base = self.config.api_url.rstrip("/")
        return f"{base}/bot{self.config.bot_token.get_secret_value()}/sendMessage"

    @functools.cached_property
    def _request_options(self) -> dict[str, Any]:
        return request_options(self.config.http_config)

    @functools.cached_property
    def _mask(self) -> Masker:
        # The token travels in the URL path, which a provider's answer may quote.
        token = self.config.bot_token.get_secret_value() if self.config.bot_token else None
        return Masker(values=[token], marker="**********")
