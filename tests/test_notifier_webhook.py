"""The webhook notifier against a receiver on 127.0.0.1 that validates Alertmanager's contract."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import aiohttp
import pytest
from pydantic import ValidationError

from alertrouter import __version__
from alertrouter.errors import NotifierError, PermanentNotifierError, RetryableNotifierError
from alertrouter.notifiers.base import Notification
from alertrouter.notifiers.http import parse_retry_after
from alertrouter.notifiers.webhook import (
    WebhookConfig,
    WebhookNotifier,
    encode_go_json,
    webhook_body,
)
from fakes.http import ScriptedAnswer
from fakes.webhook import ALERTMANAGER_ALERT_KEYS, ALERTMANAGER_BODY_KEYS, FakeWebhookReceiver
from processes import free_port

TOKEN = "wh-bearer-9f8e7d6c5b4a"
PASSWORD = "wh-basic-pAsSwOrD-31337"
SECRET_PATH = "T0SECRET/hUnTeR2-webhook-path"

# Exact bytes Alertmanager 0.25 posted (shared/fixtures/alertmanager/raw/*.body).
PROMETHEUS_FIRING = (
    b'{"receiver":"webhook-basic","status":"firing","alerts":[{"status":"firing","labels":'
    b'{"alertname":"ShortLivedProblem","cluster":"amlab","replica":"r1","severity":"critical",'
    b'"team":"infra"},"annotations":{"description":"fires for ~20s, then resolves","summary":'
    b'"short lived problem (value 7.648000001907349)"},"startsAt":"2026-11-28T07:15:38.648Z",'
    b'"endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://127.0.0.1:19090/graph?g0.expr='
    b'vector%28time%28%29+-+1.795850137e%2B09%29+%3C+20\\u0026g0.tab=1","fingerprint":'
    b'"fce5bb8f4360fe9a"}],"groupLabels":{"alertname":"ShortLivedProblem"},"commonLabels":'
    b'{"alertname":"ShortLivedProblem","cluster":"amlab","replica":"r1","severity":"critical",'
    b'"team":"infra"},"commonAnnotations":{"description":"fires for ~20s, then resolves",'
    b'"summary":"short lived problem (value 7.648000001907349)"},"externalURL":'
    b'"http://127.0.0.1:19093","version":"4","groupKey":"{}:{alertname=\\"ShortLivedProblem\\"}",'
    b'"truncatedAlerts":0}\n'
)
TRUNCATED_FIRING = (
    b'{"receiver":"webhook-bearer","status":"firing","alerts":[{"status":"firing","labels":'
    b'{"alertname":"ManyPodsCrashing","namespace":"shop","pod":"web-0","severity":"warning"},'
    b'"annotations":{"summary":"pod web-0 crashlooping"},"startsAt":'
    b'"2026-11-28T07:11:04.363587528Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"",'
    b'"fingerprint":"09e655a1f7d52c6c"},{"status":"firing","labels":{"alertname":'
    b'"ManyPodsCrashing","namespace":"shop","pod":"web-1","severity":"warning"},"annotations":'
    b'{"summary":"pod web-1 crashlooping"},"startsAt":"2026-11-28T07:11:04.363587528Z",'
    b'"endsAt":"0001-01-01T00:00:00Z","generatorURL":"","fingerprint":"5352070536213d0f"}],'
    b'"groupLabels":{"alertname":"ManyPodsCrashing"},"commonLabels":{"alertname":'
    b'"ManyPodsCrashing","namespace":"shop","severity":"warning"},"commonAnnotations":{},'
    b'"externalURL":"http://127.0.0.1:19093","version":"4","groupKey":'
    b'"{}:{alertname=\\"ManyPodsCrashing\\"}","truncatedAlerts":3}\n'
)
PARTIAL_RESOLVED = (
    b'{"receiver":"webhook-bearer","status":"firing","alerts":[{"status":"resolved","labels":'
    b'{"alertname":"DiskAlmostFull","device":"/dev/sda1","instance":"db-1:9100","mountpoint":'
    b'"/var/lib/postgresql","severity":"warning","team":"storage"},"annotations":{"summary":'
    b'"Disk on db-1 is 89% full"},"startsAt":"2026-11-28T07:10:59.688269Z","endsAt":'
    b'"2026-11-28T07:11:56.688269Z","generatorURL":"http://prometheus.example:9090/graph?g0.expr'
    b'=disk_used_ratio+%3E+0.85","fingerprint":"12e4c57dc8ffc0a0"},{"status":"firing","labels":'
    b'{"alertname":"DiskAlmostFull","device":"/dev/sda1","instance":"db-2:9100","mountpoint":'
    b'"/var/lib/postgresql","severity":"warning","team":"storage"},"annotations":{"summary":'
    b'"Disk on db-2 is 90% full"},"startsAt":"2026-11-28T07:10:29.688269Z","endsAt":'
    b'"0001-01-01T00:00:00Z","generatorURL":"http://prometheus.example:9090/graph?g0.expr='
    b'disk_used_ratio+%3E+0.85","fingerprint":"f2630f19db69f07f"}],"groupLabels":{"alertname":'
    b'"DiskAlmostFull"},"commonLabels":{"alertname":"DiskAlmostFull","device":"/dev/sda1",'
    b'"mountpoint":"/var/lib/postgresql","severity":"warning","team":"storage"},'
    b'"commonAnnotations":{},"externalURL":"http://127.0.0.1:19093","version":"4","groupKey":'
    b'"{}:{alertname=\\"DiskAlmostFull\\"}","truncatedAlerts":0}\n'
)

MakeNotifier = Callable[..., WebhookNotifier]


def make_alert(index: int, status: str = "firing", **labels: str) -> dict[str, Any]:
    """An Alertmanager v4 alert dict."""
    return {
        "status": status,
        "labels": {"alertname": "PodCrashLooping", "severity": "warning", "pod": f"web-{index}"}
        | labels,
        "annotations": {"summary": f"pod web-{index} crashlooping"},
        "startsAt": f"2024-05-01T10:{index:02d}:00Z",
        "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2024-05-01T11:00:00Z",
        "generatorURL": "http://prometheus:9090/graph?g0.expr=up&g0.tab=1",
        "fingerprint": f"{index:016x}",
    }


def from_fixture(raw: bytes) -> Notification:
    """The notification an ingest of this Alertmanager body would queue for its receiver."""
    body = json.loads(raw)
    alerts = tuple(body.pop("alerts"))
    return Notification(body["receiver"], "webhook[0]", alerts, body)


def notification(*alerts: dict[str, Any], digest: bool = False) -> Notification:
    """A notification of ``alerts`` with the group data Alertmanager sent."""
    return Notification(
        "team-hooks",
        "webhook[0]",
        alerts,
        {
            "receiver": "upstream",
            "status": "firing",
            "groupKey": '{}:{alertname="PodCrashLooping"}',
            "groupLabels": {"alertname": "PodCrashLooping"},
            "commonLabels": {"alertname": "PodCrashLooping"},
            "commonAnnotations": {},
            "externalURL": "http://alertmanager:9093",
            "truncatedAlerts": 0,
        },
        digest=digest,
    )


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """The shared HTTP session the service would give every notifier."""
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
async def hook() -> AsyncIterator[FakeWebhookReceiver]:
    """A receiver without credentials."""
    async with FakeWebhookReceiver() as fake:
        yield fake


@pytest.fixture
def make_notifier(session: aiohttp.ClientSession) -> MakeNotifier:
    """Build a WebhookNotifier from raw config fields."""

    def make(**fields: Any) -> WebhookNotifier:
        config = WebhookConfig.model_validate(fields)
        return WebhookNotifier(config, session, receiver="team-hooks", integration="webhook[0]")

    return make


@pytest.mark.parametrize(
    "raw",
    [PROMETHEUS_FIRING, TRUNCATED_FIRING, PARTIAL_RESOLVED],
    ids=["prometheus_firing", "truncated_firing", "grouped_partial_resolved"],
)
async def test_body_is_byte_identical_to_alertmanagers(
    hook: FakeWebhookReceiver, make_notifier: MakeNotifier, raw: bytes
) -> None:
    """Relaying an Alertmanager webhook posts the very bytes Alertmanager posted."""
    receipt = await make_notifier(url=hook.url).send(from_fixture(raw))
    assert hook.requests[0].body == raw
    assert len(hook.payloads) == 1
    assert receipt.provider_status == "200 OK"


def test_fake_key_lists_are_alertmanagers() -> None:
    """The fake's key lists are the ones in Alertmanager's bodies, in its order."""
    body = json.loads(PARTIAL_RESOLVED)
    assert tuple(body) == ALERTMANAGER_BODY_KEYS
    assert all(tuple(alert) == ALERTMANAGER_ALERT_KEYS for alert in body["alerts"])


async def test_request_headers(hook: FakeWebhookReceiver, make_notifier: MakeNotifier) -> None:
    """The POST carries Alertmanager's content type and our own User-Agent."""
    await make_notifier(url=hook.url).send(notification(make_alert(1)))
    (request,) = hook.requests
    assert request.method == "POST"
    assert request.path == "/hook"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"] == f"alertrouter/{__version__}"
    assert "Authorization" not in request.headers


