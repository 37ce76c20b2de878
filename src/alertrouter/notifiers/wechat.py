"""WeChat Work (企业微信) application messages, with the access-token flow Alertmanager uses.

``GET {api_url}gettoken?corpid=…&corpsecret=…`` yields an access token, kept until the
``expires_in`` WeChat gave (less a margin); ``POST {api_url}message/send?access_token=…``
sends the text or markdown message. WeChat answers 200 with an ``errcode``: 42001 (expired) and
40014 (invalid token) drop the token, and the message is sent once more with a fresh one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any, ClassVar, Literal

import aiohttp
from pydantic import SecretStr, model_validator
from pydantic_core import PydanticCustomError

from alertrouter.config.integrations import Duration, HTTPClientConfig, IntegrationConfig
from alertrouter.config.templating import GoTemplate
from alertrouter.errors import NotifierError, PermanentNotifierError, RetryableNotifierError
from alertrouter.notifiers.base import Notification, Notifier, Receipt
from alertrouter.notifiers.http import (
    SNIPPET,
    Answer,
    Masker,
    answer_error,
    authorization_header,
    request,
    request_options,
)
from alertrouter.notifiers.render import truncate_bytes
from alertrouter.notifiers.templating import FieldRenderer

__all__ = ["WeChatConfig", "WeChatNotifier"]

DEFAULT_API_URL = "https://qyapi.weixin.qq.com/cgi-bin/"
MAX_CONTENT = {"text": 2048, "markdown": 4096}  # bytes, WeChat Work's message limits
TOKEN_MARGIN = 300.0  # seconds before expires_in at which a token is renewed
DEFAULT_TOKEN_LIFETIME = 7200.0  # what WeChat gives, and what Alertmanager assumes
STALE_TOKEN = frozenset({42001, 40014})  # expired, invalid access_token
AUTH_CODES = frozenset({40001, 40013, 40091, 48002, 60011, 60020})  # secret, corp id, IP, rights
RATE_LIMITED = frozenset({45009, 45033, 45047})  # API frequency and quota limits
BUSY = -1  # "system busy": try later

DEFAULT_MESSAGE = '{{ template "wechat.default.message" . }}'
DEFAULT_TO_USER = '{{ template "wechat.default.to_user" . }}'
DEFAULT_TO_PARTY = '{{ template "wechat.default.to_party" . }}'
DEFAULT_TO_TAG = '{{ template "wechat.default.to_tag" . }}'
DEFAULT_AGENT_ID = '{{ template "wechat.default.agent_id" . }}'


class WeChatConfig(IntegrationConfig):
    """``wechat_configs`` entry: Alertmanager's fields; ``api_url``, ``api_secret`` and
    ``corp_id`` from ``global:`` (``wechat_api_url``, ``wechat_api_secret``,
    ``wechat_api_corp_id``) when unset."""

    api_url: str = DEFAULT_API_URL
    api_secret: SecretStr | None = None
    corp_id: GoTemplate = ""
    agent_id: GoTemplate | None = None
    to_user: GoTemplate | None = None
    to_party: GoTemplate | None = None
    to_tag: GoTemplate | None = None
    message: GoTemplate | None = None
    message_type: Literal["text", "markdown"] = "text"
    http_config: HTTPClientConfig = HTTPClientConfig()
    timeout: Duration = timedelta(seconds=10)

    default_send_resolved: ClassVar[bool] = False
    secret_files: ClassVar[dict[str, str]] = {"api_secret_file": "api_secret"}
    global_defaults: ClassVar[dict[str, str]] = {
        "api_url": "wechat_api_url",
        "api_secret": "wechat_api_secret",
        "api_secret_file": "wechat_api_secret_file",
        "corp_id": "wechat_api_corp_id",
    }

    @model_validator(mode="before")
    @classmethod
    def _empty_type(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("message_type") in ("", None):
            data = {k: v for k, v in data.items() if k != "message_type"}  # Go's "" is "text"
        return data

    @model_validator(mode="after")
    def _check(self) -> WeChatConfig:
        if self.api_secret is None or not self.api_secret.get_secret_value():
            raise PydanticCustomError("wechat", "no global Wechat ApiSecret set")
        if self.timeout <= timedelta(0):
            raise PydanticCustomError("wechat", "timeout must be greater than 0")
        return self


class WeChatNotifier(Notifier[WeChatConfig]):
    """Sends one application message per notification; the Receipt carries WeChat's msgid.

    errcode 0 is delivered; stale tokens are renewed and the send repeated once; auth codes
    (bad secret or corp id) are permanent authErrors, frequency limits retried as
    rateLimited, -1 ("busy") retried, other codes permanent clientErrors.
    """

    type_name: ClassVar[str] = "wechat"
    config_model: ClassVar[type[IntegrationConfig]] = WeChatConfig
    default_rate_per_second: ClassVar[float] = 0.5  # 30 messages a minute to one member
    default_burst: ClassVar[int] = 5
    max_message_bytes: ClassVar[int] = MAX_CONTENT["markdown"]
    coalesce: ClassVar[bool] = True

    clock: Callable[[], float] = staticmethod(time.monotonic)  # tests move time by hand

    def __init__(self, config: WeChatConfig, session: aiohttp.ClientSession, **options: Any):
        super().__init__(config, session, **options)
        assert config.api_secret is not None  # the validator requires it
        self._secret = config.api_secret.get_secret_value()
        secrets = [self._secret, authorization_header(config.http_config) or ""]
        self._mask = Masker(values=secrets)
        self._timeout = config.timeout.total_seconds()
        self._token: str | None = None
        self._token_until = 0.0

    async def send(self, notification: Notification) -> Receipt:
        """Get a token if none is fresh, send; renew and resend once if WeChat says stale."""
        started = time.monotonic()
        fields = FieldRenderer(self, notification)
        message = self.message(notification, fields)
        options = request_options(self.config.http_config)
        renewed = False
        for _ in range(2):
            token = await self._access_token(fields, options)
            answer = await request(
                self.session,
                "POST",
                f"{self.config.api_url}message/send",
                provider="WeChat",
                timeout=self._timeout,
                params={"access_token": token},
                json=message,
                **options,
            )
            body = self._checked(answer)
            code = _errcode(body)
            if code in STALE_TOKEN and not renewed:
                self._token, renewed = None, True
                continue
            if code != 0:
                raise self._errcode_error(code, body)
            return Receipt(
                provider_status=f"{answer.status} errcode 0",
                message_id=str(body.get("msgid") or "") or None,
                duration=time.monotonic() - started,
                detail={"msgtype": message["msgtype"], "token_renewed": renewed},
            )
        raise self._error("other", "access token refused twice", retryable=True)

    def message(self, notification: Notification, fields: FieldRenderer) -> dict[str, Any]:
        """The message/send body (Go's omitempty: empty recipients are left out)."""
        config = self.config

        def text(name: str, template: str | None, default: str) -> str:
            return fields.text(name, template, lambda: fields.text(name, default))

        kind = config.message_type
        content = text("message", config.message, DEFAULT_MESSAGE)
        content, _ = truncate_bytes(content, MAX_CONTENT[kind])
        body: dict[str, Any] = {
            "touser": text("to_user", config.to_user, DEFAULT_TO_USER),
            "toparty": text("to_party", config.to_party, DEFAULT_TO_PARTY),
            "totag": text("to_tag", config.to_tag, DEFAULT_TO_TAG),
            "agentid": text("agent_id", config.agent_id, DEFAULT_AGENT_ID),
            "safe": "0",
            "msgtype": kind,
        }
        body = {k: v for k, v in body.items() if v}
        body[kind] = {"content": content}
        return body

    async def _access_token(self, fields: FieldRenderer, options: dict[str, Any]) -> str:
        if self._token is not None and self.clock() < self._token_until:
            return self._token
        answer = await request(
            self.session,
            "GET",
            f"{self.config.api_url}gettoken",
            provider="WeChat",
            timeout=self._timeout,
            params={
                "corpid": fields.text("corp_id", self.config.corp_id),
                "corpsecret": self._secret,
            },
            **options,
        )
        body = self._checked(answer)
        token = body.get("access_token")
        if _errcode(body) != 0 or not isinstance(token, str) or not token:
            code = _errcode(body)
            raise self._errcode_error(code if code != 0 else 40001, body, "gettoken")
        self._mask.add(token)
        lifetime = float(body.get("expires_in") or DEFAULT_TOKEN_LIFETIME)
        self._token = token
        self._token_until = self.clock() + max(0.0, lifetime - TOKEN_MARGIN)
        return token

    def _checked(self, answer: Answer) -> dict[str, Any]:
        """The JSON object of a 2xx answer; an error for any other status or body."""
        if not answer.ok:
            raise answer_error("WeChat", answer, self._mask)
        body = answer.json()
        if not isinstance(body, dict):
            raise self._error("serverError", "answer is not a JSON object", retryable=True)
        return body

    def _error(self, reason: str, message: str, *, retryable: bool) -> NotifierError:
        """A classified error for WeChat's own error codes, its message masked."""
        text = f"WeChat: {self._mask(message.strip())[:SNIPPET]}"
        if retryable:
            return RetryableNotifierError(reason, text)
        return PermanentNotifierError(reason, text)

    def _errcode_error(self, code: int, body: dict[str, Any], step: str = "send") -> NotifierError:
        message = f"{step}: errcode {code}: {body.get('errmsg', '')}"
        if code in AUTH_CODES:
            return self._error("authError", message, retryable=False)
        if code in RATE_LIMITED:
            return self._error("rateLimited", message, retryable=True)
        if code == BUSY or code in STALE_TOKEN:
            return self._error("serverError", message, retryable=True)
        return self._error("clientError", message, retryable=False)


def _errcode(body: dict[str, Any]) -> int:
    try:
        return int(body.get("errcode", 0))
    except (TypeError, ValueError):
        return BUSY
