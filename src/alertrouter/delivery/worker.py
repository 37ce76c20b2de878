"""One worker per (receiver, integration) queue: drains due jobs in order, within limits.

Order: jobs go out by (priority, id), so critical alerts lead a backlog, and a job never goes
before an earlier one holding the same alert (a resolve never overtakes its trigger). After a
retryable failure the whole queue waits for that job's retry, keeping the order across
retries. A backlog above ``storm.threshold`` goes out as one digest when the plugin allows.

A notifier exception that is not a classified provider answer is a bug in that job, not an
outage: after ``POISON_ATTEMPTS`` tries the job is dead-lettered and the queue moves on. Once a
provider has the message, the worker keeps that fact and retries the store's acknowledgement
until the store takes it, rather than sending again when the lease runs out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import sentry_sdk

from alertrouter.config.loader import IntegrationSpec
from alertrouter.delivery.backoff import retry_delay
from alertrouter.errors import (
    NotifierError,
    PermanentNotifierError,
    RetryableNotifierError,
    StoreError,
)
from alertrouter.logs import get_logger, log_event
from alertrouter.metrics import Metrics
from alertrouter.notifiers.base import Notification, Notifier, Receipt
from alertrouter.ratelimit import RateLimiter
from alertrouter.store.base import Job, Store, in_chunks

__all__ = [
    "DEFAULT_TIMING",
    "POISON_ATTEMPTS",
    "DeadLetterHook",
    "IntegrationWorker",
    "WorkerTiming",
    "order_for_delivery",
]

logger = get_logger(__name__)
DeadLetterHook = Callable[[Job, NotifierError], None]
_MAX_DIGEST_JOBS = 500  # one digest covers this many queued messages at most
_MIN_RETRY_SECONDS = 0.05
POISON_ATTEMPTS = 3  # sends of one job that crash the notifier before it is dead-lettered
_ACK_RETRY_SECONDS = (0.05, 1.0)  # first and longest wait between acknowledgement attempts


@dataclass(frozen=True, slots=True)
class WorkerTiming:
    """How long a fetched job stays leased, and a queue held, before another replica may take
    it over (a crashed replica's work); and how often an idle worker looks for jobs that
    another replica rescheduled (new jobs wake it at once)."""

    lease_seconds: float = 120.0
    queue_hold_seconds: float = 60.0
    idle_poll_seconds: float = 5.0


DEFAULT_TIMING = WorkerTiming()


class IntegrationWorker:
    """Delivers the jobs of one queue through one notifier."""

    def __init__(
        self,
        *,
        receiver: str,
        spec: IntegrationSpec,
        notifier: Notifier[Any],
        bucket: RateLimiter,
        store: Store,
        metrics: Metrics,
        clock: Callable[[], float],
        on_dead_letter: DeadLetterHook | None = None,
        rng: random.Random | None = None,
        timing: WorkerTiming = DEFAULT_TIMING,
        integration_label: str | None = None,
    ) -> None:
        self.timing = timing
        self.receiver = receiver
        self.spec = spec
        self.notifier = notifier
        self.bucket = bucket
        self.store = store
        self.metrics = metrics
        self.clock = clock
        self.on_dead_letter = on_dead_letter
        self.queue = f"{receiver}/{spec.key}"
        self._rng = rng or random.Random()
        self._wakeup = asyncio.Event()
        self._stopping = False
        self._resume_at = 0.0
        self._task: asyncio.Task[None] | None = None
        self._owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._crashes: dict[int, int] = {}  # job id -> sends that raised an unclassified error
        # A digest crashed the notifier: send one job at a time until the culprit is found
        # (dead-lettered) or a whole batch went out, so one bad alert buries only itself.
        self._one_by_one = False
        self._label = integration_label or spec.type
        # The series this worker counts into on every send, looked up once.
        label = self._label
        self._attempted = metrics.notifications.labels(receiver, label)
        self._requests = metrics.notification_requests.labels(label)
        self._requests_failed = metrics.notification_requests_failed.labels(label)
        self._request_latency = metrics.notification_latency.labels(label)
        self._delivered = metrics.notifications_delivered.labels(receiver, label)
        self._latency = metrics.delivery_latency.labels(label)

    @property
    def label(self) -> str:
        """The bounded ``integration`` metric label: the plugin type (``log`` in a dry run)."""
        return self._label

    def start(self) -> None:
        """Run the delivery loop as a task."""
        self._task = asyncio.create_task(self._run(), name=f"deliver {self.queue}")

    def wake(self) -> None:
        """New jobs were queued: look now rather than at the next poll."""
        self._wakeup.set()

    async def stop(self, grace: float) -> None:
        """Finish the send in flight (up to ``grace`` seconds), release the rest, stop."""
        self._stopping = True
        self._wakeup.set()
        if self._task is None:
            return
        done, _ = await asyncio.wait({self._task}, timeout=grace)
        if not done:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._task = None
        await self.notifier.close()
        with contextlib.suppress(StoreError):
            await self.store.release_queue(self.queue, self._owner)

    async def _wait(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), timeout=max(0.0, seconds))
        self._wakeup.clear()

    async def _run(self) -> None:
        while not self._stopping:
            try:
                await self._step()
            except asyncio.CancelledError:
                raise
            except StoreError as exc:  # an outage, not a bug: one line, and try again soon
                log_event(
                    logger, logging.WARNING, "delivery_store_unavailable", queue=self.queue,
                    error=str(exc),
                )  # fmt: skip
                await self._wait(1.0)
            except Exception:  # the delivery loop's one broad except: log, count, go on
                logger.exception("delivery_loop_error", extra={"fields": {"queue": self.queue}})
                sentry_sdk.capture_exception()
                self.metrics.delivery_loop_errors.labels(self.label).inc()
                await self._wait(1.0)

    async def _step(self) -> None:
        timing = self.timing
        if not await self.store.hold_queue(self.queue, self._owner, timing.queue_hold_seconds):
            await self._wait(timing.idle_poll_seconds)  # another replica delivers this queue
            return
        now = self.clock()
        if self._resume_at > now:
            # Waiting out a retry still renews the hold: the queue stays ours, in order.
            await self._wait(min(self._resume_at - now, timing.queue_hold_seconds / 3))
            return
        token_wait = await self.bucket.delay()
        if token_wait > 0:
            await asyncio.sleep(token_wait)
            return
        coalesce = self.notifier.coalesce
        limit = _MAX_DIGEST_JOBS if coalesce else 1
        jobs = await self.store.fetch_due(self.queue, self.clock(), limit, timing.lease_seconds)
        if not jobs:
            await self._wait(timing.idle_poll_seconds)
            return
        if coalesce and not self._one_by_one and len(jobs) > self.spec.config.storm.threshold:
            await self._deliver_digest(jobs)
            return
        ordered = order_for_delivery(jobs)
        sent = 0
        try:
            for job in ordered:
                # _step has just taken the hold for the first send; renew it for later ones.
                if self._stopping or (sent and not await self._still_ours()):
                    break
                if not await self._deliver(job):
                    break
                sent += 1
            else:
                self._one_by_one = False  # every job of the batch went out on its own
        finally:
            if sent < len(ordered):
                # Untried jobs go back untouched (a rescheduled one is no longer leased).
                await asyncio.shield(self.store.release([j.id for j in ordered[sent:]]))

    async def _still_ours(self) -> bool:
        """Renew the queue hold before each send: a batch may outlast one hold period."""
        return await self.store.hold_queue(self.queue, self._owner, self.timing.queue_hold_seconds)

    async def _deliver(self, job: Job) -> bool:
        """Send one job; False when it was rescheduled (the queue waits for it)."""
        notification = Notification(
            receiver=job.receiver,
            integration=job.integration,
            alerts=tuple(job.payload["alerts"]),
            group=job.payload.get("group", {}),
        )
        return await self._send(notification, [job])

    async def _deliver_digest(self, jobs: Sequence[Job]) -> None:
        latest: dict[str, Mapping[str, Any]] = {}
        for job in sorted(jobs, key=lambda j: j.id):  # later news of an alert wins
            for alert in job.payload["alerts"]:
                latest[str(alert.get("fingerprint"))] = alert
        first_group = jobs[0].payload.get("group", {})
        notification = Notification(
            receiver=self.receiver,
            integration=self.spec.key,
            alerts=tuple(latest.values()),
            group={"externalURL": first_group.get("externalURL", ""), "receiver": self.receiver},
            digest=True,
        )
        log_event(
            logger, logging.INFO, "storm_digest", queue=self.queue, jobs=len(jobs),
            alerts=notification.covered,
        )  # fmt: skip
        await self._send(notification, jobs)

    async def _send(self, notification: Notification, jobs: Sequence[Job]) -> bool:
        await self.bucket.acquire()
        # A job is attempted once (its first fetch makes attempts 1), however many retries it
        # takes; a replayed dead letter starts again at 0 and counts as a new notification.
        self._attempted.inc(sum(1 for job in jobs if job.attempts <= 1))
        self._requests.inc()
        started = time.perf_counter()
        try:
            receipt = await self._sending(notification)
        except RetryableNotifierError as exc:
            self._count_request(started, failed=True)
            return await self._retry_or_bury(jobs, exc)
        except PermanentNotifierError as exc:
            self._count_request(started, failed=True)
            await self._bury(jobs, exc)
            return True
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a plugin bug in this job's send, not an outage
            self._count_request(started, failed=True)
            return await self._crashed(jobs, exc)
        self._count_request(started, failed=False)
        now = self.clock()
        record = {k: v for k, v in asdict(receipt).items() if k != "detail"}
        await self._acknowledge(jobs, now, record)
        for job in jobs:
            self._crashes.pop(job.id, None)
        self._delivered.inc(len(jobs))
        for job in jobs:
            self._latency.observe(now - job.created_at)
        log_event(
            logger, logging.INFO, "notification_sent", queue=self.queue,
            jobs=[j.id for j in jobs], alerts=notification.covered,
            status=receipt.provider_status, seconds=round(receipt.duration, 4),
        )  # fmt: skip
        return True

    async def _sending(self, notification: Notification) -> Receipt:
        """``notifier.send``, renewing the queue hold while it runs.

        A send may take minutes (an SMTP relay may take 10 to answer DATA). Only the queue's
        holder fetches its jobs, so while the hold is renewed no other replica takes over a
        delivery that may still succeed, even once the job's lease has run out.
        """
        renew = asyncio.create_task(self._keep_holding(), name=f"hold {self.queue}")
        try:
            return await self.notifier.send(notification)
        finally:
            renew.cancel()
            await asyncio.gather(renew, return_exceptions=True)

    async def _keep_holding(self) -> None:
        period = self.timing.queue_hold_seconds / 3
        while True:
            await asyncio.sleep(period)
            with contextlib.suppress(StoreError):  # the send goes on; the next renewal may work
                await self.store.hold_queue(self.queue, self._owner, self.timing.queue_hold_seconds)

    async def _acknowledge(
        self, jobs: Sequence[Job], now: float, record: Mapping[str, Any]
    ) -> None:
        """Mark sent jobs done; while the store fails, keep the fact here and retry.

        Sending again when the lease runs out would page twice for one store hiccup (a Redis
        restart, a full disk). Only a stop before the store is back loses the fact: the job is
        then sent again after restart (the at-least-once window, README "Delivery").
        """
        ids = [job.id for job in jobs]
        wait, longest = _ACK_RETRY_SECONDS
        failures = 0
        while True:
            try:
                await self.store.complete_many(ids, now, record)
            except StoreError as exc:
                failures += 1
                if failures == 1:
                    log_event(
                        logger, logging.WARNING, "notification_ack_pending", queue=self.queue,
                        jobs=ids, error=str(exc),
                    )  # fmt: skip
            except asyncio.CancelledError:
                if failures:
                    log_event(logger, logging.ERROR, "notification_ack_abandoned",
                              queue=self.queue, jobs=ids)  # fmt: skip
                raise
            else:
                if failures:
                    log_event(logger, logging.INFO, "notification_ack_recovered",
                              queue=self.queue, jobs=ids, attempts=failures + 1)  # fmt: skip
                return
            await asyncio.sleep(wait)
            wait = min(longest, wait * 2)

    async def _crashed(self, jobs: Sequence[Job], exc: Exception) -> bool:
        """An unclassified exception: retry a few times with backoff, then dead-letter the job.

        Such an exception says nothing about the provider (it is raised before or around the
        request), so waiting for ``max_age`` would only hold every later alert behind it.
        """
        if len(jobs) > 1 and not self._one_by_one:
            # A digest: which alert is to blame is unknown. Give the jobs back untried and
            # send them one at a time; only the culprit is dead-lettered.
            logger.error(
                "digest_crashed", exc_info=exc,
                extra={"fields": {"queue": self.queue, "jobs": len(jobs)}},
            )  # fmt: skip
            self._one_by_one = True
            await self.store.release([job.id for job in jobs])
            return False
        crashes = 1 + max(self._crashes.get(job.id, 0) for job in jobs)
        for job in jobs:
            self._crashes[job.id] = crashes
        logger.error(
            "notifier_crashed", exc_info=exc,
            extra={"fields": {"queue": self.queue, "jobs": [j.id for j in jobs],
                              "attempt": crashes}},
        )  # fmt: skip
        error = PermanentNotifierError("other", f"notifier crashed: {exc!r}")
        if crashes >= POISON_ATTEMPTS:
            sentry_sdk.capture_exception(exc)  # the traceback, once, with the dead letter
            for job in jobs:
                self._crashes.pop(job.id, None)
            self._one_by_one = False
            await self._bury(jobs, error)
            return True
        return await self._retry_or_bury(jobs, RetryableNotifierError("other", str(error)))

    def _count_request(self, started: float, *, failed: bool) -> None:
        self._request_latency.observe(time.perf_counter() - started)
        if failed:
            self._requests_failed.inc()

    async def _retry_or_bury(self, jobs: Sequence[Job], exc: RetryableNotifierError) -> bool:
        now = self.clock()
        retry = self.spec.config.retry
        if exc.retry_after is not None:
            await self.bucket.hold(exc.retry_after)
        oldest = min(job.created_at for job in jobs)
        if now - oldest >= retry.max_age.total_seconds():
            await self._bury(jobs, exc)
            return True
        attempts = max(job.attempts for job in jobs)
        delay = max(
            _MIN_RETRY_SECONDS,
            retry_delay(
                attempts,
                retry.initial.total_seconds(),
                retry.max_interval.total_seconds(),
                exc.retry_after,
                self._rng,
            ),
        )
        self._resume_at = now + delay
        error = f"{exc.reason}: {exc}"
        await in_chunks(jobs, lambda job: self.store.reschedule(job.id, now + delay, error))
        log_event(
            logger, logging.WARNING, "notification_retry", queue=self.queue,
            jobs=[j.id for j in jobs], reason=exc.reason, error=str(exc), attempt=attempts,
            retry_in=round(delay, 3),
        )  # fmt: skip
        return False

    async def _bury(self, jobs: Sequence[Job], exc: NotifierError) -> None:
        now = self.clock()
        # Failed notifications, as Alertmanager counts them: finally, once per notification.
        self.metrics.notifications_failed.labels(self.receiver, self.label, exc.reason).inc(
            len(jobs)
        )
        for job in jobs:
            await self.store.dead_letter(job.id, f"{exc.reason}: {exc}", now)
            if self.on_dead_letter is not None:
                self.on_dead_letter(job, exc)
        log_event(
            logger, logging.ERROR, "notification_dead_lettered", queue=self.queue,
            jobs=[j.id for j in jobs], reason=exc.reason, error=str(exc),
            alertnames=sorted({_alertname(a) for j in jobs for a in j.payload["alerts"]}),
        )  # fmt: skip


def _alertname(alert: Mapping[str, Any]) -> str:
    return str(alert.get("labels", {}).get("alertname", "?"))


def order_for_delivery(jobs: Sequence[Job]) -> list[Job]:
    """(priority, id) order, except that a job holding an alert of an earlier job goes after it."""
    by_priority = sorted(jobs, key=lambda j: (j.priority, j.id))
    fingerprints = {j.id: {str(a.get("fingerprint")) for a in j.payload["alerts"]} for j in jobs}
    by_id = sorted(jobs, key=lambda j: j.id)
    emitted: set[int] = set()
    ordered: list[Job] = []

    def emit(job: Job) -> None:
        if job.id in emitted:
            return
        emitted.add(job.id)  # before recursing: ids only go down, so this terminates
        for earlier in by_id:
            if earlier.id >= job.id:
                break
            if earlier.id not in emitted and fingerprints[earlier.id] & fingerprints[job.id]:
                emit(earlier)
        ordered.append(job)

    for job in by_priority:
        emit(job)
    return ordered
