"""Choose the store backend from ``ALERTROUTER_STATE_URL``'s scheme."""

from __future__ import annotations

from urllib.parse import urlsplit

from alertrouter.errors import ConfigError, ConfigProblem
from alertrouter.store.base import Store

__all__ = ["store_from_url"]


def store_from_url(url: str) -> Store:
    """``sqlite:///relative/path.db``, ``sqlite:////absolute.db`` or ``memory://``."""
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        from alertrouter.store.sqlite import SQLiteStore

        path = url.removeprefix("sqlite://").removeprefix("/")
        if not path:
            raise ConfigError([_problem(url, "sqlite:// needs a file path")])
        return SQLiteStore(path)
    if scheme == "memory":
        from alertrouter.store.memory import MemoryStore

        return MemoryStore()
    raise ConfigError([_problem(url, f'unknown state backend "{scheme}" (sqlite, memory)')])


def _problem(url: str, message: str) -> ConfigProblem:
    return ConfigProblem("environment", None, "ALERTROUTER_STATE_URL", f"{url}: {message}")
