"""The store contract every backend implements, and the records it deals in.

Claims and the jobs they create are written in one atomic step; a dead-lettered job gives its
claims back, so the next webhook for those alerts tries again.
"""

from __future__ import annotations

import abc
import asyncio
import json
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, cast

from pydantic_core import PydanticSerializationError, from_json, to_json

from alertrouter.ratelimit import RateLimiter, TokenBucket
from alertrouter.router.dedup import ClaimKey, ClaimState, JobDraft, PlannedJob
from alertrouter.store.query import JobQuery, QueueActivity

__all__ = [
    "DONE_RETENTION_SECONDS",
    "IngestOutcome",
    "Job",
    "JobState",
    "Store",
    "StoreStats",
    "claim_to_restore",
    "claim_to_retake",
    "decode_claims",
    "dump_json",
    "encode_claims",
    "encode_payloads",
    "in_chunks",
    "job_matches",
    "load_json",
    "restored_claims",
    "retaken_claims",
]

JobState = Literal["pending", "inflight", "dead", "done"]
# How many jobs of each state the generic find_jobs and activity read: they bound one console
# page's work in a storm on a store without its own query (SQLite has one).
SCAN_LIMIT = 20_000
# How long a delivered job, with its receipt, stays readable (test-alert --wait, the CLI);
# then the store drops it. Dead letters stay until replayed.
DONE_RETENTION_SECONDS = 24 * 3600.0
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Job:
    """One notification to deliver through one integration of one receiver."""

    id: int
    receiver: str
    integration: str
    integration_type: str
    priority: int
    state: JobState
    created_at: float
    due_at: float
    attempts: int
    payload: Mapping[str, Any]  # {"group": {...}, "alerts": [...]}
    claims: tuple[tuple[ClaimKey, ClaimState | None], ...] = ()
    taken: tuple[tuple[ClaimKey, ClaimState], ...] = ()
    last_error: str | None = None
    finished_at: float | None = None
    receipt: Mapping[str, Any] | None = None

    @property
    def queue(self) -> str:
        """The queue the job waits in: one per (receiver, integration)."""
        return f"{self.receiver}/{self.integration}"


@dataclass(frozen=True, slots=True)
class IngestOutcome:
    """What one claim-and-enqueue step did."""

    job_ids: tuple[int, ...]
    suppressed: tuple[tuple[str, str], ...]  # (receiver, reason) per suppressed alert


@dataclass(frozen=True, slots=True)
class StoreStats:
    """Queue depth, oldest pending job and dead letters, per queue."""

    pending: Mapping[str, int] = field(default_factory=dict)
    inflight: Mapping[str, int] = field(default_factory=dict)
    dead: Mapping[str, int] = field(default_factory=dict)
    oldest_pending_created_at: Mapping[str, float] = field(default_factory=dict)


def claim_to_restore(
    current: ClaimState | None, job_created_at: float, previous: ClaimState | None
) -> tuple[bool, ClaimState | None]:
    """Whether a dead-lettered job's claim should be undone, and to what.

    Only a claim this job set (sent at its creation) is undone; a newer claim stays.
    """
    if current is None or current.sent_at != job_created_at:
        return False, None
    return True, previous


def claim_to_retake(
    current: ClaimState | None, job_created_at: float, taken: ClaimState, now: float
) -> ClaimState | None:
    """The claim a replayed dead letter takes again, or None to leave a newer one alone.

    It is the claim the job took at its creation, remembered at least as long as then, so
    the alert's next resolve or repeat is judged against this delivery.
    """
    if current is not None and current.sent_at > job_created_at:
        return None
    remembered = taken.expires_at - taken.sent_at
    return ClaimState(taken.status, taken.sent_at, max(taken.expires_at, now + remembered))


def restored_claims(
    job: Job, current: Callable[[ClaimKey], ClaimState | None]
) -> dict[ClaimKey, ClaimState | None]:
    """The claim updates that dead-lettering ``job`` makes (claim_to_restore on each);
    ``current`` looks up a stored claim."""
    updates: dict[ClaimKey, ClaimState | None] = {}
    for key, previous in job.claims:
        restore, state = claim_to_restore(current(key), job.created_at, previous)
        if restore:
            updates[key] = state
    return updates


def retaken_claims(
    job: Job, current: Callable[[ClaimKey], ClaimState | None], now: float
) -> dict[ClaimKey, ClaimState]:
    """The claim updates that replaying dead ``job`` makes (claim_to_retake on each);
    ``current`` looks up a stored claim."""
    updates: dict[ClaimKey, ClaimState] = {}
    for key, taken in job.taken:
        state = claim_to_retake(current(key), job.created_at, taken, now)
        if state is not None:
            updates[key] = state
    return updates


