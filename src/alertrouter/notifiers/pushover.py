"""Pushover (``POST /1/messages.json``): one message per group, emergencies cancelled on resolve.

Fields and defaults are Alertmanager's, limits Pushover's (title 250, message 1,024 and URL 512
characters). A firing group at emergency priority (2) is tagged with its group key hash; its
resolve first cancels the emergency's retries by that tag (``receipts/cancel_by_tag``), so
nobody is still paged for a problem that is over.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any, ClassVar

import aiohttp
from pydantic import SecretStr, model_validator
from pydantic_core import PydanticCustomError

from alertrouter.config.integrations import Duration, HTTPClientConfig, IntegrationConfig
from alertrouter.config.templating import GoTemplate
from alertrouter.errors import NotifierError, PermanentNotifierError
from alertrouter.notifiers.base import Notification, Notifier, Receipt
from alertrouter.notifiers.http import (
    USER_AGENT,
    Answer,
    Masker,
    answer_error,
    authorization_header,
    request,
    request_options,
)
from alertrouter.notifiers.render import group_key_hash, truncate
from alertrouter.notifiers.templating import FieldRenderer

__all__ = ["PushoverConfig", "PushoverNotifier"]

DEFAULT_API_URL = "https://api.pushover.net/1/messages.json"
MAX_TITLE = 250  # https://pushover.net/api#limits, in characters
MAX_MESSAGE = 1024
MAX_URL = 512
MAX_URL_TITLE = 100

DEFAULT_TITLE = '{{ template "pushover.default.title" . }}'
DEFAULT_MESSAGE = '{{ template "pushover.default.message" . }}'
DEFAULT_URL = '{{ template "pushover.default.url" . }}'
DEFAULT_PRIORITY = '{{ if eq .Status "firing" }}2{{ else }}0{{ end }}'
EMERGENCY = "2"


class PushoverConfig(IntegrationConfig):
    """``pushover_configs`` entry: Alertmanager's fields, plus ``api_url`` (tests, proxies).

    Unset templated fields render Alertmanager's defaults (``pushover.default.*``).
    """

    user_key: SecretStr | None = None
    token: SecretStr | None = None
    title: GoTemplate | None = None
    message: GoTemplate | None = None
    url: GoTemplate | None = None
    url_title: GoTemplate = ""
    device: GoTemplate = ""
    sound: GoTemplate = ""
    priority: GoTemplate = DEFAULT_PRIORITY
    emergency_retry: Duration = timedelta(minutes=1)  # Pushover's ``retry`` (see _retry)
    expire: Duration = timedelta(hours=1)
    ttl: Duration = timedelta(0)
    html: bool = False
    monospace: bool = False
    api_url: str = DEFAULT_API_URL
    http_config: HTTPClientConfig = HTTPClientConfig()
    timeout: Duration = timedelta(seconds=10)

    default_send_resolved: ClassVar[bool] = True
    secret_files: ClassVar[dict[str, str]] = {"user_key_file": "user_key", "token_file": "token"}

    @model_validator(mode="before")
    @classmethod
    def _retry(cls, data: Any) -> Any:
        # ``retry`` is both Alertmanager's Pushover field (a duration: how often an emergency
        # repeats) and alertrouter's backoff mapping: a scalar is Pushover's.
        if isinstance(data, dict) and isinstance(data.get("retry"), str | int):
            data = dict(data)
            data["emergency_retry"] = data.pop("retry")
        return data

    @model_validator(mode="after")
    def _check(self) -> PushoverConfig:
        for name in ("user_key", "token"):
            value = getattr(self, name)
            if value is None or not value.get_secret_value():
                raise PydanticCustomError(
                    "pushover", "one of {a} or {a}_file must be configured", {"a": name}
                )
        if self.html and self.monospace:
            raise PydanticCustomError(
                "pushover", "at most one of monospace & html must be configured"
            )
        if self.timeout <= timedelta(0):
            raise PydanticCustomError("pushover", "timeout must be greater than 0")
        return self


class PushoverNotifier(Notifier[PushoverConfig]):
    """Posts one form-encoded message per notification; the Receipt carries Pushover's ids.

    4xx answers are permanent (authError when Pushover flags the token or user key as
    invalid, or on 401/403); 429 (monthly quota) and 5xx are retried after ``Retry-After``.
    """

    type_name: ClassVar[str] = "pushover"
    config_model: ClassVar[type[IntegrationConfig]] = PushoverConfig
    # Pushover asks for no more than two concurrent requests; quotas are monthly.
    default_rate_per_second: ClassVar[float] = 2.0
    default_burst: ClassVar[int] = 2
    max_message_bytes: ClassVar[int] = MAX_MESSAGE * 4
    coalesce: ClassVar[bool] = True

    def __init__(self, config: PushoverConfig, session: aiohttp.ClientSession, **options: Any):
        super().__init__(config, session, **options)
        assert config.token is not None  # the validator requires both
        assert config.user_key is not None
        self._token = config.token.get_secret_value()
        self._user = config.user_key.get_secret_value()
        secrets = [self._token, self._user, authorization_header(config.http_config) or ""]
        self._mask = Masker(values=secrets)
        self._timeout = config.timeout.total_seconds()

    def _options(self) -> dict[str, Any]:
        options = request_options(self.config.http_config)
        options["headers"] = {
            k: v for k, v in options["headers"].items() if k != "Content-Type"
        }  # aiohttp sets the form's own
        options["headers"]["User-Agent"] = USER_AGENT
        return options

    async def send(self, notification: Notification) -> Receipt:
        """Cancel a resolved group's emergency retries, then post the message."""
        started = time.monotonic()
        tag = group_key_hash(str(notification.group.get("groupKey") or ""))[:32]
        options = self._options()
        detail: dict[str, Any] = {}
        if notification.status == "resolved":
            detail["cancelled"] = await self._cancel(tag, options)
        form = self.form(notification, tag)
        answer = await request(
            self.session,
            "POST",
            self.config.api_url,
            provider="Pushover",
            timeout=self._timeout,
            data=form,
            **options,
        )
        body = answer.json()
        if not answer.ok:
            raise self._failure(answer, body)
        body = body if isinstance(body, dict) else {}
        if body.get("receipt"):
            detail["receipt"] = str(body["receipt"])
        detail["priority"] = form["priority"]
        return Receipt(
            provider_status=f"{answer.status} {answer.reason}".strip(),
            message_id=str(body.get("request") or "") or None,
            duration=time.monotonic() - started,
            detail=detail,
        )

    def form(self, notification: Notification, tag: str) -> dict[str, str]:
        """The form fields of the message (token and user key included)."""
        config = self.config
        fields = FieldRenderer(self, notification)

        def text(name: str, template: str | None, default: str) -> str:
            return fields.text(name, template, lambda: fields.text(name, default))

        if config.html:
            message = fields.html(
                "message", config.message, lambda: fields.html("message", DEFAULT_MESSAGE)
            )
        else:
            message = text("message", config.message, DEFAULT_MESSAGE)
        # Pushover rejects an empty message.
        message = truncate(message, MAX_MESSAGE).strip() or "(no details)"
        form = {
            "token": self._token,
            "user": self._user,
            "title": truncate(text("title", config.title, DEFAULT_TITLE), MAX_TITLE),
            "message": message,
            "url": truncate(text("url", config.url, DEFAULT_URL), MAX_URL),
            "url_title": truncate(fields.text("url_title", config.url_title), MAX_URL_TITLE),
            "priority": text("priority", config.priority, DEFAULT_PRIORITY).strip(),
            "retry": str(int(config.emergency_retry.total_seconds())),
            "expire": str(int(config.expire.total_seconds())),
            "device": fields.text("device", config.device),
            "sound": fields.text("sound", config.sound),
        }
        if config.html:
            form["html"] = "1"
        if config.monospace:
            form["monospace"] = "1"
        ttl = int(config.ttl.total_seconds())
        if ttl > 0:
            form["ttl"] = str(ttl)
        if form["priority"] == EMERGENCY:
            form["tags"] = tag
        return {k: v for k, v in form.items() if v}  # unset optional fields are left out

    async def _cancel(self, tag: str, options: dict[str, Any]) -> int:
        """Cancel the emergency retries of messages tagged ``tag``; how many were cancelled."""
        base = self.config.api_url.rsplit("/", 1)[0]
        answer = await request(
            self.session,
            "POST",
            f"{base}/receipts/cancel_by_tag/{tag}.json",
            provider="Pushover",
            timeout=self._timeout,
            data={"token": self._token},
            **options,
        )
        body = answer.json()
        if not answer.ok:
            raise self._failure(answer, body)
        return int(body.get("canceled", 0)) if isinstance(body, dict) else 0

    def _failure(self, answer: Answer, body: Any) -> NotifierError:
        errors = body.get("errors") if isinstance(body, dict) else None
        detail = "; ".join(str(e) for e in errors) if isinstance(errors, list) else ""
        error = answer_error("Pushover", answer, self._mask, detail=detail)
        flagged = isinstance(body, dict) and "invalid" in (body.get("token"), body.get("user"))
        if flagged and 400 <= answer.status < 500 and answer.status != 429:
            # Pushover answers 400, not 401, for a bad token or user key.
            return PermanentNotifierError("authError", str(error))
        return error
