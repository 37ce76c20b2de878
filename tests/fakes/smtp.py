"""A real SMTP server (aiosmtpd) on a free 127.0.0.1 port that records what it accepts.

    async with FakeSMTP(auth=("alice", "s3cret"), starttls=True) as smtp:
        config = {"smarthost": smtp.smarthost, "tls_config": {"ca_file": smtp.ca_file}, ...}
        ...
        smtp.fail_next("451 4.3.0 try later")          # the next DATA gets this reply
        smtp.fail_next("550 5.1.1 no such user", on="RCPT")
        smtp.messages[0]["Subject"]                      # parsed EmailMessage objects

``reply_delay`` makes the server take that many seconds to answer the final "." of DATA,
after it has taken the message (a slow relay: the mail goes out whatever the client does).
``starttls`` uses a throwaway CA (trustme) whose PEM is at ``ca_file``; the server certificate
names ``localhost``, ``127.0.0.1`` and ``mail.test`` and the server refuses mail before
STARTTLS. ``auth`` makes AUTH mandatory before MAIL (over TLS when ``starttls``), offering
``auth_mechanisms`` (LOGIN and PLAIN by default, in that order).
"""

from __future__ import annotations

import asyncio
import email.policy
import ssl
import tempfile
import threading
from collections import deque
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any, Literal

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from processes import free_port

__all__ = ["FakeSMTP", "ReceivedMail"]

Command = Literal["MAIL", "RCPT", "DATA"]


@dataclass(frozen=True, slots=True)
class ReceivedMail:
    """One accepted message with its envelope and session facts."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    helo: str
    tls: bool
    auth_login: str | None
    message: EmailMessage


class _Handler:
    """aiosmtpd hooks; they run on the controller's thread."""

    def __init__(self, fake: FakeSMTP) -> None:
        self.fake = fake

    def _scripted(self, command: Command) -> str | None:
        with self.fake._lock:
            for index, (on, reply) in enumerate(self.fake._script):
                if on == command:
                    del self.fake._script[index]
                    return reply
        return None

    # aiosmtpd's hook names (tests/** ignores N802).
    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if self.fake.auth is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        scripted = self._scripted("MAIL")
        if scripted is not None:
            return scripted
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        scripted = self._scripted("RCPT")
        if scripted is not None:
            return scripted
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        scripted = self._scripted("DATA")
        if scripted is not None:
            return scripted
        data = bytes(envelope.original_content or b"")
        message = BytesParser(policy=email.policy.default).parsebytes(data)
        assert isinstance(message, EmailMessage)
        auth = session.auth_data
        login = auth.login.decode() if isinstance(auth, LoginPassword) else None
        with self.fake._lock:
            self.fake.received.append(
                ReceivedMail(
                    mail_from=str(envelope.mail_from),
                    rcpt_tos=tuple(envelope.rcpt_tos),
                    data=data,
                    helo=str(session.host_name),
                    tls=session.ssl is not None,
                    auth_login=login,
                    message=message,
                )
            )
            queued = len(self.fake.received)
        if self.fake.reply_delay:
            await asyncio.sleep(self.fake.reply_delay)  # the relay's pace, not the test's
        return f"250 2.0.0 Ok: queued as FAKE{queued}"


class FakeSMTP:
    """An SMTP server on 127.0.0.1; use as ``async with FakeSMTP(...) as smtp``."""

    def __init__(
        self,
        *,
        auth: tuple[str, str] | None = None,
        auth_mechanisms: tuple[str, ...] = ("LOGIN", "PLAIN"),
        starttls: bool = False,
        reply_delay: float = 0.0,
    ) -> None:
        self.reply_delay = reply_delay
        self.auth = auth
        self.auth_mechanisms = auth_mechanisms
        self.starttls = starttls
        self.received: list[ReceivedMail] = []
        self.auth_attempts: list[tuple[str, str, bool]] = []  # mechanism, login, success
        self.port = 0
        self.ca_file: str | None = None
        self._script: deque[tuple[Command, str]] = deque()
        self._lock = threading.Lock()
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._controller: Controller | None = None

    @property
    def host(self) -> str:
        """Always 127.0.0.1."""
        return "127.0.0.1"

    @property
    def smarthost(self) -> str:
        """``127.0.0.1:<port>``, for ``smarthost``."""
        return f"{self.host}:{self.port}"

    @property
    def messages(self) -> list[EmailMessage]:
        """The accepted messages, parsed."""
        return [mail.message for mail in self.received]

    def fail_next(self, reply: str, *, on: Command = "DATA") -> None:
        """Answer the next ``on`` command (MAIL, RCPT or DATA) with ``reply``, e.g. ``451 ...``."""
        with self._lock:
            self._script.append((on, reply))

    def _authenticate(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        mechanism: str,
        auth_data: Any,
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        assert self.auth is not None
        login, password = auth_data.login.decode(), auth_data.password.decode()
        ok = (login, password) == self.auth
        self.auth_attempts.append((mechanism, login, ok))
        # handled=False: aiosmtpd answers "535 5.7.8 Authentication credentials invalid".
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    def _server_tls(self) -> ssl.SSLContext:
        self._tmp = tempfile.TemporaryDirectory(prefix="fake-smtp-")
        ca = trustme.CA()
        cert = ca.issue_cert("localhost", "127.0.0.1", "mail.test")
        ca_path = Path(self._tmp.name) / "ca.pem"
        ca.cert_pem.write_to_path(str(ca_path))
        self.ca_file = str(ca_path)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(context)
        return context

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1."""
        kwargs: dict[str, Any] = {}
        if self.starttls:
            kwargs.update(tls_context=self._server_tls(), require_starttls=True)
        if self.auth is not None:
            # MAIL without AUTH is refused by handle_MAIL (aiosmtpd's auth_required would
            # warn about plaintext AUTH, and warnings are errors here).
            kwargs.update(
                authenticator=self._authenticate,
                auth_require_tls=self.starttls,
                auth_exclude_mechanism=[
                    m for m in ("LOGIN", "PLAIN") if m not in self.auth_mechanisms
                ],
            )
        self.port = free_port()
        self._controller = Controller(
            _Handler(self),
            hostname=self.host,
            port=self.port,
            server_hostname="fake-smtp.test",
            **kwargs,
        )
        await asyncio.to_thread(self._controller.start)

    async def stop(self) -> None:
        """Stop listening and delete the test certificates."""
        if self._controller is not None:
            await asyncio.to_thread(self._controller.stop)
            self._controller = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    async def __aenter__(self) -> FakeSMTP:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
