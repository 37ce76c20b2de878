"""SQLite's claims: in memory, logged by appending; what a reopen, a compaction, a failed
operation, a v1 file and a second process each find."""

from __future__ import annotations

import asyncio
import random
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from alertrouter.errors import StoreError
from alertrouter.router.dedup import ClaimKey, ClaimState
from alertrouter.store.base import DONE_RETENTION_SECONDS, encode_claims
from alertrouter.store.sqlite import claims as sqlite_claims
from alertrouter.store.sqlite.store import SCHEMA_VERSION, SQLiteStore
from factories import HOUR, QUEUE, make_draft, make_key

T0 = 4_000_000_000.0


async def opened(path: Path) -> SQLiteStore:
    """An opened store at ``path``."""
    store = SQLiteStore(path)
    await store.open()
    return store


def log_rows(path: Path) -> int:
    """Rows in the claim log, read by a second connection."""
    with sqlite3.connect(path) as connection:
        count: int = connection.execute("SELECT COUNT(*) FROM claim_log").fetchone()[0]
    connection.close()
    return count


async def test_random_claims_survive_reopen_and_compaction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Random sets and forgets, with compaction running often and reopens between rounds,
    leave exactly the claims a plain dict says, and a log within twice them plus the slack."""
    monkeypatch.setattr(sqlite_claims, "_SLACK", 50)
    monkeypatch.setattr(sqlite_claims, "_MIN_CHUNK", 16)
    rng = random.Random(7)
    path = tmp_path / "state.db"
    expected: dict[ClaimKey, ClaimState] = {}
    keys = [make_key(f"fp{n}") for n in range(120)]
    now = T0
    for _ in range(4):
        store = await opened(path)
        try:
            for _ in range(40):
                now += 1
                updates: dict[ClaimKey, ClaimState | None] = {}
                for key in rng.sample(keys, 15):
                    state = None if rng.random() < 0.2 else ClaimState("firing", now, now + HOUR)
                    updates[key] = state

                def write(
                    c: sqlite3.Connection,
                    u: dict[ClaimKey, ClaimState | None] = updates,
                    s: SQLiteStore = store,
                ) -> None:
                    s._claims.write(u)

                await store._run(write, durable=True)
                for key, state in updates.items():
                    if state is None:
                        expected.pop(key, None)
                    else:
                        expected[key] = state
            for key in keys:
                assert await store.get_claim(key) == expected.get(key)
        finally:
            await store.close()
        assert log_rows(path) <= 2 * len(expected) + 50 + 2 * 15
    store = await opened(path)
    try:
        assert {k: await store.get_claim(k) for k in keys} == {k: expected.get(k) for k in keys}
    finally:
        await store.close()


async def test_resends_keep_the_log_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same webhook claimed again and again (each refreshes its claims) leaves a log that
    compaction keeps near the live claims, and the claims as the last resend set them."""
    monkeypatch.setattr(sqlite_claims, "_SLACK", 100)
    path = tmp_path / "state.db"
    store = await opened(path)
    drafts = [make_draft(*(f"fp{n}" for n in range(30)))]
    try:
        for step in range(200):
            await store.claim_and_enqueue(drafts, T0 + step)
        assert await store.get_claim(make_key("fp3")) == ClaimState(
            "firing", T0, T0 + 199 + 2 * HOUR
        )
    finally:
        await store.close()
    assert log_rows(path) <= 2 * 30 + 100 + 2 * 30


