"""POST /api/v1/alerts in-process: real Alertmanager 0.25 bodies through the shipped policy, auth,
input checks, time intervals, concurrency, reload under load, and the health and status endpoints.

The app runs on aiohttp's TestServer with an injected clock; there are no delivery workers
(``make_app`` without ``deliver``), so every job stays pending and is asserted on in the store.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import hashlib
import json
import re
import textwrap
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alertrouter import __version__
from alertrouter.api.ops import SERVICE
from alertrouter.app import make_app
from alertrouter.config.loader import RoutingConfig, load_routing_config, parse_routing_config
from alertrouter.config.settings import Settings
from alertrouter.errors import ConfigError, StoreError
from alertrouter.payload import alertmanager_fingerprint
from alertrouter.router.dedup import ClaimKey
from alertrouter.service import Service
from alertrouter.store.base import IngestOutcome, Job, Store, StoreStats
from alertrouter.store.factory import store_from_url
from alertrouter.store.memory import MemoryStore

REPO = Path(__file__).resolve().parent.parent
SHIPPED = REPO / "config" / "alertrouter.yml"
SECRETS = {"PAGERDUTY_SERVICE_KEY": "pd-test-key", "SLACK_WEBHOOK_URL": "http://127.0.0.1:9/x"}


RAW = Path(__file__).parent / "fixtures" / "alertmanager" / "raw"
FIXTURE_NAMES = sorted(path.stem for path in RAW.glob("*.body"))

# The capture's own day: 2026-11-28 07:11:16 UTC, a Saturday; request times are offsets.
START = datetime(2026, 11, 28, 7, 11, 16, tzinfo=UTC).timestamp()
MONDAY = datetime(2026, 11, 30, 10, 0, tzinfo=UTC).timestamp()

PAGERDUTY = ("pagerduty-critical", "pagerduty[0]")
SLACK = ("slack-warnings", "slack[0]")
EMAIL = ("email-infrastructure", "email[0]")

# Fingerprints of the captured alerts (Alertmanager's own, recomputed identically by us).
HIGH_ERROR = "0fa71ca9db0c0109"  # severity=critical, no team: PagerDuty only
HIGH_LATENCY = "67cc73686514c9d9"  # severity=warning: Slack
NODE_DOWN = "55c1bd0762b19f13"  # severity=critical, team=infra (not "infrastructure"): PagerDuty
DB1, DB2, DB3, DB4 = "12e4c57dc8ffc0a0", "f2630f19db69f07f", "733446ed342b33d6", "999754a050948e6d"
WEB0, WEB1 = "09e655a1f7d52c6c", "5352070536213d0f"  # ManyPodsCrashing, severity=warning
SHORT_LIVED = "fce5bb8f4360fe9a"  # severity=critical, team=infra: PagerDuty
RETRY500 = "d17fb40cd2c88e3f"  # severity=critical: PagerDuty

ExpectedJob = tuple[str, str, tuple[tuple[str, str], ...]]


def raw(name: str) -> bytes:
    """The exact bytes Alertmanager sent for fixture ``name``."""
    return (RAW / f"{name}.body").read_bytes()


def doc(name: str) -> dict[str, Any]:
    """Fixture ``name`` parsed."""
    value: dict[str, Any] = json.loads(raw(name))
    return value


def encode(value: Any) -> bytes:
    """Compact JSON, as Alertmanager writes it."""
    return json.dumps(value, separators=(",", ":")).encode() + b"\n"


def relabel(name: str, **labels: str) -> dict[str, Any]:
    """Fixture ``name`` with ``labels`` set on every alert and fingerprints recomputed."""
    body = doc(name)
    for alert in body["alerts"]:
        alert["labels"].update(labels)
        alert["fingerprint"] = alertmanager_fingerprint(alert["labels"])
    body["commonLabels"].update(labels)
    return body


def distinct_warning(index: int) -> bytes:
    """firing_warning for a distinct instance: one new Slack job each."""
    return encode(relabel("firing_warning", instance=f"checkout-{index}:8080"))


def job(target: tuple[str, str], status: str, *fingerprints: str) -> ExpectedJob:
    """An expected job: receiver, integration and the (fingerprint, status) of its alerts."""
    return (target[0], target[1], tuple(sorted((fp, status) for fp in fingerprints)))


def summarize(jobs: list[Job]) -> list[ExpectedJob]:
    """Jobs as comparable tuples, sorted."""
    return sorted(
        (
            j.receiver,
            j.integration,
            tuple(sorted((a["fingerprint"], a["status"]) for a in j.payload["alerts"])),
        )
        for j in jobs
    )


class FakeClock:
    """An injectable clock that moves only when told."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move forward by ``seconds``."""
        self.now += seconds


@dataclass
class Answer:
    """One HTTP answer: status, body text, and the body parsed when it is JSON."""

    status: int
    text: str
    headers: dict[str, str]

    @property
    def json(self) -> Any:
        return json.loads(self.text)

    @property
    def counts(self) -> dict[str, int]:
        """The three counts of a webhook's 200 answer."""
        body = self.json
        return {key: body[key] for key in ("accepted", "queued", "suppressed")}


@dataclass
class Harness:
    """A running app: its client, its service, the store underneath, and the clock."""

    client: TestClient[Any, Any]
    service: Service
    store: Store
    clock: FakeClock

    async def request(
        self, method: str, path: str, body: bytes | None = None, **headers: str
    ) -> Answer:
        """Send one request and read the whole answer."""
        async with self.client.request(method, path, data=body, headers=headers) as response:
            return Answer(response.status, await response.text(), dict(response.headers))

    async def post(self, body: bytes, content_type: str = "application/json", **hdr: str) -> Answer:
        """POST ``body`` to the webhook endpoint."""
        return await self.request(
            "POST", "/api/v1/alerts", body, **{"Content-Type": content_type, **hdr}
        )

    async def send(self, name: str) -> dict[str, int]:
        """POST fixture ``name``; it must be accepted. Returns the three counts."""
        answer = await self.post(raw(name))
        assert answer.status == 200, answer.text
        return answer.counts

    async def jobs(self) -> list[Job]:
        """Every pending job, oldest first."""
        return await self.store.list_jobs("pending", limit=100_000)

    async def status(self) -> dict[str, Any]:
        """GET /api/v1/status."""
        answer = await self.request("GET", "/api/v1/status")
        assert answer.status == 200, answer.text
        body: dict[str, Any] = answer.json
        return body


