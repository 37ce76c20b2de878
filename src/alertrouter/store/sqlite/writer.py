"""Group commit for the SQLite store: one thread and one connection, one transaction after
another while work is queued, each taking everything queued meanwhile.

sqlite3 blocks, so it stays off the event loop. The thread never waits for the loop: callers
queue operations under a lock, and results go back with ``call_soon_threadsafe``. An
operation that fails is undone alone (a savepoint, or its staged rows); a transaction that
fails fails all of its callers. What the store holds in memory beside the file (its
``Staging``) is undone with it.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from alertrouter.errors import StoreError
from alertrouter.logs import get_logger

__all__ = ["GroupCommitWriter", "Operation", "Staging"]

logger = get_logger(__name__)

T = TypeVar("T")
Operation = Callable[[sqlite3.Connection], Any]
_Pending = tuple[Operation, "asyncio.Future[Any]", bool, bool]  # op, caller, durable, staged
_MAX_BATCH = 256


class Staging(Protocol):
    """What the store keeps in memory beside the file: written, or undone, with each
    transaction."""

    def begin(self) -> None:
        """A transaction starts."""

    def mark(self) -> Any:
        """Where an operation starts."""

    def rollback_to(self, mark: Any) -> None:
        """Undo what was staged or changed since ``mark``."""

    def rollback(self) -> None:
        """Undo the whole transaction."""

    def flush(self, connection: sqlite3.Connection) -> None:
        """Insert what the operations staged."""

    def maintain(self, connection: sqlite3.Connection, writer: GroupCommitWriter) -> None:
        """Housekeeping before a durable transaction commits (``writer.housekeeping``)."""


class GroupCommitWriter:
    """Runs the store's operations in group-committed transactions on its own thread."""

    def __init__(self, staging: Staging) -> None:
        self.staging = staging
        self.connection: sqlite3.Connection | None = None
        self._pending: list[_Pending] = []
        self._ready = threading.Condition()  # guards _pending and _closing
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closing = False
        self._synchronous_full = True  # as the store opens the connection

    def start(self, connection: sqlite3.Connection, loop: asyncio.AbstractEventLoop) -> None:
        """Begin taking operations on ``connection``, answering on ``loop``."""
        self.connection = connection
        self._loop = loop
        self._closing = False
        self._thread = threading.Thread(
            target=self._write_loop, name="sqlite-store-writer", daemon=True
        )
        self._thread.start()

    async def stop(self) -> None:
        """Finish everything queued, then end the thread."""
        thread = self._thread
        if thread is None:
            return
        with self._ready:
            self._closing = True
            self._ready.notify()
        await asyncio.to_thread(thread.join)
        self._thread = None

    async def run(
        self, operation: Callable[[sqlite3.Connection], T], durable: bool, staged: bool
    ) -> T:
        """Queue ``operation`` for the next transaction and wait for its result.

        ``durable`` ones make the transaction fsync. A ``staged`` operation runs no SQL: it
        only stages rows, which the transaction inserts together, so it needs no savepoint.
        """
        if self._thread is None or self._closing:
            raise StoreError("SQLite store is not open")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        with self._ready:
            self._pending.append((operation, future, durable, staged))
            self._ready.notify()
        return await future

    def housekeeping(self, connection: sqlite3.Connection, task: Operation) -> None:
        """Run a housekeeping ``task`` in its own savepoint; if it fails, say so and go on."""
        ok, error = self._savepoint(connection, task)
        if not ok:
            fields = {"task": getattr(task, "__name__", str(task)), "error": str(error)}
            logger.warning("sqlite_maintenance_failed", extra={"fields": fields})

    def _write_loop(self) -> None:
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
        connection = self.connection
        assert connection is not None
        staging = self.staging
        results: list[tuple[bool, Any]] = []
        # Claims and new jobs must survive a power loss before we answer 200; lease and
        # delivery bookkeeping need not (at worst a job is delivered again), so it skips fsync.
        durable = any(flag for _, _, flag, _ in batch)
        if durable != self._synchronous_full:
            connection.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            self._synchronous_full = durable
        connection.execute("BEGIN IMMEDIATE")
        staging.begin()
        try:
            for operation, _, _, staged in batch:
                if staged:
                    results.append(self._undoable(connection, operation))
                else:
                    results.append(self._savepoint(connection, operation))
            staging.flush(connection)
            if durable:
                staging.maintain(connection, self)
            connection.execute("COMMIT")
        except BaseException:
            staging.rollback()
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        return results

    def _undoable(self, connection: sqlite3.Connection, operation: Operation) -> tuple[bool, Any]:
        """Run a staging ``operation``: if it fails, what it staged is dropped."""
        mark = self.staging.mark()
        try:
            return True, operation(connection)
        except Exception as exc:
            self.staging.rollback_to(mark)
            return False, exc

    def _savepoint(self, connection: sqlite3.Connection, operation: Operation) -> tuple[bool, Any]:
        """Run ``operation`` in a savepoint: if it fails, only its own writes are undone."""
        mark = self.staging.mark()
        connection.execute("SAVEPOINT op")
        try:
            result = operation(connection)
            connection.execute("RELEASE op")
        except Exception as exc:
            self.staging.rollback_to(mark)
            connection.execute("ROLLBACK TO op")
            connection.execute("RELEASE op")
            return False, exc
        return True, result


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
