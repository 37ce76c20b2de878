"""PagerDuty Events API v1 (``service_key``), as Alertmanager still speaks it.

The generic ``create_event.json`` endpoint: an event carries ``service_key``, ``event_type``
(``trigger`` or ``resolve``) and the ``incident_key`` that ties a resolve to its trigger. v1
answers 200 on success, 400 for an invalid event and 403 when rate limited (retried).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from alertrouter.errors import NotifierError, RetryableNotifierError
from alertrouter.notifiers import render
from alertrouter.notifiers.base import http_status_error

__all__ = ["MAX_DESCRIPTION", "V1_PATH", "events_v1_url", "fit_v1", "v1_answer_error", "v1_event"]

V1_PATH = "/generic/2010-04-15/create_event.json"
MAX_DESCRIPTION = 1024  # PagerDuty: description is at most 1024 characters


def events_v1_url(url: str) -> str:
    """Where v1 events go for a configured ``url``.

    Alertmanager posts v1 events to events.pagerduty.com whatever ``url`` says; here a v2
    enqueue URL (the default, or ``global.pagerduty_url``) means the same host's v1 endpoint,
    and any other URL (a proxy, a test server) is used as is.
    """
    parts = urlsplit(url)
    if parts.path.rstrip("/").endswith("/v2/enqueue"):
        return urlunsplit((parts.scheme, parts.netloc, V1_PATH, "", ""))
    return url


def v1_event(
    *,
    service_key: str,
    incident_key: str,
    firing: bool,
    description: str,
    details: Mapping[str, Any],
    client: str,
    client_url: str,
) -> dict[str, Any]:
    """One v1 event; ``client`` and ``client_url`` go with triggers only, as Alertmanager's."""
    event: dict[str, Any] = {
        "service_key": service_key,
        "event_type": "trigger" if firing else "resolve",
        "incident_key": incident_key,
        "description": render.truncate(description, MAX_DESCRIPTION),
        "details": dict(details),
    }
    if firing:
        if client:
            event["client"] = client
        if client_url:
            event["client_url"] = client_url
    return event


def fit_v1(event: dict[str, Any], limit: int, dumps: Any) -> bytes:
    """The JSON body within ``limit`` bytes: over it, ``details`` is replaced by a note."""
    body: bytes = dumps(event)
    if len(body) <= limit:
        return body
    event["details"] = {
        "alertrouter": f"details dropped: the event was {len(body)} bytes, "
        f"over PagerDuty's limit of {limit}"
    }
    result: bytes = dumps(event)
    return result


def v1_answer_error(status: int, message: str, retry_after: float | None) -> NotifierError:
    """The error for a non-2xx v1 answer: v1 says 403 when rate limited, so 403 is retried."""
    if status == 403:
        return RetryableNotifierError("rateLimited", message, retry_after)
    return http_status_error(status, message, retry_after)