def shipped_config() -> RoutingConfig:
    """The shipped policy with its two secrets set."""
    return load_routing_config(SHIPPED, SECRETS)


def config_from(text: str) -> RoutingConfig:
    """A routing config from YAML text."""
    return parse_routing_config(textwrap.dedent(text), "test.yml", SECRETS)


def make_store(kind: str, folder: Path) -> Store:
    """A fresh store of ``kind`` ("memory" or "sqlite"), chosen by URL as serve does."""
    if kind == "memory":
        return store_from_url("memory://")
    return store_from_url(f"sqlite:///{folder / 'state.db'}")


@contextlib.asynccontextmanager
async def running(
    store: Store,
    *,
    config: RoutingConfig | None = None,
    clock: FakeClock | None = None,
    **settings: Any,
) -> AsyncIterator[Harness]:
    """Serve ``make_app`` on a loopback TestServer until the block ends."""
    clock = clock or FakeClock()
    app = make_app(
        Settings(**{"config_path": str(SHIPPED), **settings}),
        config or shipped_config(),
        store=store,
        clock=clock,
    )
    async with TestClient(TestServer(app)) as client:
        yield Harness(client, app[SERVICE], store, clock)


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """Each store backend the service can run on in one process."""
    kind: str = request.param
    return make_store(kind, tmp_path)


@pytest.fixture
async def harness(store: Store) -> AsyncIterator[Harness]:
    """The shipped policy served over ``store``, no webhook auth."""
    async with running(store) as running_harness:
        yield running_harness


# --- the captured Alertmanager traffic through the shipped policy ------------------------------


@dataclass(frozen=True)
class Step:
    """One captured request: when it came (s after START), what it queues, what it suppresses."""

    fixture: str
    at: float
    jobs: tuple[ExpectedJob, ...] = ()
    suppressed: int = 0


# Requests 1-23 in the order and at the times of timings.json (HighLatency's repeats are
# firing_warning again: repeats are byte-identical), then the separate truncated, Prometheus
# and retry captures. The repeats come every ~10 s, far inside every repeat_interval.
CAPTURED = (
    Step("firing_critical", 1.36, (job(PAGERDUTY, "firing", HIGH_ERROR),)),
    Step("firing_warning", 5.387, (job(SLACK, "firing", HIGH_LATENCY),)),
    Step("firing_infra", 9.421, (job(PAGERDUTY, "firing", NODE_DOWN),)),
    Step("grouped_firing", 12.424, (job(SLACK, "firing", DB1, DB2, DB3),)),
    Step("repeat", 13.361, suppressed=1),
    Step("firing_warning", 15.393, suppressed=1),
    Step("repeat_infra", 19.424, suppressed=1),
    Step("repeat_grouped", 22.426, suppressed=3),
    Step("repeat", 23.364, suppressed=1),
    Step("firing_warning", 25.396, suppressed=1),
    Step("repeat_infra", 29.427, suppressed=1),
    Step("repeat_grouped", 32.439, suppressed=3),
    Step("repeat", 33.372, suppressed=1),
    Step("firing_warning", 35.401, suppressed=1),
    Step("repeat_infra", 39.43, suppressed=1),
    Step("grouped_member_added", 40.442, (job(SLACK, "firing", DB4),), suppressed=3),
    Step("grouped_partial_resolved", 44.446, (job(SLACK, "resolved", DB1),), suppressed=3),
    Step("repeat", 45.379, suppressed=1),
    Step("firing_warning", 45.404, suppressed=1),
    Step("resolved", 49.383, (job(PAGERDUTY, "resolved", HIGH_ERROR),)),
    Step("resolved_warning", 49.406, (job(SLACK, "resolved", HIGH_LATENCY),)),
    Step("resolved_infra", 49.436, (job(PAGERDUTY, "resolved", NODE_DOWN),)),
    Step("grouped_resolved", 50.448, (job(SLACK, "resolved", DB2, DB3, DB4),)),
    Step("truncated_firing", 60.0, (job(SLACK, "firing", WEB0, WEB1),)),
    Step("truncated_resolved", 63.0, (job(SLACK, "resolved", WEB0, WEB1),)),
    Step("prometheus_firing", 70.0, (job(PAGERDUTY, "firing", SHORT_LIVED),)),
    Step("prometheus_repeat", 80.0, suppressed=1),
    Step("prometheus_resolved", 89.0, (job(PAGERDUTY, "resolved", SHORT_LIVED),)),
    Step("retry_500_attempt", 100.0, (job(PAGERDUTY, "firing", RETRY500),)),
    Step("retry_500_attempt", 100.717, suppressed=1),
    Step("retry_500_attempt", 101.132, suppressed=1),
)


def test_the_captured_sequence_covers_every_fixture() -> None:
    """Every raw fixture appears in the captured sequence, so none goes untested."""
    assert {step.fixture for step in CAPTURED} == set(FIXTURE_NAMES)


async def test_captured_webhooks_queue_what_the_shipped_policy_implies(harness: Harness) -> None:
    """Each captured body, in order, queues exactly the jobs the shipped policy implies."""
    seen: set[int] = set()
    for step in CAPTURED:
        harness.clock.now = START + step.at
        body = doc(step.fixture)
        counts = await harness.send(step.fixture)
        new = [j for j in await harness.jobs() if j.id not in seen]
        seen.update(j.id for j in new)
        assert summarize(new) == sorted(step.jobs), step
        assert counts == {
            "accepted": len(body["alerts"]),
            "queued": len(step.jobs),
            "suppressed": step.suppressed,
        }, step
        for queued in new:
            # The job holds the group and exactly the due alerts, as Alertmanager sent them.
            assert queued.payload["group"]["groupKey"] == body["groupKey"]
            due = {a["fingerprint"] for a in queued.payload["alerts"]}
            sent = [a for a in body["alerts"] if a["fingerprint"] in due]
            assert [dict(a) for a in queued.payload["alerts"]] == sent
            assert queued.priority == (0 if queued.receiver == PAGERDUTY[0] else 1)
            assert queued.created_at == harness.clock.now
    assert len(seen) == sum(len(step.jobs) for step in CAPTURED)