def encode_payloads(jobs: Sequence[PlannedJob]) -> list[str]:
    """Each planned job's stored payload, ``{"group": ..., "alerts": ...}`` as JSON text."""
    groups: dict[int, str] = {}
    return [_payload(p.draft.group, p.alerts, groups) for p in jobs]


def _payload(
    group: Mapping[str, Any], alerts: Sequence[Mapping[str, Any]], groups: dict[int, str]
) -> str:
    # The drafts of one webhook share its group, and a per-alert integration (PagerDuty) makes
    # a job per alert of it: each group is encoded once (``groups``, by identity).
    text = groups.get(id(group))
    if text is None:
        text = groups[id(group)] = dump_json(dict(group))
    return f'{{"group": {text}, "alerts": {dump_json(list(alerts))}}}'


def dump_json(value: Any) -> str:
    """``value`` as JSON text, by pydantic-core's serializer: about three times the standard
    library's speed on alert lists, which every webhook stores. Where it refuses (a lone
    surrogate, which has no UTF-8 form), the standard library's escaped text."""
    try:
        return to_json(value).decode()
    except PydanticSerializationError:
        return json.dumps(value)


def load_json(text: str | bytes) -> Any:
    """``json.loads``, by pydantic-core's parser (about 1.3x faster on job payloads), or by
    the standard library where it refuses (an escaped lone surrogate, as dump_json writes)."""
    try:
        return from_json(text, cache_strings="keys")
    except ValueError:
        return json.loads(text)


def encode_claims(
    claims: Mapping[ClaimKey, ClaimState | None], taken: Mapping[ClaimKey, ClaimState]
) -> str:
    """A job's claims as stored: [receiver, integration, fingerprint, before, taken] each."""

    def state(value: ClaimState | None) -> list[Any] | None:
        return None if value is None else [value.status, value.sent_at, value.expires_at]

    return dump_json(
        [
            [key.receiver, key.integration, key.fingerprint, state(previous), state(taken.get(key))]
            for key, previous in claims.items()
        ]
    )


def decode_claims(
    text: str,
) -> tuple[tuple[tuple[ClaimKey, ClaimState | None], ...], tuple[tuple[ClaimKey, ClaimState], ...]]:
    """The (key, before) and (key, taken) pairs of ``encode_claims``' text."""
    claims: list[tuple[ClaimKey, ClaimState | None]] = []
    taken: list[tuple[ClaimKey, ClaimState]] = []
    for receiver, integration, fingerprint, before, *rest in json.loads(text):
        key = ClaimKey(receiver, integration, fingerprint)
        claims.append((key, None if before is None else ClaimState(*before)))
        if rest and rest[0] is not None:
            taken.append((key, ClaimState(*rest[0])))
    return tuple(claims), tuple(taken)


def job_matches(query: JobQuery, job: Job) -> bool:
    """Whether ``job`` passes every filter of ``query`` (but the limit)."""
    if job.state not in query.states:
        return False
    if query.receiver and job.receiver != query.receiver:
        return False
    if query.integration and query.integration not in (job.integration, job.integration_type):
        return False
    if query.before_id is not None and job.id >= query.before_id:
        return False
    if query.since is not None and job.created_at < query.since:
        return False
    if query.until is not None and job.created_at > query.until:
        return False
    alerts = job.payload.get("alerts", ())
    if query.alertname and not any(
        (a.get("labels") or {}).get("alertname") == query.alertname for a in alerts
    ):
        return False
    return not query.fingerprint or any(a.get("fingerprint") == query.fingerprint for a in alerts)


async def in_chunks(
    items: Sequence[T], call: Callable[[T], Coroutine[Any, Any, None]], size: int = 32
) -> None:
    """Make a store call per item, a few dozen at a time: concurrent enough to share a
    transaction, few enough for a connection pool (a digest may cover hundreds of jobs)."""
    for start in range(0, len(items), size):
        await asyncio.gather(*(call(item) for item in items[start : start + size]))


