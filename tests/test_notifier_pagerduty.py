"""PagerDuty notifier against a fake Events API v2 on loopback: events, sizes, failures, secrets."""

from __future__ import annotations

import email.utils
import hashlib
import json
import logging
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from pydantic import ValidationError

from alertrouter.errors import PermanentNotifierError, RetryableNotifierError
from alertrouter.notifiers.base import Notification, Notifier
from alertrouter.notifiers.pagerduty import PagerDutyConfig, PagerDutyNotifier, dedup_key
from alertrouter.notifiers.render import group_key_hash as group_dedup_key
from fakes.http import ScriptedAnswer
from fakes.pagerduty import MAX_BODY_BYTES, FakePagerDuty

KEY = "R0uT1nGkEy0123456789abcdefABCDEF"  # 32 characters, like a real integration key
RECEIVER = "pagerduty-critical"
EXTERNAL_URL = "http://alertmanager.example:9093"


@pytest.fixture
async def pd() -> AsyncIterator[FakePagerDuty]:
    async with FakePagerDuty() as fake:
        yield fake


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


def make(
    session: aiohttp.ClientSession, url: str, receiver: str = RECEIVER, **fields: Any
) -> PagerDutyNotifier:
    config = PagerDutyConfig.model_validate({"routing_key": KEY, "url": url, **fields})
    return PagerDutyNotifier(config, session, receiver=receiver, integration="pagerduty[0]")


def alert(
    status: str = "firing",
    fingerprint: str = "f00dfeed",
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": "HighLatency", "severity": "critical", **(labels or {})},
        "annotations": annotations or {},
        "startsAt": "2024-05-01T12:00:00.123456789Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.example:9090/graph?g0.expr=up",
        "fingerprint": fingerprint,
        **extra,
    }


def note(*alerts: dict[str, Any], receiver: str = RECEIVER) -> Notification:
    return Notification(
        receiver=receiver,
        integration="pagerduty[0]",
        alerts=alerts,
        group={"receiver": receiver, "externalURL": EXTERNAL_URL, "groupKey": "{}:{}"},
    )


async def sent_payload(pd: FakePagerDuty, notifier: PagerDutyNotifier, *alerts: Any) -> Any:
    await notifier.send(note(*(alerts or (alert(),))))
    return pd.events[-1]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# -- events ---------------------------------------------------------------------------------


async def test_resolve_closes_the_incident_its_trigger_opened(
    pd: FakePagerDuty, session: aiohttp.ClientSession
) -> None:
    """A trigger and its resolve carry the same dedup_key, and that incident ends resolved."""
    notifier = make(session, pd.events_url)
    trigger = await notifier.send(note(alert("firing")))
    resolve = await notifier.send(note(alert("resolved")))
    key = dedup_key(RECEIVER, "f00dfeed")
    assert [e["event_action"] for e in pd.events] == ["trigger", "resolve"]
    assert [e["dedup_key"] for e in pd.events] == [key, key]
    assert pd.incidents == {key: "resolved"}
    assert trigger.provider_status == resolve.provider_status == "202"
    assert trigger.message_id == resolve.message_id == key
    assert pd.routing_keys == [KEY, KEY]


async def test_two_alerts_are_two_events_with_two_keys(
    pd: FakePagerDuty, session: aiohttp.ClientSession
) -> None:
    """Each alert of a notification is its own event and incident; the receipt covers both."""
    notifier = make(session, pd.events_url)
    receipt = await notifier.send(note(alert(fingerprint="aaaa"), alert(fingerprint="bbbb")))
    keys = [dedup_key(RECEIVER, "aaaa"), dedup_key(RECEIVER, "bbbb")]
    assert [e["dedup_key"] for e in pd.events] == keys
    assert pd.incidents == dict.fromkeys(keys, "triggered")
    assert receipt.detail["dedup_keys"] == keys
    assert receipt.detail["events"] == 2


def test_dedup_key_is_stable_per_receiver_and_fingerprint() -> None:
    """The key depends on (receiver, fingerprint) only and fits PagerDuty's 255 characters."""
    assert dedup_key("r", "fp") == dedup_key("r", "fp")
    assert dedup_key("r", "fp") != dedup_key("r2", "fp")
    assert dedup_key("r", "fp") != dedup_key("r", "fp2")
    assert dedup_key("ab", "c") != dedup_key("a", "bc")
    assert len(dedup_key("r" * 1000, "fp")) == 64


