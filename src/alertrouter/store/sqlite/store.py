"""SQLite store (``sqlite:///path``): the default, embedded, durable.

WAL with synchronous=FULL: a committed job survives a crash. One thread owns the connection
and group-commits (store.sqlite_writer): concurrent webhooks share one fsync. Claims live in
memory and are logged by appending (store.sqlite_claims), so one process owns the file: a
second one is refused. Webhooks are planned in memory and their rows staged (this class is
the writer's Staging); each transaction inserts them with a few multi-row statements, so
the writer thread gives up and takes back the GIL a few times per transaction rather than a
dozen times per webhook.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from alertrouter.errors import StoreError
from alertrouter.logs import get_logger
from alertrouter.router.dedup import ClaimKey, ClaimState, JobDraft, plan_jobs
from alertrouter.store.base import (
    DONE_RETENTION_SECONDS,
    IngestOutcome,
    Job,
    JobState,
    Store,
    StoreStats,
    dump_json,
    encode_claims,
    encode_payloads,
    restored_claims,
    retaken_claims,
)
from alertrouter.store.query import JobQuery, QueueActivity
from alertrouter.store.sqlite import history
from alertrouter.store.sqlite.claims import ClaimLog
from alertrouter.store.sqlite.rows import insert_rows
from alertrouter.store.sqlite.schema import (
    DUE,
    IDS,
    SCHEMA_VERSION,
    SELECT_JOB,
    SELECT_JOBS,
    WAITING,
    due_in_queue,
    job_from_row,
    last_job_id,
    migrate,
)
from alertrouter.store.sqlite.writer import GroupCommitWriter

__all__ = ["SCHEMA_VERSION", "SQLiteStore"]

logger = get_logger(__name__)

T = TypeVar("T")
_CLAIM_SWEEP_SECONDS = 60.0
_PURGE_EVERY_SECONDS = 60.0
_PURGE_SLICE = 5000  # delivered jobs dropped per transaction at most

_MIN_FREE_BYTES = 1 << 20  # readiness: less room than this and a webhook may not commit
_DECODE_SLICE = 50  # leased jobs decoded between two turns of the event loop


class SQLiteStore(Store):
    """The durable single-node store."""

    backend = "sqlite"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._connection: sqlite3.Connection | None = None
        self._claims = ClaimLog()
        self._next_job_id = 1  # ids are given here: this process owns the file
        self._staged_jobs: list[tuple[Any, ...]] = []
        self._staged_bodies: list[tuple[Any, ...]] = []
        self._lock_fd: int | None = None
        self._writer = GroupCommitWriter(self)
        self._last_sweep = 0.0
        self._latest_now = 0.0  # the latest time a webhook brought (the callers' clock)
        self._purge_at = 0.0  # when delivered jobs past their retention are next dropped

    async def open(self) -> None:
        """Create the file and folder if needed, migrate, and start the writer thread."""
        await asyncio.to_thread(self._connect)
        assert self._connection is not None
        self._writer.start(self._connection, asyncio.get_running_loop())

    async def close(self) -> None:
        """Finish queued work, stop the writer and close the connection."""
        if self._connection is None:
            return  # never opened, or closed already
        await self._writer.stop()
        await asyncio.to_thread(self._disconnect)

    async def _run(self, operation: Callable[[sqlite3.Connection], T], durable: bool = False) -> T:
        """``operation`` in the next transaction (GroupCommitWriter.run)."""
        return await self._writer.run(operation, durable, staged=False)

    # --- Staging: what this store holds in memory beside the file, per transaction ---

    def begin(self) -> None:
        """A transaction starts."""
        self._claims.begin()

    def mark(self) -> tuple[Any, int]:
        """Where an operation starts: the claims' mark and the jobs staged so far."""
        return self._claims.mark(), len(self._staged_jobs)

    def rollback_to(self, mark: tuple[Any, int]) -> None:
        """Undo the claims and drop the jobs staged since ``mark``."""
        claims_mark, jobs = mark
        self._claims.rollback_to(claims_mark)
        del self._staged_jobs[jobs:]
        del self._staged_bodies[jobs:]

    def rollback(self) -> None:
        """The transaction failed: memory goes back to what the file holds."""
        self._claims.rollback()
        self._staged_jobs.clear()
        self._staged_bodies.clear()

    def maintain(self, connection: sqlite3.Connection, writer: GroupCommitWriter) -> None:
        """Compact the claim log, and drop delivered jobs past their retention, when due."""
        if self._claims.needs_compaction():
            writer.housekeeping(connection, self._claims.compact)
        if self._latest_now >= self._purge_at:
            writer.housekeeping(connection, self._purge_done)

    def _connect(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the state directory {self.path.parent}: {exc.strerror or exc}"
            ) from None
        self._lock_file()
        connection = None
        try:
            connection = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, cached_statements=256
            )
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=FULL")
            connection.execute("PRAGMA busy_timeout=5000")
            connection.execute("PRAGMA cache_size=-65536")  # 64 MiB: claims stay in memory
            migrate(connection)
            # A crash leaves leased jobs behind; this process is their only owner.
            connection.execute(
                "UPDATE jobs SET state='pending', lease_until=NULL WHERE state='inflight'"
            )
            self._claims.load(connection)
            self._next_job_id = last_job_id(connection) + 1
        except BaseException as exc:
            if connection is not None:
                connection.close()  # rolls back a migration left open
            self._unlock_file()
            if isinstance(exc, sqlite3.Error):
                raise StoreError(f"cannot open SQLite store {self.path}: {exc}") from exc
            raise
        self._connection = connection

    def _lock_file(self) -> None:
        """Own the state file: claims are cached in this process, so a second one must not
        write beside it (the lock goes with the process, however it ends)."""
        lock_path = self.path.with_name(self.path.name + ".lock")
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(
                f"cannot open SQLite store {self.path}: cannot create its lock file "
                f"{lock_path}: {exc.strerror or exc} (is the state directory writable?)"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise StoreError(
                f"SQLite store {self.path} is in use by another alertrouter process "
                f"(lock {lock_path}); run one per state file, or use a redis:// store "
                "for several replicas"
            ) from None
        self._lock_fd = fd

    def _unlock_file(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor drops the lock
            self._lock_fd = None

    def _disconnect(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        self._unlock_file()

    def flush(self, connection: sqlite3.Connection) -> None:
        """Insert the staged claims, jobs and job bodies: one statement per table."""
        self._claims.flush(connection)
        insert_rows(
            connection,
            "INSERT INTO jobs (id, queue, receiver, integration, integration_type, priority,"
            " state, created_at, due_at)",
            self._staged_jobs,
        )
        insert_rows(connection, "INSERT INTO job_bodies (id, payload, claims)", self._staged_bodies)
        self._staged_jobs.clear()
        self._staged_bodies.clear()

    def _purge_done(self, c: sqlite3.Connection) -> None:
        """Drop jobs delivered more than DONE_RETENTION_SECONDS ago, a slice at a time: again
        at the next transaction while a backlog remains, else a minute later."""
        cutoff = self._latest_now - DONE_RETENTION_SECONDS
        ids = [
            job_id
            for (job_id,) in c.execute(
                "SELECT id FROM jobs WHERE state = 'done' AND finished_at < ? LIMIT ?",
                (cutoff, _PURGE_SLICE),
            )
        ]
        if ids:
            encoded = dump_json(ids)
            c.execute(f"DELETE FROM job_bodies WHERE id IN {IDS}", (encoded,))
            c.execute(f"DELETE FROM jobs WHERE id IN {IDS}", (encoded,))
        if len(ids) < _PURGE_SLICE:
            self._purge_at = self._latest_now + _PURGE_EVERY_SECONDS

    def _sweep_claims(self, now: float) -> None:
        """Forget expired claims now and then, by the callers' clock."""
        start = now - self._last_sweep >= _CLAIM_SWEEP_SECONDS
        if start:
            self._last_sweep = now
        self._claims.forget_expired(now, start=start)

    async def ping(self) -> None:
        """A trivial query through the writer."""
        await self._run(lambda c: c.execute("SELECT 1").fetchone())

    async def check_commit(self) -> None:
        """Room on the disk for a webhook's commit, and a durable write that commits.

        Free space is checked first: a one-row write can still fit in the WAL's spare pages
        while a webhook's claims and jobs no longer do.
        """

        def probe(connection: sqlite3.Connection) -> None:
            folder = os.statvfs(self.path.parent)
            free = folder.f_bavail * folder.f_frsize
            if free < _MIN_FREE_BYTES:
                raise StoreError(f"SQLite store: the disk is full ({free} bytes free)")
            connection.execute("UPDATE schema_version SET version = version")

        await self._run(probe, durable=True)

    async def claim_and_enqueue(self, drafts: Sequence[JobDraft], now: float) -> IngestOutcome:
        """Plan against the claims in memory; stage claims and jobs for the next commit."""

        def claim(c: sqlite3.Connection) -> IngestOutcome:
            self._latest_now = max(self._latest_now, now)
            self._sweep_claims(now)
            return self._stage_jobs(drafts, now)

        return await self._writer.run(claim, durable=True, staged=True)

    def _stage_jobs(self, drafts: Sequence[JobDraft], now: float) -> IngestOutcome:
        claims = self._claims
        states = claims.get_many(c.key for draft in drafts for c in draft.candidates)
        plan = plan_jobs(drafts, states, now)
        claims.write(plan.updates)
        ids = []
        job_id = self._next_job_id
        for planned, payload in zip(plan.jobs, encode_payloads(plan.jobs), strict=True):
            draft = planned.draft
            queue = f"{draft.receiver}/{draft.integration}"
            self._staged_jobs.append(
                (job_id, queue, draft.receiver, draft.integration, draft.integration_type,
                 draft.priority, "pending", now, now)
            )  # fmt: skip
            self._staged_bodies.append(
                (job_id, payload, encode_claims(planned.claims, planned.taken))
            )
            ids.append(job_id)
            job_id += 1
        self._next_job_id = job_id  # not given back on failure: ids are never reused
        return IngestOutcome(tuple(ids), tuple(plan.suppressed))

    async def fetch_due(
        self, queue: str | None, now: float, limit: int, lease_seconds: float
    ) -> list[Job]:
        """Lease due jobs, priority first then oldest."""

        def fetch(c: sqlite3.Connection) -> list[Any]:
            # Due pending jobs, and leased ones whose holder died (its lease ran out); none
            # after a job of the same queue still waiting for its retry, so a resolve never
            # goes out before the trigger it follows, across restarts too. Ids first, in
            # (priority, id) order, then the bodies of the chosen ones only.
            if queue is not None:
                ids = due_in_queue(c, queue, now, limit)
            else:
                ids = [
                    job_id
                    for (job_id,) in c.execute(
                        f"{WAITING} SELECT j.id FROM jobs AS j LEFT JOIN w ON w.queue = j.queue"
                        f" WHERE {DUE} AND j.id < COALESCE(w.first_waiting, 9e18)"
                        " ORDER BY j.priority, j.id LIMIT ?",
                        (now, now, now, limit),
                    )
                ]
            if not ids:
                return []
            encoded = dump_json(ids)
            # Without the claims: only dead_letter and requeue need them, and they read the job.
            rows = c.execute(
                f"{SELECT_JOBS.format(claims='NULL')} WHERE j.id IN {IDS}", (encoded,)
            ).fetchall()
            rows.sort(key=lambda row: (row[4], row[0]))
            c.execute(
                "UPDATE jobs SET state='inflight', attempts=attempts+1, lease_until=?"
                f" WHERE id IN {IDS}",
                (now + lease_seconds, encoded),
            )
            return rows

        rows = await self._run(fetch)
        # Decoded here, a slice at a time between other callbacks, not on the writer thread:
        # a digest's 500 payloads would hold up every webhook waiting for the next commit.
        jobs: list[Job] = []
        try:
            for start in range(0, len(rows), _DECODE_SLICE):
                if start:
                    await asyncio.sleep(0)
                jobs.extend(
                    job_from_row(r, "inflight", 1) for r in rows[start : start + _DECODE_SLICE]
                )
        except asyncio.CancelledError:
            # Leased but never handed over: back to pending, so nothing waits for a lease.
            await asyncio.shield(self.release([row[0] for row in rows]))
            raise
        return jobs

    async def complete(
        self, job_id: int, now: float, receipt: Mapping[str, Any] | None = None
    ) -> None:
        """Delivered."""
        encoded = None if receipt is None else json.dumps(receipt)
        await self._run(
            lambda c: c.execute(
                "UPDATE jobs SET state='done', finished_at=?, lease_until=NULL, receipt=? "
                "WHERE id=?",
                (now, encoded, job_id),
            )
        )

    async def complete_many(
        self, job_ids: Sequence[int], now: float, receipt: Mapping[str, Any] | None = None
    ) -> None:
        """Delivered, all of them in one statement."""
        encoded = None if receipt is None else json.dumps(receipt)
        await self._run(
            lambda c: c.execute(
                f"UPDATE jobs SET state='done', finished_at=?, lease_until=NULL, receipt=?"
                f" WHERE id IN {IDS}",
                (now, encoded, dump_json(list(job_ids))),
            )
        )

    async def release(self, job_ids: Sequence[int]) -> None:
        """Back to pending, the attempt not counted."""
        await self._run(
            lambda c: c.execute(
                "UPDATE jobs SET state='pending', attempts=MAX(0, attempts-1), lease_until=NULL"
                f" WHERE id IN {IDS} AND state='inflight'",
                (dump_json(list(job_ids)),),
            ),
            durable=False,
        )

    async def reschedule(self, job_id: int, due_at: float, error: str) -> None:
        """Pending again at ``due_at``."""
        await self._run(
            lambda c: c.execute(
                "UPDATE jobs SET state='pending', due_at=?, last_error=?, lease_until=NULL "
                "WHERE id=?",
                (due_at, error, job_id),
            )
        )

    async def dead_letter(self, job_id: int, error: str, now: float) -> None:
        """Dead, and its claims undone where no newer claim replaced them."""

        def bury(c: sqlite3.Connection) -> None:
            row = c.execute(f"{SELECT_JOB} WHERE j.id=?", (job_id,)).fetchone()
            if row is None:
                return
            job = job_from_row(row)
            c.execute(
                "UPDATE jobs SET state='dead', last_error=?, finished_at=?, lease_until=NULL "
                "WHERE id=?",
                (error, now, job_id),
            )
            self._claims.write(restored_claims(job, self._claims.get))

        await self._run(bury, durable=True)

    async def requeue(self, job_id: int, now: float) -> bool:
        """Dead -> pending, due now."""

        def revive(c: sqlite3.Connection) -> bool:
            cursor = c.execute(
                "UPDATE jobs SET state='pending', due_at=?, attempts=0, finished_at=NULL "
                "WHERE id=? AND state='dead'",
                (now, job_id),
            )
            if cursor.rowcount != 1:
                return False
            row = c.execute(f"{SELECT_JOB} WHERE j.id=?", (job_id,)).fetchone()
            job = job_from_row(row)
            self._claims.write(retaken_claims(job, self._claims.get, now))
            return True

        return await self._run(revive, durable=True)

    async def get_job(self, job_id: int) -> Job | None:
        """By id."""

        def read(c: sqlite3.Connection) -> Job | None:
            row = c.execute(f"{SELECT_JOB} WHERE j.id=?", (job_id,)).fetchone()
            return None if row is None else job_from_row(row)

        return await self._run(read)

    async def list_jobs(
        self, state: JobState, limit: int = 100, *, newest_first: bool = False
    ) -> list[Job]:
        """Oldest first, or newest first."""
        order = "DESC" if newest_first else "ASC"

        def read(c: sqlite3.Connection) -> list[Job]:
            rows = c.execute(
                f"{SELECT_JOB} WHERE j.state=? ORDER BY j.id {order} LIMIT ?",
                (state, limit),
            ).fetchall()
            return [job_from_row(row) for row in rows]

        return await self._run(read)

    async def find_jobs(self, query: JobQuery) -> list[Job]:
        """By SQL (store.sqlite.history)."""
        return await self._run(lambda c: history.find_jobs(c, query))

    async def activity(self, since: float) -> dict[str, QueueActivity]:
        """By SQL (store.sqlite.history)."""
        return await self._run(lambda c: history.queue_activity(c, since))

    async def get_claim(self, key: ClaimKey) -> ClaimState | None:
        """The stored claim."""
        return await self._run(lambda c: self._claims.get(key))

    async def stats(self) -> StoreStats:
        """Counts per queue from the index."""

        def read(c: sqlite3.Connection) -> StoreStats:
            counts: dict[str, dict[str, int]] = {"pending": {}, "inflight": {}, "dead": {}}
            oldest: dict[str, float] = {}
            for queue, state, count, first in c.execute(
                "SELECT queue, state, COUNT(*), MIN(created_at) FROM jobs "
                "WHERE state != 'done' GROUP BY queue, state"
            ):
                counts[state][queue] = count
                if state == "pending":
                    oldest[queue] = first
            return StoreStats(counts["pending"], counts["inflight"], counts["dead"], oldest)

        return await self._run(read)
