"""Several ``alertrouter serve`` processes sharing one real redis-server (design.md §5).

Each test starts its own redis-server (append-only, fsync always) and real ``serve``
subprocesses on free loopback ports, pointed at the provider fakes, which run on the test's
event loop. Lease and queue-hold times are shortened through ``ALERTROUTER_LEASE_SECONDS`` and
``ALERTROUTER_QUEUE_HOLD_SECONDS`` so that a crashed replica's work is taken over within seconds.
Every process is stopped by its PID when its test ends. Besides the three promises (an HA pair
notifies exactly once, a SIGKILLed replica's jobs are delivered by the other, a rolling restart
loses nothing) the file holds regressions found with them: a queue hold renewed only between
batches, a digest's completes exhausting the Redis connection pool, and a burst of webhooks
doing the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import yaml

from alertrouter.notifiers.pagerduty import dedup_key
from alertrouter.payload import alertmanager_fingerprint
from fakes.pagerduty import FakePagerDuty
from fakes.slack import FakeSlack
from fakes.webhook import FakeWebhookReceiver
from processes import free_port
from redis_server import RedisServer, require_redis_server

RAW = Path(__file__).parent / "fixtures" / "alertmanager" / "raw"
TOKEN = "replica-test-token"
ROUTING_KEY = "r" * 32
RUNNER = "from alertrouter.cli.main import main; raise SystemExit(main())"
START_TIMEOUT = 20.0
LEASE_SECONDS = 4.0
HOLD_SECONDS = 3.0
PD_QUEUE = "pagerduty-critical/pagerduty[0]"
HOOK_QUEUE = "infra-webhook/webhook[0]"

# Every captured body, in the order Alertmanager sent them: first sends, repeat-interval
# re-sends (byte-identical), a group changing, then the resolves.
SEQUENCE = (
    "firing_critical",
    "firing_warning",
    "firing_infra",
    "grouped_firing",
    "truncated_firing",
    "prometheus_firing",
    "retry_500_attempt",
    "repeat",
    "repeat_grouped",
    "repeat_infra",
    "prometheus_repeat",
    "retry_500_attempt",
    "grouped_member_added",
    "grouped_partial_resolved",
    "grouped_resolved",
    "resolved",
    "resolved_warning",
    "resolved_infra",
    "truncated_resolved",
    "prometheus_resolved",
)

pytestmark = pytest.mark.skipif(
    not RAW.is_dir(), reason="the captured Alertmanager fixtures (raw/*.body) are missing"
)


# -- processes ---------------------------------------------------------------------------------


def replica_env() -> dict[str, str]:
    """This environment without alertrouter settings or secrets, plus the test's settings."""
    dropped = {"PAGERDUTY_SERVICE_KEY", "SLACK_WEBHOOK_URL", "SENTRY_DSN", "ENVIRONMENT"}
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("ALERTROUTER_") and k not in dropped
    }
    env.update(
        ALERTROUTER_LOG_FORMAT="json",
        ALERTROUTER_WEBHOOK_TOKEN=TOKEN,
        ALERTROUTER_LEASE_SECONDS=str(LEASE_SECONDS),
        ALERTROUTER_QUEUE_HOLD_SECONDS=str(HOLD_SECONDS),
    )
    return env


