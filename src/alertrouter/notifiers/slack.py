"""Slack: incoming webhooks, or the Web API's chat.postMessage with a bot token.

One Block Kit message per notification: a header (status and count) with the title as the
plain-text fallback, then an attachment coloured by the most severe firing alert (green once
resolved) holding one section per alert, most severe first. Messages stay within Slack's limits
(50 blocks, 3000-character sections, 150-character header, ``max_message_bytes`` of JSON);
alerts that do not fit are counted in a final "+N more alerts (T in total)" line.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any, ClassVar
from urllib.parse import quote

import aiohttp
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_core import PydanticCustomError
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from alertrouter.config.integrations import (
    Duration,
    HTTPClientConfig,
    IntegrationConfig,
    StrictModel,
)
from alertrouter.config.templating import GoTemplate
from alertrouter.errors import NotifierError, PermanentNotifierError, RetryableNotifierError
from alertrouter.logs import get_logger, log_event
from alertrouter.notifiers.base import (
    Notification,
    Notifier,
    Receipt,
    classify_http_status,
    http_status_error,
)
from alertrouter.notifiers.http import Masker, parse_retry_after, tls_context
from alertrouter.notifiers.render import (
    alert_label_summary,
    alert_summary,
    digest_lines,
    notification_title,
    sort_alerts,
    truncate,
)
from alertrouter.notifiers.templating import FieldRenderer

__all__ = ["SlackConfig", "SlackNotifier", "build_message"]

DEFAULT_API_BASE_URL = "https://slack.com/api/"

# Slack's limits (Block Kit reference; chat.postMessage "msg_too_long").
MAX_BLOCKS = 50
MAX_SECTION_CHARS = 3000
MAX_HEADER_CHARS = 150
MAX_TEXT_CHARS = 40_000
# Our own bound on the JSON body, well under what Slack accepts, so a storm digest stays readable.
MAX_MESSAGE_BYTES = 40_000
MAX_FALLBACK_CHARS = 1000

# Attachment colour of a firing message, by its most severe firing alert (Slack's brand palette).
SEVERITY_COLORS = {
    "critical": "#E01E5A",
    "error": "#E01E5A",
    "warning": "#ECB22E",
    "info": "#36C5F0",
}
COLOR_UNKNOWN_SEVERITY = "#868686"
COLOR_RESOLVED = "#2EB67D"
_SEVERITY_EMOJI = {"critical": "🔴", "error": "🔴", "warning": "🟠", "info": "🔵"}

# chat.postMessage errors (HTTP 200, {"ok": false}): the rest are permanent clientErrors.
_AUTH_ERRORS = frozenset(
    {
        "invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired",
        "no_permission", "missing_scope", "not_allowed_token_type", "ekm_access_denied",
    }
)  # fmt: skip
_TRANSIENT_ERRORS = frozenset(
    {"fatal_error", "internal_error", "service_unavailable", "request_timeout"}
)

_LOG = get_logger(__name__)
# slack_sdk logs request URLs (a webhook URL is a secret) and bodies at DEBUG, gated on its
# logger's own level: give it an unregistered logger above CRITICAL, silent whatever the config.
_SDK_LOGGER = logging.Logger("alertrouter.notifiers.slack.sdk", level=logging.CRITICAL + 1)


class SlackField(StrictModel):
    """An attachment field (Alertmanager's ``fields``); ``title`` and ``value`` are templated."""

    title: GoTemplate
    value: GoTemplate
    short: bool | None = None


class SlackConfirm(StrictModel):
    """A button's confirmation dialog; every text is templated."""

    text: GoTemplate
    title: GoTemplate = ""
    ok_text: GoTemplate = ""
    dismiss_text: GoTemplate = ""


class SlackAction(StrictModel):
    """An attachment button (Alertmanager's ``actions``); texts and URLs are templated."""

    type: GoTemplate
    text: GoTemplate
    url: GoTemplate = ""
    style: GoTemplate = ""
    name: GoTemplate = ""
    value: GoTemplate = ""
    confirm: SlackConfirm | None = None


class SlackConfig(IntegrationConfig):
    """``slack_configs`` entry: Alertmanager's fields plus ``token`` for the Web API.

    With ``token`` (and ``channel``) messages go through chat.postMessage at ``api_base_url``;
    otherwise to the incoming webhook ``api_url``. Every field Alertmanager templates is a Go
    template over Alertmanager's data; one left unset keeps our own rendering (Block Kit).
    """

    api_url: SecretStr | None = None
    token: SecretStr | None = None
    api_base_url: str = DEFAULT_API_BASE_URL
    channel: GoTemplate | None = None
    username: GoTemplate | None = None
    icon_emoji: GoTemplate | None = None
    icon_url: GoTemplate | None = None
    title: GoTemplate | None = None
    title_link: GoTemplate | None = None
    pretext: GoTemplate | None = None
    text: GoTemplate | None = None
    fallback: GoTemplate | None = None
    footer: GoTemplate | None = None
    color: GoTemplate | None = None
    callback_id: GoTemplate | None = None
    image_url: GoTemplate | None = None
    thumb_url: GoTemplate | None = None
    fields: list[SlackField] = Field(default_factory=list)
    short_fields: bool = False
    actions: list[SlackAction] = Field(default_factory=list)
    link_names: bool = False
    mrkdwn_in: list[str] = Field(default_factory=list)
    timeout: Duration = timedelta(seconds=10)
    http_config: HTTPClientConfig = HTTPClientConfig()

    default_send_resolved: ClassVar[bool] = False
    global_defaults: ClassVar[dict[str, str]] = {"api_url": "slack_api_url"}
    secret_files: ClassVar[dict[str, str]] = {
        "api_url_file": "api_url",
        "token_file": "token",
    }

    @field_validator("timeout")
    @classmethod
    def _timeout_positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise PydanticCustomError("timeout", "timeout must be positive")
        return value

    @model_validator(mode="after")
    def _endpoint_required(self) -> SlackConfig:
        if self.token is not None:
            if not self.channel:
                raise PydanticCustomError("slack", "channel is required with token (Web API)")
        elif self.api_url is None or not self.api_url.get_secret_value():
            raise PydanticCustomError(
                "slack", "api_url (or api_url_file, or global slack_api_url) is required"
            )
        return self


# ---------------------------------------------------------------------------------------------
# The message


def build_message(
    notification: Notification,
    config: SlackConfig,
    fields: FieldRenderer,
    *,
    max_bytes: int = MAX_MESSAGE_BYTES,
) -> dict[str, Any]:
    """The chat.postMessage / incoming-webhook body for ``notification``, within Slack's limits.

    Fields the config templates are rendered by ``fields``; the rest is our own Block Kit.
    """
    ordered = sort_alerts(notification.alerts)
    title = notification_title(notification)
    if config.title is not None:
        title = fields.text("title", config.title).strip() or title
    fallback = fields.text("fallback", config.fallback, title) or title
    payload: dict[str, Any] = {"text": truncate(fallback, MAX_FALLBACK_CHARS)}
    for key in ("channel", "username", "icon_emoji", "icon_url"):
        value = fields.text(key, getattr(config, key))
        if value:
            payload[key] = value
    if config.link_names:
        payload["link_names"] = True
    top: list[dict[str, Any]] = [_header_block(notification, title)]
    link = _title_link(notification, config, fields)
    if link:
        top.append({"type": "context", "elements": [{"type": "mrkdwn", "text": link}]})
    body: list[dict[str, Any]] = []
    if notification.digest:
        body.append(_section(_digest_text(notification)))
    payload["blocks"] = top
    color = fields.text("color", config.color).strip() or _default_color(notification, ordered)
    attachment: dict[str, Any] = {"color": color, "blocks": body}
    attachment.update(_attachment_fields(config, fields))
    payload["attachments"] = [attachment]

    total = notification.covered
    parts: Iterable[str]
    text = fields.text("text", config.text) if config.text is not None else ""
    if text.strip():
        chunks = _chunks(text)
        parts, count = chunks, len(chunks)
        overflow = f"… message cut to fit Slack ({total} alerts in total)"
    elif notification.digest:
        _fill_digest(body, top, ordered, total, max_bytes - _size(payload) - 200)
        return payload
    else:
        # Lazily: a storm digest holds far more alerts than the ~48 sections that fit.
        parts, count = map(_alert_text, ordered), len(notification.alerts)
        overflow = ""
    # Keep one block and its bytes for the overflow line, then fill greedily.
    used = _size(payload) + 200
    shown = 0
    for part in parts:
        block = _section(part)
        cost = _size(block) + 2
        if len(top) + len(body) + 2 > MAX_BLOCKS or used + cost > max_bytes:
            break
        body.append(block)
        used += cost
        shown += 1
    if shown < count:
        more = count - shown
        body.append(_section(overflow or f"*+{more} more alerts* ({total} in total)"))
    return payload


def _fill_digest(
    body: list[dict[str, Any]],
    top: Sequence[dict[str, Any]],
    ordered: Sequence[Mapping[str, Any]],
    total: int,
    budget: int,
) -> None:
    """A digest names as many alerts as Slack's limits allow, one line each (most severe
    first, with the labels that tell them apart), packed into sections; then counts the rest."""
    distinguishing = _distinguishing_labels(ordered)
    used = 0

    def place(lines: Sequence[str]) -> bool:
        nonlocal used
        block = _section("\n".join(lines))
        cost = _size(block) + 2
        if len(top) + len(body) + 2 > MAX_BLOCKS or used + cost > budget:
            return False
        body.append(block)
        used += cost
        return True

    shown = 0
    lines: list[str] = []
    chars = 0
    for alert in ordered:
        line = _digest_line(alert, distinguishing)
        if lines and chars + len(line) + 1 > MAX_SECTION_CHARS - 40:
            if not place(lines):
                lines = []
                break
            shown += len(lines)
            lines, chars = [], 0
        lines.append(line)
        chars += len(line) + 1
    if lines and place(lines):
        shown += len(lines)
    if shown < total:
        body.append(_section(f"*+{total - shown} more alerts* ({total} in total)"))


def _distinguishing_labels(alerts: Sequence[Mapping[str, Any]]) -> list[str]:
    """Label names whose values differ between the alerts (what tells them apart), sorted."""
    values: dict[str, set[str]] = {}
    for alert in alerts:
        for name, value in (alert.get("labels") or {}).items():
            values.setdefault(name, set()).add(str(value))
    skip = {"alertname", "severity"}
    return sorted(
        n for n, v in values.items() if n not in skip and (len(v) > 1 or len(alerts) == 1)
    )


def _digest_line(alert: Mapping[str, Any], distinguishing: Sequence[str]) -> str:
    """``🟠 *DiskFull* · warning · instance=db-1 mount=/var`` within a line's share."""
    labels = alert.get("labels") or {}
    severity = str(labels.get("severity", "")).lower()
    firing = alert.get("status") == "firing"
    emoji = _SEVERITY_EMOJI.get(severity, "⚪") if firing else "✅"
    head = f"{emoji} *{_escape(truncate(str(labels.get('alertname', 'alert')), 80))}*"
    if labels.get("severity"):
        head += f" · {_escape(truncate(str(labels['severity']), 20))}"
    if not firing:
        head += " · resolved"
    shown = " ".join(f"{n}={labels[n]}" for n in distinguishing if n in labels)
    if shown:
        quoted = shown.replace("`", "'")
        head += f" · `{_escape(truncate(quoted, 160))}`"
    return head


def _attachment_fields(config: SlackConfig, fields: FieldRenderer) -> dict[str, Any]:
    """Alertmanager's attachment fields that the config sets, rendered as Alertmanager does."""
    out: dict[str, Any] = {}
    for key in ("pretext", "footer", "callback_id", "image_url", "thumb_url"):
        value = fields.text(key, getattr(config, key))
        if value:
            out[key] = truncate(value, MAX_SECTION_CHARS) if key == "pretext" else value
    if config.fields:
        out["fields"] = [
            {
                "title": fields.text(f"fields[{i}].title", field.title),
                "value": fields.text(f"fields[{i}].value", field.value),
                "short": config.short_fields if field.short is None else field.short,
            }
            for i, field in enumerate(config.fields)
        ]
    if config.actions:
        out["actions"] = [_action(i, action, fields) for i, action in enumerate(config.actions)]
    if config.mrkdwn_in:
        out["mrkdwn_in"] = list(config.mrkdwn_in)
    return out


def _action(index: int, action: SlackAction, fields: FieldRenderer) -> dict[str, Any]:
    where = f"actions[{index}]"
    rendered: dict[str, Any] = {
        key: fields.text(f"{where}.{key}", getattr(action, key))
        for key in ("type", "text", "url", "style", "name", "value")
    }
    out = {k: v for k, v in rendered.items() if v or k in ("type", "text")}
    if action.confirm is not None:
        confirm = action.confirm
        out["confirm"] = {
            key: fields.text(f"{where}.confirm.{key}", getattr(confirm, key))
            for key in ("text", "title", "ok_text", "dismiss_text")
        }
    return out


def _header_block(notification: Notification, title: str) -> dict[str, Any]:
    emoji = "🔥" if notification.status == "firing" else "✅"
    # Slack counts UTF-16 units: leave room for the emoji's surrogate pair.
    limit = MAX_HEADER_CHARS - 3
    text = " ".join(title.split())
    if notification.digest:
        suffix = f" — digest of {notification.covered} alerts"
        text = truncate(text.removesuffix(suffix), limit - len(suffix)) + suffix
    else:
        text = truncate(text, limit)
    return {"type": "header", "text": {"type": "plain_text", "text": f"{emoji} {text}"}}


def _title_link(notification: Notification, config: SlackConfig, fields: FieldRenderer) -> str:
    url = fields.text("title_link", config.title_link) if config.title_link is not None else ""
    if not url:
        external = str(notification.group.get("externalURL") or "").rstrip("/")
        if not external:
            return ""
        url = f"{external}/#/alerts?receiver={quote(notification.receiver, safe='')}"
    return _link(url, "Open in Alertmanager")


def _default_color(notification: Notification, ordered: Sequence[Mapping[str, Any]]) -> str:
    if notification.status != "firing":
        return COLOR_RESOLVED
    # sort_alerts ranks every firing alert before any resolved one.
    worst = ordered[0]
    severity = str((worst.get("labels") or {}).get("severity", "")).lower()
    return SEVERITY_COLORS.get(severity, COLOR_UNKNOWN_SEVERITY)


def _alert_text(alert: Mapping[str, Any]) -> str:
    labels = alert.get("labels") or {}
    annotations = alert.get("annotations") or {}
    severity = str(labels.get("severity", "")).lower()
    firing = alert.get("status") == "firing"
    emoji = _SEVERITY_EMOJI.get(severity, "⚪") if firing else "✅"
    head = f"{emoji} *{_escape(truncate(str(labels.get('alertname', 'alert')), 100))}*"
    if labels.get("severity"):
        head += f" · {_escape(truncate(str(labels['severity']), 40))}"
    if not firing:
        head += " · resolved"
    lines = [head, _escape(truncate(alert_summary(alert), 800))]
    key_labels = alert_label_summary(alert, skip=("alertname", "severity")).replace("`", "'")
    if key_labels:
        lines.append(f"`{_escape(truncate(key_labels, 500))}`")
    links = [
        _link(str(url), label)
        for url, label in (
            (annotations.get("runbook_url"), "Runbook"),
            (alert.get("generatorURL"), "Source"),
        )
        if url
    ]
    if any(links):
        lines.append(" · ".join(link for link in links if link))
    return "\n".join(lines)


def _digest_text(notification: Notification) -> str:
    head = f"*Storm digest: {notification.covered} alerts*"
    lines = digest_lines(notification.alerts)
    kept: list[str] = []
    size = len(head)
    for line in lines:
        if size + len(line) + 1 > MAX_SECTION_CHARS - 40:
            break
        kept.append(_escape(line))
        size += len(kept[-1]) + 1
    if len(kept) < len(lines):
        kept.append(f"+{len(lines) - len(kept)} more kinds")
    return "\n".join([head, *kept])


def _section(text: str) -> dict[str, Any]:
    return {
        "type": "section",
        "text": {"type": "mrkdwn", "text": truncate(text, MAX_SECTION_CHARS)},
    }


def _chunks(text: str) -> list[str]:
    """``text`` cut into section-sized parts, at line ends where possible."""
    parts: list[str] = []
    current = ""
    for line in text.splitlines():
        while len(line) > MAX_SECTION_CHARS:
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:MAX_SECTION_CHARS])
            line = line[MAX_SECTION_CHARS:]
        if current and len(current) + 1 + len(line) > MAX_SECTION_CHARS:
            parts.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current.strip():
        parts.append(current)
    return parts or [" "]