@pytest.mark.parametrize(
    ("fake_kwargs", "http_config"),
    [
        ({"bearer": TOKEN}, {"bearer_token": TOKEN}),
        ({"bearer": TOKEN}, {"authorization": {"credentials": TOKEN}}),
        ({"basic": ("alertrouter", PASSWORD)}, {"basic_auth": {"username": "alertrouter",
                                                               "password": PASSWORD}}),
    ],
    ids=["bearer_token", "authorization", "basic_auth"],
)  # fmt: skip
async def test_credentials_are_sent(
    make_notifier: MakeNotifier, fake_kwargs: dict[str, Any], http_config: dict[str, Any]
) -> None:
    """Each http_config credential form reaches the receiver as its Authorization header."""
    async with FakeWebhookReceiver(**fake_kwargs) as fake:
        await make_notifier(url=fake.url, http_config=http_config).send(notification(make_alert(1)))
        assert len(fake.payloads) == 1


async def test_bearer_token_file(tmp_path: Any, session: aiohttp.ClientSession) -> None:
    """``bearer_token_file`` is read relative to the config file's folder."""
    (tmp_path / "token").write_text(TOKEN + "\n")
    async with FakeWebhookReceiver(bearer=TOKEN) as fake:
        config = WebhookConfig.model_validate(
            {"url": fake.url, "http_config": {"bearer_token_file": "token"}},
            context={"base_dir": str(tmp_path)},
        )
        notifier = WebhookNotifier(config, session, receiver="r", integration="webhook[0]")
        await notifier.send(notification(make_alert(1)))
        assert len(fake.payloads) == 1