@dataclass
class Replica:
    """One ``alertrouter serve`` process: its name, port, log file and process."""

    name: str
    folder: Path
    config: Path
    state_url: str
    env: dict[str, str] = field(default_factory=replica_env)
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    generation: int = 0

    @property
    def url(self) -> str:
        """Base URL of the running process."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        """The running process's id."""
        assert self.process is not None
        return self.process.pid

    @property
    def log(self) -> Path:
        """The log file of the current run."""
        return self.folder / f"{self.name}-{self.generation}.log"

    def logs(self) -> str:
        """What every run of this replica logged so far."""
        runs = sorted(self.folder.glob(f"{self.name}-*.log"))
        return "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in runs)

    def start(self) -> None:
        """Start ``serve`` on a new free port (not waiting for it)."""
        self.generation += 1
        self.port = free_port()
        command = [
            sys.executable, "-c", RUNNER, "serve", "--config", str(self.config),
            "--listen", f"127.0.0.1:{self.port}", "--state-url", self.state_url,
        ]  # fmt: skip
        with self.log.open("wb") as output:
            self.process = subprocess.Popen(
                command, env=self.env, cwd=self.folder, stdout=output, stderr=subprocess.STDOUT
            )

    async def wait_ready(self, client: httpx.AsyncClient) -> None:
        """Poll /-/ready until 200; fail with the log if the process exits or times out."""
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                pytest.fail(f"{self.name} exited with {self.process.returncode}:\n{self.logs()}")
            with contextlib.suppress(httpx.TransportError):
                if (await client.get(f"{self.url}/-/ready", timeout=2)).status_code == 200:
                    return
            if time.monotonic() > deadline:
                pytest.fail(f"{self.name} not ready after {START_TIMEOUT}s:\n{self.logs()}")
            await asyncio.sleep(0.05)

    async def stop(self, sig: signal.Signals, within: float = 20.0) -> int:
        """Send ``sig`` to the process and wait for it to exit (off the event loop)."""
        process = self.process
        assert process is not None
        process.send_signal(sig)
        code = await asyncio.to_thread(process.wait, within)
        self.process = None
        return code

    def kill(self) -> None:
        """SIGKILL by PID if still running (test teardown)."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A redis-server of this test's own: append-only, every write fsync'ed before the reply."""
    require_redis_server()
    data = tmp_path / "redis"
    data.mkdir()
    server = RedisServer(data_dir=data)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def replicas(tmp_path: Path) -> Iterator[Callable[[str, Path, str], Replica]]:
    """A factory of replicas (not started); every one still running is killed at teardown."""
    made: list[Replica] = []

    def make(name: str, config: Path, state_url: str) -> Replica:
        replica = Replica(name, tmp_path, config, state_url)
        made.append(replica)
        return replica

    try:
        yield make
    finally:
        for replica in made:
            replica.kill()


@contextlib.asynccontextmanager
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client carrying the webhook token."""
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    async with httpx.AsyncClient(headers=headers, timeout=10) as client:
        yield client


async def start_all(client: httpx.AsyncClient, *started: Replica) -> None:
    """Start the replicas together and wait until each is ready."""
    for replica in started:
        replica.start()
    await asyncio.gather(*(r.wait_ready(client) for r in started))


async def post(client: httpx.AsyncClient, replica: Replica, body: bytes) -> dict[str, Any]:
    """POST one webhook body to ``replica``; it must be accepted."""
    answer = await client.post(f"{replica.url}/api/v1/alerts", content=body)
    assert answer.status_code == 200, f"{replica.name}: {answer.status_code} {answer.text}"
    result: dict[str, Any] = answer.json()
    return result


async def eventually(what: str, check: Callable[[], Awaitable[bool]], within: float) -> None:
    """Poll ``check`` every 50 ms until true; fail naming ``what`` after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {within}s waiting for {what}")
        await asyncio.sleep(0.05)


async def drained(client: httpx.AsyncClient, replica: Replica) -> bool:
    """Nothing pending or in flight in the (shared) store, as ``replica`` reports it."""
    answer = await client.get(f"{replica.url}/api/v1/status")
    assert answer.status_code == 200, answer.text
    return answer.json()["queue_depth"] == 0


def holders(url: str, queues: Sequence[str]) -> list[str | None]:
    """The owner id (``host:pid:nonce``) holding each queue in Redis, None when free."""
    with redis.Redis.from_url(url, decode_responses=True) as connection:
        return [connection.get(f"alertrouter:worker:{q}") for q in queues]