@pytest.mark.parametrize("name", FIXTURE_NAMES)
async def test_a_byte_identical_resend_queues_nothing(harness: Harness, name: str) -> None:
    """Replayed up to a fixture's first send, resending its exact bytes queues nothing more."""
    for step in CAPTURED:
        harness.clock.now = START + step.at
        first = await harness.send(step.fixture)
        if step.fixture == name:
            break
    jobs = await harness.jobs()
    harness.clock.advance(0.7)  # Alertmanager's first retry comes ~0.7 s later
    again = await harness.send(name)
    # Under the shipped policy each captured alert reaches exactly one integration.
    assert again == {"accepted": first["accepted"], "queued": 0, "suppressed": first["accepted"]}
    assert await harness.jobs() == jobs


@pytest.mark.parametrize(
    ("first", "repeat", "target", "interval"),
    [
        ("firing_critical", "repeat", PAGERDUTY, 3600),
        ("firing_infra", "repeat_infra", PAGERDUTY, 3600),
        ("prometheus_firing", "prometheus_repeat", PAGERDUTY, 3600),
        ("firing_warning", "firing_warning", SLACK, 12 * 3600),
        ("grouped_firing", "repeat_grouped", SLACK, 12 * 3600),
    ],
)
async def test_a_repeat_notifies_again_only_past_the_routes_repeat_interval(
    harness: Harness, first: str, repeat: str, target: tuple[str, str], interval: int
) -> None:
    """A repeat is suppressed up to the matched route's repeat_interval, sent once past it."""
    assert (await harness.send(first))["queued"] == 1
    harness.clock.advance(interval)  # not strictly past: still suppressed
    assert (await harness.send(repeat))["queued"] == 0
    harness.clock.advance(0.5)
    assert (await harness.send(repeat))["queued"] == 1
    jobs = await harness.jobs()
    assert [(j.receiver, j.integration) for j in jobs] == [target, target]
    assert summarize(jobs[:1]) == summarize(jobs[1:])


async def test_critical_infrastructure_pages_and_emails_each_on_its_own_interval(
    harness: Harness,
) -> None:
    """severity=critical team=infrastructure reaches PagerDuty (continue) and email, 1h and 4h."""
    body = encode(relabel("firing_infra", team="infrastructure"))
    fingerprint = json.loads(body)["alerts"][0]["fingerprint"]

    async def post() -> list[ExpectedJob]:
        before = {j.id for j in await harness.jobs()}
        answer = await harness.post(body)
        assert answer.status == 200, answer.text
        return summarize([j for j in await harness.jobs() if j.id not in before])

    assert await post() == sorted(
        [job(PAGERDUTY, "firing", fingerprint), job(EMAIL, "firing", fingerprint)]
    )
    harness.clock.advance(3601)
    assert await post() == [job(PAGERDUTY, "firing", fingerprint)]
    harness.clock.advance(3601)  # email: 2h after the first, inside its 4h
    assert await post() == [job(PAGERDUTY, "firing", fingerprint)]
    harness.clock.advance(2 * 3600 - 1)  # email: 4h + 1s after the first
    assert await post() == sorted(
        [job(PAGERDUTY, "firing", fingerprint), job(EMAIL, "firing", fingerprint)]
    )


async def test_a_resolve_for_an_alert_never_notified_is_suppressed(harness: Harness) -> None:
    """A resolved alert we never told anyone about queues nothing."""
    for name in ("resolved", "resolved_warning", "resolved_infra", "grouped_resolved"):
        counts = await harness.send(name)
        assert counts["queued"] == 0
        assert counts["suppressed"] == counts["accepted"]
    assert await harness.jobs() == []


NO_RESOLVES = """\
    route:
      receiver: slack-warnings
      routes:
        - matchers: ['severity="critical"']
          receiver: pagerduty-critical
          repeat_interval: 1h
    receivers:
      - name: pagerduty-critical
        pagerduty_configs:
          - routing_key: k
            send_resolved: false
      - name: slack-warnings
        slack_configs:
          - api_url: http://127.0.0.1:9/x  # send_resolved: Slack's default is false
"""


@pytest.mark.parametrize(
    ("firing", "resolved"),
    [("firing_critical", "resolved"), ("firing_warning", "resolved_warning")],
)
async def test_resolves_follow_send_resolved(store: Store, firing: str, resolved: str) -> None:
    """With send_resolved off a resolve is suppressed, yet a new firing notifies again."""
    async with running(store, config=config_from(NO_RESOLVES)) as harness:
        assert (await harness.send(firing))["queued"] == 1
        harness.clock.advance(30)
        assert (await harness.send(resolved)) == {"accepted": 1, "queued": 0, "suppressed": 1}
        harness.clock.advance(30)
        assert (await harness.send(firing))["queued"] == 1  # fired again after the resolve
        assert [j.payload["alerts"][0]["status"] for j in await harness.jobs()] == [
            "firing",
            "firing",
        ]


def test_the_shipped_policy_sends_resolves_to_every_receiver() -> None:
    """PagerDuty by its default, Slack and email by the file: all three send resolves."""
    config = shipped_config()
    wanted = {
        name: [spec.config.resolved_wanted for spec in receiver.integrations]
        for name, receiver in config.receivers.items()
    }
    assert wanted == {
        "pagerduty-critical": [True],
        "slack-warnings": [True],
        "email-infrastructure": [True],
    }


# --- auth ---------------------------------------------------------------------------------------


