"""A front process: takes webhooks on the owner's listening socket, has the owner commit them,
and passes every other request to the owner's HTTP server."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from alertrouter.app import request_middleware
from alertrouter.config.loader import RoutingConfig, parse_routing_config
from alertrouter.config.settings import Settings
from alertrouter.constants import CLIENT_HEADER, WEBHOOK_PATH
from alertrouter.errors import ConfigError
from alertrouter.frontend.link import (
    ConfigText,
    Done,
    Hello,
    Outbox,
    Reload,
    Reloaded,
    Served,
    Take,
    read_frame,
    read_frame_blocking,
    to_wire,
)
from alertrouter.intake import problem_response, take_webhook, webhook_answer
from alertrouter.logs import configure_logging, current_request_id, get_logger, log_event
from alertrouter.sentry import SecretScrubber, config_secrets, init_sentry
from alertrouter.server import ServeError, ssl_context, tune_garbage_collector
from alertrouter.service import Runtime

__all__ = ["run_front"]

logger = get_logger(__name__)
# Headers of one hop only (RFC 9110 §7.6.1), and the lengths aiohttp sets itself.
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
     "transfer-encoding", "upgrade", "host", "content-length"}
)  # fmt: skip
_OWNER_GONE = "alertrouter is restarting, retry"


class Front:
    """One front's state: settings, the routing config, and the link to the owner."""

    def __init__(
        self,
        settings: Settings,
        runtime: Runtime,
        scrubber: SecretScrubber,
        link: socket.socket,
        owner_http: str,
    ) -> None:
        self.settings = settings
        self.runtime = runtime
        self.scrubber = scrubber
        self._link = link
        self._owner_http = owner_http
        self._outbox: Outbox | None = None
        self._session: aiohttp.ClientSession | None = None
        self._waiting: dict[int, asyncio.Future[Done]] = {}
        self._next_seq = 0
        self._wanted: Reload | None = None  # the newest Reload not applied yet
        self._reloading: asyncio.Task[None] | None = None
        self._stopping = False

    def app(self) -> web.Application:
        """The front's aiohttp application."""
        app = web.Application(
            client_max_size=self.settings.max_body_bytes,
            middlewares=[request_middleware(self._record)],
        )
        app.router.add_post(WEBHOOK_PATH, self.receive_alerts)
        app.router.add_route("*", "/{tail:.*}", self.pass_to_owner)
        app.cleanup_ctx.append(self._signals_context)
        app.cleanup_ctx.append(self._link_context)
        return app

    async def _signals_context(self, app: web.Application) -> AsyncIterator[None]:
        """Stop gracefully on the first SIGTERM or SIGINT and ignore the rest. aiohttp's own
        handlers abort the drain on a second one, and a front can get two: from systemd
        (the whole group) and from the owner."""
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self._stop)
        yield
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)

    def _stop(self) -> None:
        if not self._stopping:
            self._stopping = True
            raise web.GracefulExit

    async def _link_context(self, app: web.Application) -> AsyncIterator[None]:
        reader, writer = await asyncio.open_unix_connection(sock=self._link)
        self._outbox = Outbox(writer)
        answers = asyncio.create_task(self._read_answers(reader))
        # No overall timeout: one process has none either (a long retry-all, a slow store).
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=5)
        connector = aiohttp.UnixConnector(path=self._owner_http)
        async with aiohttp.ClientSession(
            connector=connector, timeout=timeout, auto_decompress=False
        ) as session:
            self._session = session
            yield
        for task in (answers, self._reloading):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()

    async def _read_answers(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                for message in await read_frame(reader):
                    if isinstance(message, Done):
                        waiter = self._waiting.pop(message.seq, None)
                        if waiter is not None and not waiter.done():
                            waiter.set_result(message)
                    elif isinstance(message, Reload):
                        self._reload(message)
        except asyncio.CancelledError:
            raise  # stopping: the link closes after every request was answered
        except Exception as exc:  # EOF above all, but any broken frame ends the link too
            self._lose_owner(exc)

    def _lose_owner(self, exc: Exception) -> None:
        """The owner is gone: nothing more can be committed. Fail what waits (Alertmanager
        sends it again) and stop; the owner, when it comes back, starts new fronts."""
        self._outbox = None
        log_event(logger, logging.WARNING, "front_lost_owner", pid=os.getpid(), error=repr(exc))
        for seq, waiter in self._waiting.items():
            if not waiter.done():
                waiter.set_result(Done(seq, None, 503, _OWNER_GONE))
        self._waiting.clear()
        if not self._stopping:
            os.kill(os.getpid(), signal.SIGTERM)

    def _reload(self, reload: Reload) -> None:
        """Route with its config as soon as it is parsed, and say so; reloads apply one at a
        time, and only the newest of those that arrived meanwhile."""
        self._wanted = reload
        if self._reloading is None or self._reloading.done():
            self._reloading = asyncio.create_task(self._apply_reloads())

    async def _apply_reloads(self) -> None:
        while self._wanted is not None:
            reload, self._wanted = self._wanted, None
            error = ""
            try:
                parsed = await asyncio.to_thread(parse_config, reload.config, self.settings)
            except ConfigError as exc:  # the owner validated this text; a file it names broke
                error = "; ".join(str(p) for p in exc.problems)
                log_event(logger, logging.ERROR, "front_reload_failed", problems=error)
            else:
                self.runtime = Runtime.create(parsed, time.time())
                self.scrubber.update(config_secrets(parsed, self.settings))
            if self._outbox is not None:
                self._outbox.put(Reloaded(reload.generation, error))

    def _record(self, request: web.Request, endpoint: str, status: int, seconds: float) -> None:
        # Only webhooks are answered here; the owner counts what it answers itself.
        if endpoint == WEBHOOK_PATH and self._outbox is not None:
            self._outbox.put(Served(request.method, endpoint, status, seconds))

    async def receive_alerts(self, request: web.Request) -> web.Response:
        """Take the webhook here, have the owner commit it, answer as one process would."""
        if self._outbox is None:
            raise web.HTTPServiceUnavailable(text=f"{_OWNER_GONE}\n")
        intake = await take_webhook(request, self.settings, self.runtime, time.time)
        if isinstance(intake, web.Response):
            return intake
        outbox = self._outbox  # again: the owner may have gone while the body was read
        if outbox is None:
            raise web.HTTPServiceUnavailable(text=f"{_OWNER_GONE}\n")
        seq = self._next_seq
        self._next_seq += 1
        waiter: asyncio.Future[Done] = asyncio.get_running_loop().create_future()
        self._waiting[seq] = waiter
        outbox.put(Take(seq, current_request_id() or "", to_wire(intake)))
        done = await waiter
        if done.committed is not None:
            return webhook_answer(intake, done.committed)
        if done.status == 503:
            raise web.HTTPServiceUnavailable(text=f"{done.error}\n")
        raise CommitFailedError(done.error)  # answered 500 by the middleware, as one process

    async def pass_to_owner(self, request: web.Request) -> web.Response:
        """Any other request: the owner's answer, as it gave it."""
        assert self._session is not None
        # aiohttp has decoded the body already; and a Connection header names more of one hop.
        dropped = _HOP_BY_HOP | {"content-encoding"} | _connection_tokens(request.headers)
        headers = CIMultiDict(
            (name, value) for name, value in request.headers.items()
            if name.lower() not in dropped
        )  # fmt: skip
        headers["X-Request-Id"] = current_request_id() or ""
        headers[CLIENT_HEADER] = request.remote or ""
        # Else aiohttp's client asks for gzip on the caller's behalf and passes it on.
        headers.setdefault("Accept-Encoding", "identity")
        url = URL.build(
            scheme="http",
            host="alertrouter",
            path=request.rel_url.raw_path,
            query_string=request.rel_url.raw_query_string,
            encoded=True,
        )
        body = await request.read()
        try:
            async with self._session.request(
                request.method, url, headers=headers, data=body or None, allow_redirects=False
            ) as answer:
                content = await answer.read()
                answered = CIMultiDict(
                    (name, value) for name, value in answer.headers.items()
                    if name.lower() not in _HOP_BY_HOP
                )  # fmt: skip
        except (aiohttp.ClientError, TimeoutError) as exc:
            log_event(logger, logging.WARNING, "front_owner_unreachable", error=repr(exc))
            return problem_response(503, [{"field": "(server)", "message": _OWNER_GONE}])
        return web.Response(status=answer.status, body=content, headers=answered)


class CommitFailedError(Exception):
    """The owner could not commit a webhook for a reason other than its store."""


def _connection_tokens(headers: CIMultiDictProxy[str]) -> set[str]:
    return {
        token.strip().lower()
        for value in headers.getall("Connection", ())
        for token in value.split(",")
    }


def parse_config(config: ConfigText, settings: Settings) -> RoutingConfig:
    """The owner's routing file, parsed here as the owner did (same text, same environment:
    this process inherited it)."""
    return parse_routing_config(
        config.text,
        config.file,
        os.environ,
        base_dir=Path(config.file).parent,
        allow_missing_env=settings.dry_run,
    )


def run_front(link_path: str, listener_fd: int) -> int:
    """Connect to the owner, take its settings and serve on the inherited listener."""
    link = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    link.connect(link_path)
    hello = read_frame_blocking(link)[0]
    assert isinstance(hello, Hello)
    settings = hello.settings
    configure_logging(settings.log_format, settings.log_level)
    try:
        config = parse_config(hello.config, settings)
        tls = ssl_context(settings)
    except (ConfigError, ServeError) as exc:
        log_event(logger, logging.ERROR, "front_cannot_start", error=str(exc))
        return 1
    # Its own errors go to Sentry too, scrubbed of the config's secrets like the owner's.
    scrubber = SecretScrubber(config_secrets(config, settings))
    init_sentry(settings, scrubber)
    runtime = Runtime.create(config, time.time())
    front = Front(settings, runtime, scrubber, link, hello.owner_http)
    listener = socket.socket(fileno=listener_fd)
    tune_garbage_collector()
    web.run_app(
        front.app(),
        sock=listener,
        ssl_context=tls,
        print=None,
        access_log=None,
        shutdown_timeout=settings.shutdown_timeout,
        handle_signals=False,  # Front._signals_context
    )
    return 0
