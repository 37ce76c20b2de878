"""What the console asks the store: a filtered slice of the job history, and each queue's
recent activity. Plain data; ``Store.find_jobs`` and ``Store.activity`` answer them."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ALL_STATES", "JobQuery", "QueueActivity"]

ALL_STATES = ("pending", "inflight", "dead", "done")


@dataclass(frozen=True, slots=True)
class JobQuery:
    """Jobs newest first (by id), up to ``limit``; an empty field filters nothing.

    ``integration`` is an integration's key (``slack[0]``) or type (``slack``); ``alertname``
    and ``fingerprint`` keep the jobs carrying such an alert; ``since``/``until`` bound the
    creation time; ``before_id`` pages on (only jobs older than that one).
    """

    states: tuple[str, ...] = ALL_STATES
    receiver: str = ""
    integration: str = ""
    alertname: str = ""
    fingerprint: str = ""
    since: float | None = None
    until: float | None = None
    before_id: int | None = None
    limit: int = 100


@dataclass(slots=True)
class QueueActivity:
    """One queue lately: jobs waiting for a retry (and the latest retry time), and jobs
    delivered or dead-lettered since the time asked about."""

    retrying: int = 0
    retrying_until: float | None = None
    delivered: int = 0
    dead: int = 0
