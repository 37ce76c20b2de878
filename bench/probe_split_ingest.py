"""Probe of a design we did not build: ingest split over processes, dedup kept in one.

Can alertrouter use both cores for ingest? Here each *front* process (``--role front``) takes
``POST /api/v1/alerts`` on a shared port (SO_REUSEPORT), validates, routes and drafts the
jobs, and hands the drafts to one *owner* (``--role owner``: ``alertrouter serve`` with a
Unix-socket listener added), which claims, enqueues, commits and delivers as it always does,
so dedup is still decided in one place. The drafts cross as pickles, batched per turn of
the front's event loop.

Each size is run against the bare aiohttp server, plain ``alertrouter serve`` (one
process), and the split with one and with two fronts, one after the other in one run, with
``bench/loadgen.py`` and the bodies of ``bench_ingest.py`` (64 connections, new alerts in
every request). The table shows what every process took: the sum, in CPU µs per request,
bounds what two cores can serve whatever the design.

    .venv/bin/python bench/probe_split_ingest.py [--duration 6]

Not a product path: the front answers only the webhook endpoint (no auth, no metrics, no
reload); it is here so the numbers in BENCHMARKS.md can be made again.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import pickle
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

import bench_ingest as ingest
from machine import command_line, cpu_model, load_average
from processes import free_port, stop_process

_HEADER = struct.Struct("!I")
_SOCKET_ENV = "ALERTROUTER_PROBE_SOCKET"


async def _read_message(reader: asyncio.StreamReader) -> Any:
    (length,) = _HEADER.unpack(await reader.readexactly(_HEADER.size))
    return pickle.loads(await reader.readexactly(length))


def _frame(message: Any) -> bytes:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(data)) + data


# ------------------------------------------------------------------------------ the owner


def run_owner(serve_argv: Sequence[str]) -> int:
    """``alertrouter serve`` plus a listener that claims and enqueues the fronts' drafts."""
    import alertrouter.server
    from alertrouter.cli import main
    from alertrouter.service import SERVICE

    make_app = alertrouter.server.make_app

    async def drafts_listener(app: web.Application) -> AsyncIterator[None]:
        service = app[SERVICE]
        pending: set[asyncio.Task[None]] = set()

        async def answer(writer: asyncio.StreamWriter, seq: int, drafts: Any, now: float) -> None:
            outcome = await service.store.claim_and_enqueue(drafts, now)
            if service.engine is not None:
                service.engine.wake({f"{d.receiver}/{d.integration}" for d in drafts})
            writer.write(_frame((seq, outcome.job_ids, len(outcome.suppressed))))

        async def serve_front(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
                while True:
                    for seq, drafts, now in await _read_message(reader):
                        task = asyncio.create_task(answer(writer, seq, drafts, now))
                        pending.add(task)
                        task.add_done_callback(pending.discard)

        server = await asyncio.start_unix_server(serve_front, os.environ[_SOCKET_ENV])
        yield
        server.close()

    def make_app_with_listener(*args: Any, **kwargs: Any) -> web.Application:
        app = make_app(*args, **kwargs)
        app.cleanup_ctx.append(drafts_listener)
        return app

    alertrouter.server.make_app = make_app_with_listener  # type: ignore[attr-defined]
    return main(serve_argv)


# ------------------------------------------------------------------------------ a front


def run_front(host: str, port: int, owner_socket: str, config_path: str) -> int:
    """Validate, route and draft here; claim, enqueue and commit in the owner."""
    from pydantic import ValidationError

    from alertrouter.config.loader import load_routing_config
    from alertrouter.ingest import draft_jobs
    from alertrouter.router.tree import Router
    from alertrouter.webhook import WebhookPayload, format_validation_errors

    config = load_routing_config(config_path, allow_missing_env=True)
    router = Router(config.root)
    waiting: dict[int, asyncio.Future[tuple[tuple[int, ...], int]]] = {}
    outbox: list[tuple[int, Any, float]] = []
    link: dict[str, asyncio.StreamWriter] = {}

    async def owner_link(app: web.Application) -> AsyncIterator[None]:
        reader, writer = await asyncio.open_unix_connection(owner_socket)
        link["writer"] = writer

        async def read_answers() -> None:
            while True:
                seq, job_ids, suppressed = await _read_message(reader)
                waiting.pop(seq).set_result((job_ids, suppressed))

        answers = asyncio.create_task(read_answers())
        yield
        answers.cancel()
        writer.close()

    def send_outbox() -> None:
        link["writer"].write(_frame(outbox[:]))
        outbox.clear()

    async def receive(request: web.Request) -> web.Response:
        try:
            payload = WebhookPayload.model_validate_json(await request.read())
        except ValidationError as exc:
            return web.json_response({"errors": format_validation_errors(exc)}, status=400)
        now = time.time()
        drafts = draft_jobs(payload, config, router, datetime.fromtimestamp(now, UTC))
        loop = asyncio.get_running_loop()
        future: asyncio.Future[tuple[tuple[int, ...], int]] = loop.create_future()
        seq = id(future)
        waiting[seq] = future
        if not outbox:
            loop.call_soon(send_outbox)  # one write per turn of the loop
        outbox.append((seq, drafts.drafts, now))
        job_ids, suppressed = await future
        return web.json_response(
            {
                "accepted": len(payload.alerts),
                "queued": len(job_ids),
                "suppressed": suppressed + len(drafts.suppressed),
                "jobs": list(job_ids),
            }
        )

    app = web.Application(client_max_size=8 * 1024 * 1024)
    app.router.add_post("/api/v1/alerts", receive)
    app.cleanup_ctx.append(owner_link)
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 100)  # as serve tunes it
    web.run_app(app, host=host, port=port, reuse_port=True, print=None, access_log=None)
    return 0


