"""Email over SMTP (aiosmtplib): multipart text and HTML, Alertmanager-style subjects.

The SMTP session follows Alertmanager's: port 465 is implicit TLS, otherwise STARTTLS when
``require_tls``; AUTH only when ``auth_username`` is set and the server offers AUTH.
"""

from __future__ import annotations

import base64
import email.policy
import functools
import ssl
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid, parseaddr
from functools import lru_cache
from typing import Any, ClassVar

import aiohttp
import aiosmtplib
from jinja2 import Environment, PackageLoader, StrictUndefined
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_core import PydanticCustomError

from alertrouter.config.integrations import Duration, IntegrationConfig, TLSConfig
from alertrouter.config.templating import GoTemplate
from alertrouter.errors import NotifierError, PermanentNotifierError, RetryableNotifierError
from alertrouter.notifiers import render
from alertrouter.notifiers.base import Notification, Notifier, Receipt
from alertrouter.notifiers.http import Masker, tls_context
from alertrouter.notifiers.templating import FieldRenderer
from alertrouter.payload import ZERO_TIME

__all__ = [
    "EmailConfig",
    "EmailNotifier",
    "build_message",
    "classify_smtp_error",
    "email_context",
]

MAX_LISTED_ALERTS = 1000  # a storm digest lists this many alerts; its counts cover them all
_AUTH_CODES = frozenset({530, 534, 535, 538})  # RFC 4954: authentication required / failed
# CRLF lines, and 7-bit clean so no server needs 8BITMIME: non-ASCII text goes quoted-printable.
_POLICY = email.policy.SMTP.clone(cte_type="7bit")


class EmailConfig(IntegrationConfig):
    """``email_configs`` entry, with Alertmanager's field names and global SMTP defaults.

    ``to``, ``from``, ``headers`` values, ``text`` and ``html`` are Go templates over
    Alertmanager's data (``html`` as html/template); ``to`` may list several addresses,
    comma-separated. Header names are canonicalised as Go's (``subject`` is ``Subject``).
    """

    to: GoTemplate = ""
    from_: GoTemplate = Field("", alias="from")
    smarthost: str = ""
    hello: str = "localhost"
    auth_username: str | None = None
    auth_password: SecretStr | None = None
    auth_secret: SecretStr | None = None
    auth_identity: str | None = None
    require_tls: bool = True
    tls_config: TLSConfig | None = None
    headers: dict[str, GoTemplate] = Field(default_factory=dict)
    html: GoTemplate | None = None
    text: GoTemplate | None = None
    # RFC 5321 4.5.3.2.6: a client waits 10 minutes for the reply to the final "."; giving up
    # sooner and resending while the relay still delivers is how one alert became 7 emails.
    data_timeout: Duration = timedelta(minutes=10)

    default_send_resolved: ClassVar[bool] = False
    global_defaults: ClassVar[dict[str, str]] = {
        "from": "smtp_from",
        "smarthost": "smtp_smarthost",
        "hello": "smtp_hello",
        "auth_username": "smtp_auth_username",
        "auth_password": "smtp_auth_password",
        "auth_password_file": "smtp_auth_password_file",
        "auth_identity": "smtp_auth_identity",
        "require_tls": "smtp_require_tls",
    }
    secret_files: ClassVar[dict[str, str]] = {"auth_password_file": "auth_password"}

    @field_validator("smarthost")
    @classmethod
    def _host_port(cls, value: str) -> str:
        if value:
            host, sep, port = value.rpartition(":")
            if not sep or not port.isdigit() or not host:
                raise PydanticCustomError(
                    "smarthost", 'address "{value}": want host:port', {"value": value}
                )
        return value

    @field_validator("headers")
    @classmethod
    def _canonical_headers(cls, value: dict[str, str]) -> dict[str, str]:
        canonical: dict[str, str] = {}
        for name, template in value.items():
            key = canonical_header(name)
            if key in canonical:
                raise PydanticCustomError(
                    "email", 'duplicate header "{name}" in email config', {"name": key}
                )
            canonical[key] = template
        return canonical

    @field_validator("to")
    @classmethod
    def _addresses(cls, value: str) -> str:
        if "{{" in value:
            return value  # checked once rendered, at send time
        for _, address in getaddresses([value]):
            if "@" not in address:
                raise PydanticCustomError(
                    "email", 'invalid to address "{value}"', {"value": address or value}
                )
        return value

    @model_validator(mode="after")
    def _required(self) -> EmailConfig:
        if not self.to:
            raise PydanticCustomError("email", "missing to address in email config")
        if not self.smarthost:
            raise PydanticCustomError("email", "no smarthost set (nor global smtp_smarthost)")
        if not self.from_:
            raise PydanticCustomError("email", "no from address set (nor global smtp_from)")
        return self

    @property
    def host_port(self) -> tuple[str, int]:
        """The smarthost split into host and port."""
        host, _, port = self.smarthost.rpartition(":")
        return host.strip("[]"), int(port)

    @property
    def recipients(self) -> list[str]:
        """The envelope recipients: every address of ``to`` (as written, not rendered)."""
        return [address for _, address in getaddresses([self.to]) if address]


