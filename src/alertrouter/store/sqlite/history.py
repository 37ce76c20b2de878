"""The console's questions answered in SQL: a filtered slice of the history, queue activity.

Filters on columns use the ``jobs`` indexes; alert filters (alertname, fingerprint) look into
the stored payload with SQLite's JSON functions, row by row newest first until ``limit`` jobs
match, without building a Python object for a row that does not.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any

from alertrouter.store.base import Job
from alertrouter.store.query import JobQuery, QueueActivity
from alertrouter.store.sqlite.schema import SELECT_JOBS, job_from_row

__all__ = ["find_jobs", "queue_activity"]

_PLAIN = re.compile(r"[ !#-\[\]-~]+")  # printable ASCII but '"' and '\\': no JSON escape
# The history never needs a job's claims: NULL skips decoding them.
_SELECT = SELECT_JOBS.format(claims="NULL")
_HAS_ALERT = (
    "EXISTS (SELECT 1 FROM json_each(b.payload, '$.alerts') AS a"
    " WHERE json_extract(a.value, '{path}') = ?)"
)


def find_jobs(c: sqlite3.Connection, query: JobQuery) -> list[Job]:
    """The jobs ``query`` asks for, newest first."""
    where = [f"j.state IN ({','.join('?' * len(query.states))})"]
    params: list[Any] = list(query.states)
    if query.receiver:
        where.append("j.receiver = ?")
        params.append(query.receiver)
    if query.integration:
        where.append("(j.integration = ? OR j.integration_type = ?)")
        params += [query.integration, query.integration]
    if query.before_id is not None:
        where.append("j.id < ?")
        params.append(query.before_id)
    if query.since is not None:
        where.append("j.created_at >= ?")
        params.append(query.since)
    if query.until is not None:
        where.append("j.created_at <= ?")
        params.append(query.until)
    for path, value in (
        ("$.labels.alertname", query.alertname),
        ("$.fingerprint", query.fingerprint),
    ):
        if not value:
            continue
        if _PLAIN.fullmatch(value):
            # A cheap substring test first: a plain value is written the same in every
            # payload's JSON, so only rows holding it get their alerts parsed.
            where.append("instr(b.payload, ?) > 0")
            params.append(f'"{value}"')
        where.append(_HAS_ALERT.format(path=path))
        params.append(value)
    sql = f"{_SELECT} WHERE {' AND '.join(where)} ORDER BY j.id DESC LIMIT ?"
    return [job_from_row(row) for row in c.execute(sql, (*params, query.limit))]


def queue_activity(c: sqlite3.Connection, since: float) -> dict[str, QueueActivity]:
    """Per queue: jobs waiting for a retry (and the latest retry time), and jobs delivered or
    dead-lettered since ``since``."""
    found: dict[str, QueueActivity] = {}
    rows = c.execute(
        "SELECT queue, state, COUNT(*), MAX(due_at) FROM jobs"
        " WHERE (state = 'pending' AND attempts > 0)"
        " OR (state IN ('done', 'dead') AND finished_at >= ?)"
        " GROUP BY queue, state",
        (since,),
    )
    for queue, state, count, latest_due in rows:
        row = found.setdefault(queue, QueueActivity())
        if state == "pending":
            row.retrying, row.retrying_until = count, latest_due
        elif state == "done":
            row.delivered = count
        else:
            row.dead = count
    return found
