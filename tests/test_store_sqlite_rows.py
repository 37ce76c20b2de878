"""insert_rows: every row, in order, whatever the count; padding never lands in the table."""

from __future__ import annotations

import sqlite3

import pytest

from alertrouter.store.sqlite.rows import insert_rows


@pytest.mark.parametrize("count", [0, 1, 3, 4, 5, 16, 17, 64, 65, 255, 256, 257, 600])
def test_every_row_in_order_and_no_padding(count: int) -> None:
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE t (seq INTEGER NOT NULL, name TEXT, score REAL)")
    rows = [(n, f"row-{n}", n / 2 if n % 3 else None) for n in range(1, count + 1)]
    insert_rows(connection, "INSERT INTO t (seq, name, score)", rows)
    assert connection.execute("SELECT seq, name, score FROM t ORDER BY rowid").fetchall() == rows
