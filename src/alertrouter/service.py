"""The running service's state: the current routing config (swapped whole on reload), the store.

Handlers read ``service.runtime`` once per request, so a reload never mixes two configs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from alertrouter.config.loader import RoutingConfig, load_routing_config
from alertrouter.config.settings import Settings
from alertrouter.errors import ConfigError
from alertrouter.logs import get_logger, log_event
from alertrouter.router.tree import Router
from alertrouter.store.base import Store

__all__ = ["Runtime", "Service"]

logger = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Runtime:
    """One loaded routing config and its router, with when it was loaded."""

    config: RoutingConfig
    router: Router
    loaded_at: float

    @classmethod
    def create(cls, config: RoutingConfig, now: float) -> Runtime:
        """Compile the router for ``config``."""
        return cls(config, Router(config.root), now)


class Service:
    """Settings, the swappable runtime, the store, and whether requests are being taken."""

    def __init__(
        self,
        settings: Settings,
        runtime: Runtime,
        store: Store,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.runtime = runtime
        self.store = store
        self.clock = clock
        self.accepting = False
        self.last_reload_ok = True
        self.last_reload_at = runtime.loaded_at
        self._reload_lock = asyncio.Lock()

    async def reload(self) -> list[str]:
        """Load the routing file again; swap it in when valid, else keep the running one.

        Returns the problems (file:line: path: message), empty when the new config is live.
        """
        path = self.settings.config_path
        async with self._reload_lock:
            try:
                config = await asyncio.to_thread(
                    load_routing_config, Path(path), allow_missing_env=self.settings.dry_run
                )
            except ConfigError as exc:
                self.last_reload_ok = False
                problems = [str(p) for p in exc.problems]
                log_event(logger, 40, "config_reload_failed", file=path, problems=problems)
                return problems
            now = self.clock()
            self.runtime = Runtime.create(config, now)
            self.last_reload_ok = True
            self.last_reload_at = now
            log_event(logger, 20, "config_reloaded", file=path, sha256=config.sha256[:12])
            return []
