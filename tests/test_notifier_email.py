"""The email notifier against a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any

import aiohttp
import pytest
from pydantic import ValidationError

from alertrouter.errors import NotifierError, PermanentNotifierError, RetryableNotifierError
from alertrouter.notifiers.base import Notification
from alertrouter.notifiers.email import EmailConfig, EmailNotifier, build_message
from alertrouter.notifiers.render import digest_lines
from alertrouter.notifiers.templating import FieldRenderer
from fakes.smtp import FakeSMTP
from processes import free_port

PASSWORD = "smtp-pAsSwOrD-8c1f0e"
USER = "alertrouter"

MakeNotifier = Callable[..., EmailNotifier]


def make_alert(
    index: int,
    status: str = "firing",
    severity: str = "warning",
    summary: str | None = None,
    **labels: str,
) -> dict[str, Any]:
    """An Alertmanager v4 alert dict."""
    return {
        "status": status,
        "labels": {
            "alertname": "DiskAlmostFull",
            "severity": severity,
            "instance": f"db-{index}:9100",
            **labels,
        },
        "annotations": {
            "summary": summary or f"Disk on db-{index} is {80 + index}% full",
            "runbook_url": f"https://runbooks.example.com/disk-{index}",
        },
        "startsAt": f"2024-05-01T10:{index:02d}:00.123456789Z",
        "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2024-05-01T11:00:00Z",
        "generatorURL": f"http://prometheus:9090/graph?g0.expr=disk{index}&g0.tab=1",
        "fingerprint": f"{index:016x}",
    }


def notification(*alerts: dict[str, Any], digest: bool = False) -> Notification:
    """A notification with the group data Alertmanager sent."""
    return Notification(
        "email-infra",
        "email[0]",
        alerts,
        {
            "groupLabels": {"alertname": "DiskAlmostFull"},
            "commonLabels": {"alertname": "DiskAlmostFull"},
            "externalURL": "http://alertmanager:9093",
        },
        digest=digest,
    )


THREE = notification(make_alert(1), make_alert(2, severity="critical"), make_alert(3, "resolved"))


def parts(message: EmailMessage) -> tuple[str, str]:
    """The text and HTML bodies of a multipart/alternative message."""
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    assert html is not None
    return str(text.get_content()), str(html.get_content())


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """The shared HTTP session (unused by email, part of the notifier contract)."""
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
async def smtp() -> AsyncIterator[FakeSMTP]:
    """A plain SMTP server without STARTTLS or AUTH."""
    async with FakeSMTP() as fake:
        yield fake


@pytest.fixture
def make_notifier(session: aiohttp.ClientSession) -> MakeNotifier:
    """Build an EmailNotifier pointed at ``server`` from extra config fields."""

    def make(server: FakeSMTP | None = None, **fields: Any) -> EmailNotifier:
        raw: dict[str, Any] = {
            "to": "oncall@example.com, Infra Team <infra@example.com>",
            "from": "Alert Router <alertrouter@example.com>",
            "smarthost": server.smarthost if server else f"127.0.0.1:{free_port()}",
            "hello": "router.example.com",
        }
        if server is not None and server.ca_file:
            raw["tls_config"] = {"ca_file": server.ca_file}
        if server is not None and not server.starttls:
            raw["require_tls"] = False
        raw.update(fields)
        config = EmailConfig.model_validate(raw)
        return EmailNotifier(config, session, receiver="email-infra", integration="email[0]")

    return make


async def test_message_lists_every_alert_in_both_parts(
    smtp: FakeSMTP, make_notifier: MakeNotifier
) -> None:
    """Text and HTML parts each carry every alert's status, name, summary, labels and link."""
    await make_notifier(smtp).send(THREE)
    (message,) = smtp.messages
    assert message.get_content_type() == "multipart/alternative"
    text, html = parts(message)
    for body in (text, html):
        for index in (1, 2, 3):
            assert f"Disk on db-{index} is {80 + index}% full" in body
            assert f"db-{index}:9100" in body
            assert f"https://runbooks.example.com/disk-{index}" in body
        assert "FIRING" in body
        assert "RESOLVED" in body
        assert "2024-05-01 10:01:00 UTC" in body
        assert "2024-05-01 11:00:00 UTC" in body  # the resolved alert's end
    assert "http://prometheus:9090/graph?g0.expr=disk1&g0.tab=1" in text
    assert 'href="http://prometheus:9090/graph?g0.expr=disk1&amp;g0.tab=1"' in html
    # Most severe first.
    assert text.index("db-2:9100") < text.index("db-1:9100") < text.index("db-3:9100")


