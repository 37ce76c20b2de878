"""SQLite store (``sqlite:///path``): the default, embedded, durable.

One thread owns the connection (sqlite3 blocks, so it stays off the event loop). Writes queue
up while a transaction runs and the next transaction takes them all: concurrent webhooks
share one fsync (group commit). WAL with synchronous=FULL: a committed job survives a crash.
Claims live in memory and are logged by appending (store.sqlite_claims), so one process owns
the file: a second one is refused.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from alertrouter.errors import StoreError
from alertrouter.router.dedup import ClaimKey, ClaimState, JobDraft, plan_jobs
from alertrouter.store.base import (
    IngestOutcome,
    Job,
    JobState,
    Store,
    StoreStats,
    claim_to_restore,
    claim_to_retake,
    decode_claims,
    dump_json,
    encode_claims,
)
from alertrouter.store.sqlite_claims import CLAIM_LOG_SCHEMA, ClaimLog

__all__ = ["SCHEMA_VERSION", "SQLiteStore"]

T = TypeVar("T")
SCHEMA_VERSION = 2
_MAX_BATCH = 256
_CLAIM_SWEEP_SECONDS = 60.0

# Each entry migrates from version index to index + 1.
_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE claims (
        receiver TEXT NOT NULL,
        integration TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        status TEXT NOT NULL,
        sent_at REAL NOT NULL,
        expires_at REAL NOT NULL,
        PRIMARY KEY (receiver, integration, fingerprint)
    ) WITHOUT ROWID;
    CREATE INDEX claims_expiry ON claims (expires_at);
    CREATE TABLE jobs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        queue TEXT NOT NULL,
        receiver TEXT NOT NULL,
        integration TEXT NOT NULL,
        integration_type TEXT NOT NULL,
        priority INTEGER NOT NULL,
        state TEXT NOT NULL,
        created_at REAL NOT NULL,
        due_at REAL NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        lease_until REAL,
        last_error TEXT,
        finished_at REAL,
        receipt TEXT,
        payload TEXT NOT NULL,
        claims TEXT NOT NULL
    );
    CREATE INDEX jobs_due ON jobs (state, queue, priority, id);
    """,
    # 2: claims move to an append-only log (see store.sqlite_claims); a job's payload and
    # claims move to job_bodies, written once, so that its state changes rewrite a short row
    f"""
    {CLAIM_LOG_SCHEMA};
    INSERT INTO claim_log (receiver, integration, fingerprint, status, sent_at, expires_at)
        SELECT receiver, integration, fingerprint, status, sent_at, expires_at FROM claims;
    DROP TABLE claims;
    CREATE TABLE job_bodies (
        id INTEGER PRIMARY KEY,
        payload TEXT NOT NULL,
        claims TEXT NOT NULL
    );
    INSERT INTO job_bodies SELECT id, payload, claims FROM jobs;
    CREATE TABLE jobs_2 (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        queue TEXT NOT NULL,
        receiver TEXT NOT NULL,
        integration TEXT NOT NULL,
        integration_type TEXT NOT NULL,
        priority INTEGER NOT NULL,
        state TEXT NOT NULL,
        created_at REAL NOT NULL,
        due_at REAL NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        lease_until REAL,
        last_error TEXT,
        finished_at REAL,
        receipt TEXT
    );
    INSERT INTO jobs_2 SELECT id, queue, receiver, integration, integration_type, priority,
        state, created_at, due_at, attempts, lease_until, last_error, finished_at, receipt
        FROM jobs;
    DROP TABLE jobs;
    ALTER TABLE jobs_2 RENAME TO jobs;
    CREATE INDEX jobs_due ON jobs (state, queue, priority, id);
    """,
)

# A job is its row in jobs and its body; _job_from_row reads the columns in this order.
_SELECT_JOBS = (
    "SELECT j.id, j.receiver, j.integration, j.integration_type, j.priority, j.state,"
    " j.created_at, j.due_at, j.attempts, b.payload, {claims}, j.last_error, j.finished_at,"
    " j.receipt FROM jobs AS j JOIN job_bodies AS b ON b.id = j.id"
)
_SELECT_JOB = _SELECT_JOBS.format(claims="b.claims")

Operation = Callable[[sqlite3.Connection], Any]


