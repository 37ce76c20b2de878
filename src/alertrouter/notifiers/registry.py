"""Which notifier types exist: built-ins by dotted path, third-party ones by entry point.

Plugins are imported lazily, only when a config uses their type.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Any

from alertrouter.notifiers.base import Notifier
from alertrouter.notifiers.config import IntegrationConfig

__all__ = [
    "BUILTIN_CONFIG_MODELS",
    "BUILTIN_NOTIFIERS",
    "ENTRY_POINT_GROUP",
    "config_model",
    "notifier_class",
    "notifier_types",
]

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


BUILTIN_NOTIFIERS: dict[str, str] = {
    "email": "alertrouter.notifiers.email:EmailNotifier",
    "log": "alertrouter.notifiers.log:LogNotifier",
    "pagerduty": "alertrouter.notifiers.pagerduty:PagerDutyNotifier",
    "slack": "alertrouter.notifiers.slack:SlackNotifier",
    "webhook": "alertrouter.notifiers.webhook:WebhookNotifier",
}


def notifier_class(type_name: str) -> type[Notifier[Any]]:
    """The notifier plugin class of ``type_name``; UnknownNotifierError when there is none."""
    dotted = BUILTIN_NOTIFIERS.get(type_name)
    if dotted is not None:
        module_name, _, attr = dotted.partition(":")
        loaded = getattr(importlib.import_module(module_name), attr)
    else:
        found = list(entry_points(group=ENTRY_POINT_GROUP, name=type_name))
        if not found:
            raise UnknownNotifierError(type_name)
        loaded = found[0].load()
    if not (isinstance(loaded, type) and issubclass(loaded, Notifier)):
        raise UnknownNotifierError(f"{type_name}: {loaded!r} is not a Notifier subclass")
    return loaded
