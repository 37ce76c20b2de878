"""Alerts and notifications as Alertmanager groups them, for the chat and ticket notifier tests."""

from __future__ import annotations

from typing import Any

from alertrouter.notifiers.base import Notification

EXTERNAL_URL = "http://alertmanager:9093"
GROUP_KEY = '{}:{alertname="HighLatency"}'


def make_alert(
    name: str = "HighLatency",
    severity: str = "critical",
    status: str = "firing",
    index: int = 0,
    summary: str | None = None,
    **labels: str,
) -> dict[str, Any]:
    """An Alertmanager v4 alert dict."""
    return {
        "status": status,
        "labels": {"alertname": name, "severity": severity, "instance": f"api-{index}", **labels},
        "annotations": {"summary": summary or f"p99 latency above 1s on api-{index}"},
        "startsAt": f"2024-05-01T10:{index % 60:02d}:00Z",
        "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2024-05-01T11:00:00Z",
        "generatorURL": f"http://prometheus:9090/graph?g0.expr=up{index}",
        "fingerprint": f"{index:016x}",
    }


def make_notification(
    alerts: list[dict[str, Any]],
    *,
    receiver: str = "team-chat",
    integration: str = "chat[0]",
    group_key: str = GROUP_KEY,
) -> Notification:
    """A notification grouped by alertname, as Alertmanager would post it."""
    name = alerts[0]["labels"]["alertname"] if alerts else ""
    return Notification(
        receiver=receiver,
        integration=integration,
        alerts=tuple(alerts),
        group={
            "receiver": receiver,
            "groupKey": group_key,
            "groupLabels": {"alertname": name},
            "commonLabels": {"alertname": name},
            "commonAnnotations": {},
            "externalURL": EXTERNAL_URL,
            "truncatedAlerts": 0,
        },
    )


def firing(count: int = 2, **labels: str) -> Notification:
    """A firing group of ``count`` HighLatency alerts."""
    return make_notification([make_alert(index=i, **labels) for i in range(count)])


def resolved(count: int = 2, **labels: str) -> Notification:
    """The resolve of ``firing(count)``."""
    return make_notification(
        [make_alert(status="resolved", index=i, **labels) for i in range(count)]
    )
