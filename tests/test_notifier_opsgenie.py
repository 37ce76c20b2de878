"""Opsgenie notifier against a fake Alert API v2 on loopback: alias dedup, close, fields, limits."""

from __future__ import annotations

import hashlib
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
from alertrouter.notifiers.opsgenie import OpsGenieConfig, OpsGenieNotifier
from alertrouter.notifiers.render import group_key_hash as group_alias
from fakes.http import ScriptedAnswer
from fakes.opsgenie import FakeOpsgenie

KEY = "0e1f2a3b-4c5d-6e7f-8091-a2b3c4d5e6f7"
GROUP_KEY = '{}/{severity="critical"}:{alertname="DiskFull"}'
ALIAS = hashlib.sha256(GROUP_KEY.encode()).hexdigest()
EXTERNAL_URL = "http://alertmanager.example:9093"
SOURCE = f"{EXTERNAL_URL}/#/alerts?receiver=ops"  # Alertmanager's __alertmanagerURL


@pytest.fixture
async def og() -> AsyncIterator[FakeOpsgenie]:
    async with FakeOpsgenie(api_key=KEY) as fake:
        yield fake


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


def make(session: aiohttp.ClientSession, og: FakeOpsgenie, **fields: Any) -> OpsGenieNotifier:
    config = OpsGenieConfig.model_validate({"api_key": KEY, "api_url": og.api_url, **fields})
    return OpsGenieNotifier(config, session, receiver="ops", integration="opsgenie[0]")


def alert(status: str = "firing", fingerprint: str = "aa01", **labels: str) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": "DiskFull", "severity": "critical", **labels},
        "annotations": {"summary": f"disk full on {labels.get('instance', 'db-1')}"},
        "startsAt": "2024-05-01T12:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.example:9090/graph",
        "fingerprint": fingerprint,
    }


def note(*alerts: dict[str, Any], group_status: str | None = None) -> Notification:
    status = group_status or (
        "firing" if any(a["status"] == "firing" for a in alerts) else "resolved"
    )
    return Notification(
        receiver="ops",
        integration="opsgenie[0]",
        alerts=alerts,
        group={"groupKey": GROUP_KEY, "status": status, "externalURL": EXTERNAL_URL,
               "groupLabels": {"alertname": "DiskFull"}},
    )  # fmt: skip


def created(og: FakeOpsgenie) -> dict[str, Any]:
    body: dict[str, Any] = og.alerts[ALIAS]["body"]
    return body


async def test_create_then_close_by_alias(og: FakeOpsgenie, session: aiohttp.ClientSession) -> None:
    """A firing group creates an alert whose alias is Alertmanager's (sha256 of the group
    key); the resolved group closes that alias."""
    notifier = make(session, og)
    receipt = await notifier.send(note(alert(instance="db-1")))
    assert og.alerts[ALIAS]["status"] == "open"
    await notifier.send(note(alert("resolved", instance="db-1")))
    assert og.alerts[ALIAS]["status"] == "closed"
    assert og.actions == [("create", ALIAS), ("close", ALIAS)]
    assert group_alias(GROUP_KEY) == ALIAS
    assert (receipt.provider_status, receipt.message_id) == ("202", ALIAS)
    create, close = og.requests
    assert (create.method, create.path) == ("POST", "/v2/alerts")
    assert (close.method, close.path) == ("POST", f"/v2/alerts/{ALIAS}/close?identifierType=alias")
    assert create.headers["Authorization"] == f"GenieKey {KEY}"
    assert close.json() == {"source": SOURCE}


async def test_repeat_is_deduplicated_into_one_alert(
    og: FakeOpsgenie, session: aiohttp.ClientSession
) -> None:
    """A repeat notification of the same group raises the open alert's count, not a new one."""
    notifier = make(session, og)
    await notifier.send(note(alert()))
    await notifier.send(note(alert()))
    assert list(og.alerts) == [ALIAS]
    assert og.alerts[ALIAS]["count"] == 2


