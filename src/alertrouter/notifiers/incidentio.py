"""incident.io alert sources: Alertmanager's webhook body, version "1", to an alert source URL.

As Alertmanager: the group's alerts (first ``max_alerts``) with ``groupKey`` and
``truncatedAlerts``, authenticated by ``alert_source_token`` (a Bearer token) or
``http_config.authorization``. incident.io deduplicates and resolves by ``groupKey``, so a
resolved group closes the alert its firing one opened. A body over 512 KB keeps one alert.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any, ClassVar

import aiohttp
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_core import PydanticCustomError

from alertrouter.config.integrations import Duration, HTTPClientConfig, IntegrationConfig
from alertrouter.notifiers.base import Notification, Notifier, Receipt
from alertrouter.notifiers.http import Masker, answer_error, request, request_options
from alertrouter.notifiers.webhook import encode_go_json, webhook_body

__all__ = ["IncidentioConfig", "IncidentioNotifier", "incidentio_body"]

MAX_PAYLOAD_BYTES = 512 * 1024  # incident.io's limit, as Alertmanager applies it


class IncidentioConfig(IntegrationConfig):
    """``incidentio_configs`` entry: Alertmanager's fields (``url``/``url_file``,
    ``alert_source_token``(``_file``), ``max_alerts``, ``timeout``; 0 means our 10 s)."""

    url: str | None = None
    alert_source_token: SecretStr | None = None
    max_alerts: int = Field(0, ge=0)
    timeout: Duration = timedelta(seconds=10)
    http_config: HTTPClientConfig | None = None

    default_send_resolved: ClassVar[bool] = True
    secret_files: ClassVar[dict[str, str]] = {
        "url_file": "url",
        "alert_source_token_file": "alert_source_token",
    }

    @field_validator("timeout")
    @classmethod
    def _timeout(cls, value: timedelta) -> timedelta:
        if value < timedelta(0):
            raise PydanticCustomError("incidentio", "timeout must not be negative")
        return value or timedelta(seconds=10)

    @model_validator(mode="after")
    def _check(self) -> IncidentioConfig:
        if not self.url:
            raise PydanticCustomError("incidentio", "one of url or url_file must be configured")
        if self.url.partition("://")[0].lower() not in ("http", "https"):
            raise PydanticCustomError("incidentio", "url must be an http:// or https:// URL")
        http = self.http_config
        if http is not None and http.authorization is not None and self.alert_source_token:
            raise PydanticCustomError(
                "incidentio",
                "cannot specify alert_source_token or alert_source_token_file when using "
                "http_config.authorization",
            )
        if http is not None and http.authorization is None and not self.alert_source_token:
            raise PydanticCustomError(
                "incidentio",
                "at least one of alert_source_token, alert_source_token_file or "
                "http_config.authorization must be configured",
            )
        return self


def incidentio_body(notification: Notification, max_alerts: int = 0) -> dict[str, Any]:
    """Alertmanager's incident.io message: the webhook body with ``version`` "1"."""
    body = webhook_body(notification, max_alerts)
    body["version"] = "1"
    return body


class IncidentioNotifier(Notifier[IncidentioConfig]):
    """POSTs the group to the alert source; 2xx delivered.

    401/403 permanent authErrors, other 4xx permanent; 429 (after ``Retry-After``) and 5xx
    retried, as Alertmanager's retrier for incident.io.
    """

    type_name: ClassVar[str] = "incidentio"
    config_model: ClassVar[type[IntegrationConfig]] = IncidentioConfig
    default_rate_per_second: ClassVar[float] = 5.0
    default_burst: ClassVar[int] = 10
    max_message_bytes: ClassVar[int] = MAX_PAYLOAD_BYTES
    coalesce: ClassVar[bool] = True

    def __init__(self, config: IncidentioConfig, session: aiohttp.ClientSession, **options: Any):
        super().__init__(config, session, **options)
        assert config.url is not None  # the validator requires it
        self._url = config.url
        http = config.http_config or HTTPClientConfig()
        self._options = request_options(http)
        if config.alert_source_token is not None:
            token = config.alert_source_token.get_secret_value()
            self._options["headers"]["Authorization"] = f"Bearer {token}"
        header = str(self._options["headers"].get("Authorization", ""))
        secrets = [header, header.partition(" ")[2]]
        self._mask = Masker(values=secrets)
        self._timeout = config.timeout.total_seconds()

    async def send(self, notification: Notification) -> Receipt:
        """Post the body (one alert only if the whole group is over 512 KB)."""
        started = time.monotonic()
        body = incidentio_body(notification, self.config.max_alerts)
        data = encode_go_json(body)
        if len(data) > MAX_PAYLOAD_BYTES:
            body["alerts"] = body["alerts"][:1]
            data = encode_go_json(body)
        answer = await request(
            self.session,
            "POST",
            self._url,
            provider="incident.io",
            timeout=self._timeout,
            data=data,
            **self._options,
        )
        payload = answer.json()
        if not answer.ok:
            raise answer_error("incident.io", answer, self._mask, detail=_error_detail(payload))
        key = payload.get("deduplication_key") if isinstance(payload, dict) else None
        return Receipt(
            provider_status=f"{answer.status} {answer.reason}".strip(),
            message_id=str(key) if key else None,
            duration=time.monotonic() - started,
            detail={"alerts": len(body["alerts"]), "truncatedAlerts": body["truncatedAlerts"]},
        )


def _error_detail(payload: Any) -> str:
    """incident.io's ``message``, ``error`` and ``errors`` joined, as Alertmanager reports them."""
    if not isinstance(payload, dict):
        return ""
    parts = [str(payload[k]) for k in ("message", "error") if payload.get(k)]
    errors = payload.get("errors")
    if isinstance(errors, list) and errors:
        parts.append(", ".join(json.dumps(e) if not isinstance(e, str) else e for e in errors))
    return ": ".join(parts)
