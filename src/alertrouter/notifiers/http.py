"""What every HTTP notifier does the same way: Retry-After, TLS, credentials, aiohttp options.

Each follows Prometheus' http_config (HTTPClientConfig) as Alertmanager does, so a receiver's
``http_config`` means the same for PagerDuty, Slack and webhooks; ``tls_context`` also serves
SMTP's STARTTLS.
"""

from __future__ import annotations

import base64
import email.utils
import math
import ssl
from datetime import UTC, datetime
from typing import Any

from alertrouter import __version__
from alertrouter.config.integrations import HTTPClientConfig, TLSConfig
from alertrouter.errors import PermanentNotifierError

__all__ = [
    "USER_AGENT",
    "authorization_header",
    "parse_retry_after",
    "request_options",
    "tls_context",
]

USER_AGENT = f"alertrouter/{__version__}"

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
