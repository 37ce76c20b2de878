"""Text shared by every notifier: Alertmanager-style titles, alert order, digests, cutting
text to a provider's limit, and the group key hash.

User templates are Go templates (``notifiers.templating``); ``template_context`` is what our
own shipped email templates see.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from alertrouter.notifiers.base import Notification

__all__ = [
    "SEVERITY_ORDER",
    "alert_label_summary",
    "alert_summary",
    "common_pairs",
    "digest_lines",
    "group_key_hash",
    "notification_title",
    "sort_alerts",
    "template_context",
    "truncate",
    "truncate_bytes",
]

SEVERITY_ORDER = ("critical", "error", "warning", "info")


def severity_rank(alert: Mapping[str, Any]) -> int:
    """0 for critical .. 3 for info, 4 for anything else; firing before resolved."""
    severity = str(alert.get("labels", {}).get("severity", "")).lower()
    rank = SEVERITY_ORDER.index(severity) if severity in SEVERITY_ORDER else len(SEVERITY_ORDER)
    return rank + (0 if alert.get("status") == "firing" else 10)


def sort_alerts(alerts: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Most severe first, firing before resolved, then by start time (stable)."""
    return sorted(alerts, key=lambda a: (severity_rank(a), str(a.get("startsAt", ""))))


def notification_title(notification: Notification) -> str:
    """``[FIRING:2] HighLatency (api critical)`` / ``[RESOLVED] ...``, as Alertmanager titles."""
    group = notification.group
    status = notification.status
    head = f"[FIRING:{len(notification.firing)}]" if status == "firing" else "[RESOLVED]"
    group_labels: Mapping[str, str] = group.get("groupLabels") or {}
    common: Mapping[str, str] = group.get("commonLabels") or {}
    if notification.digest or not common:
        common = common_pairs(alert.get("labels", {}) for alert in notification.alerts)
        group_labels = {k: v for k, v in common.items() if k == "alertname"}
    names = " ".join(group_labels[k] for k in sorted(group_labels))
    rest = {k: v for k, v in common.items() if k not in group_labels}
    title = f"{head} {names}".rstrip()
    if rest:
        title += f" ({' '.join(rest[k] for k in sorted(rest))})"
    if notification.digest:
        title += f" — digest of {notification.covered} alerts"
    return title


def common_pairs(maps: Iterable[Mapping[str, str]]) -> dict[str, str]:
    """The pairs every map shares, sorted (Alertmanager's commonLabels / commonAnnotations)."""
    items: set[tuple[str, str]] | None = None
    for mapping in maps:
        pairs = set(mapping.items())
        items = pairs if items is None else items & pairs
    return dict(sorted(items or ()))


def alert_summary(alert: Mapping[str, Any]) -> str:
    """The ``summary`` annotation, else ``description``, else alertname and labels."""
    annotations = alert.get("annotations") or {}
    for key in ("summary", "description", "message"):
        if annotations.get(key):
            return str(annotations[key])
    labels = alert.get("labels") or {}
    return f"{labels.get('alertname', 'alert')} {alert_label_summary(alert)}".strip()


def alert_label_summary(alert: Mapping[str, Any], skip: Iterable[str] = ("alertname",)) -> str:
    """``instance=db-1 job=node`` for the labels worth showing, sorted."""
    labels = alert.get("labels") or {}
    skipped = set(skip)
    return " ".join(f"{k}={labels[k]}" for k in sorted(labels) if k not in skipped)


def digest_lines(alerts: Iterable[Mapping[str, Any]]) -> list[str]:
    """Counts by alertname and severity, most severe and most numerous first."""
    counts: Counter[tuple[str, str, str]] = Counter()
    for alert in alerts:
        labels = alert.get("labels") or {}
        key = (str(alert.get("status")), str(labels.get("alertname", "?")),
               str(labels.get("severity", "none")))  # fmt: skip
        counts[key] += 1
    ordered = sorted(
        counts.items(),
        key=lambda item: (
            item[0][0] != "firing",
            SEVERITY_ORDER.index(item[0][2]) if item[0][2] in SEVERITY_ORDER else 9,
            -item[1],
            item[0][1],
        ),
    )
    return [
        f"{count} × {name} ({severity}, {status})" for (status, name, severity), count in ordered
    ]


def truncate(text: str, limit: int, marker: str = "…") -> str:
    """``text`` cut to at most ``limit`` characters, ending with ``marker`` when cut."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - len(marker))] + marker


def truncate_bytes(text: str, limit: int, marker: str = "…") -> tuple[str, bool]:
    """``text`` cut to at most ``limit`` UTF-8 bytes (never inside a character), ending with
    ``marker`` when cut; and whether it was cut."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text, False
    room = max(0, limit - len(marker.encode("utf-8")))
    return data[:room].decode("utf-8", errors="ignore") + marker, True


def group_key_hash(group_key: str) -> str:
    """Alertmanager's ``key.Hash()``: sha256 hex of a webhook's ``groupKey``.

    Ids built from it (PagerDuty and Opsgenie dedup keys, Jira labels, VictorOps
    ``entity_id``, SNS FIFO group ids) match the ones an Alertmanager receiver used for the
    same group, so a cut-over keeps incidents paired.
    """
    return hashlib.sha256(group_key.encode("utf-8")).hexdigest()


def template_context(notification: Notification) -> dict[str, Any]:
    """What our shipped email templates see."""
    group = notification.group
    return {
        "status": notification.status,
        "receiver": notification.receiver,
        "alerts": list(notification.alerts),
        "firing": notification.firing,
        "resolved": notification.resolved,
        "groupLabels": dict(group.get("groupLabels") or {}),
        "commonLabels": dict(group.get("commonLabels") or {}),
        "commonAnnotations": dict(group.get("commonAnnotations") or {}),
        "externalURL": group.get("externalURL", ""),
        "digest": notification.digest,
        "title": notification_title(notification),
    }
