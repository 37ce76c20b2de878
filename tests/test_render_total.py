"""Every webhook ingest accepts renders for every integration: no accepted alert can poison a queue.

Hypothesis writes Alertmanager webhook bodies (odd times, offsets, URLs, text); a body the
model accepts (a 200 at ingest) goes through each notifier's own rendering path, as stored
in a job, and none may raise. A body the model refuses gets a 400 naming the field.
"""

from __future__ import annotations

import json
import string
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from alertrouter.notifiers import email, slack, webhook
from alertrouter.notifiers.base import Notification
from alertrouter.notifiers.log import compact_alert
from alertrouter.notifiers.pagerduty import PagerDutyConfig, PagerDutyNotifier
from alertrouter.notifiers.render import notification_title
from alertrouter.notifiers.templating import FieldRenderer
from alertrouter.payload import WebhookPayload

EMAIL = email.EmailConfig.model_validate(
    {"to": "oncall@example.com", "from": "alertrouter@example.com", "smarthost": "127.0.0.1:25"}
)
SLACK = slack.SlackConfig.model_validate({"api_url": "http://127.0.0.1:9/slack"})
PAGERDUTY = PagerDutyConfig.model_validate(
    {"routing_key": "R0uT1nGkEy0123456789abcdefABCDEF", "url": "http://127.0.0.1:9/v2"}
)
# The same, with the main fields Go templates over Alertmanager's data and its defaults.
EMAIL_TEMPLATED = email.EmailConfig.model_validate(
    {
        "to": "oncall@example.com",
        "from": "alertrouter@example.com",
        "smarthost": "127.0.0.1:25",
        "headers": {"Subject": '{{ template "email.default.subject" . }}'},
        "html": '{{ template "email.default.html" . }}',
        "text": "{{ range .Alerts }}{{ .Labels.SortedPairs }} {{ .StartsAt }}\n{{ end }}",
    }
)
SLACK_TEMPLATED = slack.SlackConfig.model_validate(
    {
        "api_url": "http://127.0.0.1:9/slack",
        "title": '{{ template "slack.default.title" . }}',
        "text": '{{ template "slack.default.text" . }}{{ .CommonAnnotations.SortedPairs }}',
        "title_link": '{{ template "slack.default.titlelink" . }}',
    }
)
PAGERDUTY_PER_GROUP = PagerDutyConfig.model_validate(
    {"routing_key": "R0uT1nGkEy0123456789abcdefABCDEF", "incident_per": "group"}
)
PAGERDUTY_TEMPLATED = PagerDutyConfig.model_validate(
    {
        "routing_key": "R0uT1nGkEy0123456789abcdefABCDEF",
        "url": "http://127.0.0.1:9/v2",
        "description": '{{ template "pagerduty.default.description" . }}',
        "details": {"firing": '{{ template "pagerduty.default.instances" .Alerts.Firing }}'},
    }
)


def _offset(minutes: int) -> str:
    if minutes == 0:
        return "Z"
    sign = "+" if minutes > 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


@st.composite
def timestamps(draw: st.DrawFn) -> str:
    """RFC 3339 times across the whole range, offsets to ±23:59, 0-9 fractional digits."""
    if draw(st.booleans()):
        # The edges, where an offset pushes the UTC time out of years 1-9999.
        when = draw(
            st.sampled_from(
                [datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59, 59), datetime(1, 1, 1, 23, 59)]
            )
        )
    else:
        when = draw(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)))
    digits = draw(st.integers(0, 9))
    fraction = "." + "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=digits,
                                             max_size=digits))) if digits else ""  # fmt: skip
    minutes = draw(st.integers(-(23 * 60 + 59), 23 * 60 + 59))
    return when.strftime("%Y-%m-%dT%H:%M:%S").rjust(19, "0") + fraction + _offset(minutes)


TEXT = st.text(max_size=40) | st.sampled_from(["", " ", "\x00", "\r\n", "a\u2028b", "<b>&"])
URLS = st.sampled_from(
    ["", "http://[", "http://[::1", "https://am.example:99999/", "javascript:alert(1)",
     "http://prometheus:9090/graph?g0.expr=up", "http://x:notaport/", "//", "http://[::1]:80/"]
) | TEXT  # fmt: skip
LABEL_NAMES = st.sampled_from(["alertname", "severity", "instance", "job", "team"]) | st.text(
    alphabet=string.ascii_letters + "_", min_size=1, max_size=12
)
ANNOTATION_NAMES = st.sampled_from(["summary", "description", "runbook_url"]) | TEXT


@st.composite
def alerts(draw: st.DrawFn) -> dict[str, Any]:
    """One alert; keys may be missing, as Alertmanager's own tests send them."""
    alert: dict[str, Any] = {
        "status": draw(st.sampled_from(["firing", "resolved"])),
        "labels": draw(st.dictionaries(LABEL_NAMES, TEXT, max_size=5)),
        "annotations": draw(st.dictionaries(ANNOTATION_NAMES, TEXT | URLS, max_size=3)),
    }
    for key in ("startsAt", "endsAt"):
        if draw(st.booleans()):
            alert[key] = draw(timestamps())
    if draw(st.booleans()):
        alert["generatorURL"] = draw(URLS)
    if draw(st.booleans()):
        alert["fingerprint"] = draw(st.text(max_size=20))
    return alert