class _FailingCommit:
    """The store's connection, except that its next COMMIT fails (a full disk, say)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def __getattr__(self, name: str) -> Any:
        return getattr(self.connection, name)

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if sql == "COMMIT":
            raise sqlite3.OperationalError("database or disk is full")
        return self.connection.execute(sql, *args)


async def test_a_failed_commit_leaves_memory_as_the_file(tmp_path: Path) -> None:
    """When a whole transaction fails, the claims it took are forgotten in memory as in the
    file: the same alert is claimed, and queued, by the next webhook."""
    store = await opened(tmp_path / "state.db")
    try:
        await store.claim_and_enqueue([make_draft("kept")], T0)
        real = store._writer.connection
        assert real is not None
        store._writer.connection = _FailingCommit(real)  # type: ignore[assignment]
        with pytest.raises(StoreError, match="disk is full"):
            await store.claim_and_enqueue([make_draft("lost")], T0)
        store._writer.connection = real
        assert await store.get_claim(make_key("lost")) is None
        assert await store.get_claim(make_key("kept")) is not None
        assert len((await store.claim_and_enqueue([make_draft("lost")], T0 + 1)).job_ids) == 1
    finally:
        await store.close()


async def test_a_version_1_file_keeps_its_claims(tmp_path: Path) -> None:
    """A state file of schema 1 (claims in a keyed table) is migrated: its claims still
    suppress a resend, and the file records the current version."""
    path = tmp_path / "state.db"
    with sqlite3.connect(path) as connection:
        connection.executescript(
            textwrap.dedent(
                """
                CREATE TABLE schema_version (version INTEGER NOT NULL);
                INSERT INTO schema_version VALUES (1);
                CREATE TABLE claims (
                    receiver TEXT NOT NULL, integration TEXT NOT NULL, fingerprint TEXT NOT NULL,
                    status TEXT NOT NULL, sent_at REAL NOT NULL, expires_at REAL NOT NULL,
                    PRIMARY KEY (receiver, integration, fingerprint)) WITHOUT ROWID;
                CREATE INDEX claims_expiry ON claims (expires_at);
                CREATE TABLE jobs (
                    id INTEGER PRIMARY KEY AUTOINCREMENT, queue TEXT NOT NULL,
                    receiver TEXT NOT NULL, integration TEXT NOT NULL,
                    integration_type TEXT NOT NULL, priority INTEGER NOT NULL,
                    state TEXT NOT NULL, created_at REAL NOT NULL, due_at REAL NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0, lease_until REAL, last_error TEXT,
                    finished_at REAL, receipt TEXT, payload TEXT NOT NULL, claims TEXT NOT NULL);
                CREATE INDEX jobs_due ON jobs (state, queue, priority, id);
                """
            )
        )
        key = make_key("old")
        connection.execute(
            "INSERT INTO claims VALUES (?, ?, ?, 'firing', ?, ?)",
            (*key, T0, T0 + 2 * HOUR),
        )
        claims = encode_claims({key: None}, {key: ClaimState("firing", T0, T0 + 2 * HOUR)})
        connection.execute(
            "INSERT INTO jobs (queue, receiver, integration, integration_type, priority, state,"
            " created_at, due_at, payload, claims) VALUES (?, ?, ?, 'slack', 1, 'pending',"
            " ?, ?, ?, ?)",
            (QUEUE, key.receiver, key.integration, T0, T0, '{"group": {}, "alerts": []}', claims),
        )
    connection.close()
    store = await opened(path)
    try:
        assert await store.get_claim(make_key("old")) == ClaimState("firing", T0, T0 + 2 * HOUR)
        outcome = await store.claim_and_enqueue([make_draft("old")], T0 + 60)
        assert outcome.job_ids == ()
        (job,) = await store.fetch_due(None, T0 + 60, 10, 30.0)
        assert (job.id, job.payload) == (1, {"group": {}, "alerts": []})
        await store.dead_letter(job.id, "clientError: 400", T0 + 61)
        assert await store.get_claim(make_key("old")) is None  # the v1 job's claim, undone
        later = await store.claim_and_enqueue([make_draft("new")], T0 + 62)
        assert later.job_ids == (2,)
    finally:
        await store.close()
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT version FROM schema_version").fetchall() == [
            (SCHEMA_VERSION,)
        ]
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    connection.close()
    assert "claims" not in tables


async def test_a_second_store_on_the_same_file_is_refused(tmp_path: Path) -> None:
    """Claims are cached per process: a second opener gets a StoreError naming the file,
    and may open once the first has closed."""
    path = tmp_path / "state.db"
    first = await opened(path)
    second = SQLiteStore(path)
    with pytest.raises(StoreError, match="in use by another alertrouter"):
        await second.open()
    await first.close()
    third = await opened(path)
    await third.close()


def test_a_second_process_on_the_same_file_is_refused(tmp_path: Path) -> None:
    """The lock holds across processes, not only within one."""
    path = tmp_path / "state.db"

    async def hold_and_probe() -> str:
        store = await opened(path)
        try:
            probe = textwrap.dedent(
                f"""
                import asyncio
                from alertrouter.errors import StoreError
                from alertrouter.store.sqlite.store import SQLiteStore
                async def main():
                    try:
                        await SQLiteStore({str(path)!r}).open()
                    except StoreError as exc:
                        print(exc)
                asyncio.run(main())
                """
            )
            done = await asyncio.to_thread(
                subprocess.run,
                [sys.executable, "-c", probe],
                capture_output=True,
                text=True,
                check=False,
                timeout=60,
            )
            return done.stdout + done.stderr
        finally:
            await store.close()

    assert "in use by another alertrouter" in asyncio.run(hold_and_probe())


async def test_one_transaction_rewriting_few_claims_many_times_keeps_them(tmp_path: Path) -> None:
    """256 resends of one webhook committed together (one group commit) append far more log
    rows than the log held: compaction must not cut past them. Reopened, every claim is there
    and a resend is still suppressed."""
    path = tmp_path / "state.db"
    store = await opened(path)
    drafts = [make_draft(*(f"fp{n}" for n in range(20)))]
    try:
        await asyncio.gather(*(store.claim_and_enqueue(drafts, T0 + n) for n in range(256)))
    finally:
        await store.close()
    assert log_rows(path) >= 20
    reopened = await opened(path)
    try:
        for n in range(20):
            state = await reopened.get_claim(make_key(f"fp{n}"))
            assert state == ClaimState("firing", T0, T0 + 255 + 2 * HOUR)
        assert (await reopened.claim_and_enqueue(drafts, T0 + 300)).job_ids == ()
    finally:
        await reopened.close()


class _Halt(BaseException):
    """Something no transaction survives (as KeyboardInterrupt would be)."""


async def test_a_writer_that_stops_fails_its_callers_instead_of_hanging(tmp_path: Path) -> None:
    """If the writer thread has to end, the callers of that transaction and every later one
    get a StoreError at once; closing still works."""
    store = await opened(tmp_path / "state.db")

    def halt(c: sqlite3.Connection) -> None:
        raise _Halt

    with pytest.raises(StoreError, match="writer stopped"):
        await asyncio.wait_for(store._run(halt), timeout=10)
    with pytest.raises(StoreError):
        await asyncio.wait_for(store.ping(), timeout=10)
    await asyncio.wait_for(store.close(), timeout=10)


async def test_expired_claims_leave_memory_a_slice_at_a_time(tmp_path: Path) -> None:
    """Expired claims are forgotten by the callers' clock, a slice per webhook, until none is
    left; live ones stay."""
    store = await opened(tmp_path / "state.db")
    try:
        await store.claim_and_enqueue([make_draft(*(f"old{n}" for n in range(5000)))], T0)
        later = T0 + 3 * HOUR  # past 2 x the repeat interval: every old claim has expired
        for n in range(4):
            await store.claim_and_enqueue([make_draft(f"new{n}")], later + n)
        assert len(store._claims) == 4
        assert await store.get_claim(make_key("new0")) is not None
    finally:
        await store.close()


async def test_delivered_jobs_are_dropped_after_the_retention(tmp_path: Path) -> None:
    """A job delivered more than DONE_RETENTION_SECONDS before the latest webhook (by the
    callers' clock) is gone with its body; younger delivered jobs, dead letters and leased
    jobs stay. The file does not grow for ever."""
    store = await opened(tmp_path / "state.db")
    try:
        made = [
            (
                await store.claim_and_enqueue([make_draft(f"fp{n}", integration=f"slack[{n}]")], T0)
            ).job_ids[0]
            for n in range(4)
        ]
        await store.fetch_due(None, T0, 10, 30.0)
        await store.complete(made[0], T0 + 1)
        await store.complete(made[1], T0 + 20 * HOUR)
        await store.dead_letter(made[2], "clientError: 400", T0 + 2)
        later = T0 + DONE_RETENTION_SECONDS + 100
        await store.claim_and_enqueue([make_draft("new")], later)
        assert await store.get_job(made[0]) is None
        assert [(await store.get_job(j)) is not None for j in made[1:]] == [True, True, True]
    finally:
        await store.close()
    with sqlite3.connect(tmp_path / "state.db") as connection:
        bodies = connection.execute("SELECT id FROM job_bodies WHERE id = ?", (made[0],))
        assert bodies.fetchall() == []
    connection.close()