def held_by(url: str, queues: Sequence[str], replica: Replica) -> bool:
    """Whether ``replica``'s process holds every one of ``queues``."""
    return all(o is not None and o.split(":")[1] == str(replica.pid) for o in holders(url, queues))


# -- routing and alerts ------------------------------------------------------------------------

FAST = {
    "rate_limit": "10000/s",
    "rate_burst": 10000,
    "retry": {"initial": "100ms", "max_interval": "500ms"},
    "storm": {"threshold": 1000},  # no digests: each job is its own message, as in one process
}


def write_routing(folder: Path, *, pagerduty: str, slack: str, hook: str) -> Path:
    """The shipped policy's shape with the fakes as endpoints; infra alerts go to a webhook."""
    config = {
        "route": {
            "receiver": "slack-warnings",
            "repeat_interval": "12h",
            "routes": [
                {
                    "matchers": ['severity="critical"'],
                    "receiver": "pagerduty-critical",
                    "repeat_interval": "1h",
                    "continue": True,
                },
                {
                    "matchers": ['team=~"infra|infrastructure"'],
                    "receiver": "infra-webhook",
                    "repeat_interval": "4h",
                },
                {"matchers": ['severity="warning"'], "receiver": "slack-warnings"},
            ],
        },
        "receivers": [
            {
                "name": "pagerduty-critical",
                "pagerduty_configs": [{"routing_key": ROUTING_KEY, "url": pagerduty, **FAST}],
            },
            {
                "name": "slack-warnings",
                "slack_configs": [
                    {"api_url": slack, "channel": "#alerts", "send_resolved": True, **FAST}
                ],
            },
            {
                "name": "infra-webhook",
                "webhook_configs": [{"url": hook, "send_resolved": True, **FAST}],
            },
        ],
    }
    path = folder / "alertrouter.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def alert_labels(instance: str, *, severity: str, team: str = "") -> dict[str, str]:
    """firing_warning's labels about ``instance``, with ``severity`` (and ``team``)."""
    body = json.loads((RAW / "firing_warning.body").read_bytes())
    labels: dict[str, str] = body["alerts"][0]["labels"]
    labels.update(instance=instance, severity=severity)
    if team:
        labels["team"] = team
    return labels


def fingerprint_of(instance: str, *, severity: str = "critical", team: str = "") -> str:
    """Alertmanager's fingerprint of ``alert_body``'s alert."""
    return alertmanager_fingerprint(alert_labels(instance, severity=severity, team=team))


def alert_body(instance: str, *, severity: str, team: str = "", resolved: bool = False) -> bytes:
    """A one-alert webhook (firing_warning's shape) about ``instance``: its own group and job."""
    body = json.loads((RAW / "firing_warning.body").read_bytes())
    alert = body["alerts"][0]
    alert["labels"] = alert_labels(instance, severity=severity, team=team)
    alert["fingerprint"] = alertmanager_fingerprint(alert["labels"])
    body["groupKey"] = f'{{}}:{{instance="{instance}"}}'
    body["groupLabels"] = {"instance": instance}
    body["commonLabels"] = dict(alert["labels"])
    if resolved:
        body["status"] = alert["status"] = "resolved"
        alert["endsAt"] = "2024-06-01T12:30:00Z"
    return json.dumps(body, separators=(",", ":")).encode() + b"\n"


def hook_alerts(hook: FakeWebhookReceiver) -> list[tuple[str, str]]:
    """(instance, status) of every alert in every payload the webhook fake accepted, in order."""
    return [
        (alert.labels["instance"], alert.status)
        for payload in hook.payloads
        for alert in payload.alerts
    ]


def canonical(items: Sequence[Any]) -> Counter[str]:
    """A multiset of JSON documents, compared regardless of key order."""
    return Counter(json.dumps(item, sort_keys=True) for item in items)


@dataclass
class Delivered:
    """What the fakes received, as multisets of canonical JSON."""

    pagerduty: Counter[str]
    slack: Counter[str]
    webhook: Counter[str]
    queued: list[list[int]]


