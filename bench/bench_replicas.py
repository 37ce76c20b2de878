"""Redis vs SQLite: ingest throughput and end-to-end latency of ``alertrouter serve``, one run.

Scenarios, each on fresh state, one after the other:

- ``sqlite``: one ``serve`` process, ``sqlite:///…`` (WAL, synchronous=FULL, group commit);
- ``redis``: one process on a redis-server with ``appendonly yes``, ``appendfsync always``
  (every acknowledged job on disk before the 200, like SQLite);
- ``redis x2``: two processes on that Redis, the load split between them (round robin);
- the two Redis ones again with ``appendfsync everysec`` (a Redis crash may lose the last
  second of acknowledged jobs): what the per-write fsync costs.

Every process routes everything to one webhook integration (``rate_limit: 10000/s``) whose
endpoint is a webhook receiver in this process, so delivery is real HTTP and the latency is
measured end to end: from the start of the POST to alertrouter to the arrival of the alert at
the receiver, on one monotonic clock. Three phases per scenario:

1. ingest: ``CONNECTIONS`` concurrent clients post one-alert webhooks (each a new alert, so
   each is routed, claimed and queued; a 503 is retried on the next replica after 50 ms, as
   Alertmanager would, and counted) as fast as answered, for a window after a warm-up;
   then the time from the window's end until every accepted alert reached the receiver
   ("drain"), a check that none is missing, and a wait (untimed, 20 s at most) until no job
   is left in the store ("stuck": those still there, delivered but not marked done);
2. latency: an open loop of ``RATE`` webhooks/s (no backlog), end-to-end latency percentiles;
3. sparse: one webhook at a time, alternating between the replicas, each sent ``SPARSE_GAP``
   seconds after the previous one arrived: what a lone alert waits when the replica that took
   it is not the one delivering its queue (nothing else wakes the one that is).

The load generator and the receiver share this process and the machine's cores with the
servers (and Redis): absolute numbers are this machine's; the columns compare the backends.

Every scenario runs once per round, the rounds interleaved, and the table shows each number's
median over the rounds (503s, stuck jobs, lost and duplicate alerts: the sum): on a shared machine
a single run of one scenario swings by a factor of two.

Run: ``.venv/bin/python bench/bench_replicas.py`` (6–10 minutes); ``--quick`` for a smoke
run (one short round; numbers not for the record).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import shlex
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from aiohttp import web

from alertrouter.payload import alertmanager_fingerprint
from machine import load_average

# The tests' process helpers (a free port, a stop by PID): one copy for tests and benchmarks.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from processes import free_port, stop_process

REPO = Path(__file__).resolve().parent.parent
RUNNER = "from alertrouter.cli.main import main; raise SystemExit(main())"
TOKEN = "bench-replicas-token"
CONNECTIONS = 32
RATE = 50.0  # webhooks/s in the latency phase
SPARSE_GAP = 0.5  # seconds from one sparse webhook's arrival to the next one's POST
START_TIMEOUT = 30.0
DRAIN_TIMEOUT = 120.0
SETTLE_TIMEOUT = 20.0


@dataclass(frozen=True, slots=True)
class Plan:
    """How long each phase runs, and how many rounds: the full run or ``--quick``."""

    warmup: float
    ingest: float
    latency: float
    sparse: int  # webhooks in the sparse phase
    rounds: int  # every scenario once per round, interleaved; the table shows medians


FULL = Plan(warmup=1.0, ingest=6.0, latency=5.0, sparse=8, rounds=3)
QUICK = Plan(warmup=0.5, ingest=2.0, latency=2.0, sparse=4, rounds=1)


@dataclass(frozen=True, slots=True)
class Scenario:
    """A backend and how many ``serve`` processes share it."""

    name: str
    backend: str  # sqlite | redis
    replicas: int
    appendfsync: str = "always"  # Redis only


SCENARIOS = (
    Scenario("sqlite", "sqlite", 1),
    Scenario("redis", "redis", 1),
    Scenario("redis x2", "redis", 2),
    Scenario("redis, everysec", "redis", 1, "everysec"),
    Scenario("redis x2, everysec", "redis", 2, "everysec"),
)


# -- alerts ------------------------------------------------------------------------------------


def webhook_body(instance: str) -> bytes:
    """A one-alert Alertmanager v4 webhook about ``instance`` (a new alert each time)."""
    labels = {"alertname": "BenchReplicas", "instance": instance, "job": "node"}
    labels["severity"] = "warning"
    alert = {
        "status": "firing",
        "labels": labels,
        "annotations": {"summary": f"bench alert on {instance}"},
        "startsAt": "2024-06-01T12:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "",
        "fingerprint": alertmanager_fingerprint(labels),
    }
    body = {
        "receiver": "alertrouter",
        "status": "firing",
        "alerts": [alert],
        "groupLabels": {"instance": instance},
        "commonLabels": labels,
        "commonAnnotations": alert["annotations"],
        "externalURL": "http://alertmanager.example.com:9093",
        "version": "4",
        "groupKey": f'{{}}:{{instance="{instance}"}}',
        "truncatedAlerts": 0,
    }
    return json.dumps(body, separators=(",", ":")).encode() + b"\n"


ROUTING = """\
route:
  receiver: hook
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: {url}
        send_resolved: true
        rate_limit: 10000/s
        rate_burst: 10000
