"""End-to-end delivery: latency from webhook post to a provider fake's receipt, and the storm.

A real ``alertrouter serve`` (subprocess, SQLite state in a temporary folder) routes by a
``bench`` label to three provider fakes from ``tests/fakes`` (the ones the tests use), which run
in a second subprocess of this script (``--fakes``) so that neither the load generator nor the
fakes compete with each other for one event loop:

- ``bench="pagerduty"``: FakePagerDuty, ``rate_limit: 1000/s`` (no effective limit). PagerDuty
  gets one job per alert and is never coalesced, so every alert is one request;
- ``bench="webhook"``: FakeWebhookReceiver, ``rate_limit: 1000/s``. One job per webhook; a
  backlog above ``storm.threshold`` (10) goes out as one body holding all its alerts;
- ``bench="storm"``: FakeSlack at ``rate_limit: 1/s`` (Slack's burst, 3).

Latency scenarios: an open-loop generator posts webhooks of one new alert each (a fresh
``instance`` label, so a new fingerprint and a new claim) at 100 and 500 alerts/s for the window
(10 s; 1 s of warm-up at the same rate is not counted), over up to 64 keep-alive connections.
An alert's latency is the fake's receipt (``RecordedRequest.at``) minus the moment its POST
was handed to the HTTP client; both are ``time.monotonic()``, one clock for every process of the
machine. After each window the script waits for the queue to drain before reading the fakes.

Storm: 1,000 alerts in 100 webhooks of 10, posted at 20 webhooks/s, to the Slack fake: time
until the queue is empty, the messages Slack saw, the sum of the alert counts they state (must
be 1,000), and whether every window of Slack requests stayed within a token bucket of rate 1/s
and burst 3 (up to 100 ms of receipt jitter).

Every scenario runs ``--runs`` times (5) in one server; the table gives the median over the runs
and the p99's min–max, as BENCHMARKS.md reports numbers.

Run: ``.venv/bin/python bench/bench_delivery.py`` (about 6 minutes); ``--quick`` is a smoke run
(one run, 2 s windows; numbers not for the record); ``--targets``, ``--rates`` and
``--no-storm`` pick scenarios.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import signal
import statistics
import sys
import tempfile
import textwrap
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from alertrouter.notifiers.pagerduty import dedup_key
from alertrouter.payload import alertmanager_fingerprint
from machine import command_line, cpu_model, load_average

# The tests' process helpers (a free port, a stop by PID): one copy for tests and benchmarks.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from processes import free_port

REPO = Path(__file__).resolve().parent.parent
RUNNER = "from alertrouter.cli.main import main; raise SystemExit(main())"
ROUTING_KEY = "b" * 32
CONNECTIONS = 64
RATES = (100, 500)  # alerts/s offered
TARGETS = ("pagerduty", "webhook")
P99_TARGET_MS = 50.0  # at 100 alerts/s
STORM_WEBHOOKS, STORM_SIZE, STORM_POST_RATE = 100, 10, 20.0
STORM_RATE, STORM_BURST = 1.0, 3
STORM_DEADLINE = 30.0
RECEIPT_JITTER = 0.1
RECORDED_PATH = "/_bench/recorded"


# -- the fakes process ---------------------------------------------------------------------------


async def serve_fakes() -> None:
    """Run the three fakes; print their URLs as one JSON line; serve until stdin closes.

    Each fake also answers ``GET /_bench/recorded``: every request it received, as
    ``[at, keys, stated, digest]``: the PagerDuty dedup key or the webhook alerts' fingerprints;
    for Slack the alert count the message states and whether it is a digest.
    """
    from aiohttp import web

    from fakes.pagerduty import FakePagerDuty
    from fakes.slack import FakeSlack
    from fakes.webhook import FakeWebhookReceiver

    pagerduty, webhook, slack = FakePagerDuty(), FakeWebhookReceiver(), FakeSlack()

    def keys(kind: str, body: bytes) -> list[str]:
        try:
            data = json.loads(body)
        except ValueError:
            return []
        if kind == "pagerduty":
            return [str(data.get("dedup_key"))]
        if kind == "webhook":
            return [str(a.get("fingerprint")) for a in data.get("alerts", [])]
        return []

    def recorder(kind: str, fake: Any) -> Any:
        async def recorded(request: web.Request) -> web.Response:
            rows = []
            for r in fake.requests:
                stated, digest = (
                    slack_stated_count(json.loads(r.body)) if kind == "slack" else (0, False)
                )
                rows.append([r.at, keys(kind, r.body), stated, digest])
            accepted = len(getattr(fake, "events", getattr(fake, "payloads", [])))
            if kind == "slack":
                accepted = len(fake.messages)
            return web.json_response({"requests": rows, "accepted": accepted})

        return recorded

    for kind, fake in (("pagerduty", pagerduty), ("webhook", webhook), ("slack", slack)):
        fake.app.router.add_get(RECORDED_PATH, recorder(kind, fake))
    async with pagerduty, webhook, slack:
        urls = {
            "pagerduty": pagerduty.events_url,
            "webhook": webhook.url,
            "slack": slack.webhook_url(),
            "pagerduty_base": pagerduty.url,
            "webhook_base": f"http://127.0.0.1:{webhook.port}",
            "slack_base": slack.url,
        }
        print(json.dumps(urls), flush=True)
        await asyncio.to_thread(sys.stdin.read)  # until the parent closes our stdin


_FIRING = re.compile(r"\[FIRING:(\d+)\]")
_DIGEST = re.compile(r" — digest of (\d+) alerts$")


def slack_stated_count(message: dict[str, Any]) -> tuple[int, bool]:
    """The alert count a Slack message states ("digest of N alerts" or "[FIRING:N]") and
    whether it is a digest."""
    header = str(message["blocks"][0]["text"]["text"])
    digest = _DIGEST.search(header)
    found = digest or _FIRING.search(header)
    return (int(found[1]) if found else 0), digest is not None


# -- processes -----------------------------------------------------------------------------------


def clean_env() -> dict[str, str]:
    """This environment without alertrouter settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALERTROUTER_")}
    env.update(ALERTROUTER_LOG_FORMAT="json", ALERTROUTER_LOG_LEVEL="warning")
    return env


