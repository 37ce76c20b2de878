"""SQLite store (``sqlite:///path``): the default, embedded, durable.

One thread owns the connection (sqlite3 blocks, so it stays off the event loop). Writes queue
up while a transaction runs and the next transaction takes them all: concurrent webhooks
share one fsync (group commit). The writer thread goes from one transaction to the next
without waiting for the event loop, which only hands work over and takes results back.
WAL with synchronous=FULL: a committed job survives a crash.
Claims live in memory and are logged by appending (store.sqlite_claims), so one process owns
the file: a second one is refused. Webhooks are planned in memory and their rows staged;
each transaction inserts them with one statement per table, so the writer thread gives up
and takes back the GIL a few times per transaction rather than a dozen times per webhook.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import sqlite3
import threading
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
    claim_to_restore,
    claim_to_retake,
    dump_json,
    encode_claims,
)
from alertrouter.store.sqlite_claims import ClaimLog
from alertrouter.store.sqlite_rows import insert_rows
from alertrouter.store.sqlite_schema import (
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

__all__ = ["SCHEMA_VERSION", "SQLiteStore"]

logger = get_logger(__name__)

T = TypeVar("T")
_MAX_BATCH = 256
_CLAIM_SWEEP_SECONDS = 60.0
_PURGE_EVERY_SECONDS = 60.0
_PURGE_SLICE = 5000  # delivered jobs dropped per transaction at most

_DECODE_SLICE = 50  # leased jobs decoded between two turns of the event loop

Operation = Callable[[sqlite3.Connection], Any]
_Pending = tuple[Operation, "asyncio.Future[Any]", bool, bool]  # op, caller, durable, staged


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
        self._synchronous_full = True  # as _connect sets it
        self._pending: list[_Pending] = []
        self._ready = threading.Condition()  # guards _pending and _closing
        self._writer: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._last_sweep = 0.0
        self._latest_now = 0.0  # the latest time a webhook brought (the callers' clock)
        self._purge_at = 0.0  # when delivered jobs past their retention are next dropped
        self._closing = False

    async def open(self) -> None:
        """Create the file and folder if needed, migrate, and start the writer thread."""
        await asyncio.to_thread(self._connect)
        self._loop = asyncio.get_running_loop()
        self._closing = False
        self._writer = threading.Thread(
            target=self._write_loop, name="sqlite-store-writer", daemon=True
        )
        self._writer.start()

    async def close(self) -> None:
        """Finish queued work, stop the writer and close the connection."""
        writer = self._writer
        if writer is None:
            return  # never opened, or closed already
        with self._ready:
            self._closing = True
            self._ready.notify()
        await asyncio.to_thread(writer.join)
        self._writer = None
        await asyncio.to_thread(self._disconnect)

    def _connect(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
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
            raise StoreError(f"cannot open SQLite store {self.path}: {exc}") from exc
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

    async def _run(
        self,
        operation: Callable[[sqlite3.Connection], T],
        durable: bool = False,
        *,
        staged: bool = False,
    ) -> T:
        """Queue ``operation`` for the next transaction; ``durable`` ones make it fsync.

        A ``staged`` operation runs no SQL: it only stages rows (claims, jobs), which the
        transaction inserts together; it needs no savepoint of its own.
        """
        if self._writer is None or self._closing:
            raise StoreError("SQLite store is not open")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        with self._ready:
            self._pending.append((operation, future, durable, staged))
            self._ready.notify()
        return await future

    def _write_loop(self) -> None:
        """The writer thread: one transaction after another while work is queued, each
        taking everything queued meanwhile (group commit). It never waits for the event
        loop: results are handed over with call_soon_threadsafe."""
        assert self._loop is not None
        while True:
            with self._ready:
                while not self._pending and not self._closing:
                    self._ready.wait()
                if not self._pending:
                    return  # closing, and everything queued is done
                batch, self._pending = self._pending[:_MAX_BATCH], self._pending[_MAX_BATCH:]
            fatal: BaseException | None = None
            try:
                outcome: tuple[bool, Any] = (True, self._transaction(batch))
            except Exception as exc:  # the whole transaction failed: every caller learns
                outcome = (False, StoreError(f"SQLite store: {exc}"))
            except BaseException as exc:  # the thread must end: callers fail rather than hang
                outcome = (False, StoreError(f"SQLite store writer stopped: {exc!r}"))
                fatal = exc
                with self._ready:
                    self._closing = True
                    batch += self._pending
                    self._pending = []
            try:
                self._loop.call_soon_threadsafe(_settle, batch, outcome)
            except RuntimeError:
                return  # the event loop is closed: no one is waiting any more
            if fatal is not None:
                logger.critical("sqlite_writer_stopped", exc_info=fatal)
                return

    def _transaction(self, batch: list[_Pending]) -> list[tuple[bool, Any]]:
        connection = self._connection
        assert connection is not None
        results: list[tuple[bool, Any]] = []
        # Claims and new jobs must survive a power loss before we answer 200; lease and
        # delivery bookkeeping need not (at worst a job is delivered again), so it skips fsync.
        durable = any(flag for _, _, flag, _ in batch)
        if durable != self._synchronous_full:
            connection.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            self._synchronous_full = durable
        claims = self._claims
        connection.execute("BEGIN IMMEDIATE")
        claims.begin()
        try:
            for operation, _, _, staged in batch:
                if staged:
                    results.append(self._undoable(connection, operation))
                else:
                    results.append(self._savepoint(connection, operation))
            self._flush(connection)
            if durable and claims.needs_compaction():
                self._maintain(connection, claims.compact)
            if durable and self._latest_now >= self._purge_at:
                self._maintain(connection, self._purge_done)
            connection.execute("COMMIT")
        except BaseException:
            claims.rollback()
            self._staged_jobs.clear()
            self._staged_bodies.clear()
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        return results

    def _flush(self, connection: sqlite3.Connection) -> None:
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

    def _maintain(self, connection: sqlite3.Connection, task: Operation) -> None:
        """Run a housekeeping ``task`` in its own savepoint; if it fails, say so and go on."""
        ok, error = self._savepoint(connection, task)
        if not ok:
            logger.warning(
                "sqlite_maintenance_failed",
                extra={
                    "fields": {"task": getattr(task, "__name__", str(task)), "error": str(error)}
                },
            )

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

    def _undoable(self, connection: sqlite3.Connection, operation: Operation) -> tuple[bool, Any]:
        """Run a staging ``operation``: if it fails, what it staged is dropped."""
        mark = self._claims.mark()
        jobs = len(self._staged_jobs)
        try:
            return True, operation(connection)
        except Exception as exc:
            self._claims.rollback_to(mark)
            del self._staged_jobs[jobs:]
            del self._staged_bodies[jobs:]
            return False, exc

    def _savepoint(self, connection: sqlite3.Connection, operation: Operation) -> tuple[bool, Any]:
        """Run ``operation`` in a savepoint: if it fails, only its own writes are undone."""
        mark = self._claims.mark()
        connection.execute("SAVEPOINT op")
        try:
            result = operation(connection)
            connection.execute("RELEASE op")
        except Exception as exc:
            self._claims.rollback_to(mark)
            connection.execute("ROLLBACK TO op")
            connection.execute("RELEASE op")
            return False, exc
        return True, result

    def _sweep_claims(self, now: float) -> None:
        """Forget expired claims now and then, by the callers' clock."""
        start = now - self._last_sweep >= _CLAIM_SWEEP_SECONDS
        if start:
            self._last_sweep = now
        self._claims.forget_expired(now, start=start)

    async def ping(self) -> None:
        """A trivial query through the writer."""
        await self._run(lambda c: c.execute("SELECT 1").fetchone())

    async def claim_and_enqueue(self, drafts: Sequence[JobDraft], now: float) -> IngestOutcome:
        """Plan against the claims in memory; stage claims and jobs for the next commit."""

        def claim(c: sqlite3.Connection) -> IngestOutcome:
            self._latest_now = max(self._latest_now, now)
            self._sweep_claims(now)
            return self._stage_jobs(drafts, now)

        return await self._run(claim, durable=True, staged=True)

    def _stage_jobs(self, drafts: Sequence[JobDraft], now: float) -> IngestOutcome:
        claims = self._claims
        states = claims.get_many(c.key for draft in drafts for c in draft.candidates)
        plan = plan_jobs(drafts, states, now)
        claims.write(plan.updates)
        groups: dict[int, str] = {}  # the drafts of one webhook share its group: encode it once
        ids = []
        job_id = self._next_job_id
        for planned in plan.jobs:
            draft = planned.draft
            group = groups.get(id(draft.group))
            if group is None:
                group = groups[id(draft.group)] = dump_json(dict(draft.group))
            payload = f'{{"group": {group}, "alerts": {dump_json(list(planned.alerts))}}}'
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
            restored = {}
            for key, previous in job.claims:
                restore, state = claim_to_restore(self._claims.get(key), job.created_at, previous)
                if restore:
                    restored[key] = state
            self._claims.write(restored)

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
            retaken = {}
            for key, taken in job.taken:
                state = claim_to_retake(self._claims.get(key), job.created_at, taken, now)
                if state is not None:
                    retaken[key] = state
            self._claims.write(retaken)
            return True

        return await self._run(revive, durable=True)

    async def get_job(self, job_id: int) -> Job | None:
        """By id."""

        def read(c: sqlite3.Connection) -> Job | None:
            row = c.execute(f"{SELECT_JOB} WHERE j.id=?", (job_id,)).fetchone()
            return None if row is None else job_from_row(row)

        return await self._run(read)

    async def list_jobs(self, state: JobState, limit: int = 100) -> list[Job]:
        """Oldest first."""

        def read(c: sqlite3.Connection) -> list[Job]:
            rows = c.execute(
                f"{SELECT_JOB} WHERE j.state=? ORDER BY j.id LIMIT ?",
                (state, limit),
            ).fetchall()
            return [job_from_row(row) for row in rows]

        return await self._run(read)

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


def _settle(batch: list[_Pending], outcome: tuple[bool, Any]) -> None:
    """On the event loop: give each caller its result, or the transaction's failure."""
    ok, value = outcome
    if not ok:
        for _, future, _, _ in batch:
            if not future.done():
                future.set_exception(value)
        return
    for (_, future, _, _), (op_ok, result) in zip(batch, value, strict=True):
        if future.done():
            continue  # the caller went away
        if op_ok:
            future.set_result(result)
        else:
            future.set_exception(result)
