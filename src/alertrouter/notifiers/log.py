"""Log notifier: writes the rendered notification as one structured log line (``--dry-run``)."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

from alertrouter.config.integrations import IntegrationConfig
from alertrouter.logs import get_logger, log_event
from alertrouter.notifiers import render
from alertrouter.notifiers.base import Notification, Notifier, Receipt

__all__ = ["LogConfig", "LogNotifier", "compact_alert", "stand_in"]

_logger = get_logger(__name__)
_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


class LogConfig(IntegrationConfig):
    """``log_configs`` entry."""

    level: Literal["debug", "info", "warning", "error"] = "info"

    default_send_resolved: ClassVar[bool] = True


def compact_alert(alert: Mapping[str, Any]) -> dict[str, str]:
    """The few fields of an alert worth a log line: name, severity, status, fingerprint, summary."""
    labels: Mapping[str, str] = alert.get("labels") or {}
    return {
        "alertname": str(labels.get("alertname", "")),
        "severity": str(labels.get("severity", "")),
        "status": str(alert.get("status", "")),
        "fingerprint": str(alert.get("fingerprint", "")),
        "summary": render.alert_summary(alert),
    }


class LogNotifier(Notifier[LogConfig]):
    """Logs ``notification_logged`` with what would have been sent; never fails to deliver."""

    type_name: ClassVar[str] = "log"
    config_model: ClassVar[type[IntegrationConfig]] = LogConfig
    default_rate_per_second: ClassVar[float] = 100.0
    default_burst: ClassVar[int] = 100
    coalesce: ClassVar[bool] = True

    async def send(self, notification: Notification) -> Receipt:
        """Write one log line at the configured level."""
        started = time.monotonic()
        level = _LEVELS[self.config.level]
        if not _logger.isEnabledFor(level):
            # Not shown: don't render it (a storm digest can list thousands of alerts).
            return Receipt("logged", None, time.monotonic() - started, {"level": self.config.level})
        log_event(
            _logger,
            level,
            "notification_logged",
            receiver=notification.receiver,
            integration=notification.integration,
            status=notification.status,
            covered=notification.covered,
            title=render.notification_title(notification),
            alerts=[compact_alert(a) for a in render.sort_alerts(notification.alerts)],
            digest=notification.digest,
        )
        return Receipt(
            provider_status="logged",
            message_id=None,
            duration=time.monotonic() - started,
            detail={"level": self.config.level},
        )


def stand_in(real: type[Notifier[Any]]) -> type[LogNotifier]:
    """The log notifier a dry run sends ``real``'s notifications through, with ``real``'s
    delivery semantics: a type that never coalesces a backlog (PagerDuty: every incident
    matters) logs every notification on its own rather than a digest."""
    if real.coalesce == LogNotifier.coalesce:
        return LogNotifier
    return type(f"DryRun{real.__name__}", (LogNotifier,), {"coalesce": real.coalesce})