async def test_headers(smtp: FakeSMTP, make_notifier: MakeNotifier) -> None:
    """Subject, From, To, Date and Message-ID are set; the envelope has every recipient."""
    receipt = await make_notifier(smtp).send(THREE)
    (mail,) = smtp.received
    message = mail.message
    assert message["Subject"] == "[FIRING:2] DiskAlmostFull"
    assert message["From"] == "Alert Router <alertrouter@example.com>"
    assert [a for _, a in getaddresses([str(message["To"])])] == [
        "oncall@example.com",
        "infra@example.com",
    ]
    assert parsedate_to_datetime(str(message["Date"])).tzinfo is not None
    assert message["Message-ID"] == receipt.message_id
    assert str(receipt.message_id).endswith("@example.com>")
    assert mail.mail_from == "alertrouter@example.com"
    assert mail.rcpt_tos == ("oncall@example.com", "infra@example.com")
    assert mail.helo == "router.example.com"
    assert receipt.provider_status.startswith("250 ")


async def test_resolved_subject(smtp: FakeSMTP, make_notifier: MakeNotifier) -> None:
    """A notification of resolved alerts only is titled ``[RESOLVED]``."""
    await make_notifier(smtp).send(notification(make_alert(1, "resolved")))
    assert smtp.messages[0]["Subject"].startswith("[RESOLVED] DiskAlmostFull")


async def test_configured_headers_are_templates(
    smtp: FakeSMTP, make_notifier: MakeNotifier
) -> None:
    """``headers`` add headers and may override Subject; their values are templates."""
    notifier = make_notifier(
        smtp,
        headers={
            "Subject": "{{ .Status | toUpper }}: {{ .Alerts | len }} disk alerts",
            "X-Team": "storage",
            "Reply-To": "noc@example.com",
        },
    )
    await notifier.send(THREE)
    (message,) = smtp.messages
    assert message["Subject"] == "FIRING: 3 disk alerts"
    assert message.get_all("Subject") == ["FIRING: 3 disk alerts"]
    assert message["X-Team"] == "storage"
    assert message["Reply-To"] == "noc@example.com"


async def test_digest_lists_counts_first(smtp: FakeSMTP, make_notifier: MakeNotifier) -> None:
    """A storm digest starts with counts by alertname and severity, then lists every alert."""
    alerts = [make_alert(i) for i in range(1, 13)] + [make_alert(20, alertname="NodeDown")]
    digest = notification(*alerts, digest=True)
    await make_notifier(smtp).send(digest)
    (message,) = smtp.messages
    assert "digest of 13 alerts" in message["Subject"]
    text, html = parts(message)
    lines = digest_lines(digest.alerts)
    assert lines[0] == "12 × DiskAlmostFull (warning, firing)"
    for body in (text, html):
        assert body.index(lines[0]) < body.index("db-1:9100")
        assert all(line in body for line in lines)
        assert all(f"db-{i}:9100" in body for i in (*range(1, 13), 20))


