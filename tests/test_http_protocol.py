"""The HTTP layer under noise (api/protocol.py), from outside: raw bytes to a real ``serve``.

Malformed HTTP, credentials with a NUL, clients that hang up or stall and oversize bodies are
each one info line and a count in ``alertrouter_http_protocol_errors_total{kind}``: never a
traceback, never a 5xx, never a token in the log or in an answer.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from test_serve_process import TOKEN, Server, nowhere_env, routing_file, serving, wait_for

ADMIN_TOKEN = "admin-process-token-5c1d"
REQUEST = b"POST /api/v1/alerts HTTP/1.1\r\n"
HEAD = (
    b"Host: 127.0.0.1\r\nAuthorization: Bearer " + TOKEN.encode() + b"\r\n"
    b"Content-Type: application/json\r\n"
)  # fmt: skip

# The 14 inputs of issue #14 that each wrote an error-level traceback.
MALFORMED = {
    "bad chunk size": REQUEST + HEAD + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    "chunk size overflow": REQUEST + HEAD
    + b"Transfer-Encoding: chunked\r\n\r\nffffffffffffffffffffffff\r\n{}\r\n0\r\n\r\n",
    "chunk without its CRLF": REQUEST + HEAD
    + b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}XX0\r\n\r\n",
    "negative Content-Length": REQUEST + HEAD + b"Content-Length: -1\r\n\r\n{}",
    "duplicate Content-Length": REQUEST + HEAD
    + b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
    "non-numeric Content-Length": REQUEST + HEAD + b"Content-Length: abc\r\n\r\n{}",
    "Content-Length and chunked": REQUEST + HEAD
    + b"Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
    "header over 8,190 bytes": REQUEST + HEAD + b"X-Big: " + b"a" * 9000 + b"\r\n\r\n",
    "1,000 headers": REQUEST + HEAD + b"".join(b"X-H%d: v\r\n" % i for i in range(1000))
    + b"\r\n",
    "HTTP/2 preface": b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    "TLS on the HTTP port": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
    "bad HTTP version": b"GET /-/healthy HTTP/7.x\r\nHost: x\r\n\r\n",
    "header without a colon": b"GET /-/healthy HTTP/1.1\r\nHost x\r\n\r\n",
    "request line over 8,190 bytes": b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
}  # fmt: skip


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One ``serve`` for the module, with a webhook and an admin token, 1 s header timeout.

    Tests look at what their own requests added (counters, log lines), not at totals.
    """
    folder = tmp_path_factory.mktemp("protocol")
    env = nowhere_env()
    env.update(ALERTROUTER_ADMIN_TOKEN=ADMIN_TOKEN, ALERTROUTER_HEADER_TIMEOUT="1")
    with serving(folder, "--config", str(routing_file(folder)), env=env) as running:
        yield running


@pytest.fixture
def mark(server: Server) -> Mark:
    """What the log and the counters held when the test began."""
    return Mark(len(server.logs().splitlines()), protocol_errors(server))