def routing_file(folder: Path, urls: dict[str, str]) -> Path:
    """The bench's routing file: by ``bench`` label to PagerDuty, the webhook or Slack."""
    text = f"""
        route:
          receiver: webhook
          repeat_interval: 1h
          routes:
            - matchers: ['bench="pagerduty"']
              receiver: pagerduty
            - matchers: ['bench="storm"']
              receiver: slack
        receivers:
          - name: pagerduty
            pagerduty_configs:
              - routing_key: {ROUTING_KEY}
                url: {urls["pagerduty"]}
                rate_limit: 1000/s
          - name: webhook
            webhook_configs:
              - url: {urls["webhook"]}
                rate_limit: 1000/s
          - name: slack
            slack_configs:
              - api_url: {urls["slack"]}
                rate_limit: 1/s
        """
    path = folder / "bench-routing.yml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@contextlib.asynccontextmanager
async def fakes_process() -> AsyncIterator[dict[str, str]]:
    """This script with ``--fakes``; yields the fakes' URLs; stopped by PID at the end."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--fakes", stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, env=clean_env(), cwd=REPO,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 30)
        if not line:
            raise RuntimeError("the fakes process exited before listening")
        yield json.loads(line)
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()


@dataclass
class Serve:
    """A running ``alertrouter serve``."""

    process: asyncio.subprocess.Process
    url: str
    log: Path

    def cpu_seconds(self) -> float:
        """User + system CPU seconds the process used so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.asynccontextmanager
async def serve_process(folder: Path, config: Path) -> AsyncIterator[Serve]:
    """``alertrouter serve`` on a free port with a fresh SQLite file; killed by PID at the end."""
    port = free_port()
    state = folder / "bench-state.db"
    log = folder / "serve.log"
    argv = [
        "-c", RUNNER, "serve", "--config", str(config), "--listen", f"127.0.0.1:{port}",
        "--state-url", f"sqlite:///{state}",
    ]  # fmt: skip
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable, *argv, env=clean_env(), cwd=folder, stdout=output,
            stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
    serve = Serve(process, f"http://127.0.0.1:{port}", log)
    try:
        deadline = time.monotonic() + 30
        async with aiohttp.ClientSession() as http:
            while True:
                if process.returncode is not None:
                    raise RuntimeError(f"serve exited:\n{log.read_text()[-2000:]}")
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(f"{serve.url}/-/ready") as answer:
                        if answer.status == 200:
                            break
                if time.monotonic() > deadline:
                    raise RuntimeError("serve did not become ready within 30 s")
                await asyncio.sleep(0.05)
        yield serve
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 15)
            except TimeoutError:
                process.kill()
                await process.wait()


