"""A light closed-loop HTTP/1.1 load generator for ``bench_ingest.py`` (run as its own process).

Every request body is read from a pickle file (a list of ``bytes``) and turned into complete
request bytes *before* the clock starts, so sending is one ``transport.write`` and reading is a
minimal parse of the status line and ``Content-Length``: far cheaper than an HTTP client
library, because this process shares the machine's cores with the server it measures.

``--connections`` keep-alive connections each keep one request in flight. After ``--warmup``
seconds the window of ``--duration`` seconds opens; responses completed inside it are counted
and their latencies (send to last byte) kept. The run stops when the window closes or the
bodies run out (each body is sent once, unless ``--cycle``), whichever comes first. With
``--prime`` every body is first sent once, untimed (to measure resends of known alerts).

Prints one JSON object to stdout. Usage (normally called by bench_ingest.py)::

    python bench/loadgen.py --url http://127.0.0.1:8080/api/v1/alerts --bodies FILE
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pickle
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit


class ProtocolError(Exception):
    """The server answered something this minimal parser does not handle."""


class _Connection(asyncio.Protocol):
    """One keep-alive connection with at most one request in flight."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._waiter: asyncio.Future[int] | None = None
        self._status = 0
        self._need = -1  # bytes of the whole response, once its head is parsed
        self.lost: Exception | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = exc or ConnectionResetError("server closed the connection")
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(self.lost)

    def request(self, data: bytes) -> asyncio.Future[int]:
        """Send ``data`` (a whole request); the future gives the response's status code."""
        if self.lost is not None:
            raise self.lost
        assert self.transport is not None
        self._waiter = asyncio.get_running_loop().create_future()
        self._need = -1
        self.transport.write(data)
        return self._waiter

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if self._need < 0:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self._buffer[:end]).decode("latin-1").split("\r\n")
            self._status = int(head[0].split(" ", 2)[1])
            length = None
            for line in head[1:]:
                name, _, value = line.partition(":")
                name = name.strip().lower()
                if name == "content-length":
                    length = int(value)
                elif name == "transfer-encoding":
                    self._fail(ProtocolError(f"unsupported Transfer-Encoding: {value.strip()}"))
                    return
            if length is None:
                self._fail(ProtocolError("response without Content-Length"))
                return
            self._need = end + 4 + length
        if len(self._buffer) >= self._need:
            del self._buffer[: self._need]
            self._need = -1
            waiter, self._waiter = self._waiter, None
            if waiter is not None and not waiter.done():
                waiter.set_result(self._status)

    def _fail(self, exc: Exception) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(exc)
        if self.transport is not None:
            self.transport.close()


@dataclass(slots=True)
class _Tally:
    """What the connections share: the next body, the window, and what was measured."""

    requests: Sequence[bytes]
    cycle: bool
    window_start: float
    window_end: float
    next_index: int = 0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    sent_total: int = 0
    ok_total: int = 0
    last_in_window: float | None = None

    def take(self) -> bytes | None:
        if self.next_index >= len(self.requests):
            if not self.cycle:
                return None
            self.next_index = 0
        data = self.requests[self.next_index]
        self.next_index += 1
        return data


async def _open(host: str, port: int, count: int) -> list[_Connection]:
    loop = asyncio.get_running_loop()
    connections = []
    for _ in range(count):
        _, protocol = await loop.create_connection(_Connection, host, port)
        connections.append(protocol)
    return connections


async def _prime(connections: Sequence[_Connection], requests: Sequence[bytes]) -> int:
    """Send every request once, untimed; the number of non-200 answers."""
    index = 0
    failures = 0

    async def worker(connection: _Connection) -> None:
        nonlocal index, failures
        while index < len(requests):
            data = requests[index]
            index += 1
            if await connection.request(data) != 200:
                failures += 1

    await asyncio.gather(*(worker(c) for c in connections))
    return failures


async def _drive(connection: _Connection, tally: _Tally) -> None:
    clock = time.perf_counter
    while True:
        started = clock()
        if started >= tally.window_end:
            return
        data = tally.take()
        if data is None:
            return
        try:
            status = await connection.request(data)
        except (OSError, ProtocolError) as exc:
            tally.errors.append(f"{type(exc).__name__}: {exc}")
            return
        finished = clock()
        tally.sent_total += 1
        if status == 200:
            tally.ok_total += 1
        if tally.window_start <= finished <= tally.window_end:
            tally.latencies.append(finished - started)
            tally.statuses[status] = tally.statuses.get(status, 0) + 1
            tally.last_in_window = finished


