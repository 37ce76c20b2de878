"""One HTTP exchange with a provider, as the single-request notifiers make it.

``Exchange.request`` sends, reads a bounded answer and turns network failures into classified
errors; ``Exchange.failure`` turns a non-2xx answer into one. Every message passes through
``scrub``, so a provider echoing a key, token or URL back never puts it in a log or error.
Also the helpers those notifiers share: cutting to a provider's byte limit, and the group key
hash Alertmanager uses as an entity, dedup or tag id.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from alertrouter.errors import NotifierError, PermanentNotifierError, RetryableNotifierError
from alertrouter.notifiers.base import Notification, http_status_error
from alertrouter.notifiers.http import parse_retry_after

__all__ = ["Answer", "Exchange", "group_key_hash", "truncate_bytes"]

_SNIPPET = 200  # characters of a failed answer kept in the error message
_READ_LIMIT = 64 * 1024  # a provider's answer is small JSON; never read a huge error page


@dataclass(frozen=True, slots=True)
class Answer:
    """What a provider answered: status, headers and (the start of) the body as text."""

    status: int
    reason: str
    headers: Mapping[str, str]
    text: str

    @property
    def ok(self) -> bool:
        """A 2xx status."""
        return 200 <= self.status < 300

    def json(self) -> Any:
        """The body parsed as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.text)
        except ValueError:
            return None

    @property
    def retry_after(self) -> float | None:
        """The ``Retry-After`` header in seconds, when given."""
        return parse_retry_after(self.headers.get("Retry-After"))


class Exchange:
    """Requests to one provider (named ``provider`` in messages) that never leak ``secrets``."""

    def __init__(self, provider: str, secrets: Iterable[str], timeout: float = 10.0) -> None:
        self.provider = provider
        self.timeout = timeout
        # Longest first, so a secret containing another is replaced whole.
        self._secrets = sorted({s for s in secrets if len(s) > 1}, key=len, reverse=True)

    def add_secret(self, secret: str) -> None:
        """Scrub ``secret`` too from now on (a token the provider handed out)."""
        if len(secret) > 1 and secret not in self._secrets:
            self._secrets = sorted([*self._secrets, secret], key=len, reverse=True)

    def scrub(self, text: str) -> str:
        """``text`` with every secret replaced by ``<redacted>``."""
        for secret in self._secrets:
            text = text.replace(secret, "<redacted>")
        return text

    async def request(
        self,
        session: aiohttp.ClientSession,
        method: str,
        url: str,
        **options: Any,
    ) -> Answer:
        """Send one request (``options`` as aiohttp takes them) and read its answer.

        Timeouts and refused or broken connections raise RetryableNotifierError, a bad
        certificate or URL PermanentNotifierError; messages never quote the URL.
        """
        try:
            async with session.request(
                method, url, timeout=aiohttp.ClientTimeout(total=self.timeout), **options
            ) as response:
                head = await response.content.read(_READ_LIMIT)
                return Answer(
                    response.status,
                    response.reason or "",
                    dict(response.headers),
                    head.decode(response.charset or "utf-8", errors="replace"),
                )
        except TimeoutError:
            raise RetryableNotifierError(
                "timeout", f"{self.provider}: no answer within {self.timeout:g}s"
            ) from None
        except aiohttp.ClientConnectorCertificateError as exc:
            detail = getattr(exc.certificate_error, "verify_message", "verification failed")
            raise PermanentNotifierError(
                "other", f"{self.provider}: TLS certificate: {detail}"
            ) from None
        except aiohttp.ClientConnectorError as exc:
            raise RetryableNotifierError(
                "other", f"{self.provider}: cannot connect: {exc.os_error.strerror or 'failed'}"
            ) from None
        except aiohttp.InvalidURL:
            raise PermanentNotifierError("other", f"{self.provider}: invalid url") from None
        except aiohttp.ClientError as exc:
            # Not str(exc): aiohttp puts the URL (often holding a key) in its messages.
            raise RetryableNotifierError(
                "other", f"{self.provider}: {type(exc).__name__}"
            ) from None

    def failure(
        self, answer: Answer, detail: str = "", retry_after: float | None = None
    ) -> NotifierError:
        """The error for a non-2xx answer: 429 and 5xx retryable, other statuses permanent.

        ``detail`` (default: the start of the body) is scrubbed; ``retry_after`` defaults to
        the answer's ``Retry-After``.
        """
        message = f"{self.provider} answered {answer.status} {answer.reason}".strip()
        snippet = self.scrub((detail or answer.text).strip()[:_SNIPPET])
        if snippet:
            message += f": {snippet}"
        wait = retry_after if retry_after is not None else answer.retry_after
        return http_status_error(answer.status, message, wait)

    def error(self, reason: str, message: str, *, retryable: bool) -> NotifierError:
        """A classified error with a scrubbed ``message`` (for a provider's own error codes)."""
        text = f"{self.provider}: {self.scrub(message.strip()[:_SNIPPET])}"
        if retryable:
            return RetryableNotifierError(reason, text)
        return PermanentNotifierError(reason, text)


def truncate_bytes(text: str, limit: int, marker: str = "…") -> tuple[str, bool]:
    """``text`` cut to at most ``limit`` UTF-8 bytes (never inside a character), ending with
    ``marker`` when cut; and whether it was cut."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text, False
    room = max(0, limit - len(marker.encode("utf-8")))
    return data[:room].decode("utf-8", errors="ignore") + marker, True


def group_key_hash(notification: Notification) -> str:
    """Alertmanager's ``key.Hash()``: sha256 hex of the webhook's ``groupKey``.

    Ids built from it (VictorOps ``entity_id``, SNS FIFO group ids) match the ones an
    Alertmanager receiver used for the same group, so a cut-over keeps incidents paired.
    """
    key = str(notification.group.get("groupKey") or "")
    return hashlib.sha256(key.encode("utf-8")).hexdigest()
