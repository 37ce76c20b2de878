"""Delivery acceptance: real Alertmanager bodies in, provider fakes on loopback out.

In-process cases run ``make_app(..., deliver=True)`` on aiohttp's TestServer with a SQLite
state file in ``tmp_path``; the crash and CLI cases run ``alertrouter serve`` as a real process
(stopped by PID in a ``finally``). Every wait is bounded by a deadline. Times compared with a
fake's ``RecordedRequest.at`` are ``time.monotonic()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import os
import re
import signal
import sqlite3
import sys
import textwrap
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from alertrouter.app import make_app
from alertrouter.cli.main import main as cli_main
from alertrouter.config.loader import load_routing_config
from alertrouter.config.settings import Settings
from alertrouter.notifiers.pagerduty import dedup_key
from alertrouter.payload import alertmanager_fingerprint
from alertrouter.router.dedup import ClaimKey
from alertrouter.service import SERVICE, Service
from alertrouter.store.base import Job, JobState
from fakes.http import ScriptedAnswer
from fakes.pagerduty import FakePagerDuty
from fakes.slack import FakeSlack
from processes import free_port

REPO = Path(__file__).resolve().parent.parent
RAW = Path(__file__).parent / "fixtures" / "alertmanager" / "raw"
SHIPPED = REPO / "config" / "alertrouter.yml"
ROUTING_KEY = "r" * 32
RUNNER = "from alertrouter.cli.main import main; raise SystemExit(main())"
START_TIMEOUT = 20.0
# How much later than its token a request may reach the fake (event-loop and HTTP jitter).
RECEIPT_JITTER = 0.1

SLACK = ("slack", "slack[0]")
PAGERDUTY = ("pagerduty", "pagerduty[0]")


# -- bodies --------------------------------------------------------------------------------------


def fixture(name: str) -> dict[str, Any]:
    """A captured Alertmanager 0.25 body (``raw/<name>.body``), parsed."""
    body: dict[str, Any] = json.loads((RAW / f"{name}.body").read_bytes())
    return body


def webhook(
    instances: Sequence[str],
    *,
    status: str = "firing",
    severity: str = "warning",
    alertname: str = "HighLatency",
) -> dict[str, Any]:
    """A captured body (firing_warning / resolved_warning) re-labelled to one alert per instance.

    Fingerprints are recomputed as Alertmanager would, so each instance is a distinct alert.
    """
    body = fixture("firing_warning" if status == "firing" else "resolved_warning")
    template = body["alerts"][0]
    alerts = []
    for instance in instances:
        alert = copy.deepcopy(template)
        alert["labels"].update(alertname=alertname, severity=severity, instance=instance)
        alert["fingerprint"] = alertmanager_fingerprint(alert["labels"])
        alerts.append(alert)
    common = dict(alerts[0]["labels"])
    if len(alerts) > 1:
        del common["instance"]
    body.update(
        alerts=alerts,
        status=status,
        commonLabels=common,
        groupLabels={"alertname": alertname},
        groupKey=f'{{}}:{{alertname="{alertname}"}}',
    )
    return body


def fingerprint_of(instance: str, severity: str = "warning", alertname: str = "HighLatency") -> str:
    """The fingerprint ``webhook`` gives the alert about ``instance``."""
    alert = fixture("firing_warning")["alerts"][0]
    labels = {**alert["labels"], "alertname": alertname, "severity": severity, "instance": instance}
    return alertmanager_fingerprint(labels)


# -- routing files -------------------------------------------------------------------------------


def routing(
    slack_url: str,
    *,
    slack_rate: str = "50/s",
    pagerduty_url: str | None = None,
    pagerduty_extra: str = "",
) -> str:
    """Root receiver ``slack``; with ``pagerduty_url`` critical alerts go to PagerDuty instead."""
    text = f"""
        route:
          receiver: slack
          repeat_interval: 1h
          routes:
            - matchers: ['severity="critical"']
              receiver: pagerduty
        receivers:
          - name: slack
            slack_configs:
              - api_url: {slack_url}
                send_resolved: true
                rate_limit: {slack_rate}
          - name: pagerduty
            pagerduty_configs:
              - routing_key: {ROUTING_KEY}
                url: {pagerduty_url or "http://127.0.0.1:9/v2/enqueue"}
        """
    return textwrap.dedent(text) + textwrap.indent(pagerduty_extra, " " * 8)


def pagerduty_only(url: str, extra: str) -> str:
    """Every alert to one PagerDuty integration at ``url`` with the ``extra`` keys."""
    text = f"""
        route:
          receiver: pagerduty
          repeat_interval: 1h
        receivers:
          - name: pagerduty
            pagerduty_configs:
              - routing_key: {ROUTING_KEY}
                url: {url}
        """
    return textwrap.dedent(text) + textwrap.indent(textwrap.dedent(extra), " " * 8)


# -- waiting -------------------------------------------------------------------------------------


async def wait_until(what: str, check: Callable[[], Awaitable[bool]], within: float) -> float:
    """Poll ``check`` every 20 ms until true; fail naming ``what`` after ``within`` seconds.

    Returns the seconds it took.
    """
    started = time.monotonic()
    while not await check():
        if time.monotonic() - started > within:
            pytest.fail(f"timed out after {within}s waiting for {what}")
        await asyncio.sleep(0.02)
    return time.monotonic() - started


# -- the service in-process ----------------------------------------------------------------------


@dataclass
class Harness:
    """``make_app(..., deliver=True)`` on a TestServer, with its service and client."""

    client: TestClient[Any, Any]
    service: Service

    @property
    def url(self) -> str:
        """The base URL, for the CLI's ``--url``."""
        return str(self.client.make_url("")).rstrip("/")

    async def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST one webhook; it must be accepted."""
        answer = await self.client.post("/api/v1/alerts", json=body)
        assert answer.status == 200, await answer.text()
        result: dict[str, Any] = await answer.json()
        return result

    async def jobs(self, state: JobState) -> list[Job]:
        """Jobs in ``state``, oldest first."""
        return await self.service.store.list_jobs(state, limit=10_000)

    async def state_of(self, job_id: int) -> str:
        """One job's state."""
        job = await self.service.store.get_job(job_id)
        assert job is not None
        return job.state

    async def idle(self) -> bool:
        """Nothing pending or in flight."""
        stats = await self.service.store.stats()
        return not any(stats.pending.values()) and not any(stats.inflight.values())


