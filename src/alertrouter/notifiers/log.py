"""Log notifier: writes the rendered notification as one structured log line (``--dry-run``)."""

from __future__ import annotations

from typing import ClassVar, Literal

from alertrouter.notifiers.config import IntegrationConfig

__all__ = ["LogConfig"]


class LogConfig(IntegrationConfig):
    """``log_configs`` entry."""

    level: Literal["debug", "info", "warning", "error"] = "info"

    default_send_resolved: ClassVar[bool] = True
