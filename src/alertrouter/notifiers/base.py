"""The notifier contract: build from a validated config and the shared HTTP session, then send.

``send`` returns a Receipt or raises RetryableNotifierError / PermanentNotifierError with a
reason in Alertmanager's vocabulary. Each plugin declares its limits as class attributes.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Literal, TypeVar

import aiohttp

from alertrouter.config.integrations import IntegrationConfig
from alertrouter.errors import NotifierError, PermanentNotifierError, RetryableNotifierError

__all__ = [
    "Notification",
    "Notifier",
    "Receipt",
    "classify_http_status",
    "http_status_error",
]


ConfigT = TypeVar("ConfigT", bound=IntegrationConfig)


@dataclass(frozen=True, slots=True)
class Notification:
    """One message to send: the alerts due at one integration, with their webhook's group data.

    ``alerts`` are Alertmanager alert dicts (status, labels, annotations, startsAt, endsAt,
    generatorURL, fingerprint). A storm digest (``digest``) coalesces several queued
    notifications; ``covered`` is how many alerts the message stands for.
    """

    receiver: str
    integration: str  # "slack[0]"
    alerts: tuple[Mapping[str, Any], ...]
    group: Mapping[str, Any] = field(default_factory=dict)
    digest: bool = False

    @property
    def status(self) -> Literal["firing", "resolved"]:
        """``firing`` while any alert fires, as Alertmanager's group status."""
        return "firing" if any(a.get("status") == "firing" for a in self.alerts) else "resolved"

    @property
    def firing(self) -> list[Mapping[str, Any]]:
        """The firing alerts."""
        return [a for a in self.alerts if a.get("status") == "firing"]

    @property
    def resolved(self) -> list[Mapping[str, Any]]:
        """The resolved alerts."""
        return [a for a in self.alerts if a.get("status") != "firing"]

    @property
    def covered(self) -> int:
        """How many alerts this message covers."""
        return len(self.alerts)


@dataclass(frozen=True, slots=True)
class Receipt:
    """What the provider said: its status, the id it gave (dedup key, ts, Message-ID), timing."""

    provider_status: str
    message_id: str | None
    duration: float
    detail: Mapping[str, Any] = field(default_factory=dict)


class Notifier(abc.ABC, Generic[ConfigT]):
    """Base of every notifier plugin.

    Class attributes declare the plugin: its ``type_name`` (``slack`` for ``slack_configs``),
    ``config_model``, default rate limit (messages/s and burst), the largest message the
    provider accepts, and whether backlogs may be coalesced into digests.
    """

    type_name: ClassVar[str]
    config_model: ClassVar[type[IntegrationConfig]]
    default_rate_per_second: ClassVar[float] = 1.0
    default_burst: ClassVar[int] = 5
    max_message_bytes: ClassVar[int] = 512 * 1024
    coalesce: ClassVar[bool] = True

    def __init__(
        self,
        config: ConfigT,
        session: aiohttp.ClientSession,
        *,
        receiver: str,
        integration: str,
    ) -> None:
        self.config = config
        self.session = session
        self.receiver = receiver
        self.integration = integration

    @abc.abstractmethod
    async def send(self, notification: Notification) -> Receipt:
        """Deliver ``notification`` or raise a NotifierError subclass classifying the failure."""

    async def close(self) -> None:
        """Release anything the notifier holds beyond the shared session."""

    def __repr__(self) -> str:
        # Never the config: it holds secrets (SecretStr masks them, but URLs may not be).
        return f"<{type(self).__name__} {self.receiver}/{self.integration}>"


def classify_http_status(status: int) -> str:
    """Map an HTTP status to Alertmanager's failure reason."""
    if status == 429:
        return "rateLimited"
    if status in (401, 403):
        return "authError"
    if 400 <= status < 500:
        return "clientError"
    if status >= 500:
        return "serverError"
    return "other"


def http_status_error(status: int, message: str, retry_after: float | None) -> NotifierError:
    """The error for a non-2xx answer: 429 and 5xx retryable, any other status permanent."""
    reason = classify_http_status(status)
    if status == 429 or status >= 500:
        return RetryableNotifierError(reason, message, retry_after)
    return PermanentNotifierError(reason, message)
