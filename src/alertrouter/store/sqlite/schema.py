"""The SQLite store's tables: their schema and migrations, the SQL its queries share, and
how a job row reads back. Schema 2 holds claims in an append-only log (store.sqlite.claims)
and job bodies apart from job state (a lease or completion rewrites a short row)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from alertrouter.errors import StoreError
from alertrouter.store.base import Job, JobState, decode_claims, load_json
from alertrouter.store.sqlite.claims import CLAIM_LOG_SCHEMA

__all__ = [
    "DUE",
    "IDS",
    "SCHEMA_VERSION",
    "SELECT_JOB",
    "SELECT_JOBS",
    "WAITING",
    "due_in_queue",
    "job_from_row",
    "last_job_id",
    "migrate",
]

SCHEMA_VERSION = 2

# Each entry migrates from version index to index + 1.
MIGRATIONS: tuple[str, ...] = (
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
    # 2: claims move to an append-only log (see store.sqlite.claims); a job's payload and
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
    CREATE INDEX jobs_pending_due ON jobs (queue, due_at) WHERE state = 'pending';
    CREATE INDEX jobs_done ON jobs (finished_at) WHERE state = 'done';
    """,
)

# A job is its row in jobs and its body; job_from_row reads the columns in this order.
SELECT_JOBS = (
    "SELECT j.id, j.receiver, j.integration, j.integration_type, j.priority, j.state,"
    " j.created_at, j.due_at, j.attempts, b.payload, {claims}, j.last_error, j.finished_at,"
    " j.receipt FROM jobs AS j JOIN job_bodies AS b ON b.id = j.id"
)
SELECT_JOB = SELECT_JOBS.format(claims="b.claims")
IDS = "(SELECT value FROM json_each(?))"  # a JSON list of ids: one statement for them all
# Leased and pending jobs that may go out now (parameters: now, now).
DUE = "((j.state='pending' AND j.due_at <= ?) OR (j.state='inflight' AND j.lease_until <= ?))"
# The first job of each queue not due yet, normally one waiting for its retry (parameter:
# now). jobs_pending_due finds them without reading the due backlog.
WAITING = (
    "WITH w AS (SELECT queue, MIN(id) AS first_waiting FROM jobs"
    " WHERE state = 'pending' AND due_at > ? GROUP BY queue)"
)


def migrate(connection: sqlite3.Connection) -> None:
    """Bring the file to SCHEMA_VERSION; StoreError for a file of a newer version."""
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
        for statement in MIGRATIONS[target].split(";"):
            if statement.strip():
                connection.execute(statement)
        connection.execute("DELETE FROM schema_version")
        connection.execute("INSERT INTO schema_version VALUES (?)", (target + 1,))
        connection.execute("COMMIT")


def due_in_queue(c: sqlite3.Connection, queue: str, now: float, limit: int) -> list[int]:
    """The ids fetch_due leases in one queue: two walks of jobs_due in (priority, id) order,
    pending then leased, each stopping at ``limit``, merged."""
    waiting = c.execute(
        "SELECT MIN(id) FROM jobs WHERE state = 'pending' AND queue = ? AND due_at > ?",
        (queue, now),
    ).fetchone()[0]
    before = 9e18 if waiting is None else waiting
    found: list[tuple[int, int]] = []
    for state, column in (("pending", "due_at"), ("inflight", "lease_until")):
        found += c.execute(
            f"SELECT priority, id FROM jobs WHERE state = '{state}' AND queue = ?"
            f" AND {column} <= ? AND id < ? ORDER BY priority, id LIMIT ?",
            (queue, now, before, limit),
        ).fetchall()
    return [job_id for _, job_id in sorted(found)[:limit]]


def last_job_id(connection: sqlite3.Connection) -> int:
    """The highest job id ever given (AUTOINCREMENT's record, which outlives deleted rows)."""
    row = connection.execute("SELECT seq FROM sqlite_sequence WHERE name = 'jobs'").fetchone()
    highest = connection.execute("SELECT MAX(id) FROM jobs").fetchone()[0]
    return max(0 if row is None else int(row[0]), highest or 0)


def job_from_row(row: Sequence[Any], state: JobState | None = None, extra_attempts: int = 0) -> Job:
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
        payload=load_json(row[9]),
        claims=claims,
        taken=taken,
        last_error=row[11],
        finished_at=row[12],
        receipt=None if row[13] is None else json.loads(row[13]),
    )
