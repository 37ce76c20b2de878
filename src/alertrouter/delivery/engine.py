"""The delivery engine: one worker per configured integration, rebuilt on reload.

Workers are keyed by queue (``receiver/type[i]``). A reload replaces the worker of every
integration whose config changed; a queue whose integration left the config is drained by a
worker that dead-letters its jobs, so nothing is dropped silently.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

import aiohttp

from alertrouter.config.loader import IntegrationSpec, RoutingConfig
from alertrouter.config.templating import default_templates
from alertrouter.delivery.worker import (
    DEFAULT_TIMING,
    DeadLetterHook,
    IntegrationWorker,
    WorkerTiming,
)
from alertrouter.errors import PermanentNotifierError
from alertrouter.logs import get_logger, log_event
from alertrouter.metrics import Metrics, integration_label
from alertrouter.notifiers.base import Notification, Notifier, Receipt
from alertrouter.notifiers.log import LogConfig, stand_in
from alertrouter.notifiers.registry import notifier_class
from alertrouter.ratelimit import TokenBucket
from alertrouter.store.base import Store

__all__ = ["DeliveryEngine"]


logger = get_logger(__name__)


class DeliveryEngine:
    """Owns the workers and the notifiers' shared HTTP session."""

    def __init__(
        self,
        store: Store,
        metrics: Metrics,
        session: aiohttp.ClientSession,
        *,
        dry_run: bool = False,
        clock: Callable[[], float] = time.time,
        on_dead_letter: DeadLetterHook | None = None,
        timing: WorkerTiming = DEFAULT_TIMING,
    ) -> None:
        self.timing = timing
        self.store = store
        self.metrics = metrics
        self.session = session
        self.dry_run = dry_run
        self.clock = clock
        self.on_dead_letter = on_dead_letter
        self._workers: dict[str, tuple[IntegrationSpec, IntegrationWorker]] = {}
        self._templates = default_templates()
        # Other replicas' new jobs (Redis); a single-process store's listen() returns at once.
        self._listener = asyncio.create_task(store.listen(self.wake), name="hear new jobs")

    async def apply(self, config: RoutingConfig) -> None:
        """Start workers for ``config``'s integrations; replace those whose config changed."""
        wanted: dict[str, tuple[str, IntegrationSpec]] = {
            f"{receiver.name}/{spec.key}": (receiver.name, spec)
            for receiver in config.receivers.values()
            for spec in receiver.integrations
        }
        self._templates = config.templates
        for queue, (receiver, spec) in wanted.items():
            current = self._workers.get(queue)
            if current is not None and current[0] == spec:
                current[1].notifier.use_templates(config.templates)
                continue
            if current is not None:
                await current[1].stop(grace=10.0)
            worker = self._make_worker(receiver, spec)
            self._workers[queue] = (spec, worker)
            worker.start()
            worker.wake()
        for queue in set(self._workers) - set(wanted):
            spec, worker = self._workers.pop(queue)
            await worker.stop(grace=10.0)
        await self._bury_orphans(set(wanted))

    def wake(self, queues: Iterable[str]) -> None:
        """New jobs were committed for ``queues``."""
        for queue in queues:
            entry = self._workers.get(queue)
            if entry is not None:
                entry[1].wake()

    async def stop(self, grace: float) -> None:
        """Let each worker finish its send in flight, then stop them all."""
        self._listener.cancel()
        await asyncio.gather(self._listener, return_exceptions=True)
        workers = [worker for _, worker in self._workers.values()]
        self._workers.clear()
        await asyncio.gather(*(w.stop(grace) for w in workers))

    def _make_worker(self, receiver: str, spec: IntegrationSpec) -> IntegrationWorker:
        cls: type[Notifier[Any]] = notifier_class(spec.type)
        # A dry run keeps the integration's pace (rate limit, burst, storm digests): the log
        # shows what would be sent, when, and how a storm would be coalesced.
        rate = spec.config.rate_limit
        per_second = rate.per_second if rate is not None else cls.default_rate_per_second
        burst = spec.config.rate_burst or cls.default_burst
        config: Any = spec.config
        if self.dry_run:
            cls = stand_in(cls)
            config = LogConfig(send_resolved=spec.config.resolved_wanted)
        label = integration_label(spec.type, dry_run=self.dry_run)
        errors = self.metrics.template_errors.labels(receiver, label)
        notifier = cls(
            config,
            self.session,
            receiver=receiver,
            integration=spec.key,
            templates=self._templates,
            on_template_error=errors.inc,
        )
        return IntegrationWorker(
            receiver=receiver,
            spec=spec,
            notifier=notifier,
            bucket=self.store.rate_limiter(f"{receiver}/{spec.key}", per_second, burst),
            store=self.store,
            metrics=self.metrics,
            clock=self.clock,
            on_dead_letter=self.on_dead_letter,
            timing=self.timing,
            integration_label=label,
        )

    async def _bury_orphans(self, configured: set[str]) -> None:
        stats = await self.store.stats()
        orphans = (set(stats.pending) | set(stats.inflight)) - configured
        for queue in sorted(orphans):
            receiver, _, integration = queue.partition("/")
            log_event(logger, logging.ERROR, "queue_without_integration", queue=queue)
            worker = IntegrationWorker(
                receiver=receiver,
                spec=_orphan_spec(integration),
                notifier=_OrphanNotifier(LogConfig(), self.session, receiver=receiver,
                                         integration=integration),
                bucket=TokenBucket(1000, 1000),
                store=self.store,
                metrics=self.metrics,
                clock=self.clock,
                on_dead_letter=self.on_dead_letter,
                timing=self.timing,
                integration_label=integration_label(
                    _orphan_spec(integration).type, dry_run=self.dry_run
                ),
            )  # fmt: skip
            self._workers[queue] = (worker.spec, worker)
            worker.start()


def _orphan_spec(integration: str) -> IntegrationSpec:
    type_name, _, index = integration.partition("[")
    return IntegrationSpec(type_name, int(index.rstrip("]") or 0), LogConfig())


class _OrphanNotifier(Notifier[LogConfig]):
    """Stands in for an integration that left the config: its jobs go to the dead letters."""

    type_name = "orphan"
    config_model = LogConfig
    coalesce = False

    async def send(self, notification: Notification) -> Receipt:
        raise PermanentNotifierError(
            "other", "the receiver/integration is no longer in the routing config"
        )