class Store(abc.ABC):
    """The contract. Times are Unix seconds passed in by the caller (an injectable clock)."""

    backend: str = "abstract"

    async def open(self) -> None:  # noqa: B027 - optional hook
        """Connect and migrate; called once before use."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Flush and release resources."""

    async def hold_queue(self, queue: str, owner: str, ttl_seconds: float) -> bool:
        """Take or renew the right to deliver ``queue``; False while another owner holds it.

        One worker per queue across the fleet keeps per-alert order (a resolve never overtakes
        its trigger) and the head-of-line wait after a retry. A single process always holds.
        """
        return True

    def rate_limiter(self, name: str, rate: float, burst: int) -> RateLimiter:
        """The rate limit of one queue: in this process, unless the store is shared by
        several replicas, whose limit must then hold for the fleet."""
        return TokenBucket(rate, burst)

    async def listen(self, on_new_jobs: Callable[[list[str]], None]) -> None:  # noqa: B027
        """Call ``on_new_jobs(queues)`` whenever another process adds jobs, until cancelled.

        Single-process stores have no one else to hear from and return at once.
        """

    async def release_queue(self, queue: str, owner: str) -> None:  # noqa: B027 - optional
        """Give the queue up (on a clean stop) so another replica takes it at once."""

    @abc.abstractmethod
    async def ping(self) -> None:
        """Raise StoreError unless the backend answers."""

    async def check_commit(self) -> None:
        """Raise StoreError unless a write commits now (readiness after a failed commit).

        ``ping`` is enough where answering means accepting writes; a file store overrides
        this, since a full disk still answers reads.
        """
        await self.ping()

    @abc.abstractmethod
    async def claim_and_enqueue(self, drafts: Sequence[JobDraft], now: float) -> IngestOutcome:
        """Decide every candidate (router.dedup) and write claims and jobs in one atomic step."""

    @abc.abstractmethod
    async def fetch_due(
        self, queue: str | None, now: float, limit: int, lease_seconds: float
    ) -> list[Job]:
        """Lease up to ``limit`` due jobs of ``queue`` (or any): priority first, then by id.

        Not by due time: a retried job keeps its place ahead of later jobs for the same alerts.
        A store may leave the leased jobs' ``claims`` and ``taken`` empty: they are its own
        bookkeeping, which ``dead_letter`` and ``requeue`` read from the stored job.
        """

    @abc.abstractmethod
    async def complete(
        self, job_id: int, now: float, receipt: Mapping[str, Any] | None = None
    ) -> None:
        """Mark a leased job delivered, keeping the provider's receipt."""

    async def complete_many(
        self, job_ids: Sequence[int], now: float, receipt: Mapping[str, Any] | None = None
    ) -> None:
        """Mark leased jobs delivered by one message (a digest), each keeping its receipt."""
        await in_chunks(job_ids, lambda job_id: self.complete(job_id, now, receipt))

    @abc.abstractmethod
    async def release(self, job_ids: Sequence[int]) -> None:
        """Return leased jobs to pending untouched: not tried, so not counted as an attempt."""

    @abc.abstractmethod
    async def reschedule(self, job_id: int, due_at: float, error: str) -> None:
        """Release a leased job to be tried again at ``due_at``."""

    @abc.abstractmethod
    async def dead_letter(self, job_id: int, error: str, now: float) -> None:
        """Park a job as undeliverable and undo the claims it took."""

    @abc.abstractmethod
    async def requeue(self, job_id: int, now: float) -> bool:
        """Move a dead job back to pending, due now, taking its claims again
        (claim_to_retake), so the alert's later resolve is sent; False if it is not dead."""

    @abc.abstractmethod
    async def get_job(self, job_id: int) -> Job | None:
        """One job by id, in any state."""

    @abc.abstractmethod
    async def list_jobs(
        self, state: JobState, limit: int = 100, *, newest_first: bool = False
    ) -> list[Job]:
        """Jobs in ``state``, oldest first (the ``limit`` newest, newest first, if asked)."""

    @abc.abstractmethod
    async def get_claim(self, key: ClaimKey) -> ClaimState | None:
        """The stored claim for ``key``, if any."""

    @abc.abstractmethod
    async def stats(self) -> StoreStats:
        """Counts per queue."""

    async def find_jobs(self, query: JobQuery) -> list[Job]:
        """The jobs ``query`` asks for, newest first. This generic one reads up to
        SCAN_LIMIT jobs of each state and filters them; a backend may answer it by an index."""
        jobs: list[Job] = []
        for state in query.states:
            listed = await self.list_jobs(cast(JobState, state), SCAN_LIMIT, newest_first=True)
            jobs.extend(job for job in listed if job_matches(query, job))
        jobs.sort(key=lambda job: job.id, reverse=True)
        return jobs[: query.limit]

    async def activity(self, since: float) -> dict[str, QueueActivity]:
        """Per queue: jobs waiting for a retry, and jobs delivered or dead since ``since``."""
        found: dict[str, QueueActivity] = {}
        for state in ("pending", "done", "dead"):
            for job in await self.list_jobs(state, SCAN_LIMIT, newest_first=True):
                row = found.setdefault(job.queue, QueueActivity())
                if state == "pending" and job.attempts > 0:
                    row.retrying += 1
                    row.retrying_until = max(row.retrying_until or 0.0, job.due_at)
                elif state == "done" and (job.finished_at or 0.0) >= since:
                    row.delivered += 1
                elif state == "dead" and (job.finished_at or 0.0) >= since:
                    row.dead += 1
        return found
