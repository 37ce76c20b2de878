"""Generic webhook: posts an Alertmanager-format v4 body, so Alertmanager's receivers accept it.

The body is what Alertmanager 0.25 sends, byte for byte where the input allows: same keys in the
same order, Go's JSON encoding (compact, ``<>&`` escaped, trailing newline).
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, ClassVar

import aiohttp
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_core import PydanticCustomError

from alertrouter.config.integrations import Duration, HTTPClientConfig, IntegrationConfig
from alertrouter.notifiers.base import Notification, Notifier, Receipt
from alertrouter.notifiers.http import Masker, answer_error, request, request_options
from alertrouter.notifiers.render import common_pairs
from alertrouter.payload import ZERO_TIME, alertmanager_fingerprint

__all__ = [
    "WebhookConfig",
    "WebhookNotifier",
    "encode_go_json",
    "webhook_body",
]


class WebhookConfig(IntegrationConfig):
    """``webhook_configs`` entry (Alertmanager's fields; ``url`` is a secret as there).

    ``timeout`` is Alertmanager 0.28's field; 0 (its default, "none") means our 10 s.
    """

    url: SecretStr | None = None
    http_config: HTTPClientConfig = HTTPClientConfig()
    max_alerts: int = Field(0, ge=0)
    timeout: Duration = timedelta(seconds=10)

    default_send_resolved: ClassVar[bool] = True
    secret_files: ClassVar[dict[str, str]] = {"url_file": "url"}

    @field_validator("timeout")
    @classmethod
    def _timeout(cls, value: timedelta) -> timedelta:
        if value < timedelta(0):
            raise PydanticCustomError("timeout", "timeout must not be negative")
        return value or timedelta(seconds=10)

    @model_validator(mode="after")
    def _url_required(self) -> WebhookConfig:
        if self.url is None or not self.url.get_secret_value():
            raise PydanticCustomError("webhook", "url (or url_file) is required")
        scheme = self.url.get_secret_value().partition("://")[0].lower()
        if scheme not in ("http", "https"):
            # Never echo the URL: it is a secret (tokens often live in its path).
            raise PydanticCustomError("webhook", "url must be an http:// or https:// URL")
        return self


def _alert(alert: Mapping[str, Any]) -> dict[str, Any]:
    """One alert in Alertmanager's key order; labels sorted as Go marshals maps."""
    labels: Mapping[str, str] = alert.get("labels") or {}
    annotations: Mapping[str, str] = alert.get("annotations") or {}
    return {
        "status": alert.get("status", "firing"),
        "labels": dict(sorted(labels.items())),
        "annotations": dict(sorted(annotations.items())),
        "startsAt": alert.get("startsAt") or ZERO_TIME,
        "endsAt": alert.get("endsAt") or ZERO_TIME,
        "generatorURL": alert.get("generatorURL") or "",
        "fingerprint": alert.get("fingerprint") or alertmanager_fingerprint(dict(labels)),
    }


def webhook_body(notification: Notification, max_alerts: int = 0) -> dict[str, Any]:
    """Alertmanager's v4 webhook body for the notification's alerts, first ``max_alerts`` only.

    As Alertmanager does, truncation comes first and status and common labels describe the
    alerts sent; ``truncatedAlerts`` adds what an upstream Alertmanager already left out.
    """
    alerts = [_alert(a) for a in notification.alerts]
    truncated = 0
    if max_alerts and len(alerts) > max_alerts:
        truncated = len(alerts) - max_alerts
        alerts = alerts[:max_alerts]
    group = notification.group
    common_labels = common_pairs(a["labels"] for a in alerts)
    group_labels = {
        k: v
        for k, v in sorted((group.get("groupLabels") or {}).items())
        if common_labels.get(k) == v
    }
    status = "firing" if any(a["status"] == "firing" for a in alerts) else "resolved"
    return {
        "receiver": notification.receiver,
        "status": status,
        "alerts": alerts,
        "groupLabels": group_labels,
        "commonLabels": common_labels,
        "commonAnnotations": common_pairs(a["annotations"] for a in alerts),
        "externalURL": str(group.get("externalURL") or ""),
        "version": "4",
        "groupKey": str(group.get("groupKey") or ""),
        "truncatedAlerts": truncated + int(group.get("truncatedAlerts") or 0),
    }


def encode_go_json(value: Any) -> bytes:
    """JSON as Go's json.Encoder writes it: compact, ``<>&`` and U+2028/9 escaped, newline."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for char, escaped in (
        ("&", "\\u0026"),
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, escaped)
    return (text + "\n").encode("utf-8")


class WebhookNotifier(Notifier[WebhookConfig]):
    """POSTs the due alerts in Alertmanager's webhook format to ``url``."""

    type_name: ClassVar[str] = "webhook"
    config_model: ClassVar[type[IntegrationConfig]] = WebhookConfig
    default_rate_per_second: ClassVar[float] = 10.0
    default_burst: ClassVar[int] = 20
    coalesce: ClassVar[bool] = True

    def __init__(
        self,
        config: WebhookConfig,
        session: aiohttp.ClientSession,
        **options: Any,
    ) -> None:
        super().__init__(config, session, **options)
        assert config.url is not None  # the config validator requires it
        self._url = config.url.get_secret_value()
        self._mask = Masker.for_http([self._url], config.http_config)

    @functools.cached_property
    def _request_options(self) -> dict[str, Any]:
        # Built at the first send, so an unusable tls_config fails that send, permanently.
        return request_options(self.config.http_config)

    async def send(self, notification: Notification) -> Receipt:
        """POST the body; 2xx is delivered, 429/5xx retryable, any other answer permanent."""
        started = time.monotonic()
        body = webhook_body(notification, self.config.max_alerts)
        answer = await request(
            self.session,
            "POST",
            self._url,
            provider="webhook",
            timeout=self.config.timeout.total_seconds(),
            data=encode_go_json(body),
            **self._request_options,
        )
        if answer.ok:
            return Receipt(
                provider_status=answer.line,
                message_id=None,
                duration=time.monotonic() - started,
                detail={
                    "alerts": len(body["alerts"]),
                    "truncatedAlerts": body["truncatedAlerts"],
                },
            )
        raise answer_error("webhook", answer, self._mask)
