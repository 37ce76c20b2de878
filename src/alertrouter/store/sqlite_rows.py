"""Insert many rows with few statements: what the SQLite writer thread does per transaction.

sqlite3 releases the GIL around each statement step and must take it back afterwards; while
the event loop is busy that costs up to a switch interval (5 ms). ``executemany`` steps once
per row. Here up to 256 rows go in one statement, whose text is the same for any count (the
last chunk is padded with NULL rows that the statement skips), so it is prepared once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

__all__ = ["insert_rows"]

_ROWS_PER_STATEMENT = 256  # 256 rows of up to 15 columns: 3,840 variables (limit: 32,766)


def insert_rows(connection: sqlite3.Connection, head: str, rows: Sequence[Sequence[Any]]) -> None:
    """``head`` (``INSERT INTO t (a, b)``) with every row, in order; the first column of a
    row must not be NULL (it marks padding)."""
    if not rows:
        return
    width = len(rows[0])
    row = "(" + ", ".join("?" * width) + ")"
    statement = (
        f"{head} SELECT * FROM (VALUES {', '.join([row] * _ROWS_PER_STATEMENT)})"
        " WHERE column1 IS NOT NULL"
    )
    padding = [None] * width
    for start in range(0, len(rows), _ROWS_PER_STATEMENT):
        chunk = rows[start : start + _ROWS_PER_STATEMENT]
        values = [value for r in chunk for value in r]
        values += padding * (_ROWS_PER_STATEMENT - len(chunk))
        connection.execute(statement, values)
