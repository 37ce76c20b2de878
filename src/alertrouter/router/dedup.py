"""Dedup decisions per (receiver, integration, alert fingerprint): design.md §4, pure.

The planner turns one webhook's drafts into notification jobs and claim updates, given the
stored claims; every store backend runs it inside its own atomic step.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

__all__ = [
    "AlertStatus",
    "Candidate",
    "ClaimKey",
    "ClaimState",
    "Decision",
    "JobDraft",
    "Plan",
    "PlannedJob",
    "decide",
    "plan_jobs",
]

AlertStatus = Literal["firing", "resolved"]


class ClaimKey(NamedTuple):
    """Whose claim: one alert at one integration of one receiver.

    A named tuple: it is hashed and compared several times per alert on every webhook, and a
    tuple does both in C.
    """

    receiver: str
    integration: str  # "slack[0]"
    fingerprint: str


class ClaimState(NamedTuple):
    """What we last told the integration about the alert, when, and until when we remember."""

    status: AlertStatus
    sent_at: float
    expires_at: float


@dataclass(frozen=True, slots=True)
class Decision:
    """Notify or not (with the suppression reason), and the claim to store (None: delete)."""

    notify: bool
    reason: str | None
    new_state: ClaimState | None


def decide(
    previous: ClaimState | None,
    status: AlertStatus,
    now: float,
    repeat_interval: float,
    send_resolved: bool,
) -> Decision:
    """Apply the dedup table of design.md §4 to one alert at one integration."""
    if previous is not None and previous.expires_at <= now:
        previous = None
    expires = now + 2 * repeat_interval
    if status == "firing":
        if previous is None or previous.status == "resolved":
            return Decision(True, None, ClaimState("firing", now, expires))
        if now - previous.sent_at > repeat_interval:
            return Decision(True, None, ClaimState("firing", now, expires))
        return Decision(False, "repeat_interval", ClaimState("firing", previous.sent_at, expires))
    if previous is None:
        return Decision(False, "never_notified", None)
    if previous.status == "resolved":
        return Decision(
            False, "already_resolved", ClaimState("resolved", previous.sent_at, expires)
        )
    if send_resolved:
        return Decision(True, None, ClaimState("resolved", now, expires))
    return Decision(False, "send_resolved_disabled", ClaimState("resolved", now, expires))


class Candidate(NamedTuple):
    """One alert offered to one integration, with the matched route's repeat interval."""

    key: ClaimKey
    status: AlertStatus
    repeat_interval: float
    alert: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class JobDraft:
    """What one notification would hold: the alerts offered to one integration together."""

    receiver: str
    integration: str
    integration_type: str
    send_resolved: bool
    priority: int  # 0 first: a critical alert is among them
    group: Mapping[str, Any]  # groupKey, externalURL, commonLabels, ... of the webhook
    candidates: Sequence[Candidate]


@dataclass(frozen=True, slots=True)
class PlannedJob:
    """A job to enqueue, with the claims it took: what they were before (to undo on a dead
    letter) and what it set them to (to take again when a dead letter is replayed)."""

    draft: JobDraft
    alerts: list[Mapping[str, Any]]
    claims: dict[ClaimKey, ClaimState | None]
    taken: dict[ClaimKey, ClaimState] = field(default_factory=dict)


@dataclass(slots=True)
class Plan:
    """Everything one atomic step writes: jobs, claim updates, and what was suppressed."""

    jobs: list[PlannedJob] = field(default_factory=list)
    updates: dict[ClaimKey, ClaimState | None] = field(default_factory=dict)
    suppressed: list[tuple[str, str]] = field(default_factory=list)  # (receiver, reason)


def plan_jobs(
    drafts: Sequence[JobDraft], states: MutableMapping[ClaimKey, ClaimState | None], now: float
) -> Plan:
    """Decide every candidate of every draft; ``states`` holds the stored claims and is updated.

    A draft with at least one due alert becomes one job holding exactly the due alerts.
    """
    plan = Plan()
    for draft in drafts:
        due: list[Mapping[str, Any]] = []
        before: dict[ClaimKey, ClaimState | None] = {}
        taken: dict[ClaimKey, ClaimState] = {}
        for candidate in draft.candidates:
            previous = states.get(candidate.key)
            decision = decide(
                previous, candidate.status, now, candidate.repeat_interval, draft.send_resolved
            )
            if decision.new_state != previous:
                states[candidate.key] = decision.new_state
                plan.updates[candidate.key] = decision.new_state
            if decision.notify:
                due.append(candidate.alert)
                before[candidate.key] = previous
                if decision.new_state is not None:
                    taken[candidate.key] = decision.new_state
            else:
                plan.suppressed.append((draft.receiver, decision.reason or "suppressed"))
        if due:
            plan.jobs.append(PlannedJob(draft, due, before, taken))
    return plan
