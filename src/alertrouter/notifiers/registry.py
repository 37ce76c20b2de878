"""Which notifier types exist: built-ins by dotted path, third-party ones by entry point.

Plugins are imported lazily, only when a config uses their type.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

from alertrouter.notifiers.config import IntegrationConfig

__all__ = ["BUILTIN_CONFIG_MODELS", "ENTRY_POINT_GROUP", "config_model", "notifier_types"]

ENTRY_POINT_GROUP = "alertrouter.notifiers"

BUILTIN_CONFIG_MODELS: dict[str, str] = {
    "email": "alertrouter.notifiers.email:EmailConfig",
    "log": "alertrouter.notifiers.log:LogConfig",
    "pagerduty": "alertrouter.notifiers.pagerduty:PagerDutyConfig",
    "slack": "alertrouter.notifiers.slack:SlackConfig",
    "webhook": "alertrouter.notifiers.webhook:WebhookConfig",
}


class UnknownNotifierError(LookupError):
    """No built-in or installed plugin has this type name."""


def notifier_types() -> list[str]:
    """Every known type name, built-in and installed, sorted."""
    names = set(BUILTIN_CONFIG_MODELS)
    names.update(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))
    return sorted(names)


def config_model(type_name: str) -> type[IntegrationConfig]:
    """The config model of ``type_name``; UnknownNotifierError or ImportError when unavailable."""
    dotted = BUILTIN_CONFIG_MODELS.get(type_name)
    if dotted is not None:
        return _import(dotted)
    for ep in entry_points(group=ENTRY_POINT_GROUP, name=type_name):
        loaded = ep.load()
        model = getattr(loaded, "config_model", loaded)
        if isinstance(model, type) and issubclass(model, IntegrationConfig):
            return model
        raise UnknownNotifierError(f"plugin {type_name!r} ({ep.value}) has no config_model")
    raise UnknownNotifierError(type_name)


def _import(dotted: str) -> type[IntegrationConfig]:
    module_name, _, attr = dotted.partition(":")
    model = getattr(importlib.import_module(module_name), attr)
    assert isinstance(model, type)
    assert issubclass(model, IntegrationConfig)
    return model