async def test_first_failure_stops_a_multi_alert_notification(
    pd: FakePagerDuty, session: aiohttp.ClientSession
) -> None:
    """With several alerts, the first failing event raises and later ones are not sent."""
    notifier = make(session, pd.events_url)
    pd.fail_next(ScriptedAnswer(202, "{}"), ScriptedAnswer(503, "{}"))
    batch = note(alert(fingerprint="a"), alert(fingerprint="b"), alert(fingerprint="c"))
    with pytest.raises(RetryableNotifierError):
        await notifier.send(batch)
    assert len(pd.requests) == 2


@pytest.mark.parametrize(
    ("where", "extra"),
    [
        ("annotations", {"annotations": {"description": "x" * 700_000, "summary": "big"}}),
        ("labels", {"labels": {f"l{i}": "y" * 10_000 for i in range(80)}}),
        ("instance", {"labels": {"instance": "i" * 600_000, "component": "c" * 600_000}}),
        ("runbook", {"annotations": {"runbook_url": "http://r/" + "z" * 600_000}}),
    ],
)
async def test_oversized_alert_still_makes_a_valid_event(
    pd: FakePagerDuty, session: aiohttp.ClientSession, where: str, extra: dict[str, Any]
) -> None:
    """An alert over 512 KB is cut down (custom_details first) to an event PagerDuty accepts."""
    notifier = make(session, pd.events_url)
    receipt = await notifier.send(note(alert(**extra)))
    assert receipt.provider_status == "202"
    assert len(pd.requests[-1].body) <= MAX_BODY_BYTES
    payload = pd.events[-1]["payload"]
    assert "dropped" in payload["custom_details"]["alertrouter"]
    assert payload["summary"]
    if where == "instance":
        assert payload["source"].startswith("iii")
        assert len(payload["source"]) <= 1024
    if where == "runbook":
        assert [link["text"] for link in pd.events[-1]["links"]] == ["Source"]


async def test_event_within_limit_keeps_custom_details(
    pd: FakePagerDuty, session: aiohttp.ClientSession
) -> None:
    """Labels, annotations and rendered config details travel in custom_details."""
    notifier = make(
        session, pd.events_url, details={"team": "sre", "alert": "{{ .CommonLabels.job }}"}
    )
    event = await sent_payload(
        pd, notifier, alert(labels={"job": "api"}, annotations={"summary": "slow"})
    )
    details = event["payload"]["custom_details"]
    assert details["labels"]["job"] == "api"
    assert details["annotations"] == {"summary": "slow"}
    assert details["team"] == "sre"
    assert details["alert"] == "api"


@pytest.mark.parametrize(
    ("label", "config", "expected"),
    [
        ("critical", {}, "critical"),
        ("warning", {}, "warning"),
        ("info", {}, "info"),
        ("WARNING", {}, "warning"),
        (None, {}, "error"),
        ("page", {}, "error"),
        ("page", {"severity": "info"}, "info"),
        ("page", {"severity_map": {"page": "critical"}}, "critical"),
        ("critical", {"severity_map": {"critical": "warning"}}, "warning"),
    ],
)
async def test_severity_is_mapped_from_the_label(
    pd: FakePagerDuty,
    session: aiohttp.ClientSession,
    label: str | None,
    config: dict[str, Any],
    expected: str,
) -> None:
    """payload.severity comes from severity_map[label], falling back to the config severity."""
    notifier = make(session, pd.events_url, **config)
    the_alert = alert()
    if label is None:
        del the_alert["labels"]["severity"]
    else:
        the_alert["labels"]["severity"] = label
    event = await sent_payload(pd, notifier, the_alert)
    assert event["payload"]["severity"] == expected


def test_severity_map_values_are_checked_at_load() -> None:
    """A severity_map value PagerDuty would reject is a config error."""
    with pytest.raises(ValidationError, match="severity_map"):
        PagerDutyConfig.model_validate({"routing_key": KEY, "severity_map": {"page": "high"}})


async def test_summary_comes_from_the_annotation_or_the_labels(
    pd: FakePagerDuty, session: aiohttp.ClientSession
) -> None:
    """The summary annotation wins; without one the summary is alertname and labels."""
    notifier = make(session, pd.events_url)
    with_summary = await sent_payload(pd, notifier, alert(annotations={"summary": "p99 > 1s"}))
    assert with_summary["payload"]["summary"] == "p99 > 1s"
    bare = await sent_payload(pd, notifier, alert(labels={"job": "api"}))
    assert bare["payload"]["summary"] == "HighLatency job=api severity=critical"


