"""What every HTTP notifier does the same way: one request and its answer, masking secrets,
Retry-After, TLS, credentials, aiohttp options.

Each follows Prometheus' http_config (HTTPClientConfig) as Alertmanager does, so a receiver's
``http_config`` means the same for PagerDuty, Slack and webhooks; ``tls_context`` also serves
SMTP's STARTTLS. ``request`` turns transport failures into classified errors without quoting
the URL (aiohttp puts it, often holding a key, in its messages); each provider's module
classifies its own answers, ``answer_error`` the plain HTTP ones.
"""

from __future__ import annotations

import base64
import email.utils
import json
import math
import ssl
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp

from alertrouter import __version__
from alertrouter.config.integrations import HTTPClientConfig, TLSConfig
from alertrouter.errors import NotifierError, PermanentNotifierError, RetryableNotifierError
from alertrouter.notifiers.base import http_status_error

__all__ = [
    "DEFAULT_TIMEOUT",
    "SNIPPET",
    "USER_AGENT",
    "Answer",
    "Masker",
    "answer_error",
    "authorization_header",
    "parse_retry_after",
    "request",
    "request_options",
    "tls_context",
]

USER_AGENT = f"alertrouter/{__version__}"
DEFAULT_TIMEOUT = 10.0
SNIPPET = 200  # characters of a failed answer kept in the error message
_READ_LIMIT = 64 * 1024  # a provider's answer is small; never read a huge error page whole

_TLS_VERSIONS = {
    "TLS10": ssl.TLSVersion.TLSv1,
    "TLS11": ssl.TLSVersion.TLSv1_1,
    "TLS12": ssl.TLSVersion.TLSv1_2,
    "TLS13": ssl.TLSVersion.TLSv1_3,
}  # Prometheus' names


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or an HTTP date), at least 0.

    None when absent or unreadable (including infinite or NaN numbers).
    """
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return max(0.0, seconds) if math.isfinite(seconds) else None


class _ServerNameContext(ssl.SSLContext):
    """A client context that checks the certificate against ``server_name``, not the host."""

    server_name: str

    def wrap_bio(
        self,
        incoming: ssl.MemoryBIO,
        outgoing: ssl.MemoryBIO,
        server_side: bool = False,
        server_hostname: str | bytes | None = None,
        session: ssl.SSLSession | None = None,
    ) -> ssl.SSLObject:
        return super().wrap_bio(incoming, outgoing, server_side, self.server_name, session)


def tls_context(config: TLSConfig | None) -> ssl.SSLContext:
    """A client SSLContext from Prometheus' tls_config (system roots unless ``ca_file``).

    ``server_name`` replaces the host in SNI and the certificate check, whatever the client
    (aiohttp, slack_sdk, aiosmtplib). Unusable files or settings are a permanent failure.
    """
    config = config or TLSConfig()
    context: ssl.SSLContext
    if config.server_name:
        context = _ServerNameContext(ssl.PROTOCOL_TLS_CLIENT)
        context.server_name = config.server_name
    else:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if bool(config.cert_file) != bool(config.key_file):
        raise PermanentNotifierError(
            "other", "tls_config: cert_file and key_file must be given together"
        )
    try:
        if config.ca_file:
            context.load_verify_locations(cafile=config.ca_file)
        else:
            context.load_default_certs()
        if config.cert_file and config.key_file:
            context.load_cert_chain(config.cert_file, config.key_file)
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise PermanentNotifierError("other", f"tls_config: cannot load files: {reason}") from None
    if config.min_version:
        version = _TLS_VERSIONS.get(config.min_version.upper())
        if version is None:
            raise PermanentNotifierError(
                "other", f"tls_config: unknown min_version {config.min_version}"
            )
        context.minimum_version = version
    if config.insecure_skip_verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def authorization_header(http: HTTPClientConfig) -> str | None:
    """The Authorization header value http_config asks for (bearer, typed or basic), or None."""
    if http.bearer_token is not None:
        return f"Bearer {http.bearer_token.get_secret_value()}"
    if http.authorization is not None and http.authorization.credentials is not None:
        kind = http.authorization.type or "Bearer"
        return f"{kind} {http.authorization.credentials.get_secret_value()}"
    if http.basic_auth is not None:
        password = http.basic_auth.password
        pair = f"{http.basic_auth.username}:{password.get_secret_value() if password else ''}"
        return "Basic " + base64.b64encode(pair.encode()).decode("ascii")  # UTF-8, as Go
    return None


def request_options(http: HTTPClientConfig) -> dict[str, Any]:
    """Keyword arguments for an aiohttp JSON POST honouring ``http``.

    Headers (Content-Type, User-Agent, Authorization), proxy, TLS and redirects. Build it once
    per notifier: the SSLContext loads its files each time.
    """
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    authorization = authorization_header(http)
    if authorization is not None:
        headers["Authorization"] = authorization
    return {
        "headers": headers,
        "proxy": http.proxy_url or None,
        "ssl": tls_context(http.tls_config) if http.tls_config is not None else True,
        "allow_redirects": http.follow_redirects,
    }


class Masker:
    """Replaces every secret (URLs, their path segments, credentials) in a text by ``marker``."""

    def __init__(
        self,
        urls: Iterable[str] = (),
        values: Iterable[str | None] = (),
        marker: str = "<redacted>",
    ) -> None:
        self.marker = marker
        secrets: set[str] = set()
        for url in urls:
            secrets.add(url)
            rest = url.partition("://")[2]
            path = rest[rest.find("/") :] if "/" in rest else ""
            if len(path) > 1:
                secrets.add(path)
                # A provider may echo any piece of a secret path (tokens are URL segments).
                secrets.update(s for s in path.split("/") if len(s) >= 8)
        for value in values:
            if value:
                secrets.add(value)
                if " " in value:  # "Bearer x": the credential alone too
                    secrets.add(value.partition(" ")[2])
        # Longest first, so a secret containing another is replaced whole.
        self._secrets = sorted((s for s in secrets if len(s) > 1), key=len, reverse=True)

    @classmethod
    def for_http(cls, urls: Iterable[str], http: HTTPClientConfig, *values: str | None) -> Masker:
        """The masker of ``urls``, ``http_config``'s credentials and ``values``."""
        password = None
        if http.basic_auth is not None and http.basic_auth.password is not None:
            password = http.basic_auth.password.get_secret_value()
        return cls(urls, (authorization_header(http), password, *values))

    def add(self, secret: str) -> None:
        """Mask ``secret`` too from now on (a token the provider handed out)."""
        if len(secret) > 1 and secret not in self._secrets:
            self._secrets = sorted([*self._secrets, secret], key=len, reverse=True)

    def __call__(self, text: str) -> str:
        """``text`` with every secret replaced."""
        for secret in self._secrets:
            text = text.replace(secret, self.marker)
        return text


