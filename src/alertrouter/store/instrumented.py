"""A Store wrapper that times every operation into ``db_query_duration_seconds{operation}``,
and remembers whether the last write committed (readiness: a full disk still answers reads).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from prometheus_client import Histogram

from alertrouter.errors import StoreError
from alertrouter.metrics import Metrics
from alertrouter.ratelimit import RateLimiter
from alertrouter.router.dedup import ClaimKey, ClaimState, JobDraft
from alertrouter.store.base import IngestOutcome, Job, JobState, Store, StoreStats
from alertrouter.store.query import JobQuery, QueueActivity

__all__ = ["InstrumentedStore"]

T = TypeVar("T")
# A failure of any of these means the store cannot commit; only a webhook's commit or the
# readiness probe proves it can again (a small write may fit where a webhook's does not).
_COMMITS = frozenset(
    {"claim_and_enqueue", "complete", "release", "reschedule", "dead_letter", "requeue",
     "check_commit"}
)  # fmt: skip
_PROOFS = frozenset({"claim_and_enqueue", "check_commit"})


class InstrumentedStore(Store):
    """Delegates to ``inner``, observing each call's duration."""

    def __init__(self, inner: Store, metrics: Metrics) -> None:
        self.inner = inner
        self.backend = inner.backend
        self._histogram = metrics.db_query_duration
        # labels() takes a lock and builds a key on every call: look each child up once.
        self._children: dict[str, Histogram] = {}
        self.commit_error: str | None = None  # why the last write failed; None once one works

    async def _timed(self, operation: str, call: Awaitable[T]) -> T:
        started = time.perf_counter()
        try:
            result = await call
        except StoreError as exc:
            if operation in _COMMITS:
                self.commit_error = str(exc)
            raise
        else:
            if operation in _PROOFS:
                self.commit_error = None
            return result
        finally:
            child = self._children.get(operation)
            if child is None:
                child = self._children[operation] = self._histogram.labels(operation)
            child.observe(time.perf_counter() - started)

    async def open(self) -> None:
        """Open the inner store."""
        await self.inner.open()

    async def close(self) -> None:
        """Close the inner store."""
        await self.inner.close()

    async def hold_queue(self, queue: str, owner: str, ttl_seconds: float) -> bool:
        """Timed hold_queue."""
        return await self._timed("hold_queue", self.inner.hold_queue(queue, owner, ttl_seconds))

    async def release_queue(self, queue: str, owner: str) -> None:
        """Timed release_queue."""
        await self._timed("release_queue", self.inner.release_queue(queue, owner))

    def rate_limiter(self, name: str, rate: float, burst: int) -> RateLimiter:
        """The inner store's."""
        return self.inner.rate_limiter(name, rate, burst)

    async def listen(self, on_new_jobs: Callable[[list[str]], None]) -> None:
        """Not timed: it runs for the life of the service."""
        await self.inner.listen(on_new_jobs)

    async def ping(self) -> None:
        """Timed ping."""
        await self._timed("ping", self.inner.ping())

    async def check_commit(self) -> None:
        """Timed check_commit."""
        await self._timed("check_commit", self.inner.check_commit())

    async def claim_and_enqueue(self, drafts: Sequence[JobDraft], now: float) -> IngestOutcome:
        """Timed claim_and_enqueue."""
        return await self._timed("claim_and_enqueue", self.inner.claim_and_enqueue(drafts, now))

    async def fetch_due(
        self, queue: str | None, now: float, limit: int, lease_seconds: float
    ) -> list[Job]:
        """Timed fetch_due."""
        return await self._timed(
            "fetch_due", self.inner.fetch_due(queue, now, limit, lease_seconds)
        )

    async def complete(
        self, job_id: int, now: float, receipt: Mapping[str, Any] | None = None
    ) -> None:
        """Timed complete."""
        await self._timed("complete", self.inner.complete(job_id, now, receipt))

    async def complete_many(
        self, job_ids: Sequence[int], now: float, receipt: Mapping[str, Any] | None = None
    ) -> None:
        """Timed as one complete: one store call for a digest's jobs."""
        await self._timed("complete", self.inner.complete_many(job_ids, now, receipt))

    async def release(self, job_ids: Sequence[int]) -> None:
        """Timed release."""
        await self._timed("release", self.inner.release(job_ids))

    async def reschedule(self, job_id: int, due_at: float, error: str) -> None:
        """Timed reschedule."""
        await self._timed("reschedule", self.inner.reschedule(job_id, due_at, error))

    async def dead_letter(self, job_id: int, error: str, now: float) -> None:
        """Timed dead_letter."""
        await self._timed("dead_letter", self.inner.dead_letter(job_id, error, now))

    async def requeue(self, job_id: int, now: float) -> bool:
        """Timed requeue."""
        return await self._timed("requeue", self.inner.requeue(job_id, now))

    async def get_job(self, job_id: int) -> Job | None:
        """Timed get_job."""
        return await self._timed("get_job", self.inner.get_job(job_id))

    async def list_jobs(
        self, state: JobState, limit: int = 100, *, newest_first: bool = False
    ) -> list[Job]:
        """Timed list_jobs."""
        listed = self.inner.list_jobs(state, limit, newest_first=newest_first)
        return await self._timed("list_jobs", listed)

    async def find_jobs(self, query: JobQuery) -> list[Job]:
        """Timed find_jobs."""
        return await self._timed("find_jobs", self.inner.find_jobs(query))

    async def activity(self, since: float) -> dict[str, QueueActivity]:
        """Timed activity."""
        return await self._timed("activity", self.inner.activity(since))

    async def get_claim(self, key: ClaimKey) -> ClaimState | None:
        """Timed get_claim."""
        return await self._timed("get_claim", self.inner.get_claim(key))

    async def stats(self) -> StoreStats:
        """Timed stats."""
        return await self._timed("stats", self.inner.stats())
