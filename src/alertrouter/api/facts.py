"""What the console shows, as plain JSON-ready dicts: the overview and the notification history.

The console pages (``alertrouter.ui``) and their JSON twins (``api/console.py``) both render
these, so the page, the API and the CLI state the same facts. No secret is ever read here:
jobs hold alerts and provider receipts, the config only names receivers and integrations.
"""

from __future__ import annotations

import dataclasses
import os
import socket
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from alertrouter import __version__
from alertrouter.api.admin import job_summary
from alertrouter.service import Service
from alertrouter.store.base import Job
from alertrouter.store.query import ALL_STATES, JobQuery

__all__ = [
    "STATES",
    "history_facts",
    "history_query",
    "notification_facts",
    "overview_facts",
    "replica_identity",
]

STATES = ALL_STATES
HOUR = 3600.0


def replica_identity() -> str:
    """This process among replicas: host and pid, as the delivery workers name their leases."""
    return f"{socket.gethostname()}:{os.getpid()}"


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
    for name, activity in (await service.store.activity(now - HOUR)).items():
        if name in queues:
            queues[name].update(
                retrying=activity.retrying,
                retrying_until=activity.retrying_until,
                delivered_last_hour=activity.delivered,
                failed_last_hour=activity.dead,
            )
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


def history_query(query: Mapping[str, str]) -> JobQuery:
    """The history's filters from ``?receiver=&integration=&state=&alertname=&fingerprint=
    &since=&until=&before=&limit=``; ValueError names a value that is wrong."""

    def time_of(name: str) -> float | None:
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
    return JobQuery(
        states=(state,) if state else STATES,
        receiver=query.get("receiver", "").strip(),
        integration=query.get("integration", "").strip(),
        alertname=query.get("alertname", "").strip(),
        fingerprint=query.get("fingerprint", "").strip(),
        since=time_of("since"),
        until=time_of("until"),
        before_id=int(before) if before else None,
        limit=max(1, min(1000, int(limit))),
    )


async def history_facts(service: Service, wanted: JobQuery) -> dict[str, Any]:
    """Deliveries kept by the store, newest first, filtered; each with its alerts' labels,
    attempts, last provider answer and receipt. ``next_before`` pages on when more remain."""
    jobs = await service.store.find_jobs(dataclasses.replace(wanted, limit=wanted.limit + 1))
    kept = jobs[: wanted.limit]
    return {
        "notifications": [notification_facts(job) for job in kept],
        "next_before": kept[-1].id if len(jobs) > wanted.limit else None,
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
