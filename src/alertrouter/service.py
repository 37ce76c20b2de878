"""The running service's state: the current routing config (swapped whole on reload), the store.

Handlers read ``service.runtime`` once per request, so a reload never mixes two configs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from alertrouter.config.loader import RoutingConfig, load_routing_config
from alertrouter.config.settings import Settings
from alertrouter.delivery.engine import DeliveryEngine
from alertrouter.errors import ConfigError
from alertrouter.logs import get_logger, log_event
from alertrouter.metrics import Metrics
from alertrouter.router.tree import Router
from alertrouter.sentry import SecretScrubber, config_secrets
from alertrouter.store.base import Store

__all__ = ["SERVICE", "Runtime", "Service"]

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
        metrics: Metrics,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.runtime = runtime
        self.store = store
        self.metrics = metrics
        self.clock = clock
        self.engine: DeliveryEngine | None = None
        self.scrubber = SecretScrubber(config_secrets(runtime.config, settings))
        self.accepting = False
        self.last_reload_ok = True
        self.last_reload_at = runtime.loaded_at
        self._reload_lock = asyncio.Lock()
        self._note_config(runtime.config, ok=True)

    def _note_config(self, config: RoutingConfig | None, *, ok: bool) -> None:
        self.metrics.config_last_reload_successful.set(1 if ok else 0)
        if ok and config is not None:
            self.metrics.config_last_reload_success_timestamp.set(self.clock())
            self.metrics.initialise(
                (receiver.name, spec.type)
                for receiver in config.receivers.values()
                for spec in receiver.integrations
            )

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
                self._note_config(None, ok=False)
                problems = [str(p) for p in exc.problems]
                log_event(logger, 40, "config_reload_failed", file=path, problems=problems)
                return problems
            now = self.clock()
            self.runtime = Runtime.create(config, now)
            self.last_reload_ok = True
            self.last_reload_at = now
            self._note_config(config, ok=True)
            self.scrubber.update(config_secrets(config, self.settings))
            if self.engine is not None:
                await self.engine.apply(config)
            log_event(logger, 20, "config_reloaded", file=path, sha256=config.sha256[:12])
            return []


SERVICE = web.AppKey("service", Service)