def exchange(server: Server, data: bytes, *, then_close: bool = False) -> bytes:
    """Send raw ``data`` on a new connection; everything the server answers until it closes."""
    port = int(server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(data)
        if then_close:
            return b""
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
        return answer


def status_of(answer: bytes) -> int | None:
    """The status code of an HTTP answer, None when the server just closed."""
    if not answer:
        return None
    return int(answer.split(b" ", 2)[1])


@dataclass(frozen=True)
class Mark:
    """A point in the shared server's life: log lines so far, counters then."""

    lines: int
    counts: dict[str, float]


def log_lines(server: Server, since: Mark) -> list[dict[str, Any]]:
    """The process's JSON log lines after ``since``."""
    lines = server.logs().splitlines()[since.lines :]
    return [json.loads(line) for line in lines if line.startswith("{")]


def added(server: Server, since: Mark) -> dict[str, float]:
    """How much each protocol-error kind grew since ``since``."""
    now = protocol_errors(server)
    return {kind: now[kind] - since.counts.get(kind, 0.0) for kind in now}


def protocol_errors(server: Server) -> dict[str, float]:
    """``alertrouter_http_protocol_errors_total`` by kind, from /metrics."""
    counts: dict[str, float] = {}
    for line in httpx.get(f"{server.url}/metrics", timeout=5).text.splitlines():
        if line.startswith("alertrouter_http_protocol_errors_total{"):
            kind = line.split('kind="', 1)[1].split('"', 1)[0]
            counts[kind] = float(line.rsplit(" ", 1)[1])
    return counts


def assert_quiet(server: Server, since: Mark) -> None:
    """No traceback and nothing at error level (or above) in the log since ``since``."""
    for entry in log_lines(server, since):
        assert "exception" not in entry, entry
        assert entry["level"] not in ("error", "critical"), entry
    assert "Traceback" not in "\n".join(server.logs().splitlines()[since.lines :])


def test_each_malformed_request_is_a_4xx_and_one_info_line(server: Server, mark: Mark) -> None:
    """The 14 malformed inputs: a bare 4xx (or a close), one info line each, all counted."""
    statuses = {name: status_of(exchange(server, data)) for name, data in MALFORMED.items()}
    assert all(status is None or 400 <= status < 500 for status in statuses.values()), statuses
    wait_for(
        "every input to be counted",
        lambda: sum(added(server, mark).values()) >= len(MALFORMED),
    )
    lines = [e for e in log_lines(server, mark) if e["event"] == "http_protocol_error"]
    assert len(lines) == len(MALFORMED)
    assert {e["level"] for e in lines} == {"info"}
    assert_quiet(server, mark)
    assert added(server, mark)["http2"] == 1


def test_no_token_reaches_the_log_or_an_answer(server: Server, mark: Mark) -> None:
    """A webhook or admin token followed by a NUL (aiohttp quotes that header line) stays secret."""
    answers = [
        exchange(server, REQUEST + b"Host: x\r\nAuthorization: Bearer " + TOKEN.encode()
                 + b"\x00\r\nContent-Length: 2\r\n\r\n{}"),
        exchange(server, b"GET /api/v1/deliveries HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                 + ADMIN_TOKEN.encode() + b"\x00\r\n\r\n"),
        exchange(server, b"POST /-/reload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                 + ADMIN_TOKEN.encode() + b"\x00\r\nContent-Length: 0\r\n\r\n"),
    ]  # fmt: skip
    assert [status_of(a) for a in answers] == [400, 400, 400]
    for secret in (TOKEN, ADMIN_TOKEN):
        assert all(secret.encode() not in answer for answer in answers)
        assert secret not in server.logs()
    assert_quiet(server, mark)


def test_a_client_that_hangs_up_mid_body_is_counted_not_a_500(server: Server, mark: Mark) -> None:
    """Content-Length 1000, ten bytes, then a close: client_disconnected, no request_failed."""
    exchange(server, REQUEST + HEAD + b'Content-Length: 1000\r\n\r\n{"alerts"', then_close=True)
    wait_for("the hang-up to be counted", lambda: added(server, mark)["client_disconnected"] == 1)
    metrics = httpx.get(f"{server.url}/metrics", timeout=5).text
    assert 'status="500"' not in metrics
    assert all(e["event"] != "request_failed" for e in log_lines(server, mark))
    assert_quiet(server, mark)


def test_a_client_that_stalls_in_its_headers_is_cut_off(server: Server, mark: Mark) -> None:
    """Half a request head and silence: the connection is closed after the header timeout."""
    started = time.monotonic()
    answer = exchange(server, REQUEST + b"Host: x\r\n")
    took = time.monotonic() - started
    assert answer == b""
    assert 0.9 < took < 4, f"closed after {took:.2f}s"
    assert added(server, mark)["header_timeout"] == 1
    # The next request on a kept-alive connection gets the same deadline.
    port = int(server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(b"GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n")
        first = conn.recv(65536)
        assert first.startswith(b"HTTP/1.1 200")
        conn.sendall(b"GET /-/heal")
        rest = b""
        while chunk := conn.recv(65536):
            rest += chunk
    assert rest == b""
    wait_for("the second stall to be counted", lambda: added(server, mark)["header_timeout"] == 2)
    assert_quiet(server, mark)


def test_an_announced_oversize_body_is_refused_before_it_is_sent(
    server: Server, mark: Mark
) -> None:
    """1 GB announced, with or without Expect: 100-continue: 413 at once, never 100 Continue."""
    announced = REQUEST + HEAD + b"Content-Length: 1000000000\r\n"
    with_expect = exchange(server, announced + b"Expect: 100-continue\r\n\r\n")
    without = exchange(server, announced + b"\r\n{")
    assert not with_expect.startswith(b"HTTP/1.1 100")
    assert (status_of(with_expect), status_of(without)) == (413, 413)
    assert b"over the limit" in with_expect
    assert added(server, mark)["body_too_large"] == 2
    assert_quiet(server, mark)


def test_reload_needs_the_admin_token_when_one_is_set(server: Server, mark: Mark) -> None:
    """POST /-/reload: 401 without the admin token (even from loopback), 200 with it."""
    refused = httpx.post(f"{server.url}/-/reload", timeout=10)
    wrong = httpx.post(
        f"{server.url}/-/reload", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    )
    allowed = httpx.post(
        f"{server.url}/-/reload", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=10
    )
    assert (refused.status_code, wrong.status_code, allowed.status_code) == (401, 401, 200)
    assert allowed.json() == {"status": "reloaded"}
