"""What the console shows, as plain JSON-ready dicts: the overview and the notification history.

The console pages (``alertrouter.ui``) and their JSON twins (``api/console.py``) both render
these, so the page, the API and the CLI state the same facts. No secret is ever read here:
jobs hold alerts and provider receipts, the config only names receivers and integrations.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from alertrouter import __version__
from alertrouter.api.admin import job_summary
from alertrouter.service import Service
from alertrouter.store.base import Job, JobState

__all__ = [
    "HISTORY_SCAN",
    "STATES",
    "HistoryFilter",
    "history_facts",
    "overview_facts",
    "replica_identity",
]

STATES: tuple[JobState, ...] = ("pending", "inflight", "dead", "done")
# How many jobs of each state a history page reads from the store: the store keeps done jobs
# 24 h, so this bounds the work of one page load during a storm, not what is normally kept.
HISTORY_SCAN = 20_000
HOUR = 3600.0


def replica_identity() -> str:
    """This process among replicas: host and pid, as the delivery workers name their leases."""
    return f"{socket.gethostname()}:{os.getpid()}"


async def _jobs(service: Service, states: Sequence[JobState]) -> list[Job]:
    jobs: list[Job] = []
    for state in states:
        jobs.extend(await service.store.list_jobs(state, HISTORY_SCAN, newest_first=True))
    return jobs


async def overview_facts(service: Service) -> dict[str, Any]:
    """Each integration's queue and last hour, the config and its last reload, the store."""
    now = service.clock()
    runtime = service.runtime
    stats = await service.store.stats()
    configured = [
        (receiver.name, spec.key, spec.type)
        for receiver in runtime.config.receivers.values()
        for spec in receiver.integrations
    ]
    queues: dict[str, dict[str, Any]] = {
        f"{receiver}/{key}": _empty_queue(receiver, key, kind, configured=True)
        for receiver, key, kind in configured
    }
    for name in {*stats.pending, *stats.inflight, *stats.dead}:
        if name not in queues:  # jobs of a receiver the reloaded config no longer has
            receiver, _, key = name.partition("/")
            queues[name] = _empty_queue(receiver, key, key.partition("[")[0], configured=False)
    for name, row in queues.items():
        row["pending"] = stats.pending.get(name, 0)
        row["inflight"] = stats.inflight.get(name, 0)
        row["dead"] = stats.dead.get(name, 0)
        oldest = stats.oldest_pending_created_at.get(name)
        row["oldest_pending_age_seconds"] = None if oldest is None else round(now - oldest, 3)
    since = now - HOUR
    for job in await _jobs(service, ("pending", "done", "dead")):
        found = queues.get(job.queue)
        if found is None:
            continue
        row = found
        if job.state == "pending" and job.attempts > 0:
            row["retrying"] += 1
            row["retrying_until"] = max(row["retrying_until"] or 0.0, job.due_at)
        elif job.state == "done" and (job.finished_at or 0.0) >= since:
            row["delivered_last_hour"] += 1
        elif job.state == "dead" and (job.finished_at or 0.0) >= since:
            row["failed_last_hour"] += 1
    for row in queues.values():
        row["rate_per_minute"] = round(row["delivered_last_hour"] / 60.0, 2)
    return {
        "version": __version__,
        "now": now,
        "config": {
            "file": runtime.config.file,
            "sha256": runtime.config.sha256,
            "loaded_at": runtime.loaded_at,
            "last_reload_at": service.last_reload_at,
            "last_reload_successful": service.last_reload_ok,
        },
        "store": service.store.backend,
        "replica": replica_identity(),
        "dry_run": service.settings.dry_run,
        "queues": [queues[name] for name in sorted(queues)],
    }


def _empty_queue(receiver: str, key: str, kind: str, *, configured: bool) -> dict[str, Any]:
    return {
        "queue": f"{receiver}/{key}",
        "receiver": receiver,
        "integration": key,
        "type": kind,
        "configured": configured,
        "pending": 0,
        "inflight": 0,
        "dead": 0,
        "retrying": 0,
        "retrying_until": None,
        "oldest_pending_age_seconds": None,
        "delivered_last_hour": 0,
        "failed_last_hour": 0,
        "rate_per_minute": 0.0,
    }