async def test_wrong_credentials_are_an_auth_error(make_notifier: MakeNotifier) -> None:
    """A 401 from the receiver is a permanent authError."""
    async with FakeWebhookReceiver(bearer=TOKEN) as fake:
        notifier = make_notifier(url=fake.url, http_config={"bearer_token": "wrong"})
        with pytest.raises(PermanentNotifierError) as caught:
            await notifier.send(notification(make_alert(1)))
    assert caught.value.reason == "authError"
    assert "401" in str(caught.value)


async def test_max_alerts_truncates(hook: FakeWebhookReceiver, make_notifier: MakeNotifier) -> None:
    """``max_alerts`` sends the first N alerts and counts the rest in truncatedAlerts."""
    alerts = [make_alert(1, team="a"), make_alert(2, team="a")] + [
        make_alert(i, team="b") for i in range(3, 6)
    ]
    receipt = await make_notifier(url=hook.url, max_alerts=2).send(notification(*alerts))
    body = hook.requests[0].json()
    assert [a["fingerprint"] for a in body["alerts"]] == [f"{1:016x}", f"{2:016x}"]
    assert body["truncatedAlerts"] == 3
    # As Alertmanager: common labels describe the alerts sent, not the ones left out.
    assert body["commonLabels"]["team"] == "a"
    assert receipt.detail == {"alerts": 2, "truncatedAlerts": 3}


async def test_max_alerts_zero_sends_all(
    hook: FakeWebhookReceiver, make_notifier: MakeNotifier
) -> None:
    """``max_alerts: 0`` (the default) sends every alert."""
    await make_notifier(url=hook.url).send(notification(*(make_alert(i) for i in range(30))))
    body = hook.requests[0].json()
    assert len(body["alerts"]) == 30
    assert body["truncatedAlerts"] == 0


