"""The delivery worker against a recording notifier and the memory store: order, retries,
digests, dead letters and rate limits."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, ClassVar

import aiohttp
import pytest

from alertrouter.config.loader import IntegrationSpec
from alertrouter.delivery.worker import POISON_ATTEMPTS, IntegrationWorker, order_for_delivery
from alertrouter.errors import (
    NotifierError,
    PermanentNotifierError,
    RetryableNotifierError,
    StoreError,
)
from alertrouter.metrics import Metrics
from alertrouter.notifiers.base import Notification, Notifier, Receipt
from alertrouter.notifiers.log import LogConfig
from alertrouter.ratelimit import TokenBucket
from alertrouter.store.base import Job
from alertrouter.store.memory import MemoryStore
from factories import make_draft

Outcome = Callable[[Notification], None]


class RecordingNotifier(Notifier[LogConfig]):
    """Records each notification; ``outcomes`` may raise for the next sends."""

    type_name = "recording"
    config_model = LogConfig
    coalesce: ClassVar[bool] = True

    def __init__(self, config: LogConfig, session: Any, **kwargs: str) -> None:
        super().__init__(config, session, **kwargs)
        self.sent: list[Notification] = []
        self.sent_at: list[float] = []
        self.failures: list[NotifierError] = []

    async def send(self, notification: Notification) -> Receipt:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(notification)
        self.sent_at.append(time.monotonic())
        return Receipt("200 ok", None, 0.001)


class NonCoalescingNotifier(RecordingNotifier):
    """Like PagerDuty: never coalesced into digests."""

    coalesce: ClassVar[bool] = False


def spec_with(**config: Any) -> IntegrationSpec:
    return IntegrationSpec("slack", 0, LogConfig(**config))


async def run_worker(
    store: MemoryStore,
    notifier: RecordingNotifier,
    *,
    until: Callable[[], bool],
    spec: IntegrationSpec | None = None,
    bucket: TokenBucket | None = None,
    dead: list[Job] | None = None,
    within: float = 10.0,
) -> IntegrationWorker:
    worker = IntegrationWorker(
        receiver="slack-warnings",
        spec=spec or spec_with(),
        notifier=notifier,
        bucket=bucket or TokenBucket(1000, 1000),
        store=store,
        metrics=Metrics(),
        clock=time.time,
        on_dead_letter=(lambda job, exc: dead.append(job)) if dead is not None else None,
    )
    worker.start()
    worker.wake()
    deadline = time.monotonic() + within
    while not until():
        assert time.monotonic() < deadline, "the worker did not finish in time"
        await asyncio.sleep(0.01)
    await worker.stop(grace=1.0)
    return worker


@pytest.fixture
async def session() -> Any:
    async with aiohttp.ClientSession() as http:
        yield http


async def test_jobs_are_delivered_in_order_and_completed(session: Any) -> None:
    """Queued jobs go out oldest first and end done with their receipt."""
    store = MemoryStore()
    for fp in ("a", "b", "c"):
        await store.claim_and_enqueue([make_draft(fp)], time.time())
    notifier = RecordingNotifier(LogConfig(), session, receiver="r", integration="slack[0]")
    await run_worker(store, notifier, until=lambda: len(notifier.sent) == 3)
    assert [n.alerts[0]["fingerprint"] for n in notifier.sent] == ["a", "b", "c"]
    done = await store.list_jobs("done")
    assert [j.receipt["provider_status"] for j in done if j.receipt] == ["200 ok"] * 3


async def test_critical_first_but_never_before_an_earlier_job_of_the_same_alert(
    session: Any,
) -> None:
    """Priority reorders a backlog, yet a resolve never overtakes its trigger."""
    store = MemoryStore()
    now = time.time()
    await store.claim_and_enqueue([make_draft("w1", priority=1)], now)
    await store.claim_and_enqueue([make_draft("w2", priority=1)], now)
    # A later critical job that also resolves w1: it must wait for w1's trigger.
    resolve = make_draft("w1", status="resolved", priority=0)
    critical = make_draft("c1", priority=0)
    await store.claim_and_enqueue([critical], now)
    await store.claim_and_enqueue([resolve], now)
    jobs = await store.fetch_due(None, now, 10, 60)
    ordered = [j.payload["alerts"][0]["fingerprint"] + ":" + j.payload["alerts"][0]["status"]
               for j in order_for_delivery(jobs)]  # fmt: skip
    assert ordered == ["c1:firing", "w1:firing", "w1:resolved", "w2:firing"]


async def test_retryable_failure_waits_for_retry_after_and_keeps_order(session: Any) -> None:
    """A 429 with Retry-After holds the whole queue; then jobs go out in their order."""
    store = MemoryStore()
    now = time.time()
    await store.claim_and_enqueue([make_draft("first")], now)
    await store.claim_and_enqueue([make_draft("first", status="resolved")], now)
    notifier = NonCoalescingNotifier(LogConfig(), session, receiver="r", integration="slack[0]")
    notifier.failures.append(RetryableNotifierError("rateLimited", "429", retry_after=0.5))
    started = time.monotonic()
    await run_worker(store, notifier, until=lambda: len(notifier.sent) == 2)
    assert notifier.sent_at[0] - started >= 0.5
    assert [n.alerts[0]["status"] for n in notifier.sent] == ["firing", "resolved"]
    (first, _) = await store.list_jobs("done")
    assert first.attempts == 2


async def test_permanent_failure_dead_letters_and_undoes_the_claim(session: Any) -> None:
    """A 400 dead-letters at once; the claim is undone so the next webhook notifies again."""
    store = MemoryStore()
    now = time.time()
    await store.claim_and_enqueue([make_draft("x")], now)
    notifier = RecordingNotifier(LogConfig(), session, receiver="r", integration="slack[0]")
    notifier.failures.append(PermanentNotifierError("clientError", "400 invalid_payload"))
    dead: list[Job] = []
    await run_worker(store, notifier, until=lambda: bool(dead), dead=dead)
    (job,) = await store.list_jobs("dead")
    assert job.last_error == "clientError: 400 invalid_payload"
    again = await store.claim_and_enqueue([make_draft("x")], now + 1)
    assert len(again.job_ids) == 1


async def test_too_old_jobs_are_dead_lettered_instead_of_retried(session: Any) -> None:
    """A retryable failure of a job older than retry.max_age dead-letters it."""
    store = MemoryStore()
    await store.claim_and_enqueue([make_draft("old")], time.time() - 7200)
    notifier = RecordingNotifier(LogConfig(), session, receiver="r", integration="slack[0]")
    notifier.failures.append(RetryableNotifierError("serverError", "503"))
    dead: list[Job] = []
    spec = spec_with(retry={"max_age": "1h"})
    await run_worker(store, notifier, until=lambda: bool(dead), dead=dead, spec=spec)
    assert [j.state for j in await store.list_jobs("dead")] == ["dead"]


async def test_backlog_above_threshold_goes_out_as_one_digest(session: Any) -> None:
    """Past storm.threshold pending jobs become one digest that covers every alert."""
    store = MemoryStore()
    now = time.time()
    for i in range(25):
        await store.claim_and_enqueue([make_draft(f"a{i}", f"b{i}")], now)
    notifier = RecordingNotifier(LogConfig(), session, receiver="r", integration="slack[0]")
    await run_worker(
        store, notifier, until=lambda: bool(notifier.sent), spec=spec_with(storm={"threshold": 10})
    )
    (digest,) = notifier.sent
    assert digest.digest
    assert digest.covered == 50
    assert len(await store.list_jobs("done", limit=100)) == 25


async def test_non_coalescing_plugins_never_get_digests(session: Any) -> None:
    """PagerDuty-like plugins get one message per job however long the backlog."""
    store = MemoryStore()
    now = time.time()
    for i in range(15):
        await store.claim_and_enqueue([make_draft(f"p{i}")], now)
    notifier = NonCoalescingNotifier(LogConfig(), session, receiver="r", integration="slack[0]")
    await run_worker(store, notifier, until=lambda: len(notifier.sent) == 15)
    assert not any(n.digest for n in notifier.sent)


async def test_rate_limit_spaces_messages(session: Any) -> None:
    """With 20/s and burst 1, five messages take at least 0.2 s."""
    store = MemoryStore()
    now = time.time()
    for i in range(5):
        await store.claim_and_enqueue([make_draft(f"r{i}")], now)
    notifier = NonCoalescingNotifier(LogConfig(), session, receiver="r", integration="slack[0]")
    await run_worker(
        store, notifier, until=lambda: len(notifier.sent) == 5, bucket=TokenBucket(20, 1)
    )
    assert notifier.sent_at[-1] - notifier.sent_at[0] >= 0.19


async def test_token_bucket_hold_blocks_until_retry_after() -> None:
    """After hold(3) no token is given for three seconds, even with saved tokens."""
    now = [100.0]
    bucket = TokenBucket(10, 5, clock=lambda: now[0])
    await bucket.hold(3)
    assert await bucket.delay() == pytest.approx(3)
    now[0] += 3
    assert await bucket.delay() == 0


class CrashingNotifier(RecordingNotifier):
    """Raises a plain exception (a rendering bug) for the alert with fingerprint ``poison``."""

    def __init__(self, config: LogConfig, session: Any, **kwargs: str) -> None:
        super().__init__(config, session, **kwargs)
        self.crashes = 0

    async def send(self, notification: Notification) -> Receipt:
        if any(a["fingerprint"] == "poison" for a in notification.alerts):
            self.crashes += 1
            raise OverflowError("date value out of range")
        return await super().send(notification)


async def test_a_job_that_crashes_the_notifier_is_dead_lettered_and_the_queue_moves_on(
    session: Any,
) -> None:
    """An unclassified exception is retried POISON_ATTEMPTS times, then the job is buried."""
    store = MemoryStore()
    now = time.time()
    await store.claim_and_enqueue([make_draft("poison")], now)
    await store.claim_and_enqueue([make_draft("later")], now)
    notifier = CrashingNotifier(LogConfig(), session, receiver="r", integration="slack[0]")
    dead: list[Job] = []
    spec = spec_with(retry={"initial": "10ms", "max_interval": "20ms"})
    await run_worker(
        store, notifier, until=lambda: bool(dead) and bool(notifier.sent), dead=dead, spec=spec
    )
    assert notifier.crashes == POISON_ATTEMPTS
    (buried,) = await store.list_jobs("dead")
    assert buried.last_error is not None
    assert buried.last_error.startswith("other: notifier crashed: OverflowError(")
    assert [a["fingerprint"] for a in notifier.sent[0].alerts] == ["later"]


class FlakyAckStore(MemoryStore):
    """A memory store whose next ``failures`` acknowledgements fail, as in a Redis outage."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures
        self.acknowledged: list[int] = []

    async def complete_many(self, job_ids: Any, now: float, receipt: Any = None) -> None:
        if self.failures:
            self.failures -= 1
            raise StoreError("connection refused")
        await super().complete_many(job_ids, now, receipt)
        self.acknowledged.extend(job_ids)