@dataclass(frozen=True, slots=True)
class HistoryFilter:
    """The notification history's filters; an empty field filters nothing."""

    receiver: str = ""
    integration: str = ""
    state: str = ""
    alertname: str = ""
    fingerprint: str = ""
    since: float | None = None
    until: float | None = None
    before_id: int | None = None  # paging: only jobs older than this one
    limit: int = 100

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> HistoryFilter:
        """From ``?receiver=&integration=&state=&alertname=&fingerprint=&since=&until=
        &before=&limit=``; ValueError names a value that is wrong."""

        def number(name: str) -> float | None:
            text = query.get(name, "").strip()
            if not text:
                return None
            try:
                return float(text)
            except ValueError:
                pass
            try:  # what a datetime-local input sends; a time without a zone is UTC
                when = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                raise ValueError(f"{name}: want Unix seconds or an ISO 8601 time") from None
            return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()

        state = query.get("state", "").strip()
        if state and state not in STATES:
            raise ValueError(f"state: want one of {', '.join(STATES)}")
        before = query.get("before", "").strip()
        if before and not before.isdigit():
            raise ValueError("before: want a delivery id")
        limit = query.get("limit", "100").strip() or "100"
        if not limit.isdigit():
            raise ValueError("limit: want a number")
        return cls(
            receiver=query.get("receiver", "").strip(),
            integration=query.get("integration", "").strip(),
            state=state,
            alertname=query.get("alertname", "").strip(),
            fingerprint=query.get("fingerprint", "").strip(),
            since=number("since"),
            until=number("until"),
            before_id=int(before) if before else None,
            limit=max(1, min(1000, int(limit))),
        )

    def keeps(self, job: Job) -> bool:
        """Whether ``job`` passes every filter."""
        if self.receiver and job.receiver != self.receiver:
            return False
        if self.integration and self.integration not in (job.integration, job.integration_type):
            return False
        if self.before_id is not None and job.id >= self.before_id:
            return False
        if self.since is not None and job.created_at < self.since:
            return False
        if self.until is not None and job.created_at > self.until:
            return False
        if self.alertname or self.fingerprint:
            alerts = cast(Sequence[Mapping[str, Any]], job.payload.get("alerts", ()))
            if self.alertname and not any(
                (a.get("labels") or {}).get("alertname") == self.alertname for a in alerts
            ):
                return False
            if self.fingerprint and not any(
                a.get("fingerprint") == self.fingerprint for a in alerts
            ):
                return False
        return True


async def history_facts(service: Service, wanted: HistoryFilter) -> dict[str, Any]:
    """Deliveries kept by the store, newest first, filtered; each with its alerts' labels,
    attempts, last provider answer and receipt. ``next_before`` pages on when more remain."""
    states = (cast(JobState, wanted.state),) if wanted.state else STATES
    jobs = sorted(await _jobs(service, states), key=lambda job: job.id, reverse=True)
    kept: list[Job] = []
    more = False
    for job in jobs:
        if wanted.keeps(job):
            if len(kept) == wanted.limit:
                more = True
                break
            kept.append(job)
    return {
        "notifications": [notification_facts(job) for job in kept],
        "next_before": kept[-1].id if more and kept else None,
        "receivers": sorted({job.receiver for job in jobs}),
    }


def notification_facts(job: Job) -> dict[str, Any]:
    """One delivery: the admin API's summary plus each alert's labels and annotations."""
    facts = job_summary(job)
    alerts = cast(Sequence[Mapping[str, Any]], job.payload.get("alerts", ()))
    facts["integration_type"] = job.integration_type
    facts["alerts"] = [
        {
            "alertname": (a.get("labels") or {}).get("alertname"),
            "status": a.get("status"),
            "fingerprint": a.get("fingerprint"),
            "labels": dict(a.get("labels") or {}),
            "annotations": dict(a.get("annotations") or {}),
            "startsAt": a.get("startsAt"),
        }
        for a in alerts
    ]
    return facts