async def test_digest_sends_every_covered_alert(
    hook: FakeWebhookReceiver, make_notifier: MakeNotifier
) -> None:
    """A storm digest posts all its alerts, with group labels only where all of them agree."""
    alerts = [make_alert(i) for i in range(3)] + [make_alert(9, alertname="NodeDown")]
    await make_notifier(url=hook.url).send(notification(*alerts, digest=True))
    body = hook.requests[0].json()
    assert len(body["alerts"]) == 4
    assert body["groupLabels"] == {}
    assert body["commonLabels"] == {"severity": "warning"}
    assert len(hook.payloads) == 1


async def test_resolved_status(hook: FakeWebhookReceiver, make_notifier: MakeNotifier) -> None:
    """The body is ``resolved`` only when every alert in it is resolved."""
    notifier = make_notifier(url=hook.url)
    await notifier.send(notification(make_alert(1, "resolved"), make_alert(2)))
    await notifier.send(notification(make_alert(1, "resolved"), make_alert(2, "resolved")))
    assert [r.json()["status"] for r in hook.requests] == ["firing", "resolved"]


def test_body_fills_missing_alert_fields() -> None:
    """An alert lacking optional fields gets Alertmanager's defaults and computed fingerprint."""
    body = webhook_body(Notification("r", "webhook[0]", ({"labels": {"alertname": "X"}},)))
    (alert,) = body["alerts"]
    assert tuple(alert) == ALERTMANAGER_ALERT_KEYS
    assert alert["endsAt"] == "0001-01-01T00:00:00Z"
    assert len(alert["fingerprint"]) == 16
    assert tuple(body) == ALERTMANAGER_BODY_KEYS


def test_go_json_escapes_html_characters() -> None:
    """Like Go's encoder: ``<>&`` escaped, non-ASCII kept, compact, newline-terminated."""
    assert encode_go_json({"a": "<b>&é"}) == b'{"a":"\\u003cb\\u003e\\u0026\xc3\xa9"}\n'


def http_date(seconds: int) -> str:
    """An HTTP date ``seconds`` from now."""
    return format_datetime(datetime.now(UTC) + timedelta(seconds=seconds), usegmt=True)


@pytest.mark.parametrize(
    ("answer", "kind", "reason", "retry_after"),
    [
        (ScriptedAnswer(400, '{"error":"bad"}'), PermanentNotifierError, "clientError", None),
        (ScriptedAnswer(404), PermanentNotifierError, "clientError", None),
        (ScriptedAnswer(401), PermanentNotifierError, "authError", None),
        (ScriptedAnswer(403), PermanentNotifierError, "authError", None),
        (ScriptedAnswer(429, headers={"Retry-After": "7"}), RetryableNotifierError,
         "rateLimited", 7.0),
        (ScriptedAnswer(429, headers={"Retry-After": "HTTP-DATE+120"}), RetryableNotifierError,
         "rateLimited", 120.0),
        (ScriptedAnswer(429), RetryableNotifierError, "rateLimited", None),
        (ScriptedAnswer(500), RetryableNotifierError, "serverError", None),
        (ScriptedAnswer(502), RetryableNotifierError, "serverError", None),
        (ScriptedAnswer(503, headers={"Retry-After": "30"}), RetryableNotifierError,
         "serverError", 30.0),
        (ScriptedAnswer(302, headers={"Location": "/elsewhere"}), PermanentNotifierError,
         "other", None),
    ],
    ids=["400", "404", "401", "403", "429-seconds", "429-date", "429", "500", "502",
         "503-retry-after", "302-not-followed"],
)  # fmt: skip
async def test_status_mapping(
    hook: FakeWebhookReceiver,
    make_notifier: MakeNotifier,
    answer: ScriptedAnswer,
    kind: type[NotifierError],
    reason: str,
    retry_after: float | None,
) -> None:
    """Each HTTP answer is classified as Alertmanager names it; Retry-After is honoured."""
    if answer.headers.get("Retry-After") == "HTTP-DATE+120":  # made now, not at collection
        answer = ScriptedAnswer(429, headers={"Retry-After": http_date(120)})
    hook.fail_next(answer)
    notifier = make_notifier(url=hook.url, http_config={"follow_redirects": False})
    with pytest.raises(kind) as caught:
        await notifier.send(notification(make_alert(1)))
    assert caught.value.reason == reason
    assert str(answer.status) in str(caught.value)
    if isinstance(caught.value, RetryableNotifierError):
        if retry_after is None:
            assert caught.value.retry_after is None
        else:
            assert caught.value.retry_after == pytest.approx(retry_after, abs=2)


