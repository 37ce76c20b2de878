"""Insert many rows with few statements: what the SQLite writer thread does per transaction.

sqlite3 releases the GIL around each step of a statement; ``executemany`` steps once per
row, so a busy event loop makes the writer wait for the GIL once per row. A statement of
many rows is one step. Chunks come in a few fixed sizes so their statements stay cached.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

__all__ = ["insert_rows"]

_CHUNKS = (64, 16, 4, 1)  # rows per statement; 64 rows of up to 15 columns stay under 999


def insert_rows(connection: sqlite3.Connection, head: str, rows: Sequence[Sequence[Any]]) -> None:
    """``head`` (``INSERT INTO t (a, b)``) followed by ``VALUES`` for every row, in order."""
    if not rows:
        return
    placeholder = "(" + ", ".join("?" * len(rows[0])) + ")"
    start = 0
    for size in _CHUNKS:
        statement = f"{head} VALUES {', '.join([placeholder] * size)}"
        while len(rows) - start >= size:
            chunk = rows[start : start + size]
            connection.execute(statement, [value for row in chunk for value in row])
            start += size
