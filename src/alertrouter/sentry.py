"""Errors to Sentry (design.md §9), with every secret scrubbed before an event leaves.

Enabled only when ``SENTRY_DSN`` is set. sentry-sdk sends from its own background thread, so
a slow or absent Sentry never delays ingest or delivery.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from alertrouter import __version__

__all__ = ["SecretScrubber", "capture_dead_letter", "init_sentry"]

FILTERED = "[Filtered]"
_SENSITIVE_KEY = re.compile(
    r"(token|password|passwd|secret|routing_key|api_url|authorization|credentials|dsn|cookie)",
    re.IGNORECASE,
)


class SecretScrubber:
    """``before_send``: replace known secret strings anywhere, and values of sensitive keys."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.update(secrets)

    def update(self, secrets: Iterable[str]) -> None:
        """Replace the set of secrets (after a config reload)."""
        ordered = sorted(set(secrets), key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def scrub(self, value: Any, key: str | None = None) -> Any:
        """A copy of ``value`` with secrets masked."""
        if key is not None and _SENSITIVE_KEY.search(key) and isinstance(value, str | bytes):
            return FILTERED
        if isinstance(value, str):
            return self._pattern.sub(FILTERED, value) if self._pattern else value
        if isinstance(value, Mapping):
            return {k: self.scrub(v, str(k)) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.scrub(v) for v in value]
        return value

    def __call__(self, event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
        scrubbed: dict[str, Any] = self.scrub(event)
        return scrubbed


def init_sentry(dsn: str | None, environment: str, scrubber: SecretScrubber) -> bool:
    """Start sentry-sdk when a DSN is set; True when it was started."""
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.aiohttp import AioHttpIntegration
    from sentry_sdk.integrations.logging import LoggingIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=f"alertrouter@{__version__}",
        integrations=[AioHttpIntegration(), LoggingIntegration(event_level=None)],
        before_send=scrubber,  # type: ignore[arg-type]
        send_default_pii=False,
        shutdown_timeout=2,
    )
    return True


def capture_dead_letter(
    receiver: str, integration: str, reason: str, alertnames: Sequence[str], **context: Any
) -> None:
    """One Sentry event per dead-lettered notification, tagged, with the alert names."""
    import sentry_sdk

    if not sentry_sdk.get_client().is_active():
        return
    with sentry_sdk.new_scope() as scope:
        scope.set_tag("receiver", receiver)
        scope.set_tag("integration", integration.partition("[")[0])
        scope.set_tag("reason", reason)
        scope.set_context(
            "notification",
            {"integration": integration, "alertnames": sorted(set(alertnames)), **context},
        )
        sentry_sdk.capture_message(
            f"notification dead-lettered: {receiver}/{integration}: {reason}", level="error"
        )