"""


# -- the receiver ------------------------------------------------------------------------------


@dataclass
class Receiver:
    """A webhook endpoint recording when each alert (by ``instance``) first arrived."""

    arrivals: dict[str, float] = field(default_factory=dict)
    duplicates: int = 0
    requests: int = 0
    port: int = 0
    _runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Listen on a free loopback port."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/hook", self._receive)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        self.port = free_port()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        """The webhook URL to configure."""
        return f"http://127.0.0.1:{self.port}/hook"

    async def _receive(self, request: web.Request) -> web.Response:
        now = time.monotonic()
        self.requests += 1
        body = await request.json()
        for alert in body["alerts"]:
            instance = alert["labels"]["instance"]
            if instance in self.arrivals:
                self.duplicates += 1
            else:
                self.arrivals[instance] = now
        return web.json_response({"status": "ok"})


# -- processes ---------------------------------------------------------------------------------


def start_redis(folder: Path, appendfsync: str) -> tuple[subprocess.Popen[bytes], str]:
    """redis-server on a free port: append-only with ``appendfsync``, no RDB snapshots."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed (Debian: apt-get install redis-server)")
    port = free_port()
    process = subprocess.Popen(
        [
            binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "yes", "--appendfsync", appendfsync, "--dir", str(folder),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1) as c:
            c.sendall(b"PING\r\n")
            if c.recv(16).startswith(b"+PONG"):
                return process, f"redis://127.0.0.1:{port}/0"
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("redis-server did not start")
        time.sleep(0.02)


def start_serve(
    folder: Path, config: Path, state_url: str, name: str
) -> tuple[subprocess.Popen[bytes], str]:
    """``alertrouter serve`` as a subprocess; (process, base URL). Not yet ready."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALERTROUTER_")}
    env.update(ALERTROUTER_WEBHOOK_TOKEN=TOKEN, ALERTROUTER_LOG_FORMAT="json")
    command = [
        sys.executable, "-c", RUNNER, "serve", "--config", str(config),
        "--listen", f"127.0.0.1:{port}", "--state-url", state_url,
    ]  # fmt: skip
    with (folder / f"{name}.log").open("wb") as log:
        process = subprocess.Popen(command, env=env, cwd=folder, stdout=log, stderr=log)
    return process, f"http://127.0.0.1:{port}"


async def wait_ready(
    session: aiohttp.ClientSession, url: str, process: subprocess.Popen[bytes]
) -> None:
    """Poll /-/ready until 200."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: serve exited with {process.returncode}")
        with contextlib.suppress(aiohttp.ClientError):
            async with session.get(f"{url}/-/ready") as answer:
                if answer.status == 200:
                    return
        await asyncio.sleep(0.05)
    raise RuntimeError(f"{url}: not ready after {START_TIMEOUT}s")


# -- measuring ---------------------------------------------------------------------------------


@dataclass
class Result:
    """One scenario's numbers."""

    scenario: Scenario
    ingest_per_s: float = 0.0
    post_p50_ms: float = 0.0
    post_p99_ms: float = 0.0
    post_max_ms: float = 0.0
    drain_s: float = 0.0
    lost: int = 0
    duplicates: int = 0
    refused: int = 0  # 503 answers (retried)
    stuck: int = 0  # jobs delivered but still leased SETTLE_TIMEOUT after the last arrival
    e2e_p50_ms: float = 0.0
    e2e_p99_ms: float = 0.0
    e2e_max_ms: float = 0.0
    sparse_p50_ms: float = 0.0
    sparse_max_ms: float = 0.0


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1), nearest rank; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