async def test_long_summary_is_truncated_with_an_ellipsis(
    pd: FakePagerDuty, session: aiohttp.ClientSession
) -> None:
    """A summary over 1024 characters is cut to 1024, ending with an ellipsis."""
    notifier = make(session, pd.events_url)
    event = await sent_payload(pd, notifier, alert(annotations={"summary": "s" * 5000}))
    summary = event["payload"]["summary"]
    assert len(summary) == 1024
    assert summary.endswith("…")


async def test_description_template_sets_the_summary(
    pd: FakePagerDuty, session: aiohttp.ClientSession
) -> None:
    """A description template is rendered per alert into payload.summary."""
    notifier = make(
        session, pd.events_url, description="{{ .CommonLabels.alertname }} on {{ .Receiver }}"
    )
    event = await sent_payload(pd, notifier)
    assert event["payload"]["summary"] == f"HighLatency on {RECEIVER}"


def test_broken_templates_are_config_errors() -> None:
    """A description or details template that does not compile is rejected at load."""
    with pytest.raises(ValidationError, match="invalid template"):
        PagerDutyConfig.model_validate({"routing_key": KEY, "description": "{{ .Labels "})
    with pytest.raises(ValidationError, match="invalid template"):
        PagerDutyConfig.model_validate({"routing_key": KEY, "details": {"a": "{{ if }}"}})


async def test_links_images_and_client(pd: FakePagerDuty, session: aiohttp.ClientSession) -> None:
    """Links come from generatorURL, runbook and dashboard annotations and config, in order."""
    notifier = make(
        session,
        pd.events_url,
        links=[{"href": "http://wiki/x", "text": "Wiki"}],
        images=[{"src": "http://img/x.png", "alt": "graph"}],
    )
    annotations = {
        "runbook_url": "http://runbooks/high-latency",
        "dashboard": "http://grafana/d/1",
        "dashboard_url": "http://grafana/d/2",
    }
    event = await sent_payload(pd, notifier, alert(annotations=annotations))
    assert event["links"] == [
        {"href": "http://prometheus.example:9090/graph?g0.expr=up", "text": "Source"},
        {"href": "http://runbooks/high-latency", "text": "Runbook"},
        {"href": "http://grafana/d/1", "text": "Dashboard"},
        {"href": "http://grafana/d/2", "text": "Dashboard"},
        {"href": "http://wiki/x", "text": "Wiki"},
    ]
    assert event["images"] == [{"src": "http://img/x.png", "alt": "graph"}]
    assert event["client"] == "alertrouter"
    assert event["client_url"] == EXTERNAL_URL


async def test_source_component_group_class_and_timestamp(
    pd: FakePagerDuty, session: aiohttp.ClientSession
) -> None:
    """Labels fill source/component/group/class unless config sets them; startsAt is the time."""
    labels = {"instance": "db-1:9100", "component": "postgres", "group": "db", "class": "disk"}
    from_labels = await sent_payload(pd, make(session, pd.events_url), alert(labels=labels))
    payload = from_labels["payload"]
    assert (payload["source"], payload["component"]) == ("db-1:9100", "postgres")
    assert (payload["group"], payload["class"]) == ("db", "disk")
    assert payload["timestamp"] == "2024-05-01T12:00:00.123Z"
    configured = make(
        session, pd.events_url, source="src", component="cmp", group="grp", **{"class": "cls"}
    )
    payload = (await sent_payload(pd, configured, alert(labels=labels)))["payload"]
    assert [payload[k] for k in ("source", "component", "group", "class")] == [
        "src", "cmp", "grp", "cls",
    ]  # fmt: skip
    bare = (await sent_payload(pd, make(session, pd.events_url), alert()))["payload"]
    assert bare["source"] == "alertmanager.example"
    assert "component" not in bare


async def test_request_headers_and_http_config(
    pd: FakePagerDuty, session: aiohttp.ClientSession
) -> None:
    """Events are JSON with alertrouter's User-Agent, plus http_config's credentials."""
    notifier = make(session, pd.events_url, http_config={"bearer_token": "tok"})
    await notifier.send(note(alert()))
    headers = pd.requests[-1].headers
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"].startswith("alertrouter/")
    assert headers["Authorization"] == "Bearer tok"