async def test_html_escapes_alert_text(smtp: FakeSMTP, make_notifier: MakeNotifier) -> None:
    """Alert text cannot inject markup or javascript: links into the HTML part."""
    alert = make_alert(1, summary="<script>alert(1)</script>")
    alert["generatorURL"] = "javascript:alert(1)"
    await make_notifier(smtp).send(notification(alert))
    text, html = parts(smtp.messages[0])
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'href="javascript' not in html
    assert "<script>alert(1)</script>" in text


async def test_non_ascii_survives(smtp: FakeSMTP, make_notifier: MakeNotifier) -> None:
    """Non-ASCII summaries and subjects arrive intact in a 7-bit clean message."""
    alert = make_alert(1, summary="Festplatte fast voll – 95 % ✓")
    notifier = make_notifier(
        smtp, headers={"Subject": "Störung: {{ (index .Alerts 0).Labels.instance }}"}
    )
    await notifier.send(notification(alert))
    (mail,) = smtp.received
    assert all(byte < 128 for byte in mail.data)
    assert mail.message["Subject"] == "Störung: db-1:9100"
    for body in parts(mail.message):
        assert "Festplatte fast voll – 95 % ✓" in body


async def test_text_and_html_overrides(smtp: FakeSMTP, make_notifier: MakeNotifier) -> None:
    """``text`` and ``html`` replace the shipped templates; the HTML one is autoescaped."""
    notifier = make_notifier(
        smtp,
        text="{{ .Alerts | len }} alerts for {{ .Receiver }}",
        html="<p>{{ (index .Alerts 0).Annotations.summary }}</p>",
    )
    await notifier.send(notification(make_alert(1, summary="a < b")))
    text, html = parts(smtp.messages[0])
    assert text.strip() == "1 alerts for email-infra"
    assert html.strip() == "<p>a &lt; b</p>"


@pytest.mark.parametrize(
    "fields",
    [
        {"text": "{{ .Alerts | len "},
        {"html": "{{ range .Alerts }}"},
        {"headers": {"Subject": "{{ .CommonLabels.alertname | nosuchfunction }}"}},
    ],
    ids=["text", "html", "header"],
)
def test_broken_templates_fail_config_load(fields: dict[str, Any]) -> None:
    """A template that does not compile is a config error, not a failed delivery later."""
    raw = {"to": "a@example.com", "from": "b@example.com", "smarthost": "mx:25", **fields}
    with pytest.raises(ValidationError, match="invalid template"):
        EmailConfig.model_validate(raw)


def test_invalid_to_address_fails_config_load() -> None:
    """Every ``to`` address must be an addr-spec with a domain."""
    with pytest.raises(ValidationError, match="invalid to address"):
        EmailConfig.model_validate(
            {"to": "ops, a@example.com", "from": "b@x.io", "smarthost": "m:25"}
        )


async def test_starttls_with_ca_file(make_notifier: MakeNotifier) -> None:
    """With STARTTLS offered, the session is upgraded and the server checked against ca_file."""
    async with FakeSMTP(starttls=True) as server:
        await make_notifier(server).send(THREE)
        assert server.received[0].tls


async def test_starttls_checks_server_name(make_notifier: MakeNotifier) -> None:
    """``tls_config.server_name`` is the name the certificate must carry."""
    async with FakeSMTP(starttls=True) as server:
        tls = {"ca_file": server.ca_file, "server_name": "mail.test"}
        await make_notifier(server, tls_config=tls).send(THREE)
        assert server.received[0].tls
        wrong = make_notifier(server, tls_config={**tls, "server_name": "other.test"})
        with pytest.raises(PermanentNotifierError) as caught:
            await wrong.send(THREE)
    assert caught.value.reason == "other"
    assert "certificate" in str(caught.value)


async def test_starttls_with_unknown_ca_is_permanent(make_notifier: MakeNotifier) -> None:
    """A certificate that does not verify against the system roots is a permanent failure."""
    async with FakeSMTP(starttls=True) as server:
        notifier = make_notifier(server, tls_config={})
        with pytest.raises(PermanentNotifierError) as caught:
            await notifier.send(THREE)
        assert server.received == []
    assert caught.value.reason == "other"


