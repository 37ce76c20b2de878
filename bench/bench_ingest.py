"""Durable ingest throughput: alertrouter ``serve`` beside its stack's ceiling and Alertmanager.

Three servers, each a subprocess on 127.0.0.1, measured one after the other in one run:

(a) ``alertrouter serve --dry-run`` with the shipped policy (``config/alertrouter.yml``) and a
    fresh SQLite state file: every ``POST /api/v1/alerts`` is validated, routed, claimed and
    its jobs committed (WAL, fsync through the group-committing writer) before the 200. The
    delivery workers run too (``--dry-run`` makes every integration log what it would send,
    at the integration's own pace; there is no flag to switch delivery off), so they share
    the process with ingest;
(b) a bare aiohttp server (``bench/bare_server.py``) that only ``json.loads`` the same bodies
    and answers 200: the ceiling for this interpreter and HTTP stack;
(c) Alertmanager 0.25 (``/usr/bin/prometheus-alertmanager``, Debian's ``prometheus-alertmanager``)
    ingesting the same alerts through ``POST /api/v2/alerts`` (its v2 format: a JSON list of
    ``{labels, annotations, startsAt, endsAt, generatorURL}``), clustering off, one route to a
    receiver without integrations. Alertmanager keeps alerts in memory: its ingest is *not*
    durable, unlike (a).

Each server gets webhooks of 1 and of 20 alerts from ``bench/loadgen.py``, a closed-loop
HTTP/1.1 client in its own process: 64 keep-alive connections, one request in flight each,
2 s of warm-up then a 10 s window (stopping early if the pre-built bodies run out). Every
request carries *new* alerts (an incrementing ``instance`` label, so new fingerprints; mixed
``severity`` critical/warning/info, ``team="infrastructure"`` about a third of the time, so
the shipped policy pages, mails and posts to Slack), so each does the full route + claim +
enqueue work. The fingerprints are Alertmanager's (FNV-1a over the sorted labels), computed
by a prefix-caching copy of ``alertrouter.payload.alertmanager_fingerprint`` that is checked
against it. The resend path (byte-identical bodies: a pool of 256 webhooks, each sent once
before timing, then cycled) is measured separately for alertrouter. All bodies are built,
and all requests encoded, before any clock starts.

The bare server cycles through the bodies (it only parses, so reuse changes nothing for it).
The load generator competes with the server for the same cores (2 on the reference
machine); the table shows how much CPU each used during the window, and how much every other
process on the machine took meanwhile (the noise: compare servers by CPU µs per request when
that is high). After each alertrouter
run the state file is read to check that every acknowledged alert was committed (claims
with that many distinct fingerprints) and to count the jobs delivery had finished.

Run it with ``.venv/bin/python bench/bench_ingest.py`` (2-3 minutes); ``--quick`` is a
smoke run (short windows, few bodies; numbers not for the record); ``--profile`` also runs
scenario (a) at 20 alerts/webhook with the server under cProfile and prints its top functions
(main thread only; the SQLite writer thread is not seen).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pickle
import platform
import pstats
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

import alertrouter  # the servers import the same one: same interpreter and sys.path
from alertrouter.payload import alertmanager_fingerprint
from machine import command_line, cpu_model, load_average

# The tests' process helpers (a free port, a stop by PID): one copy for tests and benchmarks.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from processes import free_port, stop_process

REPO = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
LOADGEN = BENCH / "loadgen.py"
BARE_SERVER = BENCH / "bare_server.py"
SHIPPED_POLICY = "config/alertrouter.yml"
ALERTMANAGER = Path("/usr/bin/prometheus-alertmanager")
SEED = 20240601

CONNECTIONS = 64
SIZES = (1, 20)  # alerts per webhook
RESEND_POOL = 256


@dataclass(frozen=True, slots=True)
class Plan:
    """How long and how much: the full run or ``--quick``."""

    warmup: float
    duration: float
    bodies: dict[int, int]  # webhooks pre-built per size


FULL = Plan(warmup=2.0, duration=10.0, bodies={1: 240_000, 20: 36_000})
QUICK = Plan(warmup=0.5, duration=2.0, bodies={1: 12_000, 20: 1_500})

# Targets (2-core machine, same run).
ALERTS_PER_S_TARGET_20 = 15_000.0
VS_ALERTMANAGER_TARGET_20 = 1.2
VS_CEILING_TARGET_1 = 0.70
P99_TARGET_MS = 100.0

# ------------------------------------------------------------------------------ the alerts

ALERTNAMES = (
    "HighErrorRate", "HighLatency", "InstanceDown", "DiskFull", "MemoryPressure",
    "CPUThrottling", "PodCrashLooping", "CertExpiring", "QueueBacklog", "ReplicationLag",
)  # fmt: skip
TEAMS = ("payments", "search", "checkout", "identity", "storage", "web", "data", "billing")
SEVERITIES = ("critical", "warning", "info")
SEVERITY_WEIGHTS = (25, 60, 15)
INFRASTRUCTURE_SHARE = 0.3
ENVS = ("prod", "staging")
JOBS = ("node", "kubelet", "blackbox", "app", "postgres", "redis")

_FNV_OFFSET = 14695981039346656037
_FNV_PRIME = 1099511628211
_MASK = 0xFFFFFFFFFFFFFFFF

ZERO_TIME = "0001-01-01T00:00:00Z"


def _fnv(data: bytes, value: int, prime: int = _FNV_PRIME, mask: int = _MASK) -> int:
    for byte in data:
        value = ((value ^ byte) * prime) & mask
    return value


@dataclass(slots=True)
class _Fingerprinter:
    """``alertmanager_fingerprint`` with the walk up to ``instance`` cached.

    The labels are alertname, env, instance, job, severity, team (sorted, as the walk goes);
    only the part from ``instance`` on is hashed per alert.
    """

    prefixes: dict[tuple[str, str], int] = field(default_factory=dict)

    def __call__(self, alertname: str, env: str, tail: str) -> str:
        """``tail`` is ``instance\xffjob\xff<job>\xffseverity\xff…\xff`` from the value on."""
        prefix = self.prefixes.get((alertname, env))
        if prefix is None:
            head = f"alertname\xff{alertname}\xffenv\xff{env}\xffinstance\xff".encode("latin-1")
            prefix = self.prefixes[alertname, env] = _fnv(head, _FNV_OFFSET)
        return f"{_fnv(tail.encode('latin-1'), prefix):016x}"


@dataclass(slots=True)
class Bodies:
    """The same webhooks in two encodings: alertrouter's v4 webhook and Alertmanager's v2."""

    webhook: list[bytes]
    v2: list[bytes]


def build_bodies(count: int, size: int, first_instance: int, starts: str) -> Bodies:
    """``count`` webhooks of ``size`` new alerts each, grouped by alertname as Alertmanager does.

    Built from string fragments (every value is plain ASCII, nothing to escape) rather than
    ``json.dumps``, for speed; ``_check`` parses a sample back.
    """
    rng = random.Random(SEED + size)
    fingerprint = _Fingerprinter()
    total = count * size
    severities = rng.choices(SEVERITIES, SEVERITY_WEIGHTS, k=total)
    teams = [
        "infrastructure" if rng.random() < INFRASTRUCTURE_SHARE else rng.choice(TEAMS)
        for _ in range(total)
    ]
    generator_url = "http://prometheus.example.com:9090/graph?g0.expr=job%3A{}%3Aratio5m+%3E+0.05"
    webhook: list[bytes] = []
    v2: list[bytes] = []
    position = 0
    for index in range(count):
        alertname, env, job = rng.choice(ALERTNAMES), rng.choice(ENVS), rng.choice(JOBS)
        label_head = f'"labels":{{"alertname":"{alertname}","env":"{env}","instance":"'
        rest = (
            f'"startsAt":"{starts}","endsAt":"{ZERO_TIME}",'
            f'"generatorURL":"{generator_url.format(alertname)}&g0.tab=1"'
        )
        alerts: list[str] = []
        v2_alerts: list[str] = []
        for _ in range(size):
            instance = f"host-{first_instance + position:08d}:9100"
            severity, team = severities[position], teams[position]
            position += 1
            core = (
                f'{label_head}{instance}","job":"{job}","severity":"{severity}","team":"{team}"}},'
                f'"annotations":{{"summary":"{alertname} on {instance}","description":'
                f'"{alertname} has held for 10 minutes on {instance} ({env}); see the runbook.",'
                f'"runbook_url":"https://runbooks.example.com/{alertname}"}},{rest}'
            )
            tail = f"{instance}\xffjob\xff{job}\xffseverity\xff{severity}\xffteam\xff{team}\xff"
            alerts.append(
                f'{{"status":"firing",{core},"fingerprint":"{fingerprint(alertname, env, tail)}"}}'
            )
            v2_alerts.append(f"{{{core}}}")
        first = position - size
        common = {"alertname": alertname, "env": env, "job": job}
        for name, values in (("severity", severities), ("team", teams)):
            if len(set(values[first:position])) == 1:
                common[name] = values[first]
        if size == 1:
            common["instance"] = instance
        group = {
            "version": "4",
            "groupKey": f'{{}}:{{alertname="{alertname}"}}',
            "truncatedAlerts": 0,
            "status": "firing",
            "receiver": "alertrouter",
            "groupLabels": {"alertname": alertname},
            "commonLabels": dict(sorted(common.items())),
            "commonAnnotations": {},
            "externalURL": "http://alertmanager.example.com:9093",
        }
        head = json.dumps(group, separators=(",", ":"))[:-1]
        webhook.append(f'{head},"alerts":[{",".join(alerts)}]}}'.encode())
        v2.append(f"[{','.join(v2_alerts)}]".encode())
        if index % 997 == 0:
            _check(webhook[-1], v2[-1], size)
    return Bodies(webhook, v2)


def _check(body: bytes, v2_body: bytes, size: int) -> None:
    """The templates give valid JSON with Alertmanager's fingerprints (spot check)."""
    payload = json.loads(body)
    assert len(payload["alerts"]) == size
    for alert in payload["alerts"]:
        assert alert["fingerprint"] == alertmanager_fingerprint(alert["labels"]), alert
    v2_alerts = json.loads(v2_body)
    assert [a["labels"] for a in v2_alerts] == [a["labels"] for a in payload["alerts"]]


