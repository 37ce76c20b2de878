"""The Alertmanager v4 webhook payload, as Alertmanager 0.25 sends it.

Unknown keys are tolerated (newer Alertmanagers add ``notification_reason``, ``routeLabels``).
Timestamps are checked as RFC 3339 (0-9 fractional digits) and kept as sent; a time outside
years 0001-9999 once its offset is applied is refused, since no integration could print it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from alertrouter.errors import format_path

__all__ = [
    "AlertPayload",
    "WebhookPayload",
    "alertmanager_fingerprint",
    "build_test_webhook",
    "format_validation_errors",
    "unique_test_labels",
]


def _printable_time(value: str) -> str:
    """``value`` if it is a real calendar time within years 0001-9999 in UTC, else ValueError.

    The renderers convert to UTC (PagerDuty's ``timestamp``, the email's "Started" line):
    ``9999-12-31T23:59:59-23:59`` is year 10000 there, and would crash every delivery of it.
    """
    try:
        datetime.fromisoformat(value).astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValueError(
            "not a calendar time within 0001-01-01 and 9999-12-31 UTC (RFC 3339)"
        ) from None
    return value


Timestamp = Annotated[
    str,
    StringConstraints(
        pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$"
    ),
    AfterValidator(_printable_time),
]
ZERO_TIME = "0001-01-01T00:00:00Z"


def _splittable_url(value: str) -> str:
    """``value`` if a URL parser can split it (PagerDuty's ``source`` falls back to its host)."""
    try:
        urlsplit(value)
    except ValueError as exc:  # "http://[": an unclosed IPv6 literal
        raise ValueError(f"not a URL: {exc}") from None
    return value


URLText = Annotated[str, AfterValidator(_splittable_url)]


class AlertPayload(BaseModel):
    """One alert of the webhook body."""

    model_config = ConfigDict(extra="allow", frozen=True)

    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: Timestamp = ZERO_TIME  # noqa: N815 - Alertmanager's JSON names
    endsAt: Timestamp = ZERO_TIME  # noqa: N815
    generatorURL: URLText = ""  # noqa: N815
    fingerprint: str = ""

    def fingerprint_or_computed(self) -> str:
        """The fingerprint Alertmanager sent, or the one it would have computed."""
        return self.fingerprint or alertmanager_fingerprint(self.labels)


class WebhookPayload(BaseModel):
    """The whole body Alertmanager posts to a webhook receiver."""

    model_config = ConfigDict(extra="allow", frozen=True)

    version: str = "4"
    groupKey: str = ""  # noqa: N815
    truncatedAlerts: int = Field(0, ge=0)  # noqa: N815
    status: Literal["firing", "resolved"] = "firing"
    receiver: str = ""
    groupLabels: dict[str, str] = Field(default_factory=dict)  # noqa: N815
    commonLabels: dict[str, str] = Field(default_factory=dict)  # noqa: N815
    commonAnnotations: dict[str, str] = Field(default_factory=dict)  # noqa: N815
    externalURL: URLText = ""  # noqa: N815
    alerts: list[AlertPayload]


_FNV_OFFSET = 14695981039346656037
_FNV_PRIME = 1099511628211
_SEPARATOR = 0xFF


def alertmanager_fingerprint(labels: dict[str, str]) -> str:
    """Prometheus' label-set fingerprint (FNV-1a 64 over sorted names and values), as hex."""
    value = _FNV_OFFSET
    for name in sorted(labels):
        for part in (name, labels[name]):
            for byte in part.encode("utf-8"):
                value = ((value ^ byte) * _FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
            value = ((value ^ _SEPARATOR) * _FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
    return f"{value:016x}"


def format_validation_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """Each problem as {"field": "alerts[0].labels", "message": ...}, never echoing secrets."""
    problems = []
    for error in exc.errors(include_url=False, include_input=False):
        if error["type"] == "json_invalid":
            message = error.get("ctx", {}).get("error", error["msg"])
            problems.append({"field": "(body)", "message": f"invalid JSON: {message}"})
            continue
        problems.append({"field": format_path(error["loc"]) or "(body)", "message": error["msg"]})
    return problems


def build_test_webhook(
    labels: Mapping[str, str], *, resolved: bool = False, external_url: str = ""
) -> dict[str, Any]:
    """An Alertmanager v4 webhook body holding one alert with ``labels``."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    status = "resolved" if resolved else "firing"
    alert = {
        "status": status,
        "labels": dict(labels),
        "annotations": {
            "summary": "Test alert sent by `alertrouter test-alert`",
            "description": "If you can read this, this path to on-call works.",
        },
        "startsAt": now,
        "endsAt": now if resolved else ZERO_TIME,
        "generatorURL": "",
        "fingerprint": alertmanager_fingerprint(dict(labels)),
    }
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{labels.get("alertname", "")}"}}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "alertrouter-test-alert",
        "groupLabels": {"alertname": labels.get("alertname", "")},
        "commonLabels": dict(labels),
        "commonAnnotations": alert["annotations"],
        "externalURL": external_url,
        "alerts": [alert],
    }


def unique_test_labels(severity: str, extra: Mapping[str, str]) -> dict[str, str]:
    """Labels of a test alert no other alert shares (a fresh ``test_id``)."""
    labels = {"alertname": "AlertrouterTestAlert", "severity": severity}
    labels.update(extra)
    labels.setdefault("test_id", uuid.uuid4().hex[:12])
    return labels
