"""PagerDuty ``service_key`` (Events API v1) against the fake's create_event.json on loopback."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pydantic import ValidationError

from alertrouter.config.loader import parse_routing_config
from alertrouter.errors import NotifierError, PermanentNotifierError, RetryableNotifierError
from alertrouter.notifiers.base import Notification
from alertrouter.notifiers.pagerduty import PagerDutyConfig, PagerDutyNotifier, dedup_key
from alertrouter.notifiers.pagerduty_v1 import events_v1_url
from fakes.http import ScriptedAnswer
from fakes.pagerduty import FakePagerDuty

SERVICE_KEY = "5eRv1cEkEy0123456789abcdefABCDEF"  # 32 characters, as v1 wants
RECEIVER = "team-pager"


@pytest.fixture
async def pd() -> AsyncIterator[FakePagerDuty]:
    async with FakePagerDuty() as fake:
        yield fake


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


def make(session: aiohttp.ClientSession, pd: FakePagerDuty, **fields: Any) -> PagerDutyNotifier:
    config = PagerDutyConfig.model_validate(
        {"service_key": SERVICE_KEY, "url": pd.events_url, **fields}
    )
    return PagerDutyNotifier(config, session, receiver=RECEIVER, integration="pagerduty[0]")


def alert(status: str = "firing", fingerprint: str = "0a1b2c3d", **annotations: str) -> Any:
    return {
        "status": status,
        "labels": {"alertname": "DiskFull", "severity": "critical", "instance": "db-1"},
        "annotations": annotations,
        "startsAt": "2024-05-01T12:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.example:9090/graph",
        "fingerprint": fingerprint,
    }


def note(*alerts: Any) -> Notification:
    return Notification(
        receiver=RECEIVER,
        integration="pagerduty[0]",
        alerts=alerts,
        group={"externalURL": "http://am.example:9093", "groupKey": "{}:{}"},
    )


async def test_trigger_then_resolve_share_the_incident_key(
    pd: FakePagerDuty, session: aiohttp.ClientSession
) -> None:
    """A v1 trigger and its resolve go to create_event.json with one incident_key; the
    incident ends resolved and nothing reaches the v2 endpoint."""
    notifier = make(session, pd)
    trigger = await notifier.send(note(alert(summary="disk at 97%")))
    await notifier.send(note(alert("resolved")))
    key = dedup_key(RECEIVER, "0a1b2c3d")
    first, second = pd.v1_events
    assert (first["event_type"], second["event_type"]) == ("trigger", "resolve")
    assert first["incident_key"] == second["incident_key"] == key
    assert first["service_key"] == SERVICE_KEY
    assert first["description"] == "disk at 97%"
    assert first["details"]["labels"]["instance"] == "db-1"
    assert (first["client"], first["client_url"]) == ("alertrouter", "http://am.example:9093")
    assert "client" not in second  # as Alertmanager: client fields go with triggers
    assert pd.incidents == {key: "resolved"}
    assert pd.events == []
    assert (trigger.provider_status, trigger.message_id) == ("200", key)
    assert {r.path for r in pd.requests} == {"/generic/2010-04-15/create_event.json"}


async def test_templated_description_and_details(
    pd: FakePagerDuty, session: aiohttp.ClientSession
) -> None:
    """``description`` and ``details`` values are Go templates over the alert's data."""
    notifier = make(
        session,
        pd,
        description="{{ .CommonLabels.alertname }} on {{ .CommonLabels.instance }}",
        details={"firing": "{{ .Alerts.Firing | len }}"},
    )
    await notifier.send(note(alert()))
    (event,) = pd.v1_events
    assert event["description"] == "DiskFull on db-1"
    assert event["details"]["firing"] == "1"


async def test_long_description_is_cut_to_pagerdutys_limit(
    pd: FakePagerDuty, session: aiohttp.ClientSession
) -> None:
    """A description over 1,024 characters is truncated with a marker and still accepted."""
    await make(session, pd).send(note(alert(summary="x" * 5000)))
    (event,) = pd.v1_events
    assert len(event["description"]) == 1024
    assert event["description"].endswith("…")


