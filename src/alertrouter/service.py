"""The service's use cases: accept a webhook (draft, claim and enqueue, wake), reload the config.

It holds the current routing config (swapped whole on reload), the store, the delivery engine
while one runs, and whether webhooks are being taken. ``accept`` reads ``runtime`` once, so a
reload never mixes two configs within a webhook.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web

from alertrouter.config.loader import RoutingConfig, load_routing_config
from alertrouter.config.secrets import config_secrets
from alertrouter.config.settings import Settings
from alertrouter.delivery.engine import DeliveryEngine
from alertrouter.drafts import draft_jobs
from alertrouter.errors import ConfigError
from alertrouter.logs import get_logger, log_event
from alertrouter.metrics import Metrics, integration_label
from alertrouter.payload import WebhookPayload
from alertrouter.router.tree import Router
from alertrouter.sentry import SecretScrubber
from alertrouter.store.instrumented import InstrumentedStore

__all__ = ["SERVICE", "Accepted", "Runtime", "Service"]

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


@dataclass(frozen=True, slots=True)
class Accepted:
    """What one committed webhook became."""

    alerts: int
    job_ids: tuple[int, ...]
    suppressed: int  # muted routes and dedup together


class Service:
    """Settings, the swappable runtime, the store, and whether requests are being taken."""

    def __init__(
        self,
        settings: Settings,
        runtime: Runtime,
        store: InstrumentedStore,
        metrics: Metrics,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.runtime = runtime
        self.store = store
        self.metrics = metrics
        self.clock = clock
        self._engine: DeliveryEngine | None = None
        self.scrubber = SecretScrubber(config_secrets(runtime.config, settings))
        self._accepting = False
        self.last_reload_ok = True
        self.last_reload_at = runtime.loaded_at
        self._reload_lock = asyncio.Lock()
        self._note_config(runtime.config, ok=True)

    @property
    def accepting(self) -> bool:
        """Whether webhooks are taken (false while starting and draining: they get 503)."""
        return self._accepting

    def start_accepting(self) -> None:
        """Take webhooks from now on (the store is open)."""
        self._accepting = True

    def stop_accepting(self) -> None:
        """Refuse webhooks from now on (draining, or the store is closing)."""
        self._accepting = False

    def attach_engine(self, engine: DeliveryEngine | None) -> None:
        """Deliver through ``engine`` (None: no delivery runs; jobs stay queued)."""
        self._engine = engine

    def wake(self, queues: Iterable[str]) -> None:
        """Tell the delivery engine that ``queues`` have new jobs, if one runs."""
        if self._engine is not None:
            self._engine.wake(queues)

    async def accept(self, payload: WebhookPayload, now: float) -> Accepted:
        """Draft, then claim and enqueue in one atomic step, wake the workers, count and log.

        Raises StoreError when the store cannot commit: nothing was taken (answer 503).
        """
        runtime = self.runtime
        metrics = self.metrics
        firing = sum(alert.status == "firing" for alert in payload.alerts)
        metrics.alerts_received.labels("firing").inc(firing)
        metrics.alerts_received.labels("resolved").inc(len(payload.alerts) - firing)
        drafts = draft_jobs(
            payload, runtime.config, runtime.router, datetime.fromtimestamp(now, UTC)
        )
        outcome = await self.store.claim_and_enqueue(drafts.drafts, now)
        self.wake({f"{d.receiver}/{d.integration}" for d in drafts.drafts})
        # One increment per (receiver, reason): a resend suppresses every alert it holds.
        for (receiver, reason), count in Counter((*drafts.suppressed, *outcome.suppressed)).items():
            metrics.alerts_suppressed.labels(receiver, reason).inc(count)
        suppressed = len(drafts.suppressed) + len(outcome.suppressed)
        log_event(
            logger,
            logging.INFO,
            "webhook_accepted",
            group_key=payload.groupKey,
            alerts=len(payload.alerts),
            queued=len(outcome.job_ids),
            suppressed=suppressed,
        )
        return Accepted(len(payload.alerts), tuple(outcome.job_ids), suppressed)

    def _note_config(self, config: RoutingConfig | None, *, ok: bool) -> None:
        self.metrics.config_last_reload_successful.set(1 if ok else 0)
        if ok and config is not None:
            self.metrics.config_last_reload_success_timestamp.set(self.clock())
            dry_run = self.settings.dry_run
            self.metrics.initialise(
                (receiver.name, integration_label(spec.type, dry_run=dry_run))
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
            if self._engine is not None:
                await self._engine.apply(config)
            log_event(logger, 20, "config_reloaded", file=path, sha256=config.sha256[:12])
            return []


SERVICE = web.AppKey("service", Service)
