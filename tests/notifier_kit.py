"""Alerts and notifications shaped as Alertmanager sends them, for the provider notifier tests."""

from __future__ import annotations

from typing import Any

from alertrouter.notifiers.base import Notification

__all__ = ["GROUP_KEY", "alert", "notification"]

GROUP_KEY = '{}:{alertname="DiskFull"}'


def alert(index: int, status: str = "firing", **labels: str) -> dict[str, Any]:
    """An Alertmanager v4 alert dict, ``index`` making it distinct."""
    return {
        "status": status,
        "labels": {"alertname": "DiskFull", "severity": "critical", "instance": f"db-{index}"}
        | labels,
        "annotations": {"summary": f"disk on db-{index} is full"},
        "startsAt": f"2024-05-01T10:{index:02d}:00Z",
        "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2024-05-01T11:00:00Z",
        "generatorURL": "http://prometheus:9090/graph?g0.expr=up",
        "fingerprint": f"{index:016x}",
    }


def notification(*alerts: dict[str, Any], integration: str = "x[0]") -> Notification:
    """A notification of ``alerts`` (default: two firing) with Alertmanager's group data."""
    chosen = alerts or (alert(1), alert(2))
    return Notification(
        "oncall",
        integration,
        tuple(chosen),
        {
            "groupKey": GROUP_KEY,
            "groupLabels": {"alertname": "DiskFull"},
            "externalURL": "http://alertmanager:9093",
        },
    )