async def test_recovers_after_scripted_failure(
    hook: FakeWebhookReceiver, make_notifier: MakeNotifier
) -> None:
    """After a 503 the next attempt of the same notification is delivered."""
    hook.fail_next(ScriptedAnswer(503))
    notifier = make_notifier(url=hook.url)
    with pytest.raises(RetryableNotifierError):
        await notifier.send(notification(make_alert(1)))
    await notifier.send(notification(make_alert(1)))
    assert len(hook.payloads) == 1
    assert hook.requests[0].body == hook.requests[1].body


async def test_connection_refused_is_retryable(make_notifier: MakeNotifier) -> None:
    """Nothing listening is a retryable ``other`` failure."""
    notifier = make_notifier(url=f"http://127.0.0.1:{free_port()}/hook")
    with pytest.raises(RetryableNotifierError) as caught:
        await notifier.send(notification(make_alert(1)))
    assert caught.value.reason == "other"


async def test_slow_receiver_is_a_timeout(make_notifier: MakeNotifier) -> None:
    """A receiver slower than ``timeout`` is a retryable timeout."""
    async with FakeWebhookReceiver(delay=0.5) as fake:
        notifier = make_notifier(url=fake.url, timeout="50ms")
        with pytest.raises(RetryableNotifierError) as caught:
            await notifier.send(notification(make_alert(1)))
    assert caught.value.reason == "timeout"


def test_config_requires_http_url() -> None:
    """A url that is missing or not http(s) is a config error that does not echo the url."""
    with pytest.raises(ValidationError, match="url"):
        WebhookConfig.model_validate({})
    with pytest.raises(ValidationError) as caught:
        WebhookConfig.model_validate({"url": f"ftp://host/{SECRET_PATH}"})
    assert SECRET_PATH not in str(caught.value)


def test_parse_retry_after() -> None:
    """Retry-After is delta-seconds or an HTTP date; garbage is ignored."""
    now = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert parse_retry_after("12", now) == 12.0
    assert parse_retry_after("Wed, 01 May 2024 10:01:00 GMT", now) == 60.0
    assert parse_retry_after("Wed, 01 May 2024 09:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


async def test_secrets_never_leak(
    make_notifier: MakeNotifier, caplog: pytest.LogCaptureFixture
) -> None:
    """The url, bearer token and basic password appear in no repr, receipt, error or log."""
    caplog.set_level(logging.DEBUG)
    async with FakeWebhookReceiver(bearer=TOKEN) as fake:
        url = f"{fake.url}/{SECRET_PATH}"
        notifier = make_notifier(url=url, http_config={"bearer_token": TOKEN})
        receipt = await notifier.send(notification(make_alert(1)))
        # A receiver that echoes the request back in its error must not leak it either.
        fake.fail_next(ScriptedAnswer(500, f"cannot handle /hook/{SECRET_PATH} (Bearer {TOKEN})"))
        with pytest.raises(RetryableNotifierError) as server_error:
            await notifier.send(notification(make_alert(1)))
    with pytest.raises(RetryableNotifierError) as refused:
        await notifier.send(notification(make_alert(1)))  # the fake is gone
    basic = make_notifier(url=url, http_config={"basic_auth": {"username": "u",
                                                               "password": PASSWORD}})  # fmt: skip
    texts = [
        repr(notifier), repr(notifier.config), str(notifier.config.http_config), repr(basic),
        repr(basic.config), repr(receipt), str(server_error.value), repr(server_error.value),
        str(refused.value), caplog.text,
    ]  # fmt: skip
    assert "<redacted>" in str(server_error.value)
    for text in texts:
        for secret in (TOKEN, SECRET_PATH, PASSWORD):
            assert secret not in text


def test_declared_limits() -> None:
    """The plugin declares its type name, config model and limits."""
    assert WebhookNotifier.type_name == "webhook"
    assert WebhookNotifier.config_model is WebhookConfig
    assert (WebhookNotifier.default_rate_per_second, WebhookNotifier.default_burst) == (10.0, 20)
    assert WebhookNotifier.coalesce is True