async def test_defaults_render_alertmanagers_templates(
    og: FakeOpsgenie, session: aiohttp.ClientSession
) -> None:
    """Unset message, description and source are Alertmanager's opsgenie.default.* renderings;
    details are the common labels."""
    await make(session, og).send(note(alert(instance="db-1")))
    body = created(og)
    assert body["message"].startswith("[FIRING:1] DiskFull")
    assert body["description"].startswith("disk full on db-1")
    assert body["source"] == SOURCE
    assert body["details"] == {"alertname": "DiskFull", "severity": "critical", "instance": "db-1"}
    assert body["alias"] == ALIAS


async def test_templated_fields_responders_tags_and_actions(
    og: FakeOpsgenie, session: aiohttp.ClientSession
) -> None:
    """Every field is a Go template; ``teams`` responders split into one team each; tags and
    actions are comma lists; details add to the common labels."""
    notifier = make(
        session,
        og,
        message="{{ .CommonLabels.alertname }} is {{ .Status }}",
        priority='{{ if eq .CommonLabels.severity "critical" }}P1{{ else }}P3{{ end }}',
        tags="{{ .CommonLabels.severity }}, disk,,",
        actions="restart, page-dba",
        entity="{{ .CommonLabels.instance }}",
        note="see runbook",
        details={"runbook": "https://runbooks/{{ .CommonLabels.alertname }}"},
        responders=[
            {"name": "{{ .CommonLabels.severity }}-team", "type": "team"},
            {"name": "dba,storage", "type": "teams"},
            {"username": "{{ .CommonLabels.nobody }}", "type": "{{ .CommonLabels.nobody }}"},
        ],
    )
    await notifier.send(note(alert(instance="db-1")))
    body = created(og)
    assert body["message"] == "DiskFull is firing"
    assert body["priority"] == "P1"
    assert body["tags"] == ["critical", "disk"]
    assert body["actions"] == ["restart", "page-dba"]
    assert (body["entity"], body["note"]) == ("db-1", "see runbook")
    assert body["details"]["runbook"] == "https://runbooks/DiskFull"
    assert body["responders"] == [
        {"name": "critical-team", "type": "team"},
        {"name": "dba", "type": "team"},
        {"name": "storage", "type": "team"},
    ]


async def test_update_alerts_puts_message_and_description(
    og: FakeOpsgenie, session: aiohttp.ClientSession
) -> None:
    """With ``update_alerts`` the create is followed by PUTs of message and description."""
    notifier = make(session, og, update_alerts=True, message="first")
    await notifier.send(note(alert()))
    notifier = make(session, og, update_alerts=True, message="second")
    await notifier.send(note(alert()))
    assert [a for a, _ in og.actions] == ["create", "message", "description"] * 2
    assert og.alerts[ALIAS]["message"] == "second"
    put = og.requests[1]
    assert (put.method, put.path) == ("PUT", f"/v2/alerts/{ALIAS}/message?identifierType=alias")


async def test_resolved_alerts_of_a_firing_group_become_a_note(
    og: FakeOpsgenie, session: aiohttp.ClientSession
) -> None:
    """When only some alerts of a group resolved, the group's alert stays open with a note."""
    notifier = make(session, og)
    await notifier.send(note(alert(instance="db-1"), alert(fingerprint="bb02", instance="db-2")))
    await notifier.send(note(alert("resolved", "bb02", instance="db-2"), group_status="firing"))
    assert og.alerts[ALIAS]["status"] == "open"
    assert og.alerts[ALIAS]["notes"] == ["Resolved: disk full on db-2"]


async def test_fields_are_cut_to_opsgenies_limits(
    og: FakeOpsgenie, session: aiohttp.ClientSession
) -> None:
    """Message (130), description (15,000), tags and details are cut with a marker, and the
    fake, which refuses anything longer, accepts the alert."""
    notifier = make(
        session,
        og,
        message="m" * 500,
        description="d" * 20_000,
        tags=",".join(f"tag{i}" for i in range(30)),
        details={"big": "x" * 9000},
    )
    await notifier.send(note(alert()))
    body = created(og)
    assert len(body["message"]) == 130
    assert body["message"].endswith("…")
    assert len(body["description"]) == 15_000
    assert len(body["tags"]) == 20
    assert sum(len(k) + len(v) for k, v in body["details"].items()) <= 8000