def basic(user: str, password: str) -> str:
    """An Authorization header value for HTTP basic auth."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


TOKEN = "test-bearer-token-123"
BEARER: dict[str, Any] = {"webhook_token": TOKEN}
BASIC: dict[str, Any] = {"webhook_user": "amuser", "webhook_password": "ampass-456"}
AUTH_CASES = [
    (BEARER, None, 401),
    (BEARER, "Bearer wrong-token", 401),
    (BEARER, f"Bearer {TOKEN}x", 401),
    (BEARER, TOKEN, 401),
    (BEARER, basic("amuser", TOKEN), 401),
    (BEARER, f"Bearer {TOKEN}", 200),
    (BEARER, f"bearer {TOKEN}", 200),
    (BASIC, None, 401),
    (BASIC, basic("amuser", "nope"), 401),
    (BASIC, basic("other", "ampass-456"), 401),
    (BASIC, "Basic !!not-base64!!", 401),
    (BASIC, "Bearer ampass-456", 401),
    (BASIC, basic("amuser", "ampass-456"), 200),
    ({}, None, 200),
    ({}, "Bearer anything", 200),
]


@pytest.mark.parametrize(("auth", "header", "expected"), AUTH_CASES)
async def test_webhook_credentials(
    tmp_path: Path, auth: dict[str, Any], header: str | None, expected: int
) -> None:
    """Bearer or basic credentials as configured; wrong or missing ones get 401 and no jobs."""
    async with running(make_store("memory", tmp_path), **auth) as harness:
        headers = {} if header is None else {"Authorization": header}
        answer = await harness.post(raw("firing_critical"), **headers)
        assert answer.status == expected, answer.text
        if expected == 401:
            assert answer.json["errors"][0]["field"] == "Authorization"
            assert "WWW-Authenticate" in answer.headers
            assert TOKEN not in answer.text
            assert "ampass-456" not in answer.text
            assert await harness.jobs() == []
        else:
            assert answer.counts == {"accepted": 1, "queued": 1, "suppressed": 0}


async def test_unauthorized_comes_before_reading_the_body(tmp_path: Path) -> None:
    """Without credentials even a malformed body gets 401: nothing is parsed for strangers."""
    async with running(make_store("memory", tmp_path), webhook_token=TOKEN) as harness:
        answer = await harness.post(b"{not json", content_type="text/plain")
        assert answer.status == 401
        assert answer.json["errors"][0]["field"] == "Authorization"


async def test_the_401_challenge_names_the_configured_scheme(tmp_path: Path) -> None:
    """With basic auth configured the 401 challenges Basic, so challenge-driven clients answer."""
    async with running(make_store("memory", tmp_path), **BASIC) as harness:
        answer = await harness.post(raw("firing_critical"))
        assert answer.status == 401
        assert answer.headers["WWW-Authenticate"].startswith("Basic ")


async def raw_request(port: int, header_lines: bytes, body: bytes) -> tuple[int, bytes]:
    """Send one hand-written HTTP/1.1 request (headers may hold any bytes); status and body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(
            b"POST /api/v1/alerts HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            b"Content-Type: application/json\r\n"
            + header_lines
            + b"Content-Length: %d\r\n\r\n" % len(body)
            + body
        )
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), timeout=10)
    finally:
        writer.close()
        await writer.wait_closed()
    head, _, rest = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), rest


@pytest.mark.parametrize(
    ("auth", "header"),
    [
        pytest.param(
            BEARER,
            b"Authorization: Bearer \xff\xfe\r\n",
        ),
        pytest.param(
            BASIC,
            "Authorization: Basic üü\r\n".encode(),
        ),
        (BASIC, b"Authorization: \xff\r\n"),
        (BEARER, "Authorization: Bearer ü\r\n".encode()),
    ],
)
async def test_credentials_in_odd_bytes_get_401_not_500(
    tmp_path: Path, auth: dict[str, Any], header: bytes
) -> None:
    """Authorization headers with non-ASCII or non-UTF-8 bytes are refused with 401."""
    async with running(make_store("memory", tmp_path), **auth) as harness:
        assert harness.client.port is not None
        status, _ = await raw_request(harness.client.port, header, raw("firing_critical"))
        assert status == 401


# --- what the body may and may not be ---------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/octet-stream", "text/json"],
)
async def test_a_body_that_is_not_json_gets_415(harness: Harness, content_type: str) -> None:
    """Anything but application/json is refused with 415 naming Content-Type."""
    answer = await harness.post(raw("firing_critical"), content_type=content_type)
    assert answer.status == 415
    assert answer.json["errors"][0]["field"] == "Content-Type"
    assert await harness.jobs() == []


async def test_a_missing_content_type_gets_415(harness: Harness) -> None:
    """A body with no Content-Type at all is refused with 415."""
    async with harness.client.post(
        "/api/v1/alerts", data=raw("firing_critical"), skip_auto_headers=["Content-Type"]
    ) as response:
        assert response.status == 415
        assert (await response.json())["errors"][0]["field"] == "Content-Type"


async def test_an_unknown_path_gets_a_json_404(harness: Harness) -> None:
    """404 is JSON naming the path, like every other error answer."""
    answer = await harness.request("GET", "/no/such/thing")
    assert answer.status == 404
    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.json["errors"][0]["message"] == "no such endpoint: /no/such/thing"


async def test_a_wrong_method_gets_a_json_405_with_allow(harness: Harness) -> None:
    """405 is JSON naming the allowed methods, and keeps the Allow header."""
    answer = await harness.request("GET", "/api/v1/alerts")
    assert answer.status == 405
    assert answer.headers["Content-Type"].startswith("application/json")
    assert "POST" in answer.headers["Allow"]
    assert "allowed: POST" in answer.json["errors"][0]["message"]


async def test_json_with_a_charset_parameter_is_accepted(harness: Harness) -> None:
    """application/json; charset=utf-8 is still JSON."""
    answer = await harness.post(raw("firing_critical"), "application/json; charset=utf-8")
    assert answer.status == 200


def alert_body(**alert_changes: Any) -> dict[str, Any]:
    """firing_critical with its alert's keys changed (a value of ... deletes the key)."""
    body = doc("firing_critical")
    for key, value in alert_changes.items():
        if value is ...:
            del body["alerts"][0][key]
        else:
            body["alerts"][0][key] = value
    return body