# -- failures -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "headers", "error", "reason", "retry_after"),
    [
        (400, {}, PermanentNotifierError, "clientError", None),
        (401, {}, PermanentNotifierError, "authError", None),
        (403, {}, PermanentNotifierError, "authError", None),
        (404, {}, PermanentNotifierError, "clientError", None),
        (413, {}, PermanentNotifierError, "clientError", None),
        (429, {"Retry-After": "7"}, RetryableNotifierError, "rateLimited", 7.0),
        (429, {}, RetryableNotifierError, "rateLimited", None),
        (500, {}, RetryableNotifierError, "serverError", None),
        (503, {"Retry-After": "30"}, RetryableNotifierError, "serverError", 30.0),
    ],
)
async def test_status_codes_are_classified(
    pd: FakePagerDuty,
    session: aiohttp.ClientSession,
    status: int,
    headers: dict[str, str],
    error: type[Exception],
    reason: str,
    retry_after: float | None,
) -> None:
    """Each PagerDuty status maps to a retryable or permanent error with Alertmanager's reason."""
    pd.fail_next(ScriptedAnswer(status, '{"status":"nope"}', headers))
    with pytest.raises(error) as caught:
        await make(session, pd.events_url).send(note(alert()))
    assert caught.value.reason == reason  # type: ignore[attr-defined]
    assert str(status) in str(caught.value)
    if isinstance(caught.value, RetryableNotifierError):
        assert caught.value.retry_after == retry_after


async def test_invalid_event_message_carries_pagerduty_errors(
    pd: FakePagerDuty, session: aiohttp.ClientSession
) -> None:
    """A 400's message includes PagerDuty's message and its ``errors`` list."""
    length = "Length of 'routing_key' is incorrect (should be 32 characters)"
    body = {"status": "invalid event", "message": "Event object is invalid", "errors": [length]}
    pd.fail_next(ScriptedAnswer(400, json.dumps(body)))
    with pytest.raises(PermanentNotifierError) as caught:
        await make(session, pd.events_url).send(note(alert()))
    assert caught.value.reason == "clientError"
    assert str(caught.value) == f"PagerDuty answered 400: Event object is invalid: {length}"


async def test_retry_after_as_an_http_date(
    pd: FakePagerDuty, session: aiohttp.ClientSession
) -> None:
    """An HTTP-date Retry-After becomes the seconds until that date."""
    when = email.utils.formatdate(time.time() + 120, usegmt=True)
    pd.fail_next(ScriptedAnswer(429, "", {"Retry-After": when}))
    with pytest.raises(RetryableNotifierError) as caught:
        await make(session, pd.events_url).send(note(alert()))
    assert caught.value.retry_after is not None
    assert 100 < caught.value.retry_after <= 120


async def test_connection_refused_is_retryable(session: aiohttp.ClientSession) -> None:
    """Nothing listening on the port is a retryable failure with reason "other"."""
    notifier = make(session, f"http://127.0.0.1:{closed_port()}/v2/enqueue")
    with pytest.raises(RetryableNotifierError) as caught:
        await notifier.send(note(alert()))
    assert caught.value.reason == "other"
    assert caught.value.retry_after is None


async def test_slow_server_times_out(pd: FakePagerDuty, session: aiohttp.ClientSession) -> None:
    """A server slower than the configured timeout is a retryable "timeout" failure."""
    pd.delay = 30.0
    notifier = make(session, pd.events_url, timeout="200ms")
    started = time.monotonic()
    with pytest.raises(RetryableNotifierError) as caught:
        await notifier.send(note(alert()))
    assert caught.value.reason == "timeout"
    assert time.monotonic() - started < 5


def test_default_timeout_is_ten_seconds() -> None:
    """Requests carry a 10 s timeout unless configured."""
    config = PagerDutyConfig.model_validate({"routing_key": KEY})
    assert config.timeout.total_seconds() == 10


# -- declarations and secrets ---------------------------------------------------------------