class Loader:
    """Posts pre-built webhooks to the replicas, recording when each was sent."""

    def __init__(self, session: aiohttp.ClientSession, urls: Sequence[str]) -> None:
        self.session = session
        self.urls = [f"{u}/api/v1/alerts" for u in urls]
        self.headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
        self.sent: dict[str, float] = {}
        self.accepted: list[str] = []
        self.refused: Counter[str] = Counter()  # 503 answers by body: retried, as Alertmanager
        self.turn = 0

    async def post(self, instance: str, body: bytes) -> float:
        """POST one webhook until accepted, a 503 retried on the next replica; the seconds."""
        started = time.monotonic()
        self.sent[instance] = started
        while True:
            url = self.urls[self.turn % len(self.urls)]
            self.turn += 1
            async with self.session.post(url, data=body, headers=self.headers) as answer:
                text = await answer.text()
                if answer.status == 200:
                    break
                if answer.status != 503 or time.monotonic() - started > DRAIN_TIMEOUT:
                    raise RuntimeError(f"{url}: {answer.status} {text}")
                self.refused[text.strip()] += 1
            await asyncio.sleep(0.05)
        self.accepted.append(instance)
        return time.monotonic() - started


async def ingest_phase(loader: Loader, plan: Plan, prefix: str) -> tuple[float, list[float], float]:
    """Closed loop: webhooks/s accepted in the window, their POST latencies, the window's end.

    A POST started inside the window counts even when answered after it (its latency too).
    """
    counter = iter(range(10**9))
    window_start = time.monotonic() + plan.warmup
    window_end = window_start + plan.ingest
    latencies: list[float] = []
    accepted_in_window = 0

    async def client() -> None:
        nonlocal accepted_in_window
        while (now := time.monotonic()) < window_end:
            instance = f"{prefix}-{next(counter)}"
            took = await loader.post(instance, webhook_body(instance))
            if now >= window_start:
                latencies.append(took)
                accepted_in_window += 1

    await asyncio.gather(*(client() for _ in range(CONNECTIONS)))
    return accepted_in_window / plan.ingest, latencies, window_end


async def wait_delivered(
    receiver: Receiver, instances: Sequence[str], within: float, since: float | None = None
) -> float:
    """Seconds from ``since`` (default now) until every one of ``instances`` arrived."""
    started = time.monotonic() if since is None else since
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if all(i in receiver.arrivals for i in instances):
            break
        await asyncio.sleep(0.02)
    return time.monotonic() - started


async def wait_settled(session: aiohttp.ClientSession, url: str) -> int:
    """Wait until the store holds nothing pending or in flight; the jobs left after SETTLE_TIMEOUT.

    Every alert has arrived by then, so a job still there was delivered but not marked done: it
    stays leased and goes out again when its lease runs out.
    """
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while True:
        async with session.get(f"{url}/api/v1/status") as answer:
            depth: int = (await answer.json())["queue_depth"]
        if depth == 0 or time.monotonic() > deadline:
            return depth
        await asyncio.sleep(0.05)


async def run_scenario(scenario: Scenario, plan: Plan, folder: Path) -> Result:
    """Start the backend and the replicas, measure the three phases, stop everything."""
    receiver = Receiver()
    await receiver.start()
    config = folder / "alertrouter.yml"
    config.write_text(ROUTING.format(url=receiver.url), encoding="utf-8")
    redis_process = None
    if scenario.backend == "redis":
        redis_process, state_url = start_redis(folder, scenario.appendfsync)
    else:
        state_url = f"sqlite:///{folder / 'state.db'}"
    servers = [
        start_serve(folder, config, state_url, f"serve-{n}") for n in range(scenario.replicas)
    ]
    result = Result(scenario)
    connector = aiohttp.TCPConnector(limit=0)
    try:
        async with aiohttp.ClientSession(connector=connector) as session:
            for process, url in servers:
                await wait_ready(session, url, process)
            loader = Loader(session, [url for _, url in servers])

            rate, posts, window_end = await ingest_phase(loader, plan, "ingest")
            result.ingest_per_s = rate
            result.post_p50_ms = percentile(posts, 0.50) * 1000
            result.post_p99_ms = percentile(posts, 0.99) * 1000
            result.post_max_ms = max(posts) * 1000
            result.drain_s = await wait_delivered(
                receiver, loader.accepted, DRAIN_TIMEOUT, since=window_end
            )
            # The receiver has everything; the workers may still be marking a digest's jobs
            # done, one store call each. Start the latency phase on an idle service.
            result.stuck = await wait_settled(session, servers[0][1])

            first = len(loader.accepted)
            started = time.monotonic()
            count = int(RATE * plan.latency)
            tasks = []
            for n in range(count):
                await asyncio.sleep(max(0.0, started + n / RATE - time.monotonic()))
                instance = f"latency-{n}"
                tasks.append(asyncio.create_task(loader.post(instance, webhook_body(instance))))
            await asyncio.gather(*tasks)
            latency_set = loader.accepted[first:]
            await wait_delivered(receiver, latency_set, DRAIN_TIMEOUT)
            e2e = [receiver.arrivals[i] - loader.sent[i] for i in latency_set]
            result.e2e_p50_ms = percentile(e2e, 0.50) * 1000
            result.e2e_p99_ms = percentile(e2e, 0.99) * 1000
            result.e2e_max_ms = max(e2e) * 1000

            sparse = []
            for n in range(plan.sparse):
                instance = f"sparse-{n}"
                await loader.post(instance, webhook_body(instance))
                sparse.append(instance)
                await wait_delivered(receiver, [instance], DRAIN_TIMEOUT)
                await asyncio.sleep(SPARSE_GAP)
            gaps = [receiver.arrivals[i] - loader.sent[i] for i in sparse if i in receiver.arrivals]
            result.sparse_p50_ms = percentile(gaps, 0.50) * 1000
            result.sparse_max_ms = max(gaps) * 1000

            result.lost = sum(1 for i in loader.accepted if i not in receiver.arrivals)
            result.refused = sum(loader.refused.values())
            for reason, count in loader.refused.items():
                print(f"  {scenario.name}: {count} x 503 {reason!r}", file=sys.stderr)
            result.duplicates = receiver.duplicates
    finally:
        for process, _ in servers:
            stop_process(process, 20)
        if redis_process is not None:
            stop_process(redis_process, 20)
        await receiver.stop()
    return result