class SQLiteStore(Store):
    """The durable single-node store."""

    backend = "sqlite"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-store")
        self._connection: sqlite3.Connection | None = None
        self._claims = ClaimLog()
        self._lock_fd: int | None = None
        self._pending: list[tuple[Operation, asyncio.Future[Any], bool]] = []
        self._wakeup: asyncio.Event | None = None
        self._writer: asyncio.Task[None] | None = None
        self._last_sweep = 0.0
        self._closing = False

    async def open(self) -> None:
        """Create the file and folder if needed, migrate, and start the writer."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._connect)
        self._wakeup = asyncio.Event()
        self._writer = asyncio.create_task(self._write_loop(), name="sqlite-store-writer")

    async def close(self) -> None:
        """Finish queued work, stop the writer and close the connection."""
        if self._wakeup is None:
            return  # never opened, or closed already
        self._closing = True
        self._wakeup.set()
        if self._writer is not None:
            await self._writer
            self._writer = None
        self._wakeup = None
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._disconnect)
        self._executor.shutdown(wait=True)

    def _connect(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock_file()
        try:
            connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=FULL")
            connection.execute("PRAGMA busy_timeout=5000")
            connection.execute("PRAGMA cache_size=-65536")  # 64 MiB: claims stay in memory
            _migrate(connection)
            # A crash leaves leased jobs behind; this process is their only owner.
            connection.execute(
                "UPDATE jobs SET state='pending', lease_until=NULL WHERE state='inflight'"
            )
            self._claims.load(connection)
        except sqlite3.Error as exc:
            self._unlock_file()
            raise StoreError(f"cannot open SQLite store {self.path}: {exc}") from exc
        except BaseException:
            self._unlock_file()
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

    async def _run(self, operation: Callable[[sqlite3.Connection], T], durable: bool = False) -> T:
        """Queue ``operation`` for the next transaction; ``durable`` ones make it fsync."""
        if self._wakeup is None or self._closing:
            raise StoreError("SQLite store is not open")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._pending.append((operation, future, durable))
        self._wakeup.set()
        return await future

    async def _write_loop(self) -> None:
        assert self._wakeup is not None
        loop = asyncio.get_running_loop()
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._pending:
                batch, self._pending = self._pending[:_MAX_BATCH], self._pending[_MAX_BATCH:]
                try:
                    results = await loop.run_in_executor(self._executor, self._transaction, batch)
                except Exception as exc:  # the whole transaction failed: every caller learns
                    for _, future, _ in batch:
                        if not future.done():
                            future.set_exception(StoreError(f"SQLite store: {exc}"))
                    continue
                for (_, future, _), (ok, value) in zip(batch, results, strict=True):
                    if future.done():
                        continue
                    if ok:
                        future.set_result(value)
                    else:
                        future.set_exception(value)
            if self._closing:
                return

    def _transaction(
        self, batch: list[tuple[Operation, asyncio.Future[Any], bool]]
    ) -> list[tuple[bool, Any]]:
        connection = self._connection
        assert connection is not None
        results: list[tuple[bool, Any]] = []
        # Claims and new jobs must survive a power loss before we answer 200; lease and
        # delivery bookkeeping need not (at worst a job is delivered again), so it skips fsync.
        durable = any(flag for _, _, flag in batch)
        connection.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
        claims = self._claims
        connection.execute("BEGIN IMMEDIATE")
        claims.begin()
        try:
            for operation, _, _ in batch:
                results.append(self._savepoint(connection, operation))
            if durable:
                self._savepoint(connection, claims.compact)
            connection.execute("COMMIT")
        except BaseException:
            claims.rollback()
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        return results

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
        if now - self._last_sweep >= _CLAIM_SWEEP_SECONDS:
            self._claims.forget_expired(now)
            self._last_sweep = now

    async def ping(self) -> None:
        """A trivial query through the writer."""
        await self._run(lambda c: c.execute("SELECT 1").fetchone())

    async def claim_and_enqueue(self, drafts: Sequence[JobDraft], now: float) -> IngestOutcome:
        """Read the claims involved, plan, write claims and jobs: one savepoint in a batch."""

        def claim(c: sqlite3.Connection) -> IngestOutcome:
            self._sweep_claims(now)
            return _claim_and_enqueue(c, self._claims, drafts, now)

        return await self._run(claim, durable=True)

    async def fetch_due(
        self, queue: str | None, now: float, limit: int, lease_seconds: float
    ) -> list[Job]:
        """Lease due jobs, priority first then oldest."""

        def fetch(c: sqlite3.Connection) -> list[Job]:
            # Due pending jobs, and leased ones whose holder died (its lease ran out); none
            # after a job of the same queue still waiting for its retry, so a resolve never
            # goes out before the trigger it follows, across restarts too. The waiting jobs
            # are found once per queue (a CTE), not once per candidate row.
            where = (
                "((j.state='pending' AND j.due_at <= ?) OR (j.state='inflight' AND"
                " j.lease_until <= ?)) AND j.id < COALESCE(w.first_waiting, 9e18)"
            )
            waiting = (
                "WITH w AS (SELECT queue, MIN(id) AS first_waiting FROM jobs"
                " WHERE state = 'pending' AND due_at > ? {filter} GROUP BY queue)"
            )
            params: list[Any] = [now]
            if queue is not None:
                waiting = waiting.format(filter="AND queue = ?")
                params.append(queue)
                where += " AND j.queue = ?"
            else:
                waiting = waiting.format(filter="")
            params += [now, now]
            if queue is not None:
                params.append(queue)
            # Without the claims: only dead_letter and requeue need them, and they read the job.
            select = _SELECT_JOBS.format(claims="NULL")
            rows = c.execute(
                f"{waiting} {select} LEFT JOIN w ON w.queue = j.queue"
                f" WHERE {where} ORDER BY j.priority, j.id LIMIT ?",
                (*params, limit),
            ).fetchall()
            ids = [row[0] for row in rows]
            c.executemany(
                "UPDATE jobs SET state='inflight', attempts=attempts+1, lease_until=? WHERE id=?",
                [(now + lease_seconds, job_id) for job_id in ids],
            )
            return [_job_from_row(row, "inflight", 1) for row in rows]

        return await self._run(fetch)

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
            lambda c: c.executemany(
                "UPDATE jobs SET state='done', finished_at=?, lease_until=NULL, receipt=? "
                "WHERE id=?",
                [(now, encoded, job_id) for job_id in job_ids],
            )
        )

    async def release(self, job_ids: Sequence[int]) -> None:
        """Back to pending, the attempt not counted."""
        await self._run(
            lambda c: c.executemany(
                "UPDATE jobs SET state='pending', attempts=MAX(0, attempts-1), lease_until=NULL "
                "WHERE id=? AND state='inflight'",
                [(job_id,) for job_id in job_ids],
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
            row = c.execute(f"{_SELECT_JOB} WHERE j.id=?", (job_id,)).fetchone()
            if row is None:
                return
            job = _job_from_row(row)
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
            self._claims.write(c, restored)

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
            row = c.execute(f"{_SELECT_JOB} WHERE j.id=?", (job_id,)).fetchone()
            job = _job_from_row(row)
            retaken = {}
            for key, taken in job.taken:
                state = claim_to_retake(self._claims.get(key), job.created_at, taken, now)
                if state is not None:
                    retaken[key] = state
            self._claims.write(c, retaken)
            return True

        return await self._run(revive, durable=True)

    async def get_job(self, job_id: int) -> Job | None:
        """By id."""

        def read(c: sqlite3.Connection) -> Job | None:
            row = c.execute(f"{_SELECT_JOB} WHERE j.id=?", (job_id,)).fetchone()
            return None if row is None else _job_from_row(row)

        return await self._run(read)

    async def list_jobs(self, state: JobState, limit: int = 100) -> list[Job]:
        """Oldest first."""

        def read(c: sqlite3.Connection) -> list[Job]:
            rows = c.execute(
                f"{_SELECT_JOB} WHERE j.state=? ORDER BY j.id LIMIT ?",
                (state, limit),
            ).fetchall()
            return [_job_from_row(row) for row in rows]

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


def _migrate(connection: sqlite3.Connection) -> None:
    connection.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    row = connection.execute("SELECT version FROM schema_version").fetchone()
    version = 0 if row is None else int(row[0])
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"the state file has schema version {version}; this alertrouter knows "
            f"{SCHEMA_VERSION}: upgrade alertrouter"
        )
    for target in range(version, SCHEMA_VERSION):
        connection.execute("BEGIN IMMEDIATE")
        for statement in _MIGRATIONS[target].split(";"):
            if statement.strip():
                connection.execute(statement)
        connection.execute("DELETE FROM schema_version")
        connection.execute("INSERT INTO schema_version VALUES (?)", (target + 1,))
        connection.execute("COMMIT")


def _claim_and_enqueue(
    c: sqlite3.Connection, claims: ClaimLog, drafts: Sequence[JobDraft], now: float
) -> IngestOutcome:
    states = claims.get_many(candidate.key for draft in drafts for candidate in draft.candidates)
    plan = plan_jobs(drafts, states, now)
    claims.write(c, plan.updates)
    groups: dict[int, str] = {}  # the drafts of one webhook share its group: encode it once
    ids = []
    bodies = []
    for planned in plan.jobs:
        draft = planned.draft
        group = groups.get(id(draft.group))
        if group is None:
            group = groups[id(draft.group)] = dump_json(dict(draft.group))
        payload = f'{{"group": {group}, "alerts": {dump_json(list(planned.alerts))}}}'
        cursor = c.execute(
            "INSERT INTO jobs (queue, receiver, integration, integration_type, priority, state,"
            " created_at, due_at) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)",
            (
                f"{draft.receiver}/{draft.integration}",
                draft.receiver,
                draft.integration,
                draft.integration_type,
                draft.priority,
                now,
                now,
            ),
        )
        assert cursor.lastrowid is not None
        ids.append(cursor.lastrowid)
        bodies.append((cursor.lastrowid, payload, encode_claims(planned.claims, planned.taken)))
    c.executemany("INSERT INTO job_bodies VALUES (?, ?, ?)", bodies)
    return IngestOutcome(tuple(ids), tuple(plan.suppressed))


def _job_from_row(
    row: Sequence[Any], state: JobState | None = None, extra_attempts: int = 0
) -> Job:
    claims, taken = ((), ()) if row[10] is None else decode_claims(row[10])
    job_state: JobState = state or row[5]  # only this module writes the column
    return Job(
        id=row[0],
        receiver=row[1],
        integration=row[2],
        integration_type=row[3],
        priority=row[4],
        state=job_state,
        created_at=row[6],
        due_at=row[7],
        attempts=row[8] + extra_attempts,
        payload=json.loads(row[9]),
        claims=claims,
        taken=taken,
        last_error=row[11],
        finished_at=row[12],
        receipt=None if row[13] is None else json.loads(row[13]),
    )