def canonical_header(name: str) -> str:
    """Go's CanonicalMIMEHeaderKey: ``content-type`` -> ``Content-Type``."""
    return "-".join(part[:1].upper() + part[1:].lower() for part in name.split("-"))


@lru_cache(maxsize=1)
def _templates() -> Environment:
    # Our own templates, shipped in the package: trusted, so not sandboxed; HTML autoescaped.
    return Environment(
        loader=PackageLoader("alertrouter.notifiers", "templates"),
        autoescape=lambda name: bool(name and name.endswith(".html.j2")),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _show_time(value: Any) -> str:
    """``2026-11-28 07:10:59 UTC`` from an RFC 3339 timestamp; "" for Go's zero time."""
    text = str(value or "")
    if not text or text == ZERO_TIME:
        return ""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return text
    return parsed.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _link(value: Any) -> str:
    """``value`` if it is an http(s) URL, else "" (an alert must not smuggle javascript: links)."""
    text = str(value or "")
    return text if text.lower().startswith(("http://", "https://")) else ""


def _alert_item(alert: Mapping[str, Any]) -> dict[str, Any]:
    labels: Mapping[str, str] = alert.get("labels") or {}
    annotations: Mapping[str, str] = alert.get("annotations") or {}
    status = str(alert.get("status", "firing"))
    return {
        "status": status,
        "alertname": labels.get("alertname", ""),
        "severity": labels.get("severity", ""),
        "summary": render.alert_summary(alert),
        "labels": [(k, labels[k]) for k in sorted(labels)],
        "annotations": [(k, annotations[k]) for k in sorted(annotations)],
        "starts": _show_time(alert.get("startsAt")),
        "ends": _show_time(alert.get("endsAt")) if status != "firing" else "",
        "source": str(alert.get("generatorURL") or ""),
        "source_href": _link(alert.get("generatorURL")),
        "fingerprint": str(alert.get("fingerprint") or ""),
    }


def email_context(
    notification: Notification, base: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """What the shipped templates see: render.template_context plus one item per alert.

    ``base`` is that template_context when already built; it is copied, not changed.
    """
    context = dict(base) if base is not None else render.template_context(notification)
    ordered = render.sort_alerts(notification.alerts)
    items = [_alert_item(a) for a in ordered[:MAX_LISTED_ALERTS]]
    context.update(
        items=items,
        hidden=len(ordered) - len(items),
        covered=notification.covered,
        digest_lines=render.digest_lines(notification.alerts) if notification.digest else [],
        external_href=_link(context.get("externalURL")),
    )
    return context


def _header_value(value: str) -> str:
    # A header is one line: a newline from an alert label must not start a new header.
    return " ".join(value.split())


def build_message(
    config: EmailConfig, notification: Notification, fields: FieldRenderer
) -> EmailMessage:
    """The multipart/alternative message (text, then HTML) for ``notification``.

    Fields the config templates are rendered by ``fields`` (``html`` with html/template's
    escaping); ``text`` and ``html`` left unset are our own shipped templates.
    """
    full: dict[str, Any] | None = None

    def shipped(name: str) -> str:
        nonlocal full
        # The per-alert items cost most: build them only for a shipped template.
        if full is None:
            full = email_context(notification)
        return str(_templates().get_template(name).render(**full))

    text = fields.text("text", config.text, lambda: shipped("email.txt.j2"))
    html = fields.html("html", config.html, lambda: shipped("email.html.j2"))
    sender = fields.text("from", config.from_)
    _, address = parseaddr(sender)
    domain = address.rpartition("@")[2] or "alertrouter.invalid"
    message = EmailMessage(policy=_POLICY)
    text, html = fit_body(text, html)
    message["Subject"] = fit_subject(_header_value(render.notification_title(notification)))
    message["From"] = _header_value(sender)
    message["To"] = _header_value(fields.text("to", config.to))
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=domain)
    for name, template in config.headers.items():
        value = _header_value(fields.text(f"headers.{name}", template))
        if name == "Subject":
            if not value:
                continue  # a subject template that failed or rendered empty: keep ours
            value = fit_subject(value)
        del message[name]
        message[name] = value
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


# -- size bounds (the hardening change; kept apart from the rendering above) -----------------
MAX_SUBJECT_CHARS = 998  # RFC 5322 2.1.1: a line is at most 998 characters
MAX_PART_BYTES = 300_000  # per part, UTF-8: base64 makes 400 KB; both parts stay under 1 MB


def fit_subject(subject: str) -> str:
    """``subject`` cut to ``MAX_SUBJECT_CHARS`` with a marker."""
    return render.truncate(subject, MAX_SUBJECT_CHARS)


def fit_body(text: str, html: str) -> tuple[str, str]:
    """Text and HTML parts each cut to ``MAX_PART_BYTES`` of UTF-8, with a marker.

    Relays refuse big messages (Postfix: 10 MB by default, many far less), and one alert
    with a 1 MB label would make a 10 MB email: a refused email is a lost page.
    """
    return (
        _fit_bytes(text, "\n\n[message truncated by alertrouter: {} bytes left out]\n"),
        _fit_bytes(html, "\n<p><em>message truncated by alertrouter: {} bytes left out</em></p>\n"),
    )


def _fit_bytes(part: str, marker: str) -> str:
    encoded = part.encode("utf-8", "surrogateescape")
    if len(encoded) <= MAX_PART_BYTES:
        return part
    kept = encoded[:MAX_PART_BYTES].decode("utf-8", "ignore")  # never half a character
    return kept + marker.format(len(encoded) - len(kept.encode("utf-8", "surrogateescape")))


class EmailNotifier(Notifier[EmailConfig]):
    """Sends each notification as one email to every address of ``to``."""

    type_name: ClassVar[str] = "email"
    config_model: ClassVar[type[IntegrationConfig]] = EmailConfig
    default_rate_per_second: ClassVar[float] = 0.5
    default_burst: ClassVar[int] = 5
    max_message_bytes: ClassVar[int] = 10_240_000  # Postfix's default message_size_limit
    coalesce: ClassVar[bool] = True

    request_timeout: float = 10.0  # seconds, per SMTP command

    def __init__(
        self,
        config: EmailConfig,
        session: aiohttp.ClientSession,
        **options: Any,
    ) -> None:
        super().__init__(config, session, **options)
        self._tls: ssl.SSLContext | None = None

    @functools.cached_property
    def _mask(self) -> Masker:
        values = [self.config.auth_password, self.config.auth_secret]
        return Masker(values=[v.get_secret_value() for v in values if v is not None])

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            self._tls = tls_context(self.config.tls_config)
        return self._tls

    async def send(self, notification: Notification) -> Receipt:
        """Build the message and hand it to the smarthost; the DATA reply is the receipt."""
        started = time.monotonic()
        message = build_message(self.config, notification, FieldRenderer(self, notification))
        _, sender = parseaddr(str(message["From"]))
        recipients = [address for _, address in getaddresses([str(message["To"])]) if address]
        if not recipients:
            raise PermanentNotifierError("clientError", "no recipient address in to")
        response = await self._deliver(sender, recipients, message.as_bytes())
        return Receipt(
            provider_status=f"{response.code} {response.message}",
            message_id=str(message["Message-ID"]),
            duration=time.monotonic() - started,
            detail={"recipients": len(recipients)},
        )

    async def _deliver(
        self, sender: str, recipients: list[str], data: bytes
    ) -> aiosmtplib.SMTPResponse:
        host, port = self.config.host_port
        implicit_tls = port == 465
        smtp = aiosmtplib.SMTP(
            hostname=host,
            port=port,
            local_hostname=self.config.hello,
            timeout=self.request_timeout,
            use_tls=implicit_tls,
            start_tls=False,
            tls_context=self._tls_context() if implicit_tls else None,
        )
        accepted = False
        try:
            await smtp.connect()
            await smtp.ehlo()
            if self.config.require_tls and not implicit_tls:
                if not smtp.supports_extension("starttls"):
                    raise PermanentNotifierError(
                        "other",
                        f"require_tls is true (the default) but {self.config.smarthost} "
                        "does not advertise the STARTTLS extension",
                    )
                await smtp.starttls(tls_context=self._tls_context(), server_hostname=host)
                await smtp.ehlo()
            if self.config.auth_username and smtp.supports_extension("auth"):
                await self._authenticate(smtp)
            await smtp.mail(sender)
            for recipient in recipients:
                await smtp.rcpt(recipient)
            response = await smtp.data(data, timeout=self.config.data_timeout.total_seconds())
            accepted = True
        except NotifierError:
            raise
        except (aiosmtplib.SMTPException, OSError, ssl.SSLError) as exc:
            raise _masked(classify_smtp_error(exc), self._mask) from None
        finally:
            # QUIT politely after success; after a failure (or cancellation) just hang up.
            if accepted:
                await _quit(smtp)
            else:
                smtp.close()
        return response

    async def _authenticate(self, smtp: aiosmtplib.SMTP) -> None:
        """Pick a mechanism as Alertmanager does: the server's order, what our secrets allow."""
        config = self.config
        username = config.auth_username or ""
        password = config.auth_password.get_secret_value() if config.auth_password else ""
        secret = config.auth_secret.get_secret_value() if config.auth_secret else ""
        offered = smtp.esmtp_extensions.get("auth", "").upper().split()
        for mechanism in offered:
            if mechanism == "CRAM-MD5" and secret:
                await smtp.auth_crammd5(username, secret)
                return
            if mechanism == "PLAIN" and password:
                identity = config.auth_identity or ""
                token = f"{identity}\0{username}\0{password}".encode()
                reply = await smtp.execute_command(b"AUTH", b"PLAIN", base64.b64encode(token))
                if reply.code != 235:
                    raise aiosmtplib.SMTPAuthenticationError(reply.code, reply.message)
                return
            if mechanism == "LOGIN" and password:
                await smtp.auth_login(username, password)
                return
        raise PermanentNotifierError(
            "authError",
            f"no usable auth mechanism: server offers {' '.join(offered) or 'none'}",
        )


async def _quit(smtp: aiosmtplib.SMTP) -> None:
    try:
        await smtp.quit(timeout=1.0)
    except (aiosmtplib.SMTPException, OSError):
        smtp.close()  # the message (if any) is already accepted; QUIT is a courtesy


def _masked(error: NotifierError, mask: Masker) -> NotifierError:
    """The same error with any secret a server quoted back replaced."""
    text = mask(str(error))
    if text == str(error):
        return error
    if isinstance(error, RetryableNotifierError):
        return RetryableNotifierError(error.reason, text, error.retry_after)
    return PermanentNotifierError(error.reason, text)


def classify_smtp_error(exc: BaseException) -> NotifierError:
    """Map an aiosmtplib/socket/TLS failure to a retryable or permanent NotifierError."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        exc = exc.recipients[0]
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        reply = f"SMTP {exc.code} {exc.message}".strip()
        if 400 <= exc.code < 500:
            return RetryableNotifierError("serverError", reply)
        if exc.code in _AUTH_CODES or isinstance(exc, aiosmtplib.SMTPAuthenticationError):
            return PermanentNotifierError("authError", reply)
        return PermanentNotifierError("clientError", reply)
    if isinstance(exc, TimeoutError):
        return RetryableNotifierError("timeout", f"SMTP timeout: {exc}")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return PermanentNotifierError("other", f"TLS certificate: {exc.verify_message}")
    if isinstance(exc, aiosmtplib.SMTPConnectError | aiosmtplib.SMTPServerDisconnected):
        return RetryableNotifierError("other", f"SMTP connection: {exc}")
    if isinstance(exc, OSError | ssl.SSLError):
        return RetryableNotifierError("other", f"SMTP connection: {type(exc).__name__}: {exc}")
    return PermanentNotifierError("other", f"SMTP: {exc}")