async def replay_fixtures(folder: Path, start: Callable[[Path], list[Replica]]) -> Delivered:
    """Post every fixture of SEQUENCE to every replica at once; wait until all is delivered."""
    async with contextlib.AsyncExitStack() as stack:
        pd = await stack.enter_async_context(FakePagerDuty())
        slack = await stack.enter_async_context(FakeSlack())
        hook = await stack.enter_async_context(FakeWebhookReceiver())
        client = await stack.enter_async_context(http())
        config = write_routing(
            folder, pagerduty=pd.events_url, slack=slack.webhook_url(), hook=hook.url
        )
        group = start(config)
        await start_all(client, *group)
        queued: list[list[int]] = []
        for name in SEQUENCE:
            body = (RAW / f"{name}.body").read_bytes()
            answers = await asyncio.gather(*(post(client, r, body) for r in group))
            queued.append([a["queued"] for a in answers])
        await eventually("every job to be delivered", lambda: drained(client, group[0]), 20)
        for replica in group:
            assert await replica.stop(signal.SIGTERM) == 0, replica.logs()
        # Every request was accepted at the first attempt: nothing retried, nothing refused.
        assert len(pd.requests) == len(pd.events)
        assert len(slack.requests) == len(slack.messages)
        assert len(hook.requests) == len(hook.payloads)
        return Delivered(
            canonical(pd.events),
            canonical(slack.messages),
            canonical([json.loads(r.body) for r in hook.requests]),
            queued,
        )


# -- the tests ---------------------------------------------------------------------------------


def test_the_sequence_covers_every_captured_fixture() -> None:
    """SEQUENCE posts every raw Alertmanager body there is, so a new capture cannot be missed."""
    assert {p.stem for p in RAW.glob("*.body")} == set(SEQUENCE)


@pytest.mark.timeout(90)
async def test_an_ha_pair_posting_to_two_replicas_notifies_exactly_once(
    tmp_path: Path,
    redis_url: str,
    replicas: Callable[[str, Path, str], Replica],
) -> None:
    """Each fixture posted to both replicas at once is delivered exactly as by one process."""
    single_dir, pair_dir = tmp_path / "single", tmp_path / "pair"
    single_dir.mkdir()
    pair_dir.mkdir()
    single = await replay_fixtures(
        single_dir, lambda config: [replicas("single", config, f"sqlite:///{single_dir}/s.db")]
    )
    pair = await replay_fixtures(
        pair_dir,
        lambda config: [replicas("a", config, redis_url), replicas("b", config, redis_url)],
    )

    # The policy by hand: PagerDuty pages HighErrorRate, NodeDown, ShortLivedProblem and
    # Retry500 once each and resolves the first three; the infra webhook hears NodeDown and
    # ShortLivedProblem fire and resolve; Slack gets the eight warning bodies that bring news
    # (three firsts, a member added, a partial and a full resolve, two resolves); the
    # repeat-interval re-sends and the retried body queue nothing.
    actions = Counter(json.loads(e)["event_action"] for e in single.pagerduty.elements())
    assert actions == {"trigger": 4, "resolve": 3}
    assert sum(single.slack.values()) == 8
    assert sum(single.webhook.values()) == 4
    assert [q for (q,) in single.queued] == [
        1,
        1,
        2,
        1,
        1,
        2,
        1,
        0,
        0,
        0,
        0,
        0,
        1,
        1,
        1,
        1,
        1,
        2,
        1,
        2,
    ]
    assert max([*single.pagerduty.values(), *single.slack.values(), *single.webhook.values()]) == 1

    for name, by_one, by_two in zip(SEQUENCE, single.queued, pair.queued, strict=True):
        assert sorted(by_two) == [0, by_one[0]], f"{name}: queued {by_two}, one process {by_one}"
    assert pair.pagerduty == single.pagerduty
    assert pair.slack == single.slack
    assert pair.webhook == single.webhook