# ------------------------------------------------------------------------------ the driver


@dataclass(slots=True)
class Row:
    design: str
    size: int
    measured: dict[str, Any]
    owner_cores: float
    front_us: float  # CPU µs per request, all fronts together
    note: str

    @property
    def requests_per_s(self) -> float:
        return float(self.measured["responses"]) / float(self.measured["window_seconds"])

    def per_request(self, cores: float) -> float:
        return cores / self.requests_per_s * 1e6


def _ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return int(fields[11]) + int(fields[12])


@contextlib.contextmanager
def _fronts(count: int, port: int, owner_socket: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    argv = [sys.executable, __file__, "--role", "front", "127.0.0.1", str(port),
            str(owner_socket), ingest.SHIPPED_POLICY]  # fmt: skip
    fronts = [subprocess.Popen(argv, cwd=ingest.REPO) for _ in range(count)]
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            time.sleep(0.1)
        time.sleep(1.0)  # every front listening before the load generator connects
        yield fronts
    finally:
        for front in fronts:
            stop_process(front, 5.0)


def measure(
    server: ingest.Server, bodies: Path, plan: ingest.Plan, fronts: Sequence[int]
) -> tuple[dict[str, Any], float]:
    """Load ``server``; also the CPU µs the ``fronts`` PIDs spent per request they answered.

    The fronts idle but for the load, so their CPU over the whole run (warm-up included) is
    divided by every request sent, not by the window.
    """
    before = [_ticks(pid) for pid in fronts]
    measured = ingest.run_load(server, bodies, plan, cycle=server.state_db is None)
    after = [_ticks(pid) for pid in fronts]
    seconds = sum(b - a for a, b in zip(before, after, strict=True)) / os.sysconf("SC_CLK_TCK")
    return measured, seconds / max(1, int(measured["sent_total"])) * 1e6


def run_size(work: Path, size: int, plan: ingest.Plan, bodies: Path) -> list[Row]:
    rows: list[Row] = []

    def note(server: ingest.Server, measured: dict[str, Any]) -> str:
        if server.state_db is None:
            return ""
        return ingest.check_store(server.state_db, int(measured["ok_total"]) * size, True)[0]

    bare = ingest.bare_server(work, f"bare-{size}")
    with ingest.running(bare):
        measured, _ = measure(bare, bodies, plan, [])
    rows.append(Row("bare aiohttp", size, measured, measured["server_cores"], 0.0, ""))

    single = ingest.alertrouter_server(work, f"single-{size}")
    with ingest.running(single):
        measured, _ = measure(single, bodies, plan, [])
        rows.append(Row("alertrouter, one process", size, measured,
                        measured["server_cores"], 0.0, note(single, measured)))  # fmt: skip

    for count in (1, 2):
        owner = ingest.alertrouter_server(work, f"split{count}-{size}")
        owner_socket = work / f"owner-{count}-{size}.sock"
        os.environ[_SOCKET_ENV] = str(owner_socket)
        owner.argv[1:3] = [__file__, "--role", "owner"]
        public = free_port()
        with ingest.running(owner), _fronts(count, public, owner_socket) as fronts:
            owner_port, owner.port = owner.port, public  # the load goes to the fronts
            measured, front_us = measure(owner, bodies, plan, [f.pid for f in fronts])
            owner.port = owner_port
            design = f"split: {count} front{'s' if count > 1 else ''} + owner"
            rows.append(Row(design, size, measured, measured["server_cores"], front_us,
                            note(owner, measured)))  # fmt: skip
    return rows


def report(rows: Sequence[Row]) -> None:
    print("| Design | Alerts/webhook | Requests/s | Alerts/s | vs bare | p50 ms | p99 ms "
          "| CPU µs/request: owner | fronts | load generator | all |")  # fmt: skip
    print("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for row in rows:
        bare = next(r for r in rows if r.size == row.size and r.design == "bare aiohttp")
        m = row.measured
        loadgen = float(m["loadgen_cores"])
        owner_us, loadgen_us = row.per_request(row.owner_cores), row.per_request(loadgen)
        fronts = f"{row.front_us:,.0f}" if row.front_us else "–"
        print(
            f"| {row.design} | {row.size} | {row.requests_per_s:,.0f} "
            f"| {row.requests_per_s * row.size:,.0f} "
            f"| {row.requests_per_s / bare.requests_per_s:.0%} | {m['p50_ms']:.1f} "
            f"| {m['p99_ms']:.1f} | {owner_us:,.0f} | {fronts} | {loadgen_us:,.0f} "
            f"| {owner_us + row.front_us + loadgen_us:,.0f} |"
        )
    print()
    for row in rows:
        if row.note:
            print(f"- {row.design}, {row.size}/webhook: {row.note}")


def main(argv: Sequence[str]) -> int:
    if argv[:2] == ["--role", "owner"]:
        return run_owner(argv[2:])
    if argv[:2] == ["--role", "front"]:
        host, port, owner_socket, config_path = argv[2:6]
        return run_front(host, int(port), owner_socket, config_path)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--duration", type=float, default=6.0, help="window per run, seconds")
    args = parser.parse_args(argv)
    plan = ingest.Plan(warmup=1.5, duration=args.duration, bodies={})
    print(f"Command: `{command_line()}`")
    print(f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"Machine: {os.cpu_count()} CPUs, {cpu_model()}; {ingest.alertrouter_source()}")
    print(f"Load average at start (1/5/15 min): {load_average()}")
    print()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="probe-split-") as tmp:
        work = Path(tmp)
        starts = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() - 300))
        for size, per_second in ((1, 16_000), (20, 2_500)):
            count = int(per_second * (plan.warmup + plan.duration) * 1.2)
            built = ingest.build_bodies(count, size, size * 1_000_000, starts)
            bodies = work / f"webhook-{size}.pickle"
            bodies.write_bytes(pickle.dumps(built.webhook, protocol=pickle.HIGHEST_PROTOCOL))
            rows += run_size(work, size, plan, bodies)
            print(f"  {size}/webhook done", flush=True)
    print()
    report(rows)
    print(f"\nLoad average at end (1/5/15 min): {load_average()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