BODIES = st.fixed_dictionaries(
    {"alerts": st.lists(alerts(), min_size=1, max_size=4)},
    optional={
        "externalURL": URLS,
        "groupKey": TEXT,
        "groupLabels": st.dictionaries(LABEL_NAMES, TEXT, max_size=3),
        "commonLabels": st.dictionaries(LABEL_NAMES, TEXT, max_size=3),
        "commonAnnotations": st.dictionaries(TEXT, TEXT, max_size=3),
        "receiver": TEXT,
        "status": st.sampled_from(["firing", "resolved"]),
        "truncatedAlerts": st.integers(0, 5),
    },
)


def as_stored(payload: WebhookPayload, digest: bool) -> Notification:
    """The Notification a worker builds from the job ingest stores for ``payload``."""
    group = {
        name: getattr(payload, name)
        for name in ("receiver", "status", "groupKey", "groupLabels", "commonLabels",
                     "commonAnnotations", "externalURL", "truncatedAlerts")
    }  # fmt: skip
    records = [
        {**a.__dict__, **(a.__pydantic_extra__ or {}), "fingerprint": a.fingerprint_or_computed()}
        for a in payload.alerts
    ]
    stored = json.loads(json.dumps({"group": group, "alerts": records}))
    return Notification(
        receiver="total",
        integration="any[0]",
        alerts=tuple(stored["alerts"]),
        group=stored["group"],
        digest=digest,
    )


@dataclass
class Renderers:
    """Notifiers whose rendering paths are used directly (they never post): plain and with
    Go templates in their fields."""

    pagerduty: list[PagerDutyNotifier]
    email: list[email.EmailNotifier]
    slack: list[slack.SlackNotifier]


@pytest.fixture
async def renderers() -> AsyncIterator[Renderers]:
    """The notifiers, on one session that is never used."""
    async with aiohttp.ClientSession() as session:
        names = {"receiver": "total", "integration": "any[0]"}
        yield Renderers(
            [
                PagerDutyNotifier(c, session, **names)
                for c in (PAGERDUTY, PAGERDUTY_TEMPLATED, PAGERDUTY_PER_GROUP)
            ],
            [email.EmailNotifier(c, session, **names) for c in (EMAIL, EMAIL_TEMPLATED)],
            [slack.SlackNotifier(c, session, **names) for c in (SLACK, SLACK_TEMPLATED)],
        )


def render_everywhere(notification: Notification, renderers: Renderers) -> None:
    """Each integration's rendering path, as its ``send`` runs it before any I/O."""
    notification_title(notification)
    for mailer in renderers.email:
        fields = FieldRenderer(mailer, notification)
        email.build_message(mailer.config, notification, fields).as_bytes()
    for poster in renderers.slack:
        fields = FieldRenderer(poster, notification)
        json.dumps(slack.build_message(notification, poster.config, fields))
    webhook.encode_go_json(webhook.webhook_body(notification))
    [compact_alert(a) for a in notification.alerts]
    for pager in renderers.pagerduty:
        for incident in pager._incidents(notification):
            pager._fit(pager._event(incident))


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=BODIES, digest=st.booleans())
def test_every_accepted_body_renders_for_every_integration(
    renderers: Renderers, body: dict[str, Any], digest: bool
) -> None:
    """A body the webhook model accepts renders for PagerDuty, Slack, email, webhook and log."""
    try:
        payload = WebhookPayload.model_validate_json(json.dumps(body))
    except ValidationError:
        return  # a 400 naming the field (test_ingest_api); nothing is queued
    render_everywhere(as_stored(payload, digest), renderers)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("startsAt", "9999-12-31T23:59:59-23:59"),
        ("startsAt", "0001-01-01T00:00:00+23:59"),
        ("endsAt", "2026-02-30T00:00:00Z"),
    ],
)
def test_times_no_integration_can_print_are_refused(field: str, value: str) -> None:
    """A time outside years 0001-9999 in UTC (or not on the calendar) is a 400 naming it."""
    body = {"alerts": [{"status": "firing", "labels": {"alertname": "A"}, field: value}]}
    with pytest.raises(ValidationError) as caught:
        WebhookPayload.model_validate(body)
    assert caught.value.errors()[0]["loc"] == ("alerts", 0, field)


def test_the_extreme_printable_times_render() -> None:
    """The first and last instants of years 0001-9999 UTC still render (the range's edges)."""
    edges = [
        datetime(1, 1, 1, tzinfo=UTC).isoformat().replace("+00:00", "Z"),
        (datetime(9999, 12, 31, 23, 59, tzinfo=UTC) + timedelta(seconds=59)).isoformat(),
    ]
    for value in edges:
        WebhookPayload.model_validate(
            {"alerts": [{"status": "firing", "labels": {}, "startsAt": value}]}
        )