async def test_insecure_skip_verify(make_notifier: MakeNotifier) -> None:
    """``insecure_skip_verify`` accepts any certificate."""
    async with FakeSMTP(starttls=True) as server:
        await make_notifier(server, tls_config={"insecure_skip_verify": True}).send(THREE)
        assert server.received[0].tls


async def test_require_tls_without_starttls_is_permanent(
    smtp: FakeSMTP, make_notifier: MakeNotifier
) -> None:
    """``require_tls`` (the default) against a server without STARTTLS fails permanently."""
    with pytest.raises(PermanentNotifierError) as caught:
        await make_notifier(smtp, require_tls=True).send(THREE)
    assert caught.value.reason == "other"
    assert "STARTTLS" in str(caught.value)
    assert smtp.received == []


@pytest.mark.parametrize(
    ("starttls", "mechanisms"),
    [(True, ("LOGIN", "PLAIN")), (False, ("LOGIN", "PLAIN")), (True, ("PLAIN",))],
    ids=["starttls-login", "plaintext-login", "starttls-plain"],
)
async def test_auth_success(
    make_notifier: MakeNotifier, starttls: bool, mechanisms: tuple[str, ...]
) -> None:
    """AUTH uses the first offered mechanism our credentials allow, then the mail is sent."""
    async with FakeSMTP(auth=(USER, PASSWORD), starttls=starttls, auth_mechanisms=mechanisms) as s:
        notifier = make_notifier(s, auth_username=USER, auth_password=PASSWORD, auth_identity="ops")
        await notifier.send(THREE)
        assert s.auth_attempts == [(mechanisms[0], USER, True)]
        assert s.received[0].auth_login == USER
        assert s.received[0].tls is starttls


async def test_auth_password_file(make_notifier: MakeNotifier, tmp_path: Any) -> None:
    """``auth_password_file`` is read relative to the config file's folder."""
    (tmp_path / "smtp-password").write_text(PASSWORD + "\n")
    async with FakeSMTP(auth=(USER, PASSWORD), starttls=True) as server:
        config = EmailConfig.model_validate(
            {
                "to": "a@example.com",
                "from": "b@example.com",
                "smarthost": server.smarthost,
                "auth_username": USER,
                "auth_password_file": "smtp-password",
                "tls_config": {"ca_file": server.ca_file},
            },
            context={"base_dir": str(tmp_path)},
        )
        async with aiohttp.ClientSession() as session:
            notifier = EmailNotifier(config, session, receiver="r", integration="email[0]")
            await notifier.send(THREE)
        assert server.received[0].auth_login == USER


async def test_auth_failure_is_auth_error(make_notifier: MakeNotifier) -> None:
    """Rejected credentials (535) are a permanent authError."""
    async with FakeSMTP(auth=(USER, PASSWORD), starttls=True) as server:
        notifier = make_notifier(server, auth_username=USER, auth_password="wrong")
        with pytest.raises(PermanentNotifierError) as caught:
            await notifier.send(THREE)
        assert server.received == []
    assert caught.value.reason == "authError"
    assert "535" in str(caught.value)


async def test_missing_credentials_is_auth_error(make_notifier: MakeNotifier) -> None:
    """A server that requires AUTH refuses MAIL (530): a permanent authError."""
    async with FakeSMTP(auth=(USER, PASSWORD), starttls=True) as server:
        with pytest.raises(PermanentNotifierError) as caught:
            await make_notifier(server).send(THREE)
    assert caught.value.reason == "authError"