INVALID_BODIES: list[tuple[str, bytes, str]] = [
    ("truncated JSON", raw("firing_critical")[:-20], "(body)"),
    ("not UTF-8", b'{"alerts": [\xff]}', "(body)"),
    ("empty", b"", "(body)"),
    ("a list", b"[]", "(body)"),
    ("a string", b'"alerts"', "(body)"),
    ("no alerts", b'{"version": "4"}', "alerts"),
    ("alerts not a list", b'{"alerts": {}}', "alerts"),
    ("labels a string", encode(alert_body(labels="severity=critical")), "alerts[0].labels"),
    ("labels missing", encode(alert_body(labels=...)), "alerts[0].labels"),
    ("label value a number", encode(alert_body(labels={"code": 500})), "alerts[0].labels.code"),
    ("status unknown", encode(alert_body(status="pending")), "alerts[0].status"),
    ("annotations a list", encode(alert_body(annotations=[])), "alerts[0].annotations"),
    ("startsAt no zone", encode(alert_body(startsAt="2026-11-28T07:11:17")), "alerts[0].startsAt"),
    ("endsAt a number", encode(alert_body(endsAt=1764313877)), "alerts[0].endsAt"),
    ("negative truncatedAlerts", b'{"alerts": [], "truncatedAlerts": -1}', "truncatedAlerts"),
    ("version a number", b'{"alerts": [], "version": 4}', "version"),
    ("huge integer", b'{"alerts": [], "truncatedAlerts": ' + b"9" * 5000 + b"}", "(body)"),
]


@pytest.mark.parametrize(
    ("body", "field"), [pytest.param(b, f, id=name) for name, b, f in INVALID_BODIES]
)
async def test_an_invalid_body_gets_400_naming_the_field(
    harness: Harness, body: bytes, field: str
) -> None:
    """Invalid JSON or an invalid payload gets 400 with the path of the problem, no jobs."""
    answer = await harness.post(body)
    assert answer.status == 400, answer.text
    assert field in [problem["field"] for problem in answer.json["errors"]]
    assert all(problem["message"] for problem in answer.json["errors"])
    assert await harness.jobs() == []


async def test_a_400_does_not_echo_the_input(harness: Harness) -> None:
    """Error messages name the field, not the value sent (it may be a secret)."""
    body = alert_body(status="s3cr3t-value", labels={"token": ["s3cr3t-value"]})
    answer = await harness.post(encode(body))
    assert answer.status == 400
    fields = {problem["field"] for problem in answer.json["errors"]}
    assert fields == {"alerts[0].status", "alerts[0].labels.token"}
    assert "s3cr3t-value" not in answer.text


async def test_deeply_nested_json_gets_400(harness: Harness) -> None:
    """JSON nested deeper than the parser can go is invalid input: 400, never 5xx."""
    answer = await harness.post(b'{"alerts": [], "x": ' + b"[" * 50_000 + b"]" * 50_000 + b"}")
    assert answer.status == 400


@pytest.mark.parametrize(
    ("where", "kind"),
    [
        pytest.param(
            "label",
            kind,
        )
        for kind in ("memory", "sqlite")
    ]
    + [
        pytest.param("fingerprint", "memory"),
        pytest.param(
            "fingerprint",
            "sqlite",
        ),
    ],
)
async def test_lone_surrogates_are_no_server_error(tmp_path: Path, where: str, kind: str) -> None:
    """A JSON string escape that is no valid UTF-8 (\\ud800) gets a 2xx or 4xx, never a 5xx."""
    body = doc("firing_warning")
    if where == "label":
        body["alerts"][0]["labels"]["pod"] = "\ud800"
        del body["alerts"][0]["fingerprint"]
    else:
        body["alerts"][0]["fingerprint"] = "\ud800"
    async with running(make_store(kind, tmp_path)) as harness:
        answer = await harness.post(json.dumps(body).encode())  # ensure_ascii: "\\ud800"
        assert answer.status < 500, answer.text


async def test_a_body_over_max_body_bytes_gets_413(tmp_path: Path) -> None:
    """Over Settings.max_body_bytes the answer is 413, whether sized or chunked; under it, 200."""
    limit = len(raw("firing_critical")) + 10
    assert len(raw("grouped_firing")) > limit
    async with running(make_store("memory", tmp_path), max_body_bytes=limit) as harness:
        assert (await harness.post(raw("grouped_firing"))).status == 413

        async def chunks() -> AsyncIterator[bytes]:
            body = raw("grouped_firing")
            for start in range(0, len(body), 256):
                yield body[start : start + 256]

        async with harness.client.post(
            "/api/v1/alerts", data=chunks(), headers={"Content-Type": "application/json"}
        ) as response:
            assert response.status == 413
        assert (await harness.post(raw("firing_critical"))).status == 200
        assert len(await harness.jobs()) == 1


async def test_not_accepting_answers_503_and_writes_nothing(harness: Harness) -> None:
    """While starting or draining the webhook answers 503 (Alertmanager retries), then 200."""
    harness.service.stop_accepting()
    answer = await harness.post(raw("firing_critical"))
    assert answer.status == 503
    assert await harness.jobs() == []
    harness.service.start_accepting()
    assert (await harness.send("firing_critical"))["queued"] == 1


async def test_unknown_keys_from_newer_alertmanagers_are_tolerated(harness: Harness) -> None:
    """notification_reason, routeLabels and unknown alert keys do not stop the webhook."""
    body = doc("firing_critical")
    body["notification_reason"] = "repeat"
    body["routeLabels"] = {"severity": "critical"}
    body["alerts"][0]["silencedBy"] = []
    body["alerts"][0]["someFutureField"] = {"nested": [1, 2.5, None, True]}
    answer = await harness.post(encode(body))
    assert answer.status == 200, answer.text
    assert answer.counts == {"accepted": 1, "queued": 1, "suppressed": 0}
    (queued,) = await harness.jobs()
    assert queued.payload["alerts"][0]["fingerprint"] == HIGH_ERROR


@pytest.mark.parametrize(
    "stamp",
    [
        "2026-11-28T07:11:17Z",
        "2026-11-28T07:11:17.6Z",
        "2026-11-28T07:11:17.648Z",
        "2026-11-28T07:11:17.622246729Z",
        "2026-11-28T08:11:17.622246729+01:00",
        "0001-01-01T00:00:00Z",
    ],
)
async def test_timestamps_with_0_to_9_fractional_digits(harness: Harness, stamp: str) -> None:
    """startsAt/endsAt with 0 to 9 fractional digits and any offset are accepted as sent."""
    body = alert_body(startsAt=stamp, status="resolved", endsAt=stamp)
    answer = await harness.post(encode(body))
    assert answer.status == 200, answer.text
    body = alert_body(startsAt=stamp)
    assert (await harness.post(encode(body))).counts["queued"] == 1
    (queued,) = await harness.jobs()
    assert queued.payload["alerts"][0]["startsAt"] == stamp