def _cpu_ticks(pid: int) -> int | None:
    """utime + stime of ``pid`` (all its threads), in clock ticks; None when unreadable."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return None
    return int(fields[11]) + int(fields[12])


def _cpu_ticks_of(pids: Sequence[int]) -> int | None:
    """utime + stime of all of ``pids``; None when one is unreadable."""
    total = 0
    for pid in pids:
        ticks = _cpu_ticks(pid)
        if ticks is None:
            return None
        total += ticks
    return total


def build_requests(url: str, bodies_file: str) -> list[bytes]:
    """Each body of ``bodies_file`` as a complete POST request to ``url``."""
    parts = urlsplit(url)
    with open(bodies_file, "rb") as handle:
        bodies: list[bytes] = pickle.load(handle)
    head = (
        f"POST {parts.path or '/'} HTTP/1.1\r\nHost: {parts.hostname}:{parts.port}\r\n"
        "Content-Type: application/json\r\nUser-Agent: alertrouter-bench\r\n"
    ).encode()
    return [head + b"Content-Length: %d\r\n\r\n" % len(body) + body for body in bodies]


def _machine_busy_ticks() -> int | None:
    """CPU time all processes on the machine spent busy (not idle or waiting), in ticks."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(x) for x in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    return sum(fields[:8]) - fields[3] - fields[4]  # user..steal, less idle and iowait


async def run(args: argparse.Namespace, requests: Sequence[bytes]) -> dict[str, object]:
    """Drive the load; what was measured, as a JSON-ready dict."""
    url = urlsplit(args.url)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    connections = await _open(host, port, args.connections)
    prime_failures = await _prime(connections, requests) if args.prime else 0

    begin = time.perf_counter()
    tally = _Tally(
        requests,
        cycle=args.cycle,
        window_start=begin + args.warmup,
        window_end=begin + args.warmup + args.duration,
    )
    tasks = [asyncio.create_task(_drive(c, tally)) for c in connections]

    async def sample_at(when: float) -> tuple[float, int | None, float, int | None]:
        await asyncio.sleep(max(0.0, when - time.perf_counter()))
        server = _cpu_ticks_of(args.server_pid) if args.server_pid else None
        return time.perf_counter(), server, time.process_time(), _machine_busy_ticks()

    at_start = asyncio.create_task(sample_at(tally.window_start))
    at_end = asyncio.create_task(sample_at(tally.window_end))
    await asyncio.gather(*tasks)
    ended = time.perf_counter()
    cpu: dict[str, float] = {}
    if at_end.done():  # else the bodies ran out before the window closed
        (t0, s0, c0, m0), (t1, s1, c1, m1) = at_start.result(), at_end.result()
        ticks = os.sysconf("SC_CLK_TCK")
        if s0 is not None and s1 is not None:
            cpu["server_cores"] = (s1 - s0) / ticks / (t1 - t0)
        cpu["loadgen_cores"] = (c1 - c0) / (t1 - t0)
        if m0 is not None and m1 is not None:
            # Everything else that ran meanwhile: the measurement's noise.
            busy = (m1 - m0) / ticks / (t1 - t0)
            cpu["other_cores"] = max(
                0.0, busy - cpu.get("server_cores", 0.0) - cpu["loadgen_cores"]
            )
    for task in (at_start, at_end):
        task.cancel()
    for connection in connections:
        if connection.transport is not None:
            connection.transport.close()

    window = args.duration
    exhausted = tally.next_index >= len(requests) and not args.cycle and ended < tally.window_end
    if exhausted and tally.last_in_window is not None:
        window = tally.last_in_window - tally.window_start
    latencies = sorted(tally.latencies)
    return {
        "window_seconds": window,
        "exhausted": exhausted,
        "responses": len(latencies),
        "statuses": {str(k): v for k, v in sorted(tally.statuses.items())},
        "sent_total": tally.sent_total,
        "ok_total": tally.ok_total,
        "bodies": len(requests),
        "prime_failures": prime_failures,
        "errors": tally.errors[:5],
        "error_count": len(tally.errors),
        "p50_ms": _percentile(latencies, 0.50) * 1000,
        "p90_ms": _percentile(latencies, 0.90) * 1000,
        "p99_ms": _percentile(latencies, 0.99) * 1000,
        "max_ms": (latencies[-1] if latencies else float("nan")) * 1000,
        **cpu,
    }


def _percentile(ordered: Sequence[float], q: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Closed-loop HTTP/1.1 POST load generator.")
    parser.add_argument("--url", required=True, help="http://HOST:PORT/PATH to POST to")
    parser.add_argument("--bodies", required=True, help="pickle file: a list of bytes bodies")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before the window")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of the window")
    parser.add_argument("--cycle", action="store_true", help="reuse bodies (resends)")
    parser.add_argument("--prime", action="store_true", help="send every body once first")
    parser.add_argument(
        "--server-pid",
        type=int,
        action="append",
        default=[],
        help="report this PID's CPU use (repeat: the sum of them)",
    )
    args = parser.parse_args(argv)
    requests = build_requests(args.url, args.bodies)  # before any clock starts
    result = asyncio.run(run(args, requests))
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0 if result["error_count"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
