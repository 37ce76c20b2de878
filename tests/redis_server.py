"""A real ``redis-server`` on a free 127.0.0.1 port, for the Redis store tests.

``shared_redis_server()`` starts one per test process on first use (stopped at exit);
``RedisServer`` starts extra ones, e.g. with an append-only file for the durability test. Tests
share a server and keep apart by a unique key prefix each (``unique_prefix()``).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from processes import free_port

__all__ = [
    "REDIS_SERVER",
    "RedisServer",
    "require_redis_server",
    "shared_redis_server",
    "unique_prefix",
]

REDIS_SERVER = shutil.which("redis-server")
_START_TIMEOUT = 10.0
_shared: RedisServer | None = None


def require_redis_server() -> str:
    """The redis-server binary, or skip the test saying how to get it."""
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed (Debian: apt-get install redis-server)")
    return REDIS_SERVER


def unique_prefix() -> str:
    """A key prefix no other test uses: per-test isolation on a shared server."""
    return f"test-{uuid.uuid4().hex[:12]}:"


class RedisServer:
    """One redis-server process: no snapshots; an fsync'ed append-only file in ``data_dir``."""

    def __init__(self, data_dir: Path | None = None) -> None:
        self.data_dir = data_dir
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:PORT/0``."""
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs."""
        return None if self._process is None else self._process.pid

    def start(self, port: int | None = None) -> None:
        """Start on ``port`` (a free one by default) and wait until it answers PING."""
        binary = require_redis_server()
        self.port = port or free_port()
        args = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        if self.data_dir is None:
            args += ["--appendonly", "no"]
        else:
            # Every write fsync'ed before the reply: what "the 200 means durable" needs.
            args += ["--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.data_dir)]
        self._process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + _START_TIMEOUT
        while not self._answers_ping():
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.02)

    def _answers_ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self, *, crash: bool = False) -> None:
        """Stop the server by its PID: SIGTERM (clean shutdown), or SIGKILL with ``crash``."""
        process, self._process = self._process, None
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGKILL if crash else signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def shared_redis_server() -> RedisServer:
    """The process-wide server, started on first use and stopped when the tests exit."""
    global _shared
    if _shared is None:
        server = RedisServer()
        server.start()
        atexit.register(server.stop)
        _shared = server
    return _shared