@pytest.mark.parametrize(
    "stamp",
    ["2026-11-28T07:11:17.6222467291Z", "2026-11-28 07:11:17Z", "2026-11-28T07:11:17.Z", "now"],
)
async def test_malformed_timestamps_get_400(harness: Harness, stamp: str) -> None:
    """Ten fractional digits, a space for T, an empty fraction or prose are refused."""
    answer = await harness.post(encode(alert_body(startsAt=stamp)))
    assert answer.status == 400
    assert [p["field"] for p in answer.json["errors"]] == ["alerts[0].startsAt"]


# --- time intervals ---------------------------------------------------------------------------

INTERVALS = """\
    time_intervals:
      - name: always
        time_intervals:
          - weekdays: ['sunday:saturday']
      - name: weekends
        time_intervals:
          - weekdays: ['saturday', 'sunday']
      - name: last-century
        time_intervals:
          - years: ['1999']
    route:
      receiver: slack-warnings
      routes:
        - matchers: ['severity="critical"']
          receiver: pagerduty-critical
          mute_time_intervals: [{critical}]
        - matchers: ['severity="warning"']
          receiver: slack-warnings
          active_time_intervals: [{warning}]
    receivers:
      - name: pagerduty-critical
        pagerduty_configs:
          - routing_key: k
      - name: slack-warnings
        slack_configs:
          - api_url: http://127.0.0.1:9/x
"""


async def test_a_route_muted_always_suppresses_and_claims_nothing(store: Store) -> None:
    """mute_time_intervals covering every day suppresses, counted in "suppressed", no claim."""
    config = config_from(INTERVALS.format(critical="always", warning="always"))
    async with running(store, config=config) as harness:
        assert await harness.send("firing_critical") == {
            "accepted": 1,
            "queued": 0,
            "suppressed": 1,
        }
        assert await harness.send("grouped_firing") == {
            "accepted": 3,
            "queued": 1,
            "suppressed": 0,
        }
        assert await store.get_claim(ClaimKey(*PAGERDUTY, HIGH_ERROR)) is None
        assert summarize(await harness.jobs()) == [job(SLACK, "firing", DB1, DB2, DB3)]


async def test_an_active_interval_that_never_comes_suppresses(store: Store) -> None:
    """active_time_intervals that do not contain now suppress the route's alerts."""
    config = config_from(INTERVALS.format(critical="weekends", warning="last-century"))
    async with running(store, config=config, clock=FakeClock(MONDAY)) as harness:
        assert await harness.send("grouped_firing") == {
            "accepted": 3,
            "queued": 0,
            "suppressed": 3,
        }
        assert await harness.send("firing_critical") == {
            "accepted": 1,
            "queued": 1,
            "suppressed": 0,
        }


async def test_a_weekend_mute_follows_the_injected_clock(store: Store) -> None:
    """Muted on Saturday, the same alert pages on Monday: the mute leaves no claim behind."""
    config = config_from(INTERVALS.format(critical="weekends", warning="always"))
    clock = FakeClock(START)  # a Saturday
    async with running(store, config=config, clock=clock) as harness:
        assert (await harness.send("firing_critical"))["suppressed"] == 1
        clock.now = MONDAY
        assert (await harness.send("repeat"))["queued"] == 1


async def test_a_resolve_during_a_mute_closes_what_was_paged(store: Store) -> None:
    """Paged on Friday night, muted on Saturday: the resolve is still sent (design.md §4),
    while a firing repeat stays muted."""
    config = config_from(INTERVALS.format(critical="weekends", warning="always"))
    # Friday 23:31, then Saturday 07:11: within the claim's life (2 x the 4h repeat interval).
    clock = FakeClock(START - 7 * 3600 - 40 * 60)
    async with running(store, config=config, clock=clock) as harness:
        assert (await harness.send("firing_critical"))["queued"] == 1
        clock.now = START  # Saturday: muted
        assert (await harness.send("repeat"))["suppressed"] == 1
        assert (await harness.send("resolved"))["queued"] == 1
        (_, resolve) = summarize(await harness.jobs())
        assert resolve == job(PAGERDUTY, "resolved", HIGH_ERROR)


async def test_a_resolve_during_a_mute_for_an_alert_never_paged_is_dropped(store: Store) -> None:
    """A resolve passing a mute is still deduplicated: never notified, nothing is sent."""
    config = config_from(INTERVALS.format(critical="weekends", warning="always"))
    async with running(store, config=config, clock=FakeClock(START)) as harness:
        assert (await harness.send("firing_critical"))["suppressed"] == 1
        assert (await harness.send("resolved"))["suppressed"] == 1
        assert await harness.jobs() == []


async def test_resolve_when_muted_false_drops_resolves_as_alertmanager_does(store: Store) -> None:
    """``resolve_when_muted: false`` on a route keeps Alertmanager's behaviour: muted is muted."""
    text = INTERVALS.format(critical="weekends", warning="always").replace(
        "mute_time_intervals: [weekends]",
        "mute_time_intervals: [weekends]\n          resolve_when_muted: false",
    )
    config = config_from(text)
    clock = FakeClock(START - 7 * 3600 - 40 * 60)
    async with running(store, config=config, clock=clock) as harness:
        assert (await harness.send("firing_critical"))["queued"] == 1
        clock.now = START
        assert (await harness.send("resolved"))["suppressed"] == 1


def test_an_inverted_weekday_range_is_a_config_error() -> None:
    """weekdays 'monday:sunday' is refused (sunday is day 0), as Alertmanager refuses it."""
    with pytest.raises(ConfigError, match="start day cannot be before end day"):
        config_from(INTERVALS.replace("sunday:saturday", "monday:sunday").format(
            critical="always", warning="always"
        ))  # fmt: skip


# --- concurrency -------------------------------------------------------------------------------


