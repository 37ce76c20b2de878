"""Which notifier types exist: built-ins by dotted path, third-party ones by entry point.

Plugins are imported lazily, only when a config uses their type; each plugin class carries its
own config model (``Notifier.config_model``).
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Any

from alertrouter.config.integrations import IntegrationConfig
from alertrouter.notifiers.base import Notifier

__all__ = [
    "BUILTIN_NOTIFIERS",
    "ENTRY_POINT_GROUP",
    "UnknownNotifierError",
    "config_model",
    "notifier_class",
    "notifier_types",
]

ENTRY_POINT_GROUP = "alertrouter.notifiers"

BUILTIN_NOTIFIERS: dict[str, str] = {
    "email": "alertrouter.notifiers.email:EmailNotifier",
    "log": "alertrouter.notifiers.log:LogNotifier",
    "pagerduty": "alertrouter.notifiers.pagerduty:PagerDutyNotifier",
    "slack": "alertrouter.notifiers.slack:SlackNotifier",
    "webhook": "alertrouter.notifiers.webhook:WebhookNotifier",
}


class UnknownNotifierError(LookupError):
    """No built-in or installed plugin has this type name."""


def notifier_types() -> list[str]:
    """Every known type name, built-in and installed, sorted."""
    names = set(BUILTIN_NOTIFIERS)
    names.update(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))
    return sorted(names)


def notifier_class(type_name: str) -> type[Notifier[Any]]:
    """The plugin class of ``type_name``.

    UnknownNotifierError when no plugin has that name; ImportError (a missing optional
    dependency) propagates, so start-up fails loudly with it.
    """
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


def config_model(type_name: str) -> type[IntegrationConfig]:
    """The config model of ``type_name``'s plugin."""
    return notifier_class(type_name).config_model
