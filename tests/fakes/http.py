"""A scriptable HTTP server on a free loopback port, the base of the provider fakes.

A fake answers by its provider's contract unless a scripted failure is queued
(``fail_next``) or an outage is on (``outage``); every request is recorded. While ``gate`` is
an unset Event, answers wait for it (a provider that has the request but has not replied).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Self

from aiohttp import web

__all__ = ["FakeHTTPServer", "RecordedRequest", "ScriptedAnswer"]


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request the fake received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


@dataclass(frozen=True, slots=True)
class ScriptedAnswer:
    """An answer to give instead of the contract's: status, body and headers."""

    status: int
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


Handler = Callable[[RecordedRequest], Awaitable[web.StreamResponse]]


class FakeHTTPServer:
    """Subclasses register their routes in ``setup``; use as ``async with Fake() as fake``."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.script: deque[ScriptedAnswer] = deque()
        self.outage: ScriptedAnswer | None = None
        self.gate: asyncio.Event | None = None
        self.port = 0
        self._runner: web.AppRunner | None = None
        self.app = web.Application()
        self.setup(self.app)

    def setup(self, app: web.Application) -> None:
        """Register routes (overridden)."""

    @property
    def url(self) -> str:
        """Base URL, no trailing slash."""
        return f"http://127.0.0.1:{self.port}"

    def fail_next(self, *answers: ScriptedAnswer) -> None:
        """Answer the next requests with these, in order, before the contract resumes."""
        self.script.extend(answers)

    def route(self, handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        """Wrap a contract handler: record, then scripted answer or outage or the handler."""

        async def wrapped(request: web.Request) -> web.StreamResponse:
            recorded = RecordedRequest(
                request.method, request.path_qs, dict(request.headers), await request.read(),
                time.monotonic(),
            )  # fmt: skip
            self.requests.append(recorded)
            if self.gate is not None:
                await self.gate.wait()
            answer = self.script.popleft() if self.script else self.outage
            if answer is not None:
                return web.Response(
                    status=answer.status,
                    text=answer.body,
                    headers=answer.headers,
                    content_type=answer.content_type,
                )
            return await handler(recorded)

        return wrapped

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1."""
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = _bound_port(site)

    async def stop(self) -> None:
        """Release held answers, then stop listening."""
        if self.gate is not None:
            self.gate.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def wait_for(self, count: int, within: float = 10.0) -> list[RecordedRequest]:
        """Wait until at least ``count`` requests arrived; TimeoutError otherwise."""
        deadline = time.monotonic() + within
        while len(self.requests) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(self.requests)} of {count} requests after {within}s")
            await asyncio.sleep(0.01)
        return self.requests

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


def _bound_port(site: web.TCPSite) -> int:
    server = site._server  # aiohttp exposes the bound port only through its server object
    sockets = getattr(server, "sockets", None)
    assert sockets, "the site is not listening"
    port: int = sockets[0].getsockname()[1]
    return port