async def test_a_hundred_different_webhooks_at_once_are_all_committed(harness: Harness) -> None:
    """100 concurrent webhooks about different alerts all answer 200 and queue one job each."""
    bodies = [distinct_warning(i) for i in range(100)]
    answers = await asyncio.gather(*(harness.post(body) for body in bodies))
    assert [a.status for a in answers] == [200] * 100
    assert [a.counts for a in answers] == [{"accepted": 1, "queued": 1, "suppressed": 0}] * 100
    jobs = await harness.jobs()
    assert len(jobs) == 100
    fingerprints = Counter(j.payload["alerts"][0]["fingerprint"] for j in jobs)
    assert set(fingerprints.values()) == {1}
    assert set(fingerprints) == {json.loads(b)["alerts"][0]["fingerprint"] for b in bodies}
    assert (await harness.status())["queue_depth"] == 100


@pytest.mark.parametrize("name", ["firing_critical", "grouped_firing", "truncated_firing"])
async def test_the_same_body_ten_times_at_once_queues_one_set(harness: Harness, name: str) -> None:
    """Ten concurrent copies of one body (Alertmanager retrying) yield one set of jobs."""
    answers = await asyncio.gather(*(harness.post(raw(name)) for _ in range(10)))
    assert [a.status for a in answers] == [200] * 10
    assert sum(a.counts["queued"] for a in answers) == 1
    (queued,) = await harness.jobs()
    assert len(queued.payload["alerts"]) == len(doc(name)["alerts"])


# --- no input can make a 5xx ------------------------------------------------------------------

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=30)
    | st.sampled_from(["firing", "resolved", "", "0001-01-01T00:00:00Z", "4", "\x00"])
)
KEYS = st.sampled_from(
    ["alerts", "labels", "annotations", "status", "startsAt", "endsAt", "fingerprint",
     "version", "truncatedAlerts", "groupKey", "receiver", "commonLabels", "routeLabels"]
) | st.text(max_size=12)  # fmt: skip
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(KEYS, inner, max_size=6),
    max_leaves=30,
)
FIXTURE_DOCS = [doc(name) for name in FIXTURE_NAMES]


