"""Prometheus metrics (design.md §8) on a per-app registry. Labels are bounded: receiver and
integration names from the config, fixed reasons and codes; never an alert label.

The names Alertmanager also exports (``notifications_total``, ``notifications_failed_total``,
``notification_requests_total``, ``notification_requests_failed_total``,
``notification_latency_seconds``) mean what Alertmanager's mean (notify/notify.go, RetryStage),
so its mixin's alerts work on ours with the ``alertrouter_`` prefix and our job selector.
"""

from __future__ import annotations

import platform
from collections.abc import Iterable

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
)

from alertrouter import __version__
from alertrouter.errors import FAILURE_REASONS

__all__ = [
    "DRY_RUN_INTEGRATION",
    "HTTP_PROTOCOL_ERROR_KINDS",
    "SUPPRESSION_REASONS",
    "Metrics",
    "integration_label",
]

# A dry run delivers every integration through the log notifier, and its series say so: a
# dashboard must never show PagerDuty requests that were never made. One more label value.
DRY_RUN_INTEGRATION = "log"

SUPPRESSION_REASONS = (
    "repeat_interval",
    "never_notified",
    "already_resolved",
    "send_resolved_disabled",
    "muted",
    "inactive",
)
# Why a request was refused before any handler ran (api/protocol.py).
HTTP_PROTOCOL_ERROR_KINDS = (
    "bad_request_line",
    "line_too_long",
    "bad_header",
    "bad_framing",
    "http2",
    "body_too_large",
    "header_timeout",
    "client_disconnected",
    "malformed",
)
_REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 20, 30)
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600)


def integration_label(type_name: str, *, dry_run: bool) -> str:
    """The ``integration`` label of an integration of plugin type ``type_name``."""
    return DRY_RUN_INTEGRATION if dry_run else type_name