# ------------------------------------------------------------------------------ the servers


@dataclass(slots=True)
class Server:
    """One server under test: how to start it, where to post, where to ask if it is ready."""

    name: str
    argv: list[str]
    post_path: str
    ready_path: str
    port: int
    log: Path
    state_db: Path | None = None
    process: subprocess.Popen[bytes] | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def start(server: Server, timeout: float = 30.0) -> None:
    log = server.log.open("wb")
    server.process = subprocess.Popen(
        server.argv, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
    )
    log.close()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited: {server.log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(server.url(server.ready_path), timeout=1) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    stop(server)
    raise RuntimeError(f"{server.name} was not ready within {timeout:.0f} s")


def stop(server: Server, grace: float = 5.0) -> None:
    """SIGTERM, then SIGKILL after ``grace`` s (the state file was read already; a delivery
    backlog must not make the run wait for a graceful drain)."""
    if server.process is not None:
        stop_process(server.process, grace)


@contextlib.contextmanager
def running(server: Server) -> Iterator[Server]:
    start(server)
    try:
        yield server
    finally:
        stop(server)


def alertrouter_server(work: Path, tag: str, profile_to: Path | None = None) -> Server:
    port = free_port()
    db = work / f"alertrouter-{tag}.db"
    code = "from alertrouter.cli.main import main; raise SystemExit(main())"
    if profile_to is not None:
        code = (
            "import cProfile\nfrom alertrouter.cli.main import main\n"
            "profiler = cProfile.Profile()\nprofiler.enable()\n"
            f"try:\n    main()\nfinally:\n    profiler.disable()\n"
            f"    profiler.dump_stats({str(profile_to)!r})\n"
        )
    argv = [
        sys.executable, "-c", code, "serve", "--dry-run", "--config", SHIPPED_POLICY,
        "--listen", f"127.0.0.1:{port}", "--state-url", f"sqlite:///{db}",
        "--log-level", "warning",
    ]  # fmt: skip
    return Server(
        "alertrouter", argv, "/api/v1/alerts", "/-/ready", port, work / f"{tag}.log", state_db=db
    )


def bare_server(work: Path, tag: str) -> Server:
    port = free_port()
    argv = [sys.executable, str(BARE_SERVER), "127.0.0.1", str(port)]
    return Server("bare aiohttp", argv, "/api/v1/alerts", "/-/ready", port, work / f"{tag}.log")


def alertmanager_server(work: Path, tag: str) -> Server:
    port = free_port()
    config = work / "alertmanager.yml"
    config.write_text('route:\n  receiver: "null"\nreceivers:\n  - name: "null"\n')
    argv = [
        str(ALERTMANAGER), f"--config.file={config}", f"--storage.path={work / tag}",
        f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=",
        "--log.level=warn",
    ]  # fmt: skip
    log = work / f"{tag}.log"
    return Server("Alertmanager 0.25", argv, "/api/v2/alerts", "/-/ready", port, log)


# ------------------------------------------------------------------------------ measurement


@dataclass(slots=True)
class Result:
    """One scenario: a server, a webhook size, and what the load generator measured."""

    server: str
    size: int
    mode: str  # "new alerts" or "resend"
    measured: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    @property
    def requests_per_s(self) -> float:
        return float(self.measured["responses"]) / float(self.measured["window_seconds"])

    @property
    def alerts_per_s(self) -> float:
        return self.requests_per_s * self.size

    @property
    def label(self) -> str:
        return self.server if self.mode == "new alerts" else f"{self.server} (resend)"


def run_load(
    server: Server, bodies_file: Path, plan: Plan, *, resend: bool = False, cycle: bool = False
) -> dict[str, Any]:
    assert server.process is not None
    argv = [
        sys.executable, str(LOADGEN), "--url", server.url(server.post_path),
        "--bodies", str(bodies_file), "--connections", str(CONNECTIONS),
        "--warmup", str(plan.warmup), "--duration", str(plan.duration),
    ]  # fmt: skip
    argv += ["--server-pid", str(server.process.pid)]
    if resend or cycle:
        argv.append("--cycle")
    if resend:
        argv.append("--prime")
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if not done.stdout.strip():
        raise RuntimeError(f"load generator failed: {done.stderr[-2000:]}")
    measured: dict[str, Any] = json.loads(done.stdout)
    return measured


def check_store(db: Path, alerts_acknowledged: int, fresh: bool) -> list[str]:
    """Committed claims and jobs in the state file, read while the server still runs."""
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as connection:
        fingerprints = connection.execute(
            "SELECT COUNT(DISTINCT fingerprint) FROM claim_log WHERE status IS NOT NULL"
        ).fetchone()[0]
        jobs = dict(connection.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state"))
    notes = []
    if fresh:
        verdict = "all committed" if fingerprints >= alerts_acknowledged else "MISSING CLAIMS"
        notes.append(
            f"{alerts_acknowledged:,} alerts acknowledged, {fingerprints:,} fingerprints "
            f"claimed: {verdict}"
        )
    total = sum(jobs.values())
    pending = jobs.get("pending", 0) + jobs.get("inflight", 0)
    notes.append(
        f"{total:,} jobs committed; at the end of the load {jobs.get('done', 0):,} delivered "
        f"(dry-run log), {pending:,} still queued"
    )
    return notes


def scenario(
    server: Server,
    size: int,
    bodies_file: Path,
    plan: Plan,
    *,
    resend: bool = False,
    cycle: bool = False,
) -> Result:
    """Start ``server``, load it, check its state file if it has one, stop it."""
    with running(server):
        measured = run_load(server, bodies_file, plan, resend=resend, cycle=cycle)
        result = Result(server.name, size, "resend" if resend else "new alerts", measured)
        if server.state_db is not None:
            acknowledged = int(measured["ok_total"]) * size
            result.notes = check_store(server.state_db, acknowledged, fresh=not resend)
    if measured["error_count"] or set(measured["statuses"]) - {"200"}:
        result.notes.append(
            f"errors: {measured['error_count']} {measured['errors']}, "
            f"statuses {measured['statuses']}"
        )
    if measured["exhausted"]:
        result.notes.append(
            f"ran out of pre-built bodies after {measured['window_seconds']:.1f} s of the window"
        )
    print(f"  {result.label}, {size}/webhook: {result.alerts_per_s:,.0f} alerts/s", flush=True)
    return result


# ------------------------------------------------------------------------------------ report


def alertmanager_version() -> str:
    try:
        done = subprocess.run(
            [str(ALERTMANAGER), "--version"], capture_output=True, text=True, check=False
        )
    except OSError:
        return "not installed"
    first = (done.stdout or done.stderr).splitlines()
    return first[0] if first else "unknown"


def alertrouter_source() -> str:
    """Which alertrouter is measured: its version, where it is imported from, the commit."""
    where = Path(alertrouter.__file__).resolve().parent
    text = f"alertrouter {alertrouter.__version__} from {os.path.relpath(where, REPO)}"
    if not where.is_relative_to(REPO):
        return text  # not this checkout: its commit says nothing
    try:
        head = subprocess.run(
            ["git", "-C", str(REPO), "log", "-1", "--format=%h %cd", "--date=iso"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--", "src"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return text
    return f"{text}, git {head}{' + uncommitted changes in src/' if dirty else ''}"


def ceiling(results: Sequence[Result], size: int) -> Result | None:
    return next((r for r in results if r.server == "bare aiohttp" and r.size == size), None)


def table(results: Sequence[Result]) -> list[str]:
    lines = [
        "| Server | Alerts/webhook | Requests/s | Alerts/s | p50 ms | p99 ms | vs bare aiohttp "
        "| Server CPU (cores) | Server CPU µs/request | Load generator CPU (cores) "
        "| Other processes' CPU (cores) |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in results:
        top = ceiling(results, r.size)
        ratio = f"{r.requests_per_s / top.requests_per_s:.0%}" if top else "–"
        m = r.measured
        cores = m.get("server_cores")
        per_request = f"{cores / r.requests_per_s * 1e6:,.0f}" if cores else "–"
        lines.append(
            f"| {r.label} | {r.size} | {r.requests_per_s:,.0f} | {r.alerts_per_s:,.0f} "
            f"| {m['p50_ms']:.1f} | {m['p99_ms']:.1f} | {ratio} "
            f"| {_cores(cores)} | {per_request} | {_cores(m.get('loadgen_cores'))} "
            f"| {_cores(m.get('other_cores'))} |"
        )
    return lines


def _cpu_per_request(result: Result) -> float | None:
    cores = result.measured.get("server_cores")
    return float(cores) / result.requests_per_s * 1e6 if cores else None


def _cores(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def verdicts(results: Sequence[Result]) -> list[str]:
    """Each target, for each alertrouter variant measured."""

    def find(server: str, size: int) -> Result | None:
        fresh = (r for r in results if r.mode == "new alerts")
        return next((r for r in fresh if r.server == server and r.size == size), None)

    def mark(ok: bool) -> str:
        return "**met**" if ok else "**missed**"

    am20, bare1 = find("Alertmanager 0.25", 20), find("bare aiohttp", 1)
    lines = []
    variants = dict.fromkeys(r.server for r in results if r.server.startswith("alertrouter"))
    for variant in variants:
        lines.append(f"- {variant}:")
        ours20, ours1 = find(variant, 20), find(variant, 1)
        if ours20 is not None:
            rate = ours20.alerts_per_s
            lines.append(
                f"  - 20 alerts/webhook ≥ {ALERTS_PER_S_TARGET_20:,.0f} alerts/s committed: "
                f"{mark(rate >= ALERTS_PER_S_TARGET_20)} ({rate:,.0f} alerts/s)"
            )
            if am20 is not None:
                ratio = rate / am20.alerts_per_s
                lines.append(
                    f"  - 20 alerts/webhook ≥ {VS_ALERTMANAGER_TARGET_20}× Alertmanager's: "
                    f"{mark(ratio >= VS_ALERTMANAGER_TARGET_20)} ({ratio:.2f}×: {rate:,.0f} vs "
                    f"{am20.alerts_per_s:,.0f} alerts/s)"
                )
        if ours1 is not None and bare1 is not None:
            ratio = ours1.requests_per_s / bare1.requests_per_s
            lines.append(
                f"  - 1 alert/webhook ≥ {VS_CEILING_TARGET_1:.0%} of the bare aiohttp ceiling: "
                f"{mark(ratio >= VS_CEILING_TARGET_1)} ({ratio:.0%}: "
                f"{ours1.requests_per_s:,.0f} vs {bare1.requests_per_s:,.0f} requests/s)"
            )
            ours_cpu, bare_cpu = _cpu_per_request(ours1), _cpu_per_request(bare1)
            if ours_cpu and bare_cpu:
                lines.append(
                    f"    - server CPU per request (all its processes): {ours_cpu:,.0f} µs vs "
                    f"{bare_cpu:,.0f} µs"
                )
        for ours in (ours1, ours20):
            if ours is not None:
                p99 = float(ours.measured["p99_ms"])
                lines.append(
                    f"  - p99 < {P99_TARGET_MS:.0f} ms at saturation, {ours.size}/webhook: "
                    f"{mark(p99 < P99_TARGET_MS)} ({p99:.1f} ms)"
                )
    return lines


def print_profile(path: Path, top: int = 25) -> None:
    stats = pstats.Stats(str(path), stream=sys.stdout)
    stats.strip_dirs()
    print(f"\ncProfile of the alertrouter server (main thread), top {top} by own time:")
    stats.sort_stats("tottime").print_stats(top)
    print(f"\nTop {top} by cumulative time:")
    stats.sort_stats("cumulative").print_stats(top)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smoke run: short, few bodies")
    parser.add_argument(
        "--profile", action="store_true", help="also cProfile alertrouter at 20 alerts/webhook"
    )
    parser.add_argument(
        "--no-alertmanager", action="store_true", help="skip Alertmanager even if installed"
    )
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    with_alertmanager = not args.no_alertmanager and ALERTMANAGER.exists()
    began = time.perf_counter()

    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    print(f"Command: `{command_line()}`")
    print(f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"Machine: nproc {affinity} ({os.cpu_count()} CPUs), {cpu_model()}")
    print(f"Python: {platform.python_implementation()} {platform.python_version()}, "
          f"aiohttp {aiohttp.__version__}; {alertmanager_version()}")  # fmt: skip
    print(f"Measured: {alertrouter_source()}")
    print(f"Load average at start (1/5/15 min): {load_average()}")
    if args.quick:
        print("Mode: --quick (short windows, few bodies; a smoke test, not for the record)")
    print(
        f"Load: {CONNECTIONS} keep-alive connections, closed loop, {plan.warmup:g} s warm-up + "
        f"{plan.duration:g} s window per scenario; the load generator is one Python process "
        f"on the same {affinity} cores as the server."
    )
    print()

    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        work = Path(tmp)
        starts = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() - 300))
        files: dict[tuple[int, str], Path] = {}
        built = time.perf_counter()
        for size in SIZES:
            bodies = build_bodies(plan.bodies[size], size, size * 1_000_000, starts)
            for kind, data in (
                ("webhook", bodies.webhook),
                ("v2", bodies.v2),
                ("resend", bodies.webhook[:RESEND_POOL]),
            ):
                path = files[size, kind] = work / f"{kind}-{size}.pickle"
                with path.open("wb") as handle:
                    pickle.dump(data, handle, protocol=pickle.HIGHEST_PROTOCOL)
        print(f"Built the bodies in {time.perf_counter() - built:.1f} s; running the scenarios:")

        results: list[Result] = []
        for size in SIZES:
            tag = f"{size}"
            # The bare server only parses: reusing bodies changes nothing for it.
            results.append(scenario(bare_server(work, f"bare-{tag}"), size,
                                    files[size, "webhook"], plan, cycle=True))  # fmt: skip
            results.append(scenario(alertrouter_server(work, f"new-{tag}"), size,
                                    files[size, "webhook"], plan))  # fmt: skip
            results.append(scenario(alertrouter_server(work, f"resend-{tag}"), size,
                                    files[size, "resend"], plan, resend=True))  # fmt: skip
            if with_alertmanager:
                results.append(scenario(alertmanager_server(work, f"am-{tag}"), size,
                                        files[size, "v2"], plan))  # fmt: skip

        profile_path = work / "alertrouter.prof"
        if args.profile:
            server = alertrouter_server(work, "profile", profile_to=profile_path)
            profiled = scenario(server, 20, files[20, "webhook"], plan)
            print(f"  (under cProfile: {profiled.alerts_per_s:,.0f} alerts/s)")

        print()
        print(f"## Ingest ({CONNECTIONS} connections; new alerts in every request unless resend)")
        print()
        print("\n".join(table(results)))
        print()
        print("Targets:")
        print("\n".join(verdicts(results)))
        if not with_alertmanager:
            print(f"- (Alertmanager not measured: {ALERTMANAGER} not found or skipped)")
        print()
        print("Notes:")
        for r in results:
            for note in r.notes:
                print(f"- {r.label}, {r.size}/webhook: {note}")
        if args.profile:
            print_profile(profile_path)

    print(f"\nLoad average at end (1/5/15 min): {load_average()}")
    print(f"Total wall time: {time.perf_counter() - began:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
