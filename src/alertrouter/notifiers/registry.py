"""The notifier class of each integration type (the table itself is ``config.plugins``)."""

from __future__ import annotations

from typing import Any

from alertrouter.config.plugins import load_plugin
from alertrouter.errors import UnknownNotifierError
from alertrouter.notifiers.base import Notifier

__all__ = ["notifier_class"]


def notifier_class(type_name: str) -> type[Notifier[Any]]:
    """The plugin class of ``type_name``: UnknownNotifierError when none is a Notifier."""
    loaded = load_plugin(type_name)
    if not (isinstance(loaded, type) and issubclass(loaded, Notifier)):
        raise UnknownNotifierError(f"{type_name}: {loaded!r} is not a Notifier subclass")
    return loaded