# -- load ----------------------------------------------------------------------------------------


def body_for(alerts: Sequence[dict[str, str]], group: str) -> bytes:
    """An Alertmanager v4 webhook body holding firing alerts with these labels."""
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000000000Z", time.gmtime())
    items = [
        {
            "status": "firing",
            "labels": labels,
            "annotations": {"summary": f"{labels['alertname']} on {labels['instance']}"},
            "startsAt": now,
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example:9090/graph",
            "fingerprint": alertmanager_fingerprint(labels),
        }
        for labels in alerts
    ]
    common = dict(alerts[0]) if len(alerts) == 1 else {"alertname": alerts[0]["alertname"]}
    body = {
        "receiver": "alertrouter",
        "status": "firing",
        "alerts": items,
        "groupLabels": {"alertname": alerts[0]["alertname"]},
        "commonLabels": common,
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example:9093",
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{alerts[0]["alertname"]}", group="{group}"}}',
        "truncatedAlerts": 0,
    }
    return json.dumps(body, separators=(",", ":")).encode()


@dataclass
class Window:
    """What one latency scenario measured."""

    target: str
    rate: int
    offered: int = 0
    post_errors: int = 0
    posted_at: dict[str, float] = field(default_factory=dict)  # fake's key -> post time
    ingest_ms: list[float] = field(default_factory=list)
    latency_ms: list[float] = field(default_factory=list)
    delivered: int = 0
    requests: int = 0
    max_lag_ms: float = 0.0
    server_cores: float = 0.0
    drain_s: float = 0.0


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100); NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


async def post(
    http: aiohttp.ClientSession, url: str, body: bytes, window: Window | None, key: str
) -> None:
    """POST one webhook, recording when it left for the key its fake will report."""
    started = time.monotonic()
    if window is not None:
        window.posted_at[key] = started
    try:
        async with http.post(
            url, data=body, headers={"Content-Type": "application/json"}
        ) as answer:
            await answer.read()
            ok = answer.status == 200
    except aiohttp.ClientError:
        ok = False
    if window is not None:
        window.ingest_ms.append((time.monotonic() - started) * 1000)
        if not ok:
            window.post_errors += 1


async def offer(
    http: aiohttp.ClientSession, url: str, target: str, rate: int, seconds: float,
    window: Window | None, counter: list[int],
) -> None:  # fmt: skip
    """Post ``rate`` one-alert webhooks per second for ``seconds``, open loop."""
    tasks: set[asyncio.Task[None]] = set()
    total = round(rate * seconds)
    started = time.monotonic()
    for i in range(total):
        due = started + i / rate
        lag = time.monotonic() - due
        if lag < 0:
            await asyncio.sleep(-lag)
        elif window is not None:
            window.max_lag_ms = max(window.max_lag_ms, lag * 1000)
        counter[0] += 1
        labels = {
            "alertname": "BenchLatency", "bench": target, "severity": "critical",
            "instance": f"{target}-{rate}-{counter[0]}:9100",
        }  # fmt: skip
        fingerprint = alertmanager_fingerprint(labels)
        key = dedup_key("pagerduty", fingerprint) if target == "pagerduty" else fingerprint
        task = asyncio.create_task(post(http, url, body_for([labels], key), window, key))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        if window is not None:
            window.offered += 1
    await asyncio.gather(*tasks)


async def status(http: aiohttp.ClientSession, serve: Serve) -> dict[str, Any]:
    """GET /api/v1/status."""
    async with http.get(f"{serve.url}/api/v1/status") as answer:
        result: dict[str, Any] = await answer.json()
        return result