class Metrics:
    """Every alertrouter metric, registered on ``registry`` (a fresh one per app)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        # The *_created series would be a third of the exposition and nothing reads them.
        disable_created_metrics()  # type: ignore[no-untyped-call]  # untyped in the library
        self.registry = registry or CollectorRegistry(auto_describe=True)
        self.queue_kinds_seen: set[str] = set()
        r = self.registry
        p = "alertrouter_"
        self.webhooks_received = Counter(
            p + "webhooks_received_total", "Webhook requests answered, by HTTP code.", ["code"],
            registry=r,
        )  # fmt: skip
        self.alerts_received = Counter(
            p + "alerts_received_total", "Alerts received in webhooks, by status.", ["status"],
            registry=r,
        )  # fmt: skip
        # Alertmanager's meanings: a notification is counted once when first attempted, however
        # many retries it takes, and as failed once when it finally fails (dead-lettered);
        # requests count every call to a provider. Notifications are jobs: a digest counts
        # each job it carries, so attempted = delivered + failed + in flight.
        self.notifications = Counter(
            p + "notifications_total",
            "The total number of attempted notifications.",
            ["receiver", "integration"],
            registry=r,
        )
        self.notifications_failed = Counter(
            p + "notifications_failed_total",
            "The total number of failed notifications (dead-lettered), by Alertmanager's reason.",
            ["receiver", "integration", "reason"],
            registry=r,
        )
        self.notification_requests = Counter(
            p + "notification_requests_total",
            "The total number of attempted notification requests.",
            ["integration"],
            registry=r,
        )
        self.notification_requests_failed = Counter(
            p + "notification_requests_failed_total",
            "The total number of failed notification requests.",
            ["integration"],
            registry=r,
        )
        self.notification_latency = Histogram(
            p + "notification_latency_seconds",
            "The latency of notification requests in seconds (each request, as Alertmanager).",
            ["integration"],
            buckets=_REQUEST_BUCKETS,
            registry=r,
        )
        self.notifications_delivered = Counter(
            p + "notifications_delivered_total",
            "Notifications delivered.",
            ["receiver", "integration"],
            registry=r,
        )
        self.delivery_latency = Histogram(
            p + "delivery_latency_seconds",
            "Time from queued to delivered, retries and rate limits included.",
            ["integration"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.delivery_loop_errors = Counter(
            p + "delivery_loop_errors_total",
            "Unexpected errors of a delivery worker's loop (the worker logs and goes on).",
            ["integration"],
            registry=r,
        )
        self.alerts_suppressed = Counter(
            p + "alerts_suppressed_total",
            "Alert notifications not sent, by reason.",
            ["receiver", "reason"],
            registry=r,
        )
        self.template_errors = Counter(
            p + "template_errors_total",
            "Receiver field templates that failed at send time (the default was sent).",
            ["receiver", "integration"],
            registry=r,
        )
        self.queue_depth = Gauge(
            p + "queue_depth", "Notifications waiting or in flight.", ["integration"], registry=r
        )
        self.queue_oldest_age = Gauge(
            p + "queue_oldest_age_seconds",
            "Age of the oldest waiting notification.",
            ["integration"],
            registry=r,
        )
        self.dead_letters = Gauge(
            p + "dead_letters", "Notifications in the dead-letter list.", ["integration"],
            registry=r,
        )  # fmt: skip
        self.config_last_reload_successful = Gauge(
            p + "config_last_reload_successful",
            "Whether the last configuration reload succeeded.",
            registry=r,
        )
        self.config_last_reload_success_timestamp = Gauge(
            p + "config_last_reload_success_timestamp_seconds",
            "Timestamp of the last successful configuration reload.",
            registry=r,
        )
        self.http_protocol_errors = Counter(
            p + "http_protocol_errors_total",
            "Requests refused before a handler: malformed HTTP, slow headers, hang-ups, oversize.",
            ["kind"],
            registry=r,
        )
        self.ready = Gauge(
            p + "ready",
            "1 when accepting webhooks with a loaded config and a reachable store (at scrape).",
            registry=r,
        )
        self.build_info = Gauge(
            p + "build_info", "Always 1: the version and the Python running it.",
            ["version", "python"], registry=r,
        )  # fmt: skip
        self.build_info.labels(__version__, platform.python_version()).set(1)
        # process_cpu_seconds_total, process_resident_memory_bytes, ... (Linux /proc).
        ProcessCollector(registry=r)
        self.http_requests = Counter(
            "http_requests_total",
            "HTTP requests served.",
            ["method", "endpoint", "status"],
            registry=r,
        )
        self.http_request_duration = Histogram(
            "http_request_duration_seconds",
            "HTTP request duration.",
            ["method", "endpoint"],
            registry=r,
        )
        self.db_query_duration = Histogram(
            "db_query_duration_seconds",
            "State store operation duration.",
            ["operation"],
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1),
            registry=r,
        )

    def count_request(self, method: str, endpoint: str, status: int, seconds: float) -> None:
        """One HTTP request answered: by method, route template and status, and timed."""
        self.http_requests.labels(method, endpoint, str(status)).inc()
        self.http_request_duration.labels(method, endpoint).observe(seconds)

    def initialise(self, integrations: Iterable[tuple[str, str]]) -> None:
        """Create every (receiver, integration type) series at zero so dashboards show zeros."""
        for code in ("200", "400", "401", "413", "415", "503"):
            self.webhooks_received.labels(code)
        for status in ("firing", "resolved"):
            self.alerts_received.labels(status)
        for kind in HTTP_PROTOCOL_ERROR_KINDS:
            self.http_protocol_errors.labels(kind)
        for receiver, integration in integrations:
            self.notifications.labels(receiver, integration)
            self.notifications_delivered.labels(receiver, integration)
            self.template_errors.labels(receiver, integration)
            self.notification_requests.labels(integration)
            self.notification_requests_failed.labels(integration)
            self.notification_latency.labels(integration)
            self.delivery_latency.labels(integration)
            self.delivery_loop_errors.labels(integration)
            self.queue_depth.labels(integration)
            self.queue_oldest_age.labels(integration)
            self.dead_letters.labels(integration)
            for reason in FAILURE_REASONS:
                self.notifications_failed.labels(receiver, integration, reason)
            for reason in SUPPRESSION_REASONS:
                self.alerts_suppressed.labels(receiver, reason)
