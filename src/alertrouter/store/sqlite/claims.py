"""The SQLite store's claims: held in memory, made durable by appending to a log table.

Claims are keyed by alert fingerprint, so a B-tree keyed by claim dirties a random page per
claim written: a 20-alert webhook wrote about 90 KB of WAL for 2 KB of claims. Appending
rows in sequence order writes only what changed; reads are a dict lookup. The log is
replayed when the store opens and compacted a chunk at a time, oldest rows first, so it
stays within about twice the live claims.

Rows are staged and inserted by one statement per transaction (``flush``). Every change is
undoable until the transaction commits: a failed operation (its savepoint rolled back) or a
failed commit leaves memory as the file has it. Only the store's writer thread touches a
ClaimLog.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping

from alertrouter.router.dedup import AlertStatus, ClaimKey, ClaimState
from alertrouter.store.sqlite.rows import insert_rows

__all__ = ["CLAIM_LOG_SCHEMA", "ClaimLog"]

CLAIM_LOG_SCHEMA = """
    CREATE TABLE claim_log (
        seq INTEGER PRIMARY KEY,
        receiver TEXT NOT NULL,
        integration TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        status TEXT,
        sent_at REAL,
        expires_at REAL
    )
"""  # status NULL: the claim was forgotten (a tombstone)

_INSERT = (
    "INSERT INTO claim_log (seq, receiver, integration, fingerprint, status, sent_at, expires_at)"
)
_MIN_CHUNK = 1024  # log rows looked at per compaction step, at least
_SLACK = 4096  # log rows beyond twice the live claims before compaction starts
_SWEEP_SLICE = 2048  # claims looked at for expiry per call while a pass is under way

# Keys and entries are plain tuples of strings and numbers: the collector stops tracking
# such tuples, so a million claims add nothing to a collection. (Named tuples stay tracked.)
_Key = tuple[str, str, str]  # receiver, integration, fingerprint: equal to its ClaimKey
_Entry = tuple[AlertStatus, float, float, int]  # status, sent_at, expires_at, seq of its log row
_Mark = tuple[int, int, int, int]  # undo entries, staged rows, log rows, first seq


class ClaimLog:
    """Claims by key, with the transactional undo the store's savepoints need."""

    def __init__(self) -> None:
        self._claims: dict[_Key, _Entry] = {}
        self._next_seq = 1
        self._first_seq = 1  # no row has a lower seq
        self._rows = 0
        self._undo: list[tuple[_Key, _Entry | None]] = []
        self._staged: list[tuple[object, ...]] = []  # log rows not inserted yet
        self._began: _Mark = (0, 0, 0, 1)
        self._appended = 0  # rows appended in this transaction
        self._sweep: list[_Key] = []  # claims the expiry pass under way has yet to look at

    def __len__(self) -> int:
        return len(self._claims)

    def load(self, connection: sqlite3.Connection) -> None:
        """Replay the log: the newest row of each key wins, tombstones forget."""
        claims: dict[_Key, _Entry] = {}
        rows = 0
        first = None
        cursor = connection.execute(
            "SELECT seq, receiver, integration, fingerprint, status, sent_at, expires_at"
            " FROM claim_log ORDER BY seq"
        )
        for seq, receiver, integration, fingerprint, status, sent_at, expires_at in cursor:
            rows += 1
            first = seq if first is None else first
            key = (receiver, integration, fingerprint)
            if status is None:
                claims.pop(key, None)
            else:
                claims[key] = (status, sent_at, expires_at, seq)
            self._next_seq = seq + 1
        self._claims = claims
        self._rows = rows
        self._first_seq = self._next_seq if first is None else first

    def get(self, key: ClaimKey) -> ClaimState | None:
        """The claim for ``key``, expired or not (router.dedup judges expiry)."""
        entry = self._claims.get(key)
        return None if entry is None else ClaimState(entry[0], entry[1], entry[2])

    def get_many(self, keys: Iterable[ClaimKey]) -> dict[ClaimKey, ClaimState | None]:
        """The claim (or None) for each of ``keys``."""
        claims = self._claims
        found: dict[ClaimKey, ClaimState | None] = {}
        for key in keys:
            entry = claims.get(key)
            found[key] = None if entry is None else ClaimState(entry[0], entry[1], entry[2])
        return found

    def write(self, updates: Mapping[ClaimKey, ClaimState | None]) -> None:
        """Set each claim (None forgets it), staging one log row per key."""
        rows = self._staged
        claims = self._claims
        undo = self._undo
        seq = self._next_seq
        for key, state in updates.items():
            receiver, integration, fingerprint = key
            plain = (receiver, integration, fingerprint)
            undo.append((plain, claims.get(plain)))
            if state is None:
                claims.pop(plain, None)
                rows.append((seq, receiver, integration, fingerprint, None, None, None))
            else:
                status, sent_at, expires_at = state
                claims[plain] = (status, sent_at, expires_at, seq)
                rows.append((seq, receiver, integration, fingerprint, status, sent_at, expires_at))
            seq += 1
        written = seq - self._next_seq
        self._next_seq = seq
        self._rows += written
        self._appended += written

    def flush(self, connection: sqlite3.Connection) -> None:
        """Insert the staged rows."""
        insert_rows(connection, _INSERT, self._staged)
        self._staged.clear()

    def forget_expired(self, now: float, *, start: bool) -> None:
        """Drop expired claims from memory, a slice of the claims per call, so that a million
        of them never stall a transaction; ``start`` begins a pass over all of them (when
        none is under way). Compaction drops their log rows later."""
        if start and not self._sweep:
            self._sweep = list(self._claims)
        if not self._sweep:
            return
        keys = self._sweep[-_SWEEP_SLICE:]
        del self._sweep[-_SWEEP_SLICE:]
        claims = self._claims
        for key in keys:
            entry = claims.get(key)
            if entry is not None and entry[2] <= now:
                self._undo.append((key, claims.pop(key)))

    # --- transactions: the store calls these around its BEGIN/SAVEPOINT/COMMIT ---

    def begin(self) -> None:
        """A transaction starts."""
        self._undo.clear()
        self._began = self.mark()
        self._appended = 0

    def mark(self) -> _Mark:
        """Where a savepoint starts."""
        return len(self._undo), len(self._staged), self._rows, self._first_seq

    def rollback_to(self, mark: _Mark) -> None:
        """Undo every change since ``mark`` (its savepoint was rolled back)."""
        position, staged, rows, first_seq = mark
        del self._staged[staged:]
        claims = self._claims
        while len(self._undo) > position:
            key, previous = self._undo.pop()
            if previous is None:
                claims.pop(key, None)
            else:
                claims[key] = previous
        self._rows = rows
        self._first_seq = first_seq

    def rollback(self) -> None:
        """Undo the whole transaction (it failed)."""
        self.rollback_to(self._began)

    def needs_compaction(self) -> bool:
        """Whether the log holds more than twice the live claims (and some slack)."""
        return self._rows > 2 * len(self._claims) + _SLACK

    def compact(self, connection: sqlite3.Connection) -> None:
        """When the log needs it, rewrite its oldest chunk: live claims there are appended
        again, then the chunk's rows are deleted."""
        if not self.needs_compaction():
            return
        # Never past the last row: the live claims found are appended at seqs from
        # _next_seq on, which must survive the DELETE below.
        cut = min(self._first_seq + max(_MIN_CHUNK, 2 * self._appended), self._next_seq)
        live = {}
        claims = self._claims
        for seq, receiver, integration, fingerprint in connection.execute(
            "SELECT seq, receiver, integration, fingerprint FROM claim_log WHERE seq < ?", (cut,)
        ):
            entry = claims.get((receiver, integration, fingerprint))
            if entry is not None and entry[3] == seq:
                key = ClaimKey(receiver, integration, fingerprint)
                live[key] = ClaimState(entry[0], entry[1], entry[2])
        self.write(live)
        self.flush(connection)
        deleted = connection.execute("DELETE FROM claim_log WHERE seq < ?", (cut,)).rowcount
        self._rows -= deleted
        self._first_seq = cut