@pytest.mark.timeout(90)
async def test_a_sigkilled_replicas_jobs_are_delivered_by_the_other(
    tmp_path: Path,
    redis_url: str,
    replicas: Callable[[str, Path, str], Replica],
) -> None:
    """SIGKILL mid-request: the survivor delivers every job; only in-flight ones go out twice."""
    slow, per_queue = 1.5, 4
    async with FakePagerDuty() as pd, FakeWebhookReceiver(delay=slow) as hook, http() as client:
        pd.delay = slow
        config = write_routing(
            tmp_path, pagerduty=pd.events_url, slack="http://127.0.0.1:9/none", hook=hook.url
        )
        a, b = replicas("a", config, redis_url), replicas("b", config, redis_url)
        await start_all(client, a)
        queues = (PD_QUEUE, HOOK_QUEUE)

        async def a_holds() -> bool:
            return held_by(redis_url, queues, a)

        await eventually("replica a to hold both queues", a_holds, 10)
        await start_all(client, b)

        critical = [f"crit-{i}:8080" for i in range(per_queue)]
        infra = [f"infra-{i}:9100" for i in range(per_queue)]
        for index, (page, mail) in enumerate(zip(critical, infra, strict=True)):
            target = (a, b)[index % 2]
            assert (await post(client, target, alert_body(page, severity="critical")))[
                "queued"
            ] == 1
            body = alert_body(mail, severity="warning", team="infra")
            assert (await post(client, target, body))["queued"] == 1

        async def second_sends_started() -> bool:
            return len(pd.requests) >= 2 and len(hook.requests) >= 2

        await eventually("the second send on each queue", second_sends_started, 10)
        await asyncio.sleep(slow / 2)  # well inside the fakes' answers: mid-request
        answered = len(pd.events) + len(hook.payloads)
        assert held_by(redis_url, queues, a), "replica a should be delivering both queues"
        await a.stop(signal.SIGKILL)
        in_flight = len(pd.requests) + len(hook.requests) - answered
        assert in_flight >= 1, "nothing was mid-request when replica a died"

        pages_wanted = {dedup_key("pagerduty-critical", fingerprint_of(c)) for c in critical}

        async def all_delivered() -> bool:
            pages = {str(e["dedup_key"]) for e in pd.events}
            mails = {instance for instance, _ in hook_alerts(hook)}
            return set(infra) <= mails and pages_wanted <= pages

        takeover = LEASE_SECONDS + HOLD_SECONDS + 2 * per_queue * slow + 10
        await eventually("replica b to deliver everything", all_delivered, takeover)
        await eventually("the store to drain", lambda: drained(client, b), 10)
        assert held_by(redis_url, queues, b)

    dedup_keys = Counter(str(e["dedup_key"]) for e in pd.events)
    assert set(dedup_keys) == pages_wanted
    mails = Counter(instance for instance, _ in hook_alerts(hook))
    assert set(mails) == set(infra)
    duplicates = sum(dedup_keys.values()) - per_queue + sum(mails.values()) - per_queue
    assert duplicates <= in_flight, f"{duplicates} duplicates, {in_flight} requests in flight"
    assert "notification_sent" in b.logs()