@contextlib.asynccontextmanager
async def in_process(folder: Path, routing_text: str) -> AsyncIterator[Harness]:
    """Serve ``routing_text`` in-process with delivery workers and a SQLite file in ``folder``."""
    path = folder / "routing.yml"
    path.write_text(routing_text, encoding="utf-8")
    config = load_routing_config(path)
    settings = Settings(config_path=str(path), state_url=f"sqlite:///{folder / 'state.db'}")
    app = make_app(settings, config, deliver=True)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield Harness(client, app[SERVICE])


# -- the service as a process --------------------------------------------------------------------


def clean_env() -> dict[str, str]:
    """This environment without alertrouter settings or the shipped config's secrets."""
    dropped = {"PAGERDUTY_SERVICE_KEY", "SLACK_WEBHOOK_URL", "SENTRY_DSN", "ENABLE_METRICS"}
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("ALERTROUTER_") and k not in dropped
    }
    env["ALERTROUTER_LOG_FORMAT"] = "json"
    return env


@dataclass
class Process:
    """A running ``alertrouter serve``."""

    process: asyncio.subprocess.Process
    url: str
    log: Path

    def logs(self) -> str:
        """What it wrote so far."""
        return self.log.read_text(encoding="utf-8", errors="replace")

    async def status(self) -> dict[str, Any]:
        """GET /api/v1/status."""
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{self.url}/api/v1/status") as answer,
        ):
            assert answer.status == 200, await answer.text()
            result: dict[str, Any] = await answer.json()
            return result

    async def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST one webhook; it must be accepted."""
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"{self.url}/api/v1/alerts", json=body) as answer,
        ):
            assert answer.status == 200, await answer.text()
            result: dict[str, Any] = await answer.json()
            return result

    async def kill(self) -> None:
        """SIGKILL, and reap it."""
        self.process.kill()
        await asyncio.wait_for(self.process.wait(), 10)

    async def stop(self) -> int:
        """SIGTERM, then its exit code (the ``finally`` of ``serve_process`` kills it after)."""
        self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), 15)


@contextlib.asynccontextmanager
async def serve_process(
    folder: Path, config: Path, state: Path, *extra: str, env: dict[str, str] | None = None
) -> AsyncIterator[Process]:
    """Start ``alertrouter serve`` and wait for /-/ready; killed by PID when the block ends.

    ``env`` adds settings to the clean environment; a later ``--state-url`` in ``extra`` wins.
    """
    port = free_port()
    command = [
        "-c", RUNNER, "serve", "--config", str(config),
        "--listen", f"127.0.0.1:{port}", "--state-url", f"sqlite:///{state}", *extra,
    ]  # fmt: skip
    log = folder / f"serve-{port}.log"
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable, *command, env={**clean_env(), **(env or {})}, cwd=folder, stdout=output,
            stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
    server = Process(process, f"http://127.0.0.1:{port}", log)
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:

            async def ready() -> bool:
                if process.returncode is not None:
                    pytest.fail(f"serve exited with {process.returncode}:\n{server.logs()}")
                try:
                    async with http.get(f"{server.url}/-/ready") as answer:
                        return answer.status == 200
                except (aiohttp.ClientError, TimeoutError):  # bound, not yet serving: ask again
                    return False

            await wait_until("serve to be ready", ready, START_TIMEOUT)
        yield server
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
        await asyncio.wait_for(process.wait(), 10)


def jobs_in_file(state: Path) -> list[tuple[int, str, list[dict[str, Any]]]]:
    """(id, state, alerts) of every job in the SQLite file, read-only."""
    with contextlib.closing(sqlite3.connect(f"file:{state}?mode=ro", uri=True)) as connection:
        rows = connection.execute(
            "SELECT id, state, payload FROM jobs JOIN job_bodies USING (id) ORDER BY id"
        ).fetchall()
    return [
        (job_id, job_state, json.loads(payload)["alerts"]) for job_id, job_state, payload in rows
    ]


# -- reading Slack messages ----------------------------------------------------------------------


def instances_in(message: dict[str, Any]) -> list[str]:
    """The ``instance`` host names a plain Slack message lists, in order."""
    sections = [block["text"]["text"] for block in message["attachments"][0]["blocks"]]
    return [host for text in sections for host in re.findall(r"instance=([\w-]+):", text)]


_FIRING = re.compile(r"\[FIRING:(\d+)\]")
_DIGEST_HEADER = re.compile(r" — digest of (\d+) alerts$")
_DIGEST_SECTION = re.compile(r"^\*Storm digest: (\d+) alerts\*")


def stated_count(message: dict[str, Any]) -> int:
    """How many alerts a Slack message says it covers (all firing here).

    A digest says it in its header ("— digest of N alerts") and first section ("Storm digest:
    N alerts"); a plain message in its header ("[FIRING:N]"), with one section per alert.
    """
    header = message["blocks"][0]["text"]["text"]
    sections = [block["text"]["text"] for block in message["attachments"][0]["blocks"]]
    digest = _DIGEST_HEADER.search(header)
    if digest is not None:
        summary = _DIGEST_SECTION.match(sections[0])
        assert summary is not None, sections[0]
        assert summary[1] == digest[1], (header, sections[0])
        return int(digest[1])
    firing = _FIRING.search(header)
    assert firing is not None, header
    assert len(sections) == int(firing[1]), "a plain message lists each alert in a section"
    return int(firing[1])


def assert_token_bucket(times: Sequence[float], rate: float, burst: int) -> None:
    """No window holds more requests than a full bucket of ``burst`` plus ``rate`` per second.

    For sorted times t, requests i..j (j - i + 1 of them) need t[j] - t[i] >= (j - i + 1 - burst)
    / rate; ``RECEIPT_JITTER`` allows for a request reaching the fake later than its token.
    """
    ordered = sorted(times)
    for i in range(len(ordered)):
        for j in range(i + burst, len(ordered)):
            need = (j - i + 1 - burst) / rate
            got = ordered[j] - ordered[i]
            assert got >= need - RECEIPT_JITTER, (
                f"requests {i}..{j}: {j - i + 1} within {got:.3f}s, the bucket allows "
                f"{burst} + {rate:g}/s (needs {need:.3f}s)"
            )


# -- the cases -----------------------------------------------------------------------------------


async def test_slack_429_retry_after_holds_every_request_until_it_has_passed(
    tmp_path: Path,
) -> None:
    """After a 429 with Retry-After: 3 nothing reaches Slack for 3 s; then all is delivered."""
    async with FakeSlack() as slack:
        slack.fail_next(FakeSlack.webhook_error(429, "rate_limited", retry_after=3))
        async with in_process(tmp_path, routing(slack.webhook_url(), slack_rate="10/s")) as app:
            first = await app.post(webhook(["held-1:8080"]))
            (refused,) = await slack.wait_for(1)
            # Alerts arriving while the hold is on wait for it too.
            second = await app.post(webhook(["held-2:8080"]))
            third = await app.post(webhook(["held-3:8080"]))
            await slack.wait_for(4, within=10)
            jobs = [*first["jobs"], *second["jobs"], *third["jobs"]]

            async def all_done() -> bool:
                return [await app.state_of(j) for j in jobs] == ["done"] * 3

            await wait_until("every job done", all_done, 5)
            (retried, *_) = await app.jobs("done")
    later = slack.requests[1:]
    waited = [round(r.at - refused.at, 3) for r in later]
    assert len(later) == 3
    assert min(waited) >= 3.0, waited
    assert [instances_in(m) for m in slack.messages] == [["held-1"], ["held-2"], ["held-3"]]
    assert (retried.id, retried.attempts) == (first["jobs"][0], 2)
    assert retried.last_error is not None
    assert retried.last_error.startswith("rateLimited: Slack webhook answered 429")


@pytest.mark.slow
@pytest.mark.timeout(150)
async def test_a_60s_pagerduty_outage_dead_letters_nothing_and_slack_stays_fast(
    tmp_path: Path,
) -> None:
    """A 60 s PagerDuty 503 outage: Slack stays under 1 s meanwhile; after it all is delivered."""
    outage = 60.0
    retry = "retry: {initial: 1s, max_interval: 2s}\n"
    async with FakeSlack() as slack, FakePagerDuty() as pagerduty:
        pagerduty.outage = ScriptedAnswer(503, '{"status": "unavailable"}')
        text = routing(
            slack.webhook_url(),
            slack_rate="1/s",
            pagerduty_url=pagerduty.events_url,
            pagerduty_extra=retry,
        )
        async with in_process(tmp_path, text) as app:
            started = time.monotonic()
            critical: list[str] = []
            latencies: list[float] = []
            round_ = 0
            while time.monotonic() - started < outage - 2.0:
                if round_ % 4 == 0:  # a page every ~8 s, queued behind the outage
                    instance = f"db-{round_}:9100"
                    critical.append(fingerprint_of(instance, "critical", "HighErrorRate"))
                    await app.post(
                        webhook([instance], severity="critical", alertname="HighErrorRate")
                    )
                posted = time.monotonic()
                await app.post(webhook([f"web-{round_}:8080"]))
                (*_, received) = await slack.wait_for(round_ + 1, within=5)
                latencies.append(received.at - posted)
                round_ += 1
                await asyncio.sleep(max(0.0, started + 2.0 * round_ - time.monotonic()))
            await asyncio.sleep(max(0.0, started + outage - time.monotonic()))
            pagerduty.outage = None
            recovered = time.monotonic()

            async def all_paged() -> bool:
                return len(pagerduty.events) >= len(critical) and await app.idle()

            took = await wait_until("every page after the outage", all_paged, 20)
            dead = await app.jobs("dead")
            done = await app.jobs("done")
    refused = [r.at for r in pagerduty.requests if r.at < recovered]
    assert refused, "PagerDuty was never tried during the outage"
    assert refused[-1] - started > outage - 5.0, "PagerDuty was not retried to the end"
    assert recovered - started >= outage
    assert dead == []
    assert len(latencies) >= 25
    assert max(latencies) < 1.0, [round(x, 3) for x in latencies]
    assert len(slack.messages) == len(latencies)
    assert took < 10.0, f"recovery took {took:.1f}s with retry max_interval 2s"
    assert [e["dedup_key"] for e in pagerduty.events] == [
        dedup_key("pagerduty", fp) for fp in critical
    ]
    assert set(pagerduty.incidents.values()) == {"triggered"}
    assert len(done) == len(critical) + len(latencies)


async def test_a_400_dead_letters_at_once_and_undoes_the_claim(tmp_path: Path) -> None:
    """A 400 is dead-lettered on the first try with its claim undone; the next webhook, the
    retry endpoint and ``alertrouter deliveries retry`` each deliver it once the fake is fixed."""
    async with FakeSlack() as slack:
        slack.fail_next(FakeSlack.webhook_error(400, "invalid_payload"))
        async with in_process(tmp_path, routing(slack.webhook_url())) as app:
            body = webhook(["refused-1:8080"])
            (dead_id,) = (await app.post(body))["jobs"]

            async def buried() -> bool:
                return await app.state_of(dead_id) == "dead"

            await wait_until("the dead letter", buried, 5)
            (job,) = await app.jobs("dead")
            assert (job.id, job.attempts) == (dead_id, 1)
            assert job.last_error == "clientError: Slack webhook answered 400 invalid_payload"
            key = ClaimKey(*SLACK, fingerprint_of("refused-1:8080"))
            assert await app.service.store.get_claim(key) is None
            assert len(slack.requests) == 1

            # The fake is fixed (its script is used up): Alertmanager's next send delivers.
            (again_id,) = (await app.post(body))["jobs"]

            async def delivered_again() -> bool:
                return await app.state_of(again_id) == "done"

            await wait_until("the resend's delivery", delivered_again, 5)
            assert len(slack.messages) == 1
            claim = await app.service.store.get_claim(key)
            assert claim is not None
            assert claim.status == "firing"

            # The admin API replays the dead letter itself.
            answer = await app.client.post(f"/api/v1/deliveries/{dead_id}/retry")
            assert answer.status == 200, await answer.text()
            assert await answer.json() == {"requeued": [dead_id]}

            async def replayed() -> bool:
                return await app.state_of(dead_id) == "done"

            await wait_until("the replayed dead letter", replayed, 5)
            assert len(slack.messages) == 2
            assert await app.jobs("dead") == []

            # And so does the CLI, against the running service.
            slack.fail_next(FakeSlack.webhook_error(400, "invalid_payload"))
            (cli_id,) = (await app.post(webhook(["refused-2:8080"])))["jobs"]

            async def buried_again() -> bool:
                return await app.state_of(cli_id) == "dead"

            await wait_until("the second dead letter", buried_again, 5)
            code = await asyncio.to_thread(
                cli_main, ["deliveries", "retry", str(cli_id), "--url", app.url]
            )
            assert code == 0

            async def replayed_by_cli() -> bool:
                return await app.state_of(cli_id) == "done"

            await wait_until("the CLI-replayed dead letter", replayed_by_cli, 5)
            assert len(slack.messages) == 3
    assert ["refused-1" in json.dumps(m) for m in slack.messages] == [True, True, False]
    assert "refused-2" in json.dumps(slack.messages[2])


async def test_a_storm_of_1000_alerts_stays_within_the_slack_rate_limit(tmp_path: Path) -> None:
    """1,000 alerts in 100 webhooks (20/s) to Slack at 1/s, burst 3: within the token bucket,
    every alert counted once in the messages, nothing dead-lettered, the queue empty in 30 s."""
    async with (
        FakeSlack() as slack,
        in_process(tmp_path, routing(slack.webhook_url(), slack_rate="1/s")) as app,
    ):
        started = time.monotonic()
        bodies = [
            webhook([f"node-{w:03d}-{i}:9100" for i in range(10)], alertname=f"Storm{w % 7}")
            for w in range(100)
        ]
        answers = []
        for index, body in enumerate(bodies):  # 20 webhooks/s, as groups flush in a storm
            await asyncio.sleep(max(0.0, started + index / 20 - time.monotonic()))
            answers.append(await app.post(body))
        assert [(a["accepted"], a["queued"]) for a in answers] == [(10, 1)] * 100
        drained = await wait_until("an empty queue", app.idle, 30.0 - (time.monotonic() - started))
        dead = await app.jobs("dead")
        done = await app.jobs("done")
        elapsed = time.monotonic() - started
    assert elapsed < 30.0, f"{elapsed:.1f}s (drained after {drained:.1f}s of waiting)"
    assert dead == []
    assert len(done) == 100
    assert len(slack.messages) == len(slack.requests), "Slack refused a message"
    assert_token_bucket([r.at for r in slack.requests], rate=1.0, burst=3)
    assert sum(stated_count(m) for m in slack.messages) == 1000
    assert any(_DIGEST_HEADER.search(m["blocks"][0]["text"]["text"]) for m in slack.messages)


async def test_sigkill_with_a_backlog_then_restart_delivers_all_in_order(tmp_path: Path) -> None:
    """SIGKILL mid-request with a backlog of ~200 PagerDuty jobs; after restart all 200 arrive,
    each trigger before its resolve, repeated only if in flight at the kill."""
    config = tmp_path / "routing.yml"
    state = tmp_path / "state.db"
    alerts = [f"api-{i:03d}:8080" for i in range(100)]
    groups = [alerts[i : i + 10] for i in range(0, 100, 10)]
    async with FakePagerDuty() as pagerduty:
        pagerduty.delay = 0.5  # slow answers: the backlog builds, and the kill hits a request
        config.write_text(
            pagerduty_only(pagerduty.events_url, "rate_limit: 20/s\nrate_burst: 1\n"),
            encoding="utf-8",
        )
        async with serve_process(tmp_path, config, state) as first:
            queued = 0
            # Firing group g, then resolving group g-1: triggers and resolves interleave.
            for g in range(len(groups) + 1):
                if g < len(groups):
                    queued += (await first.post(webhook(groups[g])))["queued"]
                if g > 0:
                    body = webhook(groups[g - 1], status="resolved")
                    queued += (await first.post(body))["queued"]
            assert queued == 200

            async def second_request() -> bool:
                return len(pagerduty.requests) >= 2

            await wait_until("a request in flight", second_request, 15)
            await first.kill()
        pagerduty.delay = 0.02
        before_restart = len(pagerduty.events)
        rows = jobs_in_file(state)
        assert len(rows) == 200
        backlog = sum(1 for _, job_state, _ in rows if job_state != "done")
        in_flight = {
            (dedup_key("pagerduty", a["fingerprint"]), a["status"])
            for _, job_state, job_alerts in rows
            if job_state == "inflight"
            for a in job_alerts
        }
        async with serve_process(tmp_path, config, state) as second:

            async def all_delivered() -> bool:
                keys = {(e["dedup_key"], e["event_action"]) for e in pagerduty.events}
                return len(keys) == 200 and (await second.status())["queue_depth"] == 0

            await wait_until("all 200 deliveries after the restart", all_delivered, 40)
            status = await second.status()
            assert await second.stop() == 0
    assert backlog >= 190, f"only {backlog} jobs were left at the kill"
    assert len(in_flight) == 1, "the kill did not hit a request in flight"
    assert before_restart < 200
    assert status["dead_letters"] == 0
    events = [
        (e["dedup_key"], "firing" if e["event_action"] == "trigger" else "resolved")
        for e in pagerduty.events
    ]
    counts = Counter(events)
    assert len(counts) == 200
    repeated = {event for event, count in counts.items() if count > 1}
    assert repeated <= in_flight, f"repeated but not in flight at the kill: {repeated - in_flight}"
    assert sum(counts.values()) - 200 <= len(in_flight)
    for instance in alerts:
        key = dedup_key("pagerduty", fingerprint_of(instance))
        triggers = [i for i, (k, s) in enumerate(events) if k == key and s == "firing"]
        resolves = [i for i, (k, s) in enumerate(events) if k == key and s == "resolved"]
        assert triggers, instance
        assert resolves, instance
        assert max(triggers) < min(resolves), f"{instance}: a resolve overtook its trigger"
    assert set(pagerduty.incidents.values()) == {"resolved"}


async def test_test_alert_wait_reports_receipts_from_a_dry_run_of_the_shipped_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``test-alert --wait`` against ``serve --dry-run`` of the shipped config lists each
    delivery with its receipt and exits 0."""
    state = tmp_path / "state.db"
    async with serve_process(tmp_path, SHIPPED, state, "--dry-run") as server:
        argv = [
            "test-alert", "--url", server.url, "--wait", "--timeout", "20",
            "--severity", "critical", "--label", "team=infrastructure", "--resolve",
        ]  # fmt: skip
        code = await asyncio.to_thread(cli_main, argv)
        output = capsys.readouterr().out
        assert (await server.stop()) == 0
    assert code == 0, output
    assert output.count("posted test alert") == 1
    assert output.count("posted test resolve") == 1
    rows = [line.split() for line in output.splitlines() if "delivered" in line]
    assert sorted((row[0], row[1], row[2]) for row in rows) == [
        ("email-infrastructure", "email[0]", "delivered"),
        ("email-infrastructure", "email[0]", "delivered"),
        ("pagerduty-critical", "pagerduty[0]", "delivered"),
        ("pagerduty-critical", "pagerduty[0]", "delivered"),
    ]
    assert all(row[-1] == "logged" for row in rows), output
    assert all(re.fullmatch(r"\d+", row[4]) and row[5] == "ms" for row in rows), output


async def test_test_alert_wait_exits_1_naming_a_permanent_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``test-alert --wait`` against a receiver whose endpoint answers 400 exits 1 and shows
    the provider's error."""
    async with FakeSlack() as slack:
        slack.outage = FakeSlack.webhook_error(400, "invalid_blocks")
        async with in_process(tmp_path, routing(slack.webhook_url())) as app:
            code = await asyncio.to_thread(
                cli_main, ["test-alert", "--url", app.url, "--wait", "--timeout", "10"]
            )
            dead = await app.jobs("dead")
    output = capsys.readouterr().out
    assert code == 1, output
    assert len(dead) == 1
    (row,) = [line for line in output.splitlines() if line.startswith("slack ")]
    assert "FAILED" in row
    assert "clientError: Slack webhook answered 400 invalid_blocks" in row


async def test_a_restart_keeps_a_retried_trigger_ahead_of_its_resolve(tmp_path: Path) -> None:
    """A trigger waiting out a Retry-After when the service restarts still goes before its
    resolve, which was queued behind it."""
    async with FakePagerDuty() as pagerduty:
        pagerduty.fail_next(ScriptedAnswer(503, "{}", {"Retry-After": "4"}))
        text = pagerduty_only(pagerduty.events_url, "rate_limit: 100/s\n")
        async with in_process(tmp_path, text) as app:
            await app.post(webhook(["restart-1:8080"]))
            await pagerduty.wait_for(1)
            await app.post(webhook(["restart-1:8080"], status="resolved"))
            await asyncio.sleep(0.2)
            assert len(pagerduty.requests) == 1  # the hold keeps the resolve back meanwhile
        async with in_process(tmp_path, text) as app:
            await wait_until("both events", lambda: app.idle(), 10)
            await pagerduty.wait_for(3, within=1)
    key = dedup_key("pagerduty", fingerprint_of("restart-1:8080"))
    assert [e["event_action"] for e in pagerduty.events] == ["trigger", "resolve"]
    assert pagerduty.incidents == {key: "resolved"}


async def test_after_retry_after_slack_resumes_at_the_rate_without_a_saved_burst(
    tmp_path: Path,
) -> None:
    """Once a Retry-After has passed, a backlog goes out at the sustained rate: the tokens
    the hold dropped are not saved up again during it."""
    async with FakeSlack() as slack:
        slack.fail_next(FakeSlack.webhook_error(429, "rate_limited", retry_after=3))
        async with in_process(tmp_path, routing(slack.webhook_url(), slack_rate="1/s")) as app:
            await app.post(webhook(["burst-0:8080"]))
            await slack.wait_for(1)
            for index in range(1, 4):
                await app.post(webhook([f"burst-{index}:8080"]))
            await slack.wait_for(5, within=15)
    assert [instances_in(m) for m in slack.messages] == [[f"burst-{i}"] for i in range(4)]
    assert_token_bucket([r.at for r in slack.requests[1:]], rate=1.0, burst=1)


async def test_a_replayed_dead_letter_is_followed_by_its_resolve(tmp_path: Path) -> None:
    """A trigger dead-lettered on a 400 and replayed through the admin API opens the incident;
    the alert's resolve then closes it."""
    async with FakePagerDuty() as pagerduty:
        pagerduty.fail_next(ScriptedAnswer(400, '{"status": "invalid event", "errors": ["x"]}'))
        async with in_process(tmp_path, pagerduty_only(pagerduty.events_url, "")) as app:
            (dead_id,) = (await app.post(webhook(["replayed-1:8080"])))["jobs"]

            async def buried() -> bool:
                return await app.state_of(dead_id) == "dead"

            await wait_until("the dead letter", buried, 5)
            answer = await app.client.post(f"/api/v1/deliveries/{dead_id}/retry")
            assert answer.status == 200, await answer.text()

            async def replayed() -> bool:
                return await app.state_of(dead_id) == "done"

            await wait_until("the replay", replayed, 5)
            resolved = await app.post(webhook(["replayed-1:8080"], status="resolved"))
            assert (resolved["queued"], resolved["suppressed"]) == (1, 0)
            await pagerduty.wait_for(3)
    key = dedup_key("pagerduty", fingerprint_of("replayed-1:8080"))
    assert pagerduty.incidents == {key: "resolved"}