def test_declared_limits() -> None:
    """PagerDuty allows 120 events/min per routing key; incidents are never coalesced."""
    assert issubclass(PagerDutyNotifier, Notifier)
    assert PagerDutyNotifier.type_name == "pagerduty"
    assert PagerDutyNotifier.config_model is PagerDutyConfig
    assert PagerDutyNotifier.default_rate_per_second == 2.0
    assert PagerDutyNotifier.default_burst == 10
    assert PagerDutyNotifier.coalesce is False
    assert PagerDutyNotifier.max_message_bytes == 512 * 1024


async def test_routing_key_never_leaks(
    pd: FakePagerDuty, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """The routing key is in no repr, receipt, exception message or log line."""
    caplog.set_level(logging.DEBUG)
    notifier = make(session, pd.events_url)
    seen = [repr(notifier), repr(notifier.config), str(notifier.config)]
    seen.append(repr(await notifier.send(note(alert()))))
    echo = json.dumps({"message": "Event object is invalid", "errors": [f"bad key {KEY}"]})
    pd.fail_next(ScriptedAnswer(400, echo), ScriptedAnswer(503, KEY))
    for _ in range(2):
        with pytest.raises(Exception) as caught:  # noqa: PT011 - any error; we read its text
            await notifier.send(note(alert()))
        seen.append(str(caught.value))
    refused = make(session, f"http://127.0.0.1:{closed_port()}/v2/enqueue")
    with pytest.raises(RetryableNotifierError) as refused_error:
        await refused.send(note(alert()))
    seen.append(str(refused_error.value))
    seen.extend(r.getMessage() + repr(r.__dict__) for r in caplog.records)
    assert "bad key **********" in seen[4]
    for text in seen:
        assert KEY not in text


# -- the fake's own contract ----------------------------------------------------------------


async def test_fake_rejects_what_pagerduty_rejects(
    pd: FakePagerDuty, session: aiohttp.ClientSession
) -> None:
    """The fake answers 400 with errors for an invalid trigger and 413 over 512 KB."""
    bad = {"routing_key": KEY, "event_action": "trigger", "payload": {"severity": "high"}}
    async with session.post(pd.events_url, json=bad) as response:
        assert response.status == 400
        answer = await response.json()
    assert answer["status"] == "invalid event"
    assert len(answer["errors"]) == 3
    big = {"routing_key": KEY, "event_action": "resolve", "dedup_key": "k"}
    big["padding"] = "a" * MAX_BODY_BYTES
    async with session.post(pd.events_url, json=big) as response:
        assert response.status == 413
    assert pd.events == []


async def test_incident_per_group_sends_one_event_keyed_by_the_group(
    pd: FakePagerDuty, session: aiohttp.ClientSession
) -> None:
    """One event for the whole group, dedup_key sha256(groupKey); a part resolving while the
    group still fires re-triggers the incident rather than closing it."""
    notifier = make(session, pd.events_url, incident_per="group")
    group = {"groupKey": '{}:{alertname="DiskFull"}', "status": "firing"}
    alerts = (
        alert(fingerprint="a1", labels={"alertname": "DiskFull", "instance": "db-1"}),
        alert(fingerprint="a2", labels={"alertname": "DiskFull", "instance": "db-2"}),
    )
    await notifier.send(Notification(RECEIVER, "pagerduty[0]", alerts, group))
    partial = (alert("resolved", "a1", labels={"alertname": "DiskFull", "instance": "db-1"}),)
    await notifier.send(Notification(RECEIVER, "pagerduty[0]", partial, group))
    closed = {**group, "status": "resolved"}
    await notifier.send(Notification(RECEIVER, "pagerduty[0]", partial, closed))
    key = group_dedup_key('{}:{alertname="DiskFull"}')
    assert key == hashlib.sha256(b'{}:{alertname="DiskFull"}').hexdigest()
    assert [(e["event_action"], e["dedup_key"]) for e in pd.events] == [
        ("trigger", key),
        ("trigger", key),
        ("resolve", key),
    ]
    first = pd.events[0]["payload"]
    assert first["custom_details"]["num_firing"] == 2
    assert first["summary"].startswith("[FIRING:2] DiskFull")


def test_incident_per_group_makes_one_job_per_group() -> None:
    """Drafting follows the setting: per alert by default, per group when asked."""
    by_alert = PagerDutyConfig.model_validate({"routing_key": KEY})
    by_group = PagerDutyConfig.model_validate({"routing_key": KEY, "incident_per": "group"})
    assert by_alert.jobs_per_alert() is True
    assert by_group.jobs_per_alert() is False