# -- reporting ---------------------------------------------------------------------------------


def machine(load_at_start: str, started_at: str, seconds: float) -> Iterator[str]:
    """Lines describing where and how this ran."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.partition(":")[2].strip()
                break
    redis_version = "?"
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(
            ["redis-server", "--version"], capture_output=True, text=True, check=False, timeout=10
        ).stdout
        redis_version = out.split("v=")[1].split()[0]
    yield f"- machine: {cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"
    yield (
        f"- Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"redis-server {redis_version}, aiohttp {aiohttp.__version__}"
    )
    command = shlex.join([Path(sys.executable).name, *sys.argv])
    yield f"- command: `{command}` (started {started_at} UTC, took {seconds:.0f} s)"
    yield f"- load average at start {load_at_start}, at end {load_average()}"


def median_result(runs: Sequence[Result]) -> Result:
    """Each number the median over ``runs`` (of one scenario); lost and duplicates summed."""
    merged = Result(runs[0].scenario)
    for name in Result.__dataclass_fields__:
        if name == "scenario":
            continue
        values = [getattr(r, name) for r in runs]
        summed = name in ("lost", "duplicates", "refused", "stuck")
        setattr(merged, name, sum(values) if summed else statistics.median(values))
    return merged


def table(results: Sequence[Result]) -> Iterator[str]:
    """The Markdown table."""
    yield (
        "| scenario | ingest webhooks/s | POST p50 / p99 / max ms | drain s | e2e p50 / p99 / "
        f"max ms at {RATE:g}/s | sparse p50 / max ms | 503s | stuck | lost | duplicates |"
    )
    yield "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    for r in results:
        yield (
            f"| {r.scenario.name} | {r.ingest_per_s:,.0f} | {r.post_p50_ms:.1f} / "
            f"{r.post_p99_ms:.1f} / {r.post_max_ms:,.0f} | {r.drain_s:.1f} | "
            f"{r.e2e_p50_ms:.1f} / {r.e2e_p99_ms:.1f} / "
            f"{r.e2e_max_ms:.0f} | {r.sparse_p50_ms:.0f} / {r.sparse_max_ms:.0f} | "
            f"{r.refused} | {r.stuck} | {r.lost} | {r.duplicates} |"
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Run every scenario and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="short smoke run")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    load_at_start, started = load_average(), time.monotonic()
    started_at = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    runs: dict[Scenario, list[Result]] = {scenario: [] for scenario in SCENARIOS}
    with tempfile.TemporaryDirectory(prefix="bench-replicas-") as tmp:
        for round_ in range(plan.rounds):
            for index, scenario in enumerate(SCENARIOS):
                folder = Path(tmp) / f"round{round_}-scenario{index}"
                folder.mkdir()
                print(f"round {round_ + 1}: {scenario.name} ...", file=sys.stderr, flush=True)
                runs[scenario].append(asyncio.run(run_scenario(scenario, plan, folder)))
    results = [median_result(r) for r in runs.values()]
    rounds = f"median of {plan.rounds} interleaved rounds" if plan.rounds > 1 else "one round"
    took = time.monotonic() - started
    print(
        "\n".join([*machine(load_at_start, started_at, took), f"- {rounds}", "", *table(results)])
    )
    failed = [r.scenario.name for r in results if r.lost]
    if failed:
        print(f"LOST ALERTS in: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