def _slots(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path to a value inside ``value`` (not the root)."""
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return
    for key, child in items:
        yield (*path, key)
        yield from _slots(child, (*path, key))


@st.composite
def mutated_fixtures(draw: st.DrawFn) -> Any:
    """A captured body with 1-4 mutations: keys dropped, types changed, huge or junk values."""
    body = copy.deepcopy(draw(st.sampled_from(FIXTURE_DOCS)))
    for _ in range(draw(st.integers(1, 4))):
        slots = list(_slots(body))
        if not slots:
            break
        path = draw(st.sampled_from(slots))
        parent = body
        for key in path[:-1]:
            parent = parent[key]
        key = path[-1]
        action = draw(st.sampled_from(["drop", "retype", "huge", "junk", "duplicate"]))
        if action == "drop":
            del parent[key]
        elif action == "retype":
            parent[key] = draw(SCALARS | st.lists(SCALARS, max_size=2) | st.just({}))
        elif action == "huge":
            parent[key] = draw(st.sampled_from(["x" * 200_000, "é" * 50_000, "9" * 4000]))
        elif action == "junk":
            junk = draw(JSON)
            for _ in range(draw(st.integers(0, 60))):
                junk = [junk] if draw(st.booleans()) else {"k": junk}
            parent[key] = junk
        elif isinstance(parent, list):
            parent.append(copy.deepcopy(parent[key]))
    return body


def assert_clean_answer(status: int, text: str) -> None:
    """No 5xx, no traceback, and a 4xx names the field of every problem."""
    assert status < 500, text
    assert "Traceback" not in text
    if status >= 400:
        problems = json.loads(text)["errors"]
        assert problems
        for problem in problems:
            assert isinstance(problem["field"], str), problem
            assert problem["field"], problem
            assert isinstance(problem["message"], str), problem
            assert problem["message"], problem


async def run_property(
    tmp_path: Path, strategy: st.SearchStrategy[bytes], examples: int = 200
) -> None:
    """Post every drawn body to one app over SQLite and check each answer is clean.

    Hypothesis runs in a worker thread; each request is run on this test's event loop.
    """
    async with running(make_store("sqlite", tmp_path)) as harness:
        loop = asyncio.get_running_loop()

        def post(body: bytes) -> Answer:
            return asyncio.run_coroutine_threadsafe(harness.post(body), loop).result(timeout=30)

        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(body=strategy)
        def check(body: bytes) -> None:
            answer = post(body)
            assert_clean_answer(answer.status, answer.text)

        await asyncio.to_thread(check)
        assert (await harness.request("GET", "/-/ready")).status == 200


async def test_arbitrary_json_never_gets_a_5xx(tmp_path: Path) -> None:
    """Any JSON value (or any bytes) gets 200 or a 4xx naming a field, never a 5xx."""
    strategy = JSON.map(lambda value: json.dumps(value).encode()) | st.binary(max_size=200)
    await run_property(tmp_path, strategy)


async def test_mutated_fixtures_never_get_a_5xx(tmp_path: Path) -> None:
    """Captured bodies with keys dropped, types changed and junk added never get a 5xx."""
    await run_property(tmp_path, mutated_fixtures().map(lambda value: json.dumps(value).encode()))


# --- reload under load -------------------------------------------------------------------------

PROBLEM_LINE = re.compile(r"^(?P<file>.+):(?P<line>\d+): ")


async def test_reload_under_load_swaps_configs_without_failing_a_webhook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reloads alternating invalid/valid while 200 webhooks stream: none fails, sha256 follows."""
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    routing = tmp_path / "alertrouter.yml"
    shipped = SHIPPED.read_text(encoding="utf-8")
    routing.write_text(shipped, encoding="utf-8")
    invalid = shipped.replace("receiver: email-infrastructure", "receiver: email-infra").replace(
        "\nroute:\n", "\nroute:\n  bogus_key: true\n", 1
    )
    store = make_store("sqlite", tmp_path)
    config = load_routing_config(routing)
    async with running(store, config=config, config_path=str(routing)) as harness:
        bodies = [distinct_warning(i) for i in range(200)]
        gate = asyncio.Semaphore(16)  # a steady stream rather than one burst

        async def post(body: bytes) -> Answer:
            async with gate:
                return await harness.post(body)

        stream = asyncio.ensure_future(asyncio.gather(*(post(body) for body in bodies)))
        live_sha = hashlib.sha256(shipped.encode()).hexdigest()
        assert (await harness.status())["config"]["sha256"] == live_sha
        rounds = during_stream = 0
        while not stream.done() or rounds < 3:
            routing.write_text(invalid, encoding="utf-8")
            answer = await harness.request("POST", "/-/reload")
            assert answer.status == 400, answer.text
            problems = answer.json["errors"]
            assert problems
            for problem in problems:
                found = PROBLEM_LINE.match(problem)
                assert found is not None, problem
                assert found["file"] == str(routing), problem
            assert any('undefined receiver "email-infra"' in p for p in problems)
            assert any("bogus_key" in p for p in problems)
            status = await harness.status()
            assert status["config"]["sha256"] == live_sha
            assert status["config"]["last_reload_successful"] is False

            text = f"{shipped}# revision {rounds}\n"
            routing.write_text(text, encoding="utf-8")
            answer = await harness.request("POST", "/-/reload")
            assert answer.status == 200, answer.text
            live_sha = hashlib.sha256(text.encode()).hexdigest()
            status = await harness.status()
            assert status["config"]["sha256"] == live_sha
            assert status["config"]["last_reload_successful"] is True
            rounds += 1
            during_stream += not stream.done()
        answers = await stream
        assert during_stream >= 1, "no reload overlapped the stream"
        assert [a.status for a in answers] == [200] * len(bodies)
        assert all(a.counts["queued"] == 1 for a in answers)
        assert len(await harness.jobs()) == len(bodies)


# --- health, readiness, status -----------------------------------------------------------------


async def test_healthy_answers_even_while_draining(harness: Harness) -> None:
    """/-/healthy is liveness: 200 whether or not webhooks are taken."""
    assert (await harness.request("GET", "/-/healthy")).status == 200
    harness.service.stop_accepting()
    assert (await harness.request("GET", "/-/healthy")).status == 200


async def test_ready_follows_accepting(harness: Harness) -> None:
    """/-/ready is 200 while accepting and 503 while starting or draining."""
    assert (await harness.request("GET", "/-/ready")).status == 200
    harness.service.stop_accepting()
    assert (await harness.request("GET", "/-/ready")).status == 503
    harness.service.start_accepting()
    assert (await harness.request("GET", "/-/ready")).status == 200


class UnreachableStore(MemoryStore):
    """A store whose backend stops answering when ``down`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False

    def _check(self) -> None:
        if self.down:
            raise StoreError("connection refused")

    async def ping(self) -> None:
        """Fails while down."""
        self._check()

    async def claim_and_enqueue(self, drafts: Any, now: float) -> IngestOutcome:
        """Fails while down."""
        self._check()
        return await super().claim_and_enqueue(drafts, now)

    async def stats(self) -> StoreStats:
        """Fails while down."""
        self._check()
        return await super().stats()


async def test_an_unreachable_store_makes_ready_and_the_webhook_503() -> None:
    """With the store down, /-/ready and the webhook answer 503 (retryable), then recover."""
    store = UnreachableStore()
    async with running(store) as harness:
        store.down = True
        assert (await harness.request("GET", "/-/ready")).status == 503
        assert (await harness.post(raw("firing_critical"))).status == 503
        assert (await harness.request("GET", "/api/v1/status")).status == 503
        store.down = False
        assert (await harness.request("GET", "/-/ready")).status == 200
        assert (await harness.send("firing_critical"))["queued"] == 1


async def test_ready_is_503_once_the_sqlite_store_is_closed(tmp_path: Path) -> None:
    """With the SQLite store closed under it, /-/ready and the webhook answer 503 promptly."""
    store = make_store("sqlite", tmp_path)
    app = make_app(Settings(config_path=str(SHIPPED)), shipped_config(), store=store)
    # Bounded: before the fix a closed store made every request wait forever.
    server = TestServer(app, shutdown_timeout=1)
    async with TestClient(server, timeout=aiohttp.ClientTimeout(total=5)) as client:
        async with client.get("/-/ready") as response:
            assert response.status == 200
        await store.close()
        async with client.get("/-/ready") as response:
            assert response.status == 503
        async with client.post(
            "/api/v1/alerts",
            data=raw("firing_critical"),
            headers={"Content-Type": "application/json"},
        ) as response:
            assert response.status == 503


async def test_status_reports_version_config_store_and_queues(harness: Harness) -> None:
    """/api/v1/status gives version, config file/hash/load time, backend and queue counts."""
    status = await harness.status()
    assert status["version"] == __version__
    assert status["config"] == {
        "file": str(SHIPPED),
        "sha256": hashlib.sha256(SHIPPED.read_bytes()).hexdigest(),
        "loaded_at": START,
        "last_reload_successful": True,
    }
    assert status["store"] == harness.store.backend
    assert status["dry_run"] is False
    assert (status["queue_depth"], status["dead_letters"], status["queues"]) == (0, 0, {})
    await harness.send("firing_critical")
    await harness.send("grouped_firing")
    await harness.send("firing_warning")
    status = await harness.status()
    assert status["queue_depth"] == 3
    assert status["queues"] == {
        "pagerduty-critical/pagerduty[0]": {"pending": 1, "inflight": 0, "dead": 0},
        "slack-warnings/slack[0]": {"pending": 2, "inflight": 0, "dead": 0},
    }


async def test_claims_outlive_a_wall_clock_sweep_when_the_clock_is_injected(
    tmp_path: Path,
) -> None:
    """Claims expire by the injected clock, not the wall clock: a 2020 clock still dedups."""
    clock = FakeClock(datetime(2020, 1, 1, tzinfo=UTC).timestamp())
    async with running(make_store("sqlite", tmp_path), clock=clock) as harness:
        assert (await harness.send("firing_critical"))["queued"] == 1
        clock.advance(10)
        assert (await harness.send("repeat"))["queued"] == 0