@pytest.mark.timeout(90)
async def test_a_rolling_restart_under_load_loses_no_alert(
    tmp_path: Path,
    redis_url: str,
    replicas: Callable[[str, Path, str], Replica],
) -> None:
    """SIGTERM and restart each replica in turn under 20 webhooks/s: every alert arrives."""
    rate, seconds = 20, 10.0
    async with FakeWebhookReceiver() as hook, http() as client:
        config = write_routing(
            tmp_path,
            pagerduty="http://127.0.0.1:9/none",
            slack="http://127.0.0.1:9/none",
            hook=hook.url,
        )
        pair = [replicas("a", config, redis_url), replicas("b", config, redis_url)]
        await start_all(client, *pair)
        accepted: list[str] = []
        exits: list[int] = []

        async def send(index: int) -> None:
            """Post one new alert, to the other replica (and on, as Alertmanager retries)."""
            instance = f"roll-{index}:9100"
            body = alert_body(instance, severity="warning", team="infra")
            deadline = time.monotonic() + 20
            turn = index
            while time.monotonic() < deadline:
                replica = pair[turn % 2]
                turn += 1
                if replica.process is None:
                    await asyncio.sleep(0.02)
                    continue
                with contextlib.suppress(httpx.TransportError):
                    answer = await client.post(f"{replica.url}/api/v1/alerts", content=body)
                    if answer.status_code == 200:
                        assert answer.json()["queued"] == 1, answer.text
                        accepted.append(instance)
                        return
                    assert answer.status_code == 503, answer.text
                await asyncio.sleep(0.02)
            pytest.fail(f"{instance}: no replica accepted it within 20s")

        async def load() -> None:
            started = time.monotonic()
            tasks = []
            for index in range(int(rate * seconds)):
                await asyncio.sleep(max(0.0, started + index / rate - time.monotonic()))
                tasks.append(asyncio.create_task(send(index)))
            await asyncio.gather(*tasks)

        async def roll() -> None:
            for replica in pair:
                await asyncio.sleep(seconds / 5)
                exits.append(await replica.stop(signal.SIGTERM))
                replica.start()
                await replica.wait_ready(client)

        await asyncio.gather(load(), roll())
        assert len(accepted) == int(rate * seconds)

        async def all_arrived() -> bool:
            return {instance for instance, _ in hook_alerts(hook)} >= set(accepted)

        await eventually("every accepted alert at the webhook", all_arrived, 30)
        await eventually("the store to drain", lambda: drained(client, pair[0]), 10)

    assert exits == [0, 0], "\n".join(r.logs() for r in pair)
    assert all(r.generation == 2 for r in pair)
    arrived = Counter(instance for instance, _ in hook_alerts(hook))
    assert set(arrived) == set(accepted)
    assert max(arrived.values()) == 1, "a graceful restart sent an alert twice"


@pytest.mark.timeout(60)
async def test_a_batch_longer_than_the_queue_hold_keeps_the_queue_and_the_order(
    tmp_path: Path,
    redis_url: str,
    replicas: Callable[[str, Path, str], Replica],
) -> None:
    """While one replica works through a long batch no other replica delivers that queue."""
    slow, batch = 1.0, 6
    async with FakeWebhookReceiver(delay=slow) as hook, http() as client:
        config = write_routing(
            tmp_path,
            pagerduty="http://127.0.0.1:9/none",
            slack="http://127.0.0.1:9/none",
            hook=hook.url,
        )
        a, b = replicas("a", config, redis_url), replicas("b", config, redis_url)
        for replica in (a, b):  # a 2 s hold; leases long enough never to run out here
            replica.env.update(ALERTROUTER_QUEUE_HOLD_SECONDS="2", ALERTROUTER_LEASE_SECONDS="60")
        await start_all(client, a)

        async def a_holds() -> bool:
            return held_by(redis_url, [HOOK_QUEUE], a)

        await eventually("replica a to hold the webhook queue", a_holds, 10)
        await start_all(client, b)

        def sends_started(count: int) -> Callable[[], Awaitable[bool]]:
            async def check() -> bool:
                return len(hook.requests) >= count

            return check

        # A first alert keeps a busy for a second, while the batch queues up behind it (posted
        # to b, which does not hold the queue): a's next step leases the whole batch at once.
        body = alert_body("first:9100", severity="warning", team="infra")
        assert (await post(client, b, body))["queued"] == 1
        await eventually("replica a to send the first alert", sends_started(1), 10)
        instances = [f"batch-{i}:9100" for i in range(batch)]
        for instance in instances:
            body = alert_body(instance, severity="warning", team="infra")
            assert (await post(client, b, body))["queued"] == 1
        await eventually("replica a to start the batch", sends_started(2), 10)
        await asyncio.sleep(2.5)  # past a's 2 s hold, taken before the batch: a is mid-batch
        last = instances[-1]
        resolve = alert_body(last, severity="warning", team="infra", resolved=True)
        assert (await post(client, b, resolve))["queued"] == 1

        async def all_arrived() -> bool:
            return len(hook_alerts(hook)) >= batch + 2

        await eventually("every notification", all_arrived, batch * slow + 15)

    statuses = [status for instance, status in hook_alerts(hook) if instance == last]
    assert statuses == ["firing", "resolved"], "the resolve overtook its trigger"


