"""Builders for dedup candidates and job drafts, shared by the dedup and store tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from alertrouter.router.dedup import Candidate, ClaimKey, JobDraft

AlertStatus = Literal["firing", "resolved"]

HOUR = 3600.0
RECEIVER = "slack-warnings"
INTEGRATION = "slack[0]"
QUEUE = f"{RECEIVER}/{INTEGRATION}"


def make_alert(fingerprint: str, status: AlertStatus = "firing", **labels: str) -> dict[str, Any]:
    """An alert record as ingest stores it: the webhook alert plus its fingerprint."""
    return {
        "status": status,
        "labels": {"alertname": f"Alert-{fingerprint}", **labels},
        "annotations": {"summary": f"summary of {fingerprint}"},
        "startsAt": "2024-05-01T10:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.example/graph",
        "fingerprint": fingerprint,
    }


def make_key(
    fingerprint: str, receiver: str = RECEIVER, integration: str = INTEGRATION
) -> ClaimKey:
    """The claim key of one alert at one integration."""
    return ClaimKey(receiver, integration, fingerprint)


def make_candidate(
    fingerprint: str,
    status: AlertStatus = "firing",
    *,
    receiver: str = RECEIVER,
    integration: str = INTEGRATION,
    repeat_interval: float = HOUR,
    alert: Mapping[str, Any] | None = None,
) -> Candidate:
    """One alert offered to one integration."""
    return Candidate(
        key=make_key(fingerprint, receiver, integration),
        status=status,
        repeat_interval=repeat_interval,
        alert=make_alert(fingerprint, status) if alert is None else alert,
    )


def make_draft(
    *fingerprints: str,
    status: AlertStatus = "firing",
    receiver: str = RECEIVER,
    integration: str = INTEGRATION,
    integration_type: str = "slack",
    send_resolved: bool = True,
    priority: int = 1,
    repeat_interval: float = HOUR,
    candidates: Sequence[Candidate] | None = None,
) -> JobDraft:
    """A draft for one integration offering ``fingerprints`` (all with ``status``), or
    ``candidates`` as given."""
    if candidates is None:
        candidates = [
            make_candidate(
                fp,
                status,
                receiver=receiver,
                integration=integration,
                repeat_interval=repeat_interval,
            )
            for fp in fingerprints
        ]
    return JobDraft(
        receiver=receiver,
        integration=integration,
        integration_type=integration_type,
        send_resolved=send_resolved,
        priority=priority,
        group={
            "groupKey": f'{{}}:{{receiver="{receiver}"}}',
            "externalURL": "http://alertmanager.example",
            "commonLabels": {},
        },
        candidates=list(candidates),
    )
