"""The owner's side: start the fronts, keep them running, commit what they take, count what they
answered, pass reloads on, and drain them first when stopping."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import sys
from pathlib import Path
from typing import Any

from aiohttp import web

from alertrouter.errors import StoreError
from alertrouter.frontend.link import (
    ConfigText,
    Done,
    Hello,
    Outbox,
    Reload,
    Served,
    Take,
    from_wire,
    read_frame,
)
from alertrouter.intake import commit_intake
from alertrouter.logs import bind_request_id, get_logger, log_event
from alertrouter.service import Service

__all__ = ["Fronts"]

logger = get_logger(__name__)
_RESTART_DELAY_SECONDS = 1.0


class Fronts:
    """``count`` front processes accepting on ``listener``, linked to this process."""

    def __init__(self, service: Service, count: int, listener: socket.socket, folder: Path):
        self.service = service
        self.count = count
        self.listener = listener
        self.link_path = folder / "link.sock"
        self.owner_http = folder / "http.sock"
        self._server: asyncio.Server | None = None
        self._processes: dict[int, asyncio.subprocess.Process] = {}
        self._watchers: set[asyncio.Task[None]] = set()
        self._links: set[Outbox] = set()
        self._commits: set[asyncio.Task[None]] = set()
        self._stopping = False

    async def context(self, app: web.Application) -> Any:
        """aiohttp cleanup context: fronts run while the app does (drained in ``drain``)."""
        self._server = await asyncio.start_unix_server(self._serve_link, path=str(self.link_path))
        self.service.reload_listeners.append(self._pass_reload_on)
        for index in range(self.count):
            await self._start(index)
        yield
        await self.drain(app)
        self._server.close()
        await self._server.wait_closed()

    async def drain(self, app: web.Application) -> None:
        """Stop the fronts: each stops accepting, answers what it took, and exits. Their
        webhooks are committed meanwhile: this runs before the service stops accepting."""
        if self._stopping:
            return
        self._stopping = True
        for process in self._processes.values():
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        timeout = self.service.settings.shutdown_timeout + 2.0
        for index, process in list(self._processes.items()):
            try:
                await asyncio.wait_for(process.wait(), timeout)
            except TimeoutError:
                log_event(logger, logging.WARNING, "front_killed", front=index, pid=process.pid)
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        for watcher in list(self._watchers):
            watcher.cancel()
        if self._commits:
            await asyncio.gather(*self._commits, return_exceptions=True)

    async def _start(self, index: int) -> None:
        fd = self.listener.fileno()
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "alertrouter.frontend",
            "--link", str(self.link_path), "--fd", str(fd),
            pass_fds=(fd,), stdin=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        self._processes[index] = process
        log_event(logger, logging.INFO, "front_started", front=index, pid=process.pid)
        watcher = asyncio.create_task(self._watch(index, process))
        self._watchers.add(watcher)
        watcher.add_done_callback(self._watchers.discard)

    async def _watch(self, index: int, process: asyncio.subprocess.Process) -> None:
        """A front that exits while we serve is started again (the listener stays open here,
        so connections wait in its backlog meanwhile)."""
        code = await process.wait()
        if self._stopping:
            return
        log_event(logger, logging.ERROR, "front_exited", front=index, pid=process.pid, code=code)
        await asyncio.sleep(_RESTART_DELAY_SECONDS)
        if not self._stopping:
            await self._start(index)

    async def _serve_link(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        outbox = Outbox(writer)
        hello = Hello(self.service.settings, str(self.owner_http), self._config_text())
        outbox.send_now([hello])
        self._links.add(outbox)
        try:
            while True:
                for message in await read_frame(reader):
                    if isinstance(message, Take):
                        task = asyncio.create_task(self._commit(outbox, message))
                        self._commits.add(task)
                        task.add_done_callback(self._commits.discard)
                    elif isinstance(message, Served):
                        self._count(message)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the front exited; _watch decides what follows
        finally:
            self._links.discard(outbox)
            writer.close()

    async def _commit(self, outbox: Outbox, take: Take) -> None:
        bind_request_id(take.request_id)  # this task's context only
        try:
            committed = await commit_intake(self.service, from_wire(take.intake))
        except StoreError as exc:
            log_event(logger, logging.ERROR, "webhook_not_committed", error=str(exc))
            outbox.put(Done(take.seq, None, "state store unavailable, retry"))
            return
        outbox.put(Done(take.seq, committed, ""))

    def _count(self, served: Served) -> None:
        metrics = self.service.metrics
        status = str(served.status)
        metrics.webhooks_received.labels(status).inc()
        metrics.http_requests.labels(served.method, served.endpoint, status).inc()
        metrics.http_request_duration.labels(served.method, served.endpoint).observe(served.seconds)

    def _config_text(self) -> ConfigText:
        config = self.service.runtime.config
        return ConfigText(config.text, config.file)

    def _pass_reload_on(self) -> None:
        for outbox in self._links:
            outbox.put(Reload(self._config_text()))
