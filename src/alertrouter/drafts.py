"""From one webhook to job drafts: route every alert, apply time intervals, group per integration.

Dedup is not decided here but in the store's atomic step (router.dedup), so concurrent
resends cannot both claim the same alert.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from alertrouter.config.loader import IntegrationSpec, ReceiverConfig, RoutingConfig
from alertrouter.payload import WebhookPayload
from alertrouter.router.dedup import Candidate, ClaimKey, JobDraft
from alertrouter.router.tree import Router, suppression_reason

__all__ = ["Drafts", "draft_jobs"]

_GROUP_FIELDS = (
    "receiver",
    "status",
    "groupKey",
    "groupLabels",
    "commonLabels",
    "commonAnnotations",
    "externalURL",
    "truncatedAlerts",
)


class _Target(NamedTuple):
    receiver: ReceiverConfig
    suppressed_because: str | None
    repeat_interval: float


@dataclass(frozen=True, slots=True)
class Drafts:
    """The drafts of one webhook and the alerts suppressed before any claim (muted routes)."""

    drafts: Sequence[JobDraft]
    suppressed: Sequence[tuple[str, str]]  # (receiver, reason)


def draft_jobs(
    payload: WebhookPayload, config: RoutingConfig, router: Router, now: datetime
) -> Drafts:
    """Offer each alert to each integration of each receiver it routes to.

    Integrations that notify per group get one draft listing all their alerts; per-alert ones
    (PagerDuty) one draft per alert. An alert reaching one integration twice (two routes with
    the same receiver) is offered once, with the first route's repeat interval.
    """
    group = {name: getattr(payload, name) for name in _GROUP_FIELDS}
    per_integration: dict[tuple[str, str], list[Candidate]] = {}
    specs: dict[tuple[str, str], IntegrationSpec] = {}
    suppressed: list[tuple[str, str]] = []
    seen: set[ClaimKey] = set()
    # What each matched route means for this webhook, worked out once per route, not per alert.
    targets: dict[int, _Target] = {}
    for alert in payload.alerts:
        fingerprint = alert.fingerprint_or_computed()
        # The alert as received (unknown keys too), as a plain dict; cheaper than model_dump.
        record = {**alert.__dict__, **(alert.__pydantic_extra__ or {}), "fingerprint": fingerprint}
        for route in router.match(alert.labels):
            target = targets.get(id(route))
            if target is None:
                target = targets[id(route)] = _Target(
                    config.receivers[route.receiver],
                    suppression_reason(route, config.time_intervals, now),
                    route.repeat_interval.total_seconds(),
                )
            receiver, reason, repeat_interval = target
            if reason is not None and alert.status == "resolved" and route.resolve_when_muted:
                # Dedup sends it only where we notified the alert firing (design.md §4).
                reason = None
            for spec in receiver.integrations:
                key = ClaimKey(receiver.name, spec.key, fingerprint)
                if key in seen:
                    continue
                seen.add(key)
                if reason is not None:
                    suppressed.append((receiver.name, reason))
                    continue
                slot = (receiver.name, spec.key)
                candidates = per_integration.get(slot)
                if candidates is None:
                    candidates = per_integration[slot] = []
                    specs[slot] = spec
                candidates.append(Candidate(key, alert.status, repeat_interval, record))
    drafts: list[JobDraft] = []
    for slot, candidates in per_integration.items():
        receiver_name, spec = slot[0], specs[slot]
        batches = [[c] for c in candidates] if spec.config.jobs_per_alert() else [candidates]
        for batch in batches:
            critical = any(c.alert["labels"].get("severity") == "critical" for c in batch)
            drafts.append(
                JobDraft(
                    receiver=receiver_name,
                    integration=spec.key,
                    integration_type=spec.type,
                    send_resolved=spec.config.resolved_wanted,
                    priority=0 if critical else 1,
                    group=group,
                    candidates=batch,
                )
            )
    return Drafts(drafts, suppressed)