def test_v1_endpoint_follows_the_configured_url() -> None:
    """The v2 default means PagerDuty's v1 endpoint; the same on another host keeps the host;
    any other URL is taken as it is."""
    assert events_v1_url("https://events.pagerduty.com/v2/enqueue") == (
        "https://events.pagerduty.com/generic/2010-04-15/create_event.json"
    )
    assert events_v1_url("http://127.0.0.1:8/v2/enqueue") == (
        "http://127.0.0.1:8/generic/2010-04-15/create_event.json"
    )
    assert events_v1_url("https://proxy.example/pd") == "https://proxy.example/pd"


@pytest.mark.parametrize(
    ("answer", "error", "reason"),
    [
        (ScriptedAnswer(403, '{"status": "throttle exceeded"}'), RetryableNotifierError,
         "rateLimited"),
        (ScriptedAnswer(400, json.dumps({"status": "invalid event", "errors": ["bad"]})),
         PermanentNotifierError, "clientError"),
        (ScriptedAnswer(401), PermanentNotifierError, "authError"),
        (ScriptedAnswer(429, headers={"Retry-After": "3"}), RetryableNotifierError,
         "rateLimited"),
        (ScriptedAnswer(500), RetryableNotifierError, "serverError"),
    ],
)  # fmt: skip
async def test_answers_are_classified_as_v1_documents_them(
    pd: FakePagerDuty,
    session: aiohttp.ClientSession,
    answer: ScriptedAnswer,
    error: type[NotifierError],
    reason: str,
) -> None:
    """v1's 403 means "too many requests" and is retried; other 4xx are permanent."""
    pd.fail_next(answer)
    with pytest.raises(NotifierError) as caught:
        await make(session, pd).send(note(alert()))
    assert type(caught.value) is error
    assert caught.value.reason == reason


async def test_fake_throttle_is_a_retry(pd: FakePagerDuty, session: aiohttp.ClientSession) -> None:
    """The fake's own v1 throttle answer (403) is a retryable rateLimited failure."""
    pd.v1_rate_limited = True
    with pytest.raises(RetryableNotifierError) as caught:
        await make(session, pd).send(note(alert()))
    assert caught.value.reason == "rateLimited"


async def test_service_key_never_leaks(
    pd: FakePagerDuty, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """The service key shows in no repr, receipt, error or log line, even when echoed back."""
    caplog.set_level(logging.DEBUG)
    notifier = make(session, pd)
    receipt = await notifier.send(note(alert()))
    pd.fail_next(ScriptedAnswer(400, json.dumps({"message": SERVICE_KEY, "errors": [SERVICE_KEY]})))
    with pytest.raises(PermanentNotifierError) as caught:
        await notifier.send(note(alert()))
    texts = [repr(notifier), repr(notifier.config), repr(receipt), str(caught.value),
             caplog.text]  # fmt: skip
    assert all(SERVICE_KEY not in text for text in texts)


def test_service_key_from_yaml_and_from_a_file(tmp_path: Path) -> None:
    """``service_key`` and ``service_key_file`` load from a routing file, as Alertmanager's."""
    (tmp_path / "pd.key").write_text(SERVICE_KEY + "\n")
    text = """\
route: {receiver: a}
receivers:
  - name: a
    pagerduty_configs: [{service_key: inline-key}]
  - name: b
    pagerduty_configs: [{service_key_file: pd.key}]
"""
    config = parse_routing_config(text, "pd.yml", {}, base_dir=tmp_path)
    inline = config.receivers["a"].integrations[0].config
    from_file = config.receivers["b"].integrations[0].config
    assert isinstance(inline, PagerDutyConfig)
    assert isinstance(from_file, PagerDutyConfig)
    assert inline.events_v1
    assert from_file.service_key is not None
    assert from_file.service_key.get_secret_value() == SERVICE_KEY


def test_a_key_of_either_kind_is_required() -> None:
    """No routing_key nor service_key is Alertmanager's "missing service or routing key"."""
    with pytest.raises(ValidationError, match="missing service or routing key"):
        PagerDutyConfig.model_validate({})