@pytest.mark.parametrize(
    ("answer", "error", "reason", "retry_after"),
    [
        (ScriptedAnswer(422, json.dumps({"message": "Request body is not processable",
                                         "errors": {"message": "empty"}})),
         PermanentNotifierError, "clientError", None),
        (ScriptedAnswer(401, '{"message": "Could not authenticate"}'), PermanentNotifierError,
         "authError", None),
        (ScriptedAnswer(429, '{"message": "You are making too many requests!"}',
                        headers={"Retry-After": "7"}), RetryableNotifierError, "rateLimited", 7.0),
        (ScriptedAnswer(503), RetryableNotifierError, "serverError", None),
    ],
)  # fmt: skip
async def test_answers_are_classified(
    og: FakeOpsgenie,
    session: aiohttp.ClientSession,
    answer: ScriptedAnswer,
    error: type[NotifierError],
    reason: str,
    retry_after: float | None,
) -> None:
    """422/401 are permanent (clientError, authError); 429 waits Retry-After; 5xx retries."""
    og.fail_next(answer)
    with pytest.raises(NotifierError) as caught:
        await make(session, og).send(note(alert()))
    assert (type(caught.value), caught.value.reason) == (error, reason)
    assert getattr(caught.value, "retry_after", None) == retry_after


async def test_wrong_key_is_an_auth_error_without_the_key(
    og: FakeOpsgenie, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """The fake's 401 for a wrong key is authError, and no key shows anywhere."""
    caplog.set_level(logging.DEBUG)
    config = OpsGenieConfig.model_validate({"api_key": "wrong-key-123", "api_url": og.api_url})
    notifier = OpsGenieNotifier(config, session, receiver="ops", integration="opsgenie[0]")
    with pytest.raises(PermanentNotifierError) as caught:
        await notifier.send(note(alert()))
    assert caught.value.reason == "authError"
    og.fail_next(ScriptedAnswer(400, json.dumps({"message": f"bad key wrong-key-123 {KEY}"})))
    with pytest.raises(PermanentNotifierError) as echoed:
        await notifier.send(note(alert()))
    for text in (str(caught.value), str(echoed.value), repr(notifier.config), caplog.text):
        assert "wrong-key-123" not in text


def test_globals_url_key_and_key_file(tmp_path: Path) -> None:
    """``global.opsgenie_api_url``/``opsgenie_api_key``/``opsgenie_api_key_file`` fill what an
    entry lacks; an entry's own ``api_key_file`` beats the global inline key."""
    (tmp_path / "og.key").write_text("from-file\n")
    text = """\
global:
  opsgenie_api_url: https://api.eu.opsgenie.com
  opsgenie_api_key: global-key
route: {receiver: a}
receivers:
  - name: a
    opsgenie_configs:
      - {}
      - api_key_file: og.key
        api_url: https://proxy.example/og/
"""
    config = parse_routing_config(text, "og.yml", {}, base_dir=tmp_path)
    first, second = (s.config for s in config.receivers["a"].integrations)
    assert isinstance(first, OpsGenieConfig)
    assert isinstance(second, OpsGenieConfig)
    assert first.base_url == "https://api.eu.opsgenie.com/"
    assert first.api_key is not None
    assert first.api_key.get_secret_value() == "global-key"
    assert second.api_key is not None
    assert second.api_key.get_secret_value() == "from-file"
    assert second.base_url == "https://proxy.example/og/"
    assert first.resolved_wanted  # send_resolved defaults to true, as Alertmanager's


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "no global OpsGenie API Key set"),
        ({"api_key": "k", "responders": [{"type": "team"}]}, "at least one of id, username"),
        ({"api_key": "k", "responders": [{"name": "x", "type": "group"}]}, "is not one of"),
    ],
)
def test_config_errors_as_alertmanager_words_them(fields: dict[str, Any], message: str) -> None:
    """A missing key and malformed responders are refused when the config loads."""
    with pytest.raises(ValidationError, match=message):
        OpsGenieConfig.model_validate(fields)