def _escape(text: str) -> str:
    """Slack's mrkdwn escaping: only &, < and > are control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _link(url: str, label: str) -> str:
    """``<url|label>``, or "" for a URL too long to show whole (a cut URL is a broken one)."""
    if len(url) > 750:
        return ""
    return f"<{_escape(url).replace('|', '%7C')}|{label}>"


def _size(obj: Any) -> int:
    return len(json.dumps(obj).encode())  # as slack_sdk serialises it (ASCII-escaped)


# ---------------------------------------------------------------------------------------------
# The notifier


class SlackNotifier(Notifier[SlackConfig]):
    """Posts to an incoming webhook, or with ``token`` through chat.postMessage (Receipt: ts).

    Both go through slack_sdk's async clients on the shared session, with the SDK's own retries
    off (the delivery workers retry, honouring Retry-After) and its logging silenced.
    """

    type_name: ClassVar[str] = "slack"
    config_model: ClassVar[type[IntegrationConfig]] = SlackConfig
    default_rate_per_second: ClassVar[float] = 1.0  # Slack: about one message per second
    default_burst: ClassVar[int] = 3
    max_message_bytes: ClassVar[int] = MAX_MESSAGE_BYTES
    coalesce: ClassVar[bool] = True

    def __init__(
        self,
        config: SlackConfig,
        session: aiohttp.ClientSession,
        **options: Any,
    ) -> None:
        super().__init__(config, session, **options)
        self._timeout = config.timeout.total_seconds()
        self._scrub = _masker(config)
        http = config.http_config
        sdk: dict[str, Any] = {
            "timeout": math.ceil(self._timeout),
            "ssl": tls_context(http.tls_config) if http.tls_config is not None else None,
            "session": session,
            "logger": _SDK_LOGGER,
            "retry_handlers": [],
        }
        self._web: AsyncWebClient | None = None
        self._webhook: AsyncWebhookClient | None = None
        # The SDK reads *_PROXY itself and would bypass NO_PROXY: leave that to the session.
        if config.token is not None:
            token = config.token.get_secret_value()
            self._web = AsyncWebClient(token=token, base_url=config.api_base_url, **sdk)
            self._web.proxy = http.proxy_url
        else:
            assert config.api_url is not None  # the config validator guarantees it
            self._webhook = AsyncWebhookClient(url=config.api_url.get_secret_value(), **sdk)
            self._webhook.proxy = http.proxy_url

    async def send(self, notification: Notification) -> Receipt:
        """Post one message; raise Retryable/PermanentNotifierError classifying any failure."""
        message = build_message(notification, self.config, FieldRenderer(self, notification))
        api = "web" if self._web is not None else "webhook"
        started = time.monotonic()
        try:
            async with asyncio.timeout(self._timeout):
                if self._web is not None:
                    status, message_id, detail = await self._post_message(self._web, message)
                else:
                    assert self._webhook is not None
                    status, message_id, detail = await self._post_webhook(self._webhook, message)
        except NotifierError:
            raise
        except TimeoutError:
            raise RetryableNotifierError(
                "timeout", f"Slack {api} did not answer within {self._timeout:g}s"
            ) from None
        except SlackApiError as exc:
            raise self._api_error(exc) from None
        except SlackClientError as exc:
            raise PermanentNotifierError(
                "other", f"Slack {api} request rejected by slack_sdk: {type(exc).__name__}"
            ) from None
        except aiohttp.ClientError as exc:
            raise RetryableNotifierError(
                "other", f"Slack {api} unreachable: {self._describe(exc)}"
            ) from None
        duration = time.monotonic() - started
        blocks = len(message["blocks"]) + len(message["attachments"][0]["blocks"])
        log_event(
            _LOG, logging.DEBUG, "slack_message_sent", receiver=self.receiver,
            integration=self.integration, api=api, alerts=notification.covered, blocks=blocks,
            duration=round(duration, 3),
        )  # fmt: skip
        return Receipt(status, message_id, duration, {"api": api, "blocks": blocks, **detail})

    async def _post_webhook(
        self, client: AsyncWebhookClient, message: dict[str, Any]
    ) -> tuple[str, str | None, dict[str, Any]]:
        response = await client.send_dict(message)
        code = truncate(self._scrub((response.body or "").strip().split("\n")[0]), 100)
        status = response.status_code
        if 200 <= status < 300:
            return f"{status} {code or 'ok'}", None, {}
        what = f"Slack webhook answered {status} {code}".rstrip()
        # 400 invalid_payload/no_text, 403 action_prohibited, 404 no_service, 410 archived, ...
        raise http_status_error(status, what, _retry_after(response.headers))

    async def _post_message(
        self, client: AsyncWebClient, message: dict[str, Any]
    ) -> tuple[str, str | None, dict[str, Any]]:
        response = await client.chat_postMessage(**message)
        ts = response.get("ts")
        return "200 ok", str(ts) if ts else None, {"channel": response.get("channel")}

    def _api_error(self, exc: SlackApiError) -> NotifierError:
        """Classify a chat.postMessage failure (HTTP status, then Slack's ``error`` code)."""
        response = exc.response
        status = int(getattr(response, "status_code", getattr(response, "status", 0)) or 0)
        data = getattr(response, "data", None)
        error = str(data.get("error", "")) if isinstance(data, dict) else ""
        error = truncate(self._scrub(error), 100)
        what = f"Slack chat.postMessage failed: {status} {error}".rstrip()
        retry_after = _retry_after(getattr(response, "headers", None))
        if status == 429 or error == "ratelimited":
            return RetryableNotifierError("rateLimited", what, retry_after)
        if status >= 500 or error in _TRANSIENT_ERRORS:
            return RetryableNotifierError("serverError", what, retry_after)
        if error in _AUTH_ERRORS:
            return PermanentNotifierError("authError", what)
        if status == 200 and error:
            return PermanentNotifierError("clientError", what)
        if 400 <= status < 500:
            return PermanentNotifierError(classify_http_status(status), what)
        # A 200 without a readable body, or a status Slack does not use: worth another try.
        return RetryableNotifierError(
            "other", f"Slack chat.postMessage: unexpected answer {status}"
        )

    def _describe(self, exc: aiohttp.ClientError) -> str:
        # Never str(exc): some aiohttp errors quote the URL (a webhook URL is a secret).
        if isinstance(exc, aiohttp.ClientConnectorError) and exc.os_error.strerror:
            return f"{type(exc).__name__} ({exc.os_error.strerror})"
        return type(exc).__name__


def _masker(config: SlackConfig) -> Masker:
    """Masks the token and the webhook URL, its path and its segments (the webhook's secret)."""
    url = config.api_url.get_secret_value() if config.api_url is not None else None
    token = config.token.get_secret_value() if config.token is not None else None
    return Masker(urls=[url] if url else [], values=[token])


def _retry_after(headers: Mapping[str, str] | None) -> float | None:
    """``Retry-After`` from the SDK's response headers, looked up whatever their case."""
    found = next((v for k, v in (headers or {}).items() if k.lower() == "retry-after"), None)
    return parse_retry_after(found)
