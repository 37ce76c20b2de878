"""Generic webhook: posts an Alertmanager-format v4 body, so Alertmanager's receivers accept it."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr, model_validator
from pydantic_core import PydanticCustomError

from alertrouter.notifiers.config import HTTPClientConfig, IntegrationConfig

__all__ = ["WebhookConfig"]


class WebhookConfig(IntegrationConfig):
    """``webhook_configs`` entry (Alertmanager's fields; ``url`` is a secret as there)."""

    url: SecretStr | None = None
    http_config: HTTPClientConfig = HTTPClientConfig()
    max_alerts: int = Field(0, ge=0)

    default_send_resolved: ClassVar[bool] = True
    secret_files: ClassVar[dict[str, str]] = {"url_file": "url"}

    @model_validator(mode="after")
    def _url_required(self) -> WebhookConfig:
        if self.url is None or not self.url.get_secret_value():
            raise PydanticCustomError("webhook", "url (or url_file) is required")
        return self
