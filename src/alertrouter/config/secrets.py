"""The secret values a loaded config and the settings hold, for scrubbing (logs, Sentry)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, SecretStr

from alertrouter.config.loader import RoutingConfig
from alertrouter.config.settings import Settings

__all__ = ["config_secrets"]


def config_secrets(config: RoutingConfig, settings: Settings | None = None) -> set[str]:
    """Every secret value the config and settings hold (SecretStr fields, tokens, URLs)."""
    found: set[str] = set()

    def visit(value: Any) -> None:
        if isinstance(value, SecretStr):
            found.add(value.get_secret_value())
        elif isinstance(value, BaseModel):
            for name in type(value).model_fields:
                visit(getattr(value, name))
        elif isinstance(value, Mapping):
            for item in value.values():
                visit(item)
        elif isinstance(value, list | tuple):
            for item in value:
                visit(item)

    for receiver in config.receivers.values():
        for spec in receiver.integrations:
            visit(spec.config)
    if settings is not None:
        found.update(
            v
            for v in (
                settings.webhook_token,
                settings.webhook_password,
                settings.admin_token,
                settings.sentry_dsn,
            )
            if v
        )
    return {s for s in found if len(s) >= 4}