@pytest.mark.timeout(60)
async def test_a_digest_of_hundreds_of_jobs_is_marked_done_and_sent_once(
    tmp_path: Path,
    redis_url: str,
    replicas: Callable[[str, Path, str], Replica],
) -> None:
    """A storm digest of 300 jobs is delivered once: every job done, none sent again."""
    backlog = 300
    async with FakeWebhookReceiver(delay=2.0) as hook, http() as client:
        config = write_routing(
            tmp_path,
            pagerduty="http://127.0.0.1:9/none",
            slack="http://127.0.0.1:9/none",
            hook=hook.url,
        )
        config.write_text(
            config.read_text(encoding="utf-8").replace("threshold: 1000", "threshold: 10"),
            encoding="utf-8",
        )
        (a,) = group = [replicas("a", config, redis_url)]
        await start_all(client, *group)
        body = alert_body("first:9100", severity="warning", team="infra")
        assert (await post(client, a, body))["queued"] == 1

        async def first_in_flight() -> bool:
            return len(hook.requests) >= 1

        await eventually("the first send", first_in_flight, 10)
        gate = asyncio.Semaphore(16)  # well under any connection limit: ingest is not at issue

        async def queue(index: int) -> None:
            async with gate:
                body = alert_body(f"storm-{index}:9100", severity="warning", team="infra")
                assert (await post(client, a, body))["queued"] == 1

        await asyncio.gather(*(queue(i) for i in range(backlog)))

        async def all_arrived() -> bool:
            return len({i for i, _ in hook_alerts(hook)}) >= backlog + 1

        await eventually("the digest", all_arrived, 20)
        await asyncio.sleep(LEASE_SECONDS + 2)  # a job left leased would be re-sent by now
        await eventually("the store to drain", lambda: drained(client, a), 5)

    arrived = Counter(instance for instance, _ in hook_alerts(hook))
    assert max(arrived.values()) == 1, f"{sum(arrived.values()) - len(arrived)} sent twice"
    assert "delivery_loop_error" not in a.logs()


@pytest.mark.timeout(60)
async def test_a_burst_of_concurrent_webhooks_is_accepted_whole(
    tmp_path: Path,
    redis_url: str,
    replicas: Callable[[str, Path, str], Replica],
) -> None:
    """150 webhooks in flight at once to one replica are all accepted (none answered 503)."""
    burst = 150
    config = write_routing(
        tmp_path,
        pagerduty="http://127.0.0.1:9/none",
        slack="http://127.0.0.1:9/none",
        hook="http://127.0.0.1:9/none",
    )
    async with http() as client:
        (a,) = group = [replicas("a", config, redis_url)]
        await start_all(client, *group)
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
        async with httpx.AsyncClient(
            headers=client.headers, timeout=30, limits=limits
        ) as burst_client:

            async def one(index: int) -> int:
                body = alert_body(f"burst-{index}:9100", severity="warning", team="infra")
                answer = await burst_client.post(f"{a.url}/api/v1/alerts", content=body)
                return answer.status_code

            codes = Counter(await asyncio.gather(*(one(i) for i in range(burst))))
    assert codes == {200: burst}, f"{codes}; {a.logs().count('Too many connections')} pool errors"