@pytest.mark.parametrize("command", ["MAIL", "RCPT", "DATA"])
async def test_4xx_is_retryable(smtp: FakeSMTP, make_notifier: MakeNotifier, command: Any) -> None:
    """A 4xx reply at any step is a retryable serverError; the retry then goes through."""
    smtp.fail_next("451 4.3.0 try later", on=command)
    notifier = make_notifier(smtp)
    with pytest.raises(RetryableNotifierError) as caught:
        await notifier.send(THREE)
    assert caught.value.reason == "serverError"
    assert "451 4.3.0 try later" in str(caught.value)
    assert smtp.received == []
    await notifier.send(THREE)
    assert len(smtp.received) == 1


@pytest.mark.parametrize(
    ("reply", "command"),
    [("554 5.7.1 message rejected", "DATA"), ("550 5.1.1 no such user", "RCPT")],
    ids=["DATA", "RCPT"],
)
async def test_5xx_is_permanent(
    smtp: FakeSMTP, make_notifier: MakeNotifier, reply: str, command: Any
) -> None:
    """A 5xx reply is a permanent clientError."""
    smtp.fail_next(reply, on=command)
    with pytest.raises(PermanentNotifierError) as caught:
        await make_notifier(smtp).send(THREE)
    assert caught.value.reason == "clientError"
    assert reply in str(caught.value)


async def test_connection_refused_is_retryable(make_notifier: MakeNotifier) -> None:
    """Nothing listening on the smarthost is a retryable ``other`` failure."""
    with pytest.raises(RetryableNotifierError) as caught:
        await make_notifier(None, require_tls=False).send(THREE)
    assert caught.value.reason == "other"


async def test_silent_server_is_a_timeout(make_notifier: MakeNotifier) -> None:
    """A server that accepts but never greets is a retryable timeout."""

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # until the client gives up
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    notifier = make_notifier(None, smarthost=f"127.0.0.1:{port}", require_tls=False)
    notifier.request_timeout = 0.2
    with pytest.raises(RetryableNotifierError) as caught:
        await notifier.send(THREE)
    server.close()
    await server.wait_closed()
    assert caught.value.reason == "timeout"


def test_build_message_without_server() -> None:
    """build_message alone yields the full message (what --dry-run style previews can use)."""
    config = EmailConfig.model_validate(
        {"to": "a@example.com", "from": "b@example.com", "smarthost": "mx:25"}
    )
    notifier = EmailNotifier(config, None, receiver="r", integration="email[0]")  # type: ignore[arg-type]
    message = build_message(config, THREE, FieldRenderer(notifier, THREE))
    assert message["Subject"] == "[FIRING:2] DiskAlmostFull"
    assert message.get_content_type() == "multipart/alternative"


async def test_secrets_never_leak(
    make_notifier: MakeNotifier, caplog: pytest.LogCaptureFixture
) -> None:
    """auth_password appears in no repr, receipt, error or log line."""
    caplog.set_level(logging.DEBUG)
    errors: list[NotifierError] = []
    async with FakeSMTP(auth=(USER, PASSWORD), starttls=True) as server:
        notifier = make_notifier(server, auth_username=USER, auth_password=PASSWORD)
        receipt = await notifier.send(THREE)
        server.fail_next("451 4.3.0 try later")
        for bad in (notifier, make_notifier(server, auth_username=USER, auth_password="x")):
            with pytest.raises(NotifierError) as caught:
                await bad.send(THREE)
            errors.append(caught.value)
    texts = [
        repr(notifier), repr(notifier.config), str(notifier.config), repr(receipt), caplog.text,
        *(str(e) for e in errors), *(repr(e) for e in errors),
    ]  # fmt: skip
    for text in texts:
        assert PASSWORD not in text


def test_declared_limits() -> None:
    """The plugin declares its type name, config model and Alertmanager-friendly limits."""
    assert EmailNotifier.type_name == "email"
    assert EmailNotifier.config_model is EmailConfig
    assert (EmailNotifier.default_rate_per_second, EmailNotifier.default_burst) == (0.5, 5)
    assert EmailNotifier.coalesce is True
