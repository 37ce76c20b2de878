"""In-memory store (``memory://``): the contract without durability, for tests and dry runs."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from alertrouter.router.dedup import ClaimKey, ClaimState, JobDraft, plan_jobs
from alertrouter.store.base import (
    IngestOutcome,
    Job,
    JobState,
    Store,
    StoreStats,
    restored_claims,
    retaken_claims,
)

__all__ = ["MemoryStore"]


class MemoryStore(Store):
    """Dicts in one process. Every method runs without awaiting, so each is atomic."""

    backend = "memory"

    def __init__(self) -> None:
        self._claims: dict[ClaimKey, ClaimState | None] = {}
        self._jobs: dict[int, Job] = {}
        self._lease_until: dict[int, float] = {}
        self._ids = itertools.count(1)

    async def ping(self) -> None:
        """Always reachable."""

    async def claim_and_enqueue(self, drafts: Sequence[JobDraft], now: float) -> IngestOutcome:
        """Plan against the claims and apply the plan at once."""
        plan = plan_jobs(drafts, self._claims, now)
        ids = []
        for planned in plan.jobs:
            draft = planned.draft
            job = Job(
                id=next(self._ids),
                receiver=draft.receiver,
                integration=draft.integration,
                integration_type=draft.integration_type,
                priority=draft.priority,
                state="pending",
                created_at=now,
                due_at=now,
                attempts=0,
                payload={"group": dict(draft.group), "alerts": list(planned.alerts)},
                claims=tuple(planned.claims.items()),
                taken=tuple(planned.taken.items()),
            )
            self._jobs[job.id] = job
            ids.append(job.id)
        return IngestOutcome(tuple(ids), tuple(plan.suppressed))

    async def fetch_due(
        self, queue: str | None, now: float, limit: int, lease_seconds: float
    ) -> list[Job]:
        """Lease due pending jobs, and inflight ones whose lease ran out; none after a job of
        the same queue still waiting for its retry."""
        waiting: dict[str, int] = {}
        for job in self._jobs.values():
            if job.state == "pending" and job.due_at > now:
                waiting[job.queue] = min(waiting.get(job.queue, job.id), job.id)
        due = [
            job
            for job in self._jobs.values()
            if (queue is None or job.queue == queue)
            and job.id < waiting.get(job.queue, job.id + 1)
            and (
                (job.state == "pending" and job.due_at <= now)
                or (job.state == "inflight" and self._lease_until.get(job.id, 0.0) <= now)
            )
        ]
        due.sort(key=lambda j: (j.priority, j.id))
        leased = []
        for job in due[:limit]:
            job = dataclasses.replace(job, state="inflight", attempts=job.attempts + 1)
            self._jobs[job.id] = job
            self._lease_until[job.id] = now + lease_seconds
            leased.append(job)
        return leased

    async def complete(
        self, job_id: int, now: float, receipt: Mapping[str, Any] | None = None
    ) -> None:
        """Mark delivered."""
        job = self._finish(job_id, "done", None, now)
        self._jobs[job_id] = dataclasses.replace(job, receipt=receipt)

    async def release(self, job_ids: Sequence[int]) -> None:
        """Back to pending, the attempt not counted."""
        for job_id in job_ids:
            job = self._jobs[job_id]
            if job.state == "inflight":
                self._jobs[job_id] = dataclasses.replace(
                    job, state="pending", attempts=max(0, job.attempts - 1)
                )
                self._lease_until.pop(job_id, None)

    async def reschedule(self, job_id: int, due_at: float, error: str) -> None:
        """Back to pending at ``due_at``."""
        job = self._jobs[job_id]
        self._jobs[job_id] = dataclasses.replace(
            job, state="pending", due_at=due_at, last_error=error
        )
        self._lease_until.pop(job_id, None)

    async def dead_letter(self, job_id: int, error: str, now: float) -> None:
        """Park the job and give back the claims it took."""
        job = self._finish(job_id, "dead", error, now)
        self._claims.update(restored_claims(job, self._claims.get))

    async def requeue(self, job_id: int, now: float) -> bool:
        """Dead -> pending, due now."""
        job = self._jobs.get(job_id)
        if job is None or job.state != "dead":
            return False
        self._claims.update(retaken_claims(job, self._claims.get, now))
        self._jobs[job_id] = dataclasses.replace(
            job, state="pending", due_at=now, attempts=0, finished_at=None
        )
        return True

    async def get_job(self, job_id: int) -> Job | None:
        """By id."""
        return self._jobs.get(job_id)

    async def list_jobs(
        self, state: JobState, limit: int = 100, *, newest_first: bool = False
    ) -> list[Job]:
        """Oldest first, or newest first."""
        found = [job for job in self._jobs.values() if job.state == state]
        return sorted(found, key=lambda j: j.id, reverse=newest_first)[:limit]

    async def get_claim(self, key: ClaimKey) -> ClaimState | None:
        """The stored claim."""
        return self._claims.get(key)

    async def stats(self) -> StoreStats:
        """Counts per queue."""
        pending: dict[str, int] = {}
        inflight: dict[str, int] = {}
        dead: dict[str, int] = {}
        oldest: dict[str, float] = {}
        for job in self._jobs.values():
            if job.state == "pending":
                pending[job.queue] = pending.get(job.queue, 0) + 1
                oldest[job.queue] = min(oldest.get(job.queue, job.created_at), job.created_at)
            elif job.state == "inflight":
                inflight[job.queue] = inflight.get(job.queue, 0) + 1
            elif job.state == "dead":
                dead[job.queue] = dead.get(job.queue, 0) + 1
        return StoreStats(pending, inflight, dead, oldest)

    def _finish(self, job_id: int, state: JobState, error: str | None, now: float) -> Job:
        job = dataclasses.replace(
            self._jobs[job_id], state=state, last_error=error, finished_at=now
        )
        self._jobs[job_id] = job
        self._lease_until.pop(job_id, None)
        return job