async def test_a_sent_job_is_acknowledged_once_the_store_is_back_never_sent_twice(
    session: Any,
) -> None:
    """A failing acknowledgement is retried from memory; the provider gets the job once."""
    store = FlakyAckStore(failures=4)
    await store.claim_and_enqueue([make_draft("acked")], time.time())
    notifier = RecordingNotifier(LogConfig(), session, receiver="r", integration="slack[0]")

    await run_worker(store, notifier, until=lambda: bool(store.acknowledged))
    assert [j.state for j in await store.list_jobs("done")] == ["done"]
    assert len(notifier.sent) == 1
    assert store.failures == 0


async def test_a_crashing_digest_is_sent_job_by_job_so_only_the_culprit_is_buried(
    session: Any,
) -> None:
    """A digest holding one poisoned alert crashes; its jobs go out one by one, one is buried."""
    store = MemoryStore()
    now = time.time()
    for fingerprint in ("a", "b", "poison", "c", "d"):
        await store.claim_and_enqueue([make_draft(fingerprint)], now)
    notifier = CrashingNotifier(LogConfig(), session, receiver="r", integration="slack[0]")
    dead: list[Job] = []
    spec = spec_with(storm={"threshold": 2}, retry={"initial": "10ms", "max_interval": "20ms"})
    await run_worker(
        store, notifier, until=lambda: bool(dead) and len(notifier.sent) == 4, dead=dead,
        spec=spec,
    )  # fmt: skip
    assert [a["fingerprint"] for j in dead for a in j.payload["alerts"]] == ["poison"]
    sent = sorted(a["fingerprint"] for n in notifier.sent for a in n.alerts)
    assert sent == ["a", "b", "c", "d"]
    assert notifier.crashes == 1 + POISON_ATTEMPTS  # the digest, then the job alone
