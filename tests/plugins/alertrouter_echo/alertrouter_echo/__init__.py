"""A minimal third-party notifier: ``echo_configs`` entries record what they were asked to send.

This is what a plugin package needs: a config model (IntegrationConfig subclass), a Notifier
subclass naming it in ``config_model``, and an entry point in group ``alertrouter.notifiers``.
"""

from __future__ import annotations

import time
from typing import ClassVar

from pydantic import SecretStr

from alertrouter.notifiers import (
    IntegrationConfig,
    Notification,
    Notifier,
    PermanentNotifierError,
    Receipt,
    RetryableNotifierError,
    notification_title,
)

__all__ = ["SENT", "EchoConfig", "EchoNotifier"]

# Every notification any EchoNotifier sent, in order: (receiver, integration, prefix + title).
SENT: list[tuple[str, str, str]] = []


class EchoConfig(IntegrationConfig):
    """``echo_configs`` entry: a prefix for the echoed title, a secret, and scripted failures."""

    prefix: str = ""
    token: SecretStr | None = None
    fail: str | None = None  # "retryable" or "permanent": every send fails that way

    secret_files: ClassVar[dict[str, str]] = {"token_file": "token"}


class EchoNotifier(Notifier[EchoConfig]):
    """Appends ``prefix + title`` to SENT; fails as ``fail`` says."""

    type_name: ClassVar[str] = "echo"
    config_model: ClassVar[type[IntegrationConfig]] = EchoConfig
    default_rate_per_second: ClassVar[float] = 50.0
    default_burst: ClassVar[int] = 10

    async def send(self, notification: Notification) -> Receipt:
        """Record the notification, or raise the configured failure."""
        started = time.monotonic()
        if self.config.fail == "retryable":
            raise RetryableNotifierError("serverError", "echo: scripted retryable failure")
        if self.config.fail == "permanent":
            raise PermanentNotifierError("clientError", "echo: scripted permanent failure")
        text = self.config.prefix + notification_title(notification)
        SENT.append((notification.receiver, notification.integration, text))
        return Receipt(
            provider_status="echoed",
            message_id=str(len(SENT)),
            duration=time.monotonic() - started,
        )
