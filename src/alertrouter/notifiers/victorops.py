"""VictorOps (Splunk On-Call) REST endpoint: one incident per group, recovered on resolve.

As Alertmanager: ``POST {api_url}{api_key}/{routing_key}`` with ``entity_id`` = the group key
hash, ``message_type`` CRITICAL (or the configured INFO/WARNING/CRITICAL) while firing and
RECOVERY once the group resolves, so the resolve closes the incident its trigger opened.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any, ClassVar
from urllib.parse import quote

import aiohttp
from pydantic import Field, SecretStr, model_validator
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
from alertrouter.notifiers.render import group_key_hash, truncate
from alertrouter.notifiers.templating import FieldRenderer

__all__ = ["VictorOpsConfig", "VictorOpsNotifier"]

DEFAULT_API_URL = "https://alert.victorops.com/integrations/generic/20131114/alert/"
MAX_STATE_MESSAGE = 20480  # characters, as Alertmanager cuts it
TRIGGER, RECOVERY = "CRITICAL", "RECOVERY"
FIRING_TYPES = frozenset({"INFO", "WARNING", "CRITICAL"})
RESERVED_FIELDS = (
    "routing_key", "message_type", "state_message", "entity_display_name", "monitoring_tool",
    "entity_id", "entity_state",
)  # fmt: skip

DEFAULT_STATE_MESSAGE = '{{ template "victorops.default.state_message" . }}'
DEFAULT_DISPLAY_NAME = '{{ template "victorops.default.entity_display_name" . }}'
DEFAULT_MONITORING_TOOL = '{{ template "victorops.default.monitoring_tool" . }}'


class VictorOpsConfig(IntegrationConfig):
    """``victorops_configs`` entry: Alertmanager's fields, ``api_key``/``api_url`` from
    ``global:`` (``victorops_api_key``, ``victorops_api_url``) when unset."""

    api_key: SecretStr | None = None
    api_url: str = DEFAULT_API_URL
    routing_key: GoTemplate
    message_type: GoTemplate = TRIGGER
    state_message: GoTemplate | None = None
    entity_display_name: GoTemplate | None = None
    monitoring_tool: GoTemplate | None = None
    custom_fields: dict[str, GoTemplate] = Field(default_factory=dict)
    http_config: HTTPClientConfig = HTTPClientConfig()
    timeout: Duration = timedelta(seconds=10)

    default_send_resolved: ClassVar[bool] = True
    secret_files: ClassVar[dict[str, str]] = {"api_key_file": "api_key"}
    global_defaults: ClassVar[dict[str, str]] = {
        "api_key": "victorops_api_key",
        "api_key_file": "victorops_api_key_file",
        "api_url": "victorops_api_url",
    }

    @model_validator(mode="after")
    def _check(self) -> VictorOpsConfig:
        if not self.routing_key:
            raise PydanticCustomError("victorops", "missing Routing key in VictorOps config")
        if self.api_key is None or not self.api_key.get_secret_value():
            raise PydanticCustomError("victorops", "no global VictorOps API Key set")
        for name in RESERVED_FIELDS:
            if name in self.custom_fields:
                raise PydanticCustomError(
                    "victorops",
                    "victorOps config contains custom field {name} which cannot be used as it "
                    "conflicts with the fixed/static fields",
                    {"name": name},
                )
        if self.timeout <= timedelta(0):
            raise PydanticCustomError("victorops", "timeout must be greater than 0")
        return self


class VictorOpsNotifier(Notifier[VictorOpsConfig]):
    """Posts one JSON event per notification; the Receipt carries the ``entity_id``.

    401/403 are permanent authErrors, other 4xx permanent clientErrors (VictorOps answers 404
    for an unknown key); 429 and 5xx are retried after ``Retry-After``.
    """

    type_name: ClassVar[str] = "victorops"
    config_model: ClassVar[type[IntegrationConfig]] = VictorOpsConfig
    default_rate_per_second: ClassVar[float] = 2.0  # the REST endpoint's documented limit
    default_burst: ClassVar[int] = 5
    max_message_bytes: ClassVar[int] = MAX_STATE_MESSAGE * 4
    coalesce: ClassVar[bool] = True

    def __init__(self, config: VictorOpsConfig, session: aiohttp.ClientSession, **options: Any):
        super().__init__(config, session, **options)
        assert config.api_key is not None  # the validator requires it
        self._key = config.api_key.get_secret_value()
        secrets = [self._key, quote(self._key, safe=""), authorization_header(config.http_config)]
        self._mask = Masker(values=[s for s in secrets if s])
        self._timeout = config.timeout.total_seconds()

    async def send(self, notification: Notification) -> Receipt:
        """Post the event; 2xx delivered, anything else classified."""
        started = time.monotonic()
        fields = FieldRenderer(self, notification)
        routing_key = fields.text("routing_key", self.config.routing_key)
        url = f"{self.config.api_url}{quote(self._key, safe='')}/{quote(routing_key, safe='')}"
        event = self.event(notification, fields)
        answer = await request(
            self.session,
            "POST",
            url,
            provider="VictorOps",
            timeout=self._timeout,
            data=json.dumps(event, sort_keys=True).encode(),  # Go marshals maps sorted
            **request_options(self.config.http_config),
        )
        if not answer.ok:
            body = answer.json()
            detail = str(body.get("message", "")) if isinstance(body, dict) else ""
            raise answer_error("VictorOps", answer, self._mask, detail=detail)
        return Receipt(
            provider_status=f"{answer.status} {answer.reason}".strip(),
            message_id=event["entity_id"],
            duration=time.monotonic() - started,
            detail={"message_type": event["message_type"]},
        )

    def event(self, notification: Notification, fields: FieldRenderer) -> dict[str, str]:
        """The event body: Alertmanager's fixed fields, then the custom ones."""
        config = self.config

        def text(name: str, template: str | None, default: str) -> str:
            return fields.text(name, template, lambda: fields.text(name, default))

        if notification.status == "resolved":
            message_type = RECOVERY
        else:
            message_type = fields.text("message_type", config.message_type, TRIGGER)
            if message_type not in FIRING_TYPES:
                message_type = TRIGGER
        state = text("state_message", config.state_message, DEFAULT_STATE_MESSAGE)
        event = {
            "message_type": message_type,
            "entity_id": group_key_hash(str(notification.group.get("groupKey") or "")),
            "entity_display_name": text(
                "entity_display_name", config.entity_display_name, DEFAULT_DISPLAY_NAME
            ),
            "state_message": truncate(state, MAX_STATE_MESSAGE),
            "monitoring_tool": text(
                "monitoring_tool", config.monitoring_tool, DEFAULT_MONITORING_TOOL
            ),
        }
        for name, template in config.custom_fields.items():
            event[name] = fields.text(f"custom_fields.{name}", template)
        return event