async def drain(http: aiohttp.ClientSession, serve: Serve, within: float) -> float:
    """Seconds until nothing is queued; RuntimeError after ``within``."""
    started = time.monotonic()
    while (await status(http, serve))["queue_depth"]:
        if time.monotonic() - started > within:
            raise RuntimeError(f"the queue did not drain within {within:.0f}s")
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def recorded(http: aiohttp.ClientSession, base: str) -> dict[str, Any]:
    """What a fake received."""
    async with http.get(f"{base}{RECORDED_PATH}") as answer:
        result: dict[str, Any] = await answer.json()
        return result


async def latency_window(
    http: aiohttp.ClientSession, serve: Serve, urls: dict[str, str], target: str, rate: int,
    seconds: float, warmup: float, counter: list[int],
) -> Window:  # fmt: skip
    """One scenario: warm up, measure a window, drain, read the fake."""
    url = f"{serve.url}/api/v1/alerts"
    await offer(http, url, target, rate, warmup, None, counter)
    await drain(http, serve, 60)
    window = Window(target, rate)
    cpu = serve.cpu_seconds()
    started = time.monotonic()
    await offer(http, url, target, rate, seconds, window, counter)
    elapsed = time.monotonic() - started
    window.server_cores = (serve.cpu_seconds() - cpu) / elapsed
    window.drain_s = await drain(http, serve, 120)
    seen = await recorded(http, urls[f"{target}_base"])
    first: dict[str, float] = {}
    for at, keys, _, _ in seen["requests"]:
        ours = [key for key in keys if key in window.posted_at]
        window.requests += 1 if ours else 0
        for key in ours:
            first.setdefault(key, at)
    window.delivered = len(first)
    window.latency_ms = [(at - window.posted_at[key]) * 1000 for key, at in first.items()]
    return window


@dataclass
class Storm:
    """What the storm scenario measured."""

    alerts: int
    webhooks: int
    post_s: float = 0.0
    empty_after_s: float = 0.0
    messages: int = 0
    stated: int = 0
    digests: int = 0
    bucket_ok: bool = False
    worst: str = ""
    margin: float = float("inf")  # seconds to spare in the tightest window
    dead: int = 0


def check_bucket(times: Sequence[float], rate: float, burst: int) -> tuple[bool, str, float]:
    """Whether every window of requests fits a token bucket; the tightest window, described,
    and its seconds to spare."""
    ordered = sorted(times)
    ok, worst, margin = True, "", float("inf")
    for i in range(len(ordered)):
        for j in range(i + burst, len(ordered)):
            need = (j - i + 1 - burst) / rate
            slack = ordered[j] - ordered[i] - need
            if slack < margin:
                margin = slack
                worst = (
                    f"{j - i + 1} requests in {ordered[j] - ordered[i]:.3f} s "
                    f"(bucket allows them from {need:.3f} s)"
                )
            if slack < -RECEIPT_JITTER:
                ok = False
    return ok, worst or "fewer requests than the burst", margin


async def storm(
    http: aiohttp.ClientSession, serve: Serve, urls: dict[str, str], repeat: int
) -> Storm:
    """1,000 alerts in 100 webhooks at 20 webhooks/s to Slack limited to 1/s."""
    result = Storm(STORM_WEBHOOKS * STORM_SIZE, STORM_WEBHOOKS)
    before = len((await recorded(http, urls["slack_base"]))["requests"])
    url = f"{serve.url}/api/v1/alerts"
    started = time.monotonic()
    for w in range(STORM_WEBHOOKS):
        await asyncio.sleep(max(0.0, started + w / STORM_POST_RATE - time.monotonic()))
        alerts = [
            {"alertname": f"Storm{w % 7}", "bench": "storm", "severity": "warning",
             "instance": f"storm-{repeat}-{w:03d}-{i}:9100"}
            for i in range(STORM_SIZE)
        ]  # fmt: skip
        await post(http, url, body_for(alerts, f"storm-{repeat}-{w}"), None, "")
    result.post_s = time.monotonic() - started
    while True:
        current = await status(http, serve)
        if not current["queue_depth"]:
            break
        if time.monotonic() - started > 120:
            raise RuntimeError("the storm did not drain within 120 s")
        await asyncio.sleep(0.05)
    result.empty_after_s = time.monotonic() - started
    result.dead = int(current["dead_letters"])
    rows = (await recorded(http, urls["slack_base"]))["requests"][before:]
    result.messages = len(rows)
    result.stated = sum(int(stated) for _, _, stated, _ in rows)
    result.digests = sum(1 for *_, digest in rows if digest)
    result.bucket_ok, result.worst, result.margin = check_bucket(
        [r[0] for r in rows], STORM_RATE, STORM_BURST
    )
    return result