@dataclass(frozen=True, slots=True)
class Answer:
    """A provider's answer: status, the start of its body, Retry-After, and the time taken."""

    status: int
    reason: str
    text: str
    retry_after: float | None
    duration: float
    headers: Mapping[str, str] = field(default_factory=dict)  # names lower-cased

    @property
    def ok(self) -> bool:
        """A 2xx answer."""
        return 200 <= self.status < 300

    @property
    def line(self) -> str:
        """``429 Too Many Requests``."""
        return f"{self.status} {self.reason}".strip()

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.text)
        except ValueError:
            return None

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object; empty when it is not one."""
        found = self.json()
        return found if isinstance(found, dict) else {}


async def request(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    provider: str,
    timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 -- aiohttp's own per-request timeout
    **options: Any,
) -> Answer:
    """Send one request (``options`` as aiohttp takes them) and read the start of its answer.

    Transport failures raise: a timeout or refused connection is retryable, a bad certificate
    or URL permanent. No message quotes the URL.
    """
    started = time.monotonic()
    try:
        async with session.request(
            method, url, timeout=aiohttp.ClientTimeout(total=timeout), **options
        ) as response:
            head = await response.content.read(_READ_LIMIT)
            return Answer(
                status=response.status,
                reason=response.reason or "",
                text=head.decode(response.charset or "utf-8", errors="replace"),
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
                duration=time.monotonic() - started,
                headers={k.lower(): v for k, v in response.headers.items()},
            )
    except TimeoutError:
        raise RetryableNotifierError(
            "timeout", f"{provider}: no answer within {timeout:g}s"
        ) from None
    except aiohttp.ClientConnectorCertificateError as exc:
        detail = getattr(exc.certificate_error, "verify_message", "verification failed")
        raise PermanentNotifierError("other", f"{provider}: TLS certificate: {detail}") from None
    except aiohttp.ClientConnectorError as exc:
        raise RetryableNotifierError(
            "other", f"{provider}: cannot connect: {exc.os_error.strerror or 'failed'}"
        ) from None
    except aiohttp.InvalidURL:
        raise PermanentNotifierError("other", f"{provider}: invalid url") from None
    except aiohttp.ClientError as exc:
        raise RetryableNotifierError("other", f"{provider}: {type(exc).__name__}") from None


def answer_error(
    provider: str,
    answer: Answer,
    mask: Masker,
    *,
    detail: str = "",
    retry_after: float | None = None,
) -> NotifierError:
    """The error of a non-2xx answer: 429 and 5xx retryable, other statuses permanent.

    Quotes ``detail`` (default: the start of the body), masked; ``retry_after`` defaults to
    the answer's ``Retry-After``.
    """
    message = f"{provider} answered {answer.line}"
    snippet = mask((detail or answer.text).strip())[:SNIPPET]  # masked whole: no secret cut
    if snippet:
        message += f": {snippet}"
    wait = retry_after if retry_after is not None else answer.retry_after
    return http_status_error(answer.status, message, wait)
