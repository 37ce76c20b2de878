"""Choose the store backend from ``ALERTROUTER_STATE_URL``'s scheme."""

from __future__ import annotations

from urllib.parse import urlsplit

from alertrouter.errors import ConfigError, ConfigProblem
from alertrouter.store.base import Store
from alertrouter.store.urls import redact_url

__all__ = ["store_from_url"]


def store_from_url(url: str) -> Store:
    """``sqlite:///relative/path.db``, ``sqlite:////absolute.db``, ``redis://``/``rediss://``
    (several replicas; needs the ``redis`` extra) or ``memory://``."""
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        from alertrouter.store.sqlite.store import SQLiteStore

        path = url.removeprefix("sqlite://").removeprefix("/")
        if not path:
            raise ConfigError([_problem(url, "sqlite:// needs a file path")])
        return SQLiteStore(path)
    if scheme in ("redis", "rediss"):
        try:
            from alertrouter.store.redis.store import RedisStore
        except ImportError as exc:
            if exc.name is None or exc.name.partition(".")[0] != "redis":
                raise  # our own import broke: not a missing extra
            raise ConfigError(
                [_problem(url, "the redis package is missing: install alertrouter[redis]")]
            ) from exc
        return RedisStore(url)
    if scheme == "memory":
        from alertrouter.store.memory import MemoryStore

        return MemoryStore()
    known = "sqlite, redis, rediss, memory"
    raise ConfigError([_problem(url, f'unknown state backend "{scheme}" ({known})')])


def _problem(url: str, message: str) -> ConfigProblem:
    return ConfigProblem(
        "environment", None, "ALERTROUTER_STATE_URL", f"{redact_url(url)}: {message}"
    )