# -- report --------------------------------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    """The median; NaN when empty."""
    return statistics.median(values) if values else float("nan")


def spread(values: Sequence[float], digits: int = 1) -> str:
    """``min–max``."""
    return f"{min(values):.{digits}f}–{max(values):.{digits}f}" if values else "–"


def latency_table(runs: dict[tuple[str, int], list[Window]]) -> list[str]:
    """One Markdown row per (target, rate): medians over the runs, p99's min–max."""
    lines = [
        "| Target | Offered alerts/s | Runs × alerts | Delivered | Provider requests/run "
        "| p50 ms | p99 ms | p99 min–max ms | Worst ms | Ingest p99 ms | Drain after window s "
        "| serve CPU (cores) |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for (target, rate), windows in runs.items():
        p99s = [percentile(w.latency_ms, 99) for w in windows]
        lines.append(
            f"| {target} | {rate} | {len(windows)} × {windows[0].offered:,} "
            f"| {sum(w.delivered for w in windows):,}/{sum(w.offered for w in windows):,} "
            f"| {median([w.requests for w in windows]):,.0f} "
            f"| {median([percentile(w.latency_ms, 50) for w in windows]):.1f} "
            f"| {median(p99s):.1f} | {spread(p99s)} "
            f"| {max(max(w.latency_ms, default=0.0) for w in windows):.1f} "
            f"| {median([percentile(w.ingest_ms, 99) for w in windows]):.1f} "
            f"| {median([w.drain_s for w in windows]):.1f} "
            f"| {median([w.server_cores for w in windows]):.2f} |"
        )
    return lines


def storm_table(results: Sequence[Storm]) -> list[str]:
    """The storm's Markdown row: medians over the runs, with min–max."""
    empty = [r.empty_after_s for r in results]
    messages = [float(r.messages) for r in results]
    digests = [float(r.digests) for r in results]
    worst = min(results, key=lambda r: r.margin)
    return [
        "| Storm | Runs | Posted in s | Queue empty after s (min–max) | Slack messages "
        "| Digests | Alerts stated | Dead letters | Within 1/s + burst 3 | Tightest window |",
        "|---|--:|--:|--:|--:|--:|--:|--:|---|---|",
        f"| {results[0].alerts:,} alerts / {results[0].webhooks} webhooks | {len(results)} "
        f"| {median([r.post_s for r in results]):.1f} | {median(empty):.1f} ({spread(empty)}) "
        f"| {spread(messages, 0)} | {spread(digests, 0)} "
        f"| {', '.join(f'{r.stated:,}' for r in results)} | {sum(r.dead for r in results)} "
        f"| {'yes' if all(r.bucket_ok for r in results) else 'NO'} every run | {worst.worst} |",
    ]


def verdicts(runs: dict[tuple[str, int], list[Window]], results: Sequence[Storm]) -> list[str]:
    """Whether the targets hold."""

    def mark(ok: bool) -> str:
        return "**met**" if ok else "**missed**"

    lines = []
    for (target, rate), windows in runs.items():
        p99s = [percentile(w.latency_ms, 99) for w in windows]
        complete = all(w.delivered == w.offered and not w.post_errors for w in windows)
        if rate == 100:
            under = sum(p < P99_TARGET_MS for p in p99s)
            lines.append(
                f"- p99 < {P99_TARGET_MS:.0f} ms at 100 alerts/s, {target}: "
                f"{mark(median(p99s) < P99_TARGET_MS and complete)} (median {median(p99s):.1f} "
                f"ms, {spread(p99s)}; under the target in {under} of {len(p99s)} runs; "
                f"{'all' if complete else 'NOT all'} delivered)"
            )
        elif not complete:
            lines.append(f"- {target} at {rate}/s: not everything was delivered")
    if not results:
        return lines
    storm_ok = all(
        r.stated == r.alerts and r.bucket_ok and r.dead == 0 and r.empty_after_s < STORM_DEADLINE
        for r in results
    )
    lines.append(
        f"- storm fully delivered within the limits and {STORM_DEADLINE:.0f} s: {mark(storm_ok)} "
        f"(every run: {results[0].alerts:,} alerts stated: "
        f"{all(r.stated == r.alerts for r in results)}, within the bucket: "
        f"{all(r.bucket_ok for r in results)}, dead letters: {sum(r.dead for r in results)}, "
        f"queue empty after at most {max(r.empty_after_s for r in results):.1f} s)"
    )
    return lines


async def run(
    quick: bool,
    targets: Sequence[str] = TARGETS,
    rates: Sequence[int] = RATES,
    storm_too: bool = True,
    repeats: int = 5,
) -> int:
    """The scenarios, ``repeats`` times each, then the report."""
    seconds, warmup = (2.0, 0.5) if quick else (10.0, 1.0)
    started = time.monotonic()
    print(f"Command: `{command_line()}`")
    print(f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"Machine: {len(os.sched_getaffinity(0))} CPUs, {cpu_model()}, {platform.system()} "
          f"{platform.release()}")  # fmt: skip
    print(f"Python: {platform.python_implementation()} {platform.python_version()}")
    print(f"Load average at start (1/5/15 min): {load_average()}")
    if quick:
        print("Mode: --quick (2 s windows; a smoke test, not for the record)")
    print()
    runs: dict[tuple[str, int], list[Window]] = {}
    results: list[Storm] = []
    with tempfile.TemporaryDirectory(prefix="bench-delivery-") as tmp:
        folder = Path(tmp)
        async with fakes_process() as urls:
            config = routing_file(folder, urls)
            connector = aiohttp.TCPConnector(limit=CONNECTIONS)
            async with (
                serve_process(folder, config) as serve,
                aiohttp.ClientSession(connector=connector) as http,
            ):
                counter = [0]
                for repeat in range(repeats):
                    for target in targets:
                        for rate in rates:
                            window = await latency_window(
                                http, serve, urls, target, rate, seconds, warmup, counter
                            )
                            runs.setdefault((target, rate), []).append(window)
                            print(
                                f"  run {repeat + 1}: {target} at {rate}/s: p50 "
                                f"{percentile(window.latency_ms, 50):.1f} ms, p99 "
                                f"{percentile(window.latency_ms, 99):.1f} ms, "
                                f"{window.delivered}/{window.offered} delivered",
                                flush=True,
                            )
                    if storm_too:
                        results.append(await storm(http, serve, urls, repeat))
                        print(
                            f"  run {repeat + 1}: storm: queue empty after "
                            f"{results[-1].empty_after_s:.1f} s",
                            flush=True,
                        )
    print()
    print("\n".join(latency_table(runs)))
    if results:
        print()
        print("\n".join(storm_table(results)))
    print()
    print("\n".join(verdicts(runs, results)))
    print()
    print(f"Load average at end (1/5/15 min): {load_average()}; "
          f"the run took {time.monotonic() - started:.0f} s")  # fmt: skip
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the flags and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 s windows")
    parser.add_argument(
        "--targets", default=",".join(TARGETS), help="comma-separated (pagerduty,webhook)"
    )
    parser.add_argument(
        "--rates", default=",".join(map(str, RATES)), help="alerts/s offered (100,500)"
    )
    parser.add_argument("--no-storm", action="store_true", help="skip the storm scenario")
    parser.add_argument("--runs", type=int, help="repeats of every scenario (5; 1 with --quick)")
    parser.add_argument("--fakes", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.fakes:
        asyncio.run(serve_fakes())
        return 0
    targets = [t for t in args.targets.split(",") if t]
    unknown = set(targets) - set(TARGETS)
    if unknown:
        parser.error(f"unknown targets: {', '.join(sorted(unknown))}")
    rates = [int(r) for r in args.rates.split(",") if r]
    repeats = args.runs or (1 if args.quick else 5)
    return asyncio.run(run(args.quick, targets, rates, not args.no_storm, repeats))


if __name__ == "__main__":
    raise SystemExit(main())
