"""PagerDuty Events API v2: one event per alert, deduplicated by fingerprint."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr, model_validator
from pydantic_core import PydanticCustomError

from alertrouter.notifiers.config import HTTPClientConfig, IntegrationConfig, StrictModel

__all__ = ["PagerDutyConfig", "PagerDutyImageConfig", "PagerDutyLinkConfig"]

DEFAULT_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"


class PagerDutyLinkConfig(StrictModel):
    """A link attached to every event."""

    href: str
    text: str = ""


class PagerDutyImageConfig(StrictModel):
    """An image attached to every event."""

    src: str
    alt: str = ""
    href: str = ""


class PagerDutyConfig(IntegrationConfig):
    """``pagerduty_configs`` entry (Alertmanager's fields; Events API v2 only)."""

    routing_key: SecretStr | None = None
    url: str = DEFAULT_EVENTS_URL
    client: str = "alertrouter"
    client_url: str = ""
    description: str | None = None
    severity: str = "error"
    severity_map: dict[str, str] = Field(
        default_factory=lambda: {
            "critical": "critical",
            "error": "error",
            "warning": "warning",
            "info": "info",
        }
    )
    details: dict[str, str] = Field(default_factory=dict)
    links: list[PagerDutyLinkConfig] = Field(default_factory=list)
    images: list[PagerDutyImageConfig] = Field(default_factory=list)
    source: str | None = None
    component: str | None = None
    group: str | None = None
    class_: str | None = Field(None, alias="class")
    http_config: HTTPClientConfig = HTTPClientConfig()

    default_send_resolved: ClassVar[bool] = True
    per_alert_jobs: ClassVar[bool] = True  # each alert is its own incident
    global_defaults: ClassVar[dict[str, str]] = {"url": "pagerduty_url"}
    secret_files: ClassVar[dict[str, str]] = {"routing_key_file": "routing_key"}

    @model_validator(mode="before")
    @classmethod
    def _no_events_v1(cls, data: object) -> object:
        if isinstance(data, dict) and ("service_key" in data or "service_key_file" in data):
            raise PydanticCustomError(
                "pagerduty",
                "service_key is PagerDuty's Events API v1, which alertrouter does not speak; "
                "use routing_key (an Events API v2 integration key)",
            )
        return data

    @model_validator(mode="after")
    def _key_required(self) -> PagerDutyConfig:
        if self.routing_key is None or not self.routing_key.get_secret_value():
            raise PydanticCustomError("pagerduty", "routing_key (or routing_key_file) is required")
        if self.severity not in ("critical", "error", "warning", "info"):
            raise PydanticCustomError(
                "pagerduty", "severity must be one of critical, error, warning, info"
            )
        return self
