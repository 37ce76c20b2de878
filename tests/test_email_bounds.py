"""Email size bounds (notifiers/email.py ``fit_subject``, ``fit_body``): a huge alert still
makes an email every relay takes, and an ordinary one is untouched."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from alertrouter.notifiers.base import Notification
from alertrouter.notifiers.email import (
    MAX_SUBJECT_CHARS,
    EmailConfig,
    EmailNotifier,
    build_message,
)
from alertrouter.notifiers.templating import FieldRenderer
from factories import make_alert

CONFIG = EmailConfig.model_validate(
    {"to": "oncall@example.com", "from": "alertrouter@example.com", "smarthost": "127.0.0.1:25"}
)
RELAY_LIMIT = 1_000_000  # bytes: well under Postfix's default 10,240,000


def build(notification: Notification) -> EmailMessage:
    """The message the email notifier would send for ``notification`` (no session needed)."""
    notifier = EmailNotifier(CONFIG, None, receiver="email", integration="email[0]")  # type: ignore[arg-type]
    return build_message(CONFIG, notification, FieldRenderer(notifier, notification))


def notification_named(alertname: str) -> Notification:
    """One firing alert called ``alertname``."""
    alert = make_alert("f00d", alertname=alertname, severity="critical")
    return Notification(receiver="email", integration="email[0]", alerts=(alert,), group={})


@pytest.mark.parametrize("size", [100_000, 1_000_000])
@pytest.mark.parametrize("char", ["x", "é", "🔥"])
def test_a_huge_alertname_makes_an_email_under_1_mb(size: int, char: str) -> None:
    """A 100 KB or 1 MB alertname (ASCII or not): under 1 MB, subject at most 998 characters."""
    message = build(notification_named(char * size))
    data = message.as_bytes()
    assert len(data) < RELAY_LIMIT, len(data)
    assert len(str(message["Subject"])) <= MAX_SUBJECT_CHARS
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    assert html is not None
    assert "message truncated by alertrouter" in text.get_content()
    assert "message truncated by alertrouter" in html.get_content()


def test_an_ordinary_email_is_not_cut() -> None:
    """A usual alert's email carries no truncation marker and its whole subject."""
    message = build(notification_named("HighErrorRate"))
    assert b"truncated" not in message.as_bytes()
    assert "HighErrorRate" in str(message["Subject"])
