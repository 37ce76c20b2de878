"""The owner's side: start the fronts, keep them running, commit what they take, count what they
answered, pass reloads on, and drain them first when stopping."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from alertrouter.errors import StoreError
from alertrouter.frontend.link import (
    ConfigText,
    Done,
    Hello,
    Outbox,
    Reload,
    Reloaded,
    Served,
    Take,
    from_wire,
    read_frame,
)
from alertrouter.intake import commit_intake
from alertrouter.logs import bind_request_id, get_logger, log_event
from alertrouter.service import Service

__all__ = ["Fronts", "socket_folder"]

logger = get_logger(__name__)
_RESTART_DELAYS_SECONDS = (1.0, 2.0, 5.0, 10.0, 30.0)  # after 1, 2, 3, ... exits in a row
_STEADY_SECONDS = 60.0  # a front that ran this long starts the count again
_RELOAD_WAIT_SECONDS = 10.0  # for the fronts to route with a reloaded config


_FOLDER_PREFIX = "alertrouter-fronts-"


def socket_folder() -> Path:
    """A new private folder (mode 0700) for this process's Unix sockets, named after its PID.
    Folders left behind by processes that no longer exist (killed, so nothing cleaned up)
    are removed first."""
    base = Path(tempfile.gettempdir())
    for folder in base.glob(f"{_FOLDER_PREFIX}*-*"):
        pid = folder.name.removeprefix(_FOLDER_PREFIX).partition("-")[0]
        if pid.isdigit() and not _alive(int(pid)) and folder.stat().st_uid == os.getuid():
            shutil.rmtree(folder, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{_FOLDER_PREFIX}{os.getpid()}-", dir=base))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


class Fronts:
    """``count`` front processes accepting on ``listener``, linked to this process."""

    def __init__(self, service: Service, count: int, listener: socket.socket, folder: Path) -> None:
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
        self._generation = 0  # of the config the fronts are told to route with
        # Per front link: the reloads it has yet to confirm, by generation.
        self._unconfirmed: dict[Outbox, list[tuple[int, asyncio.Future[str]]]] = {}

    async def context(self, app: web.Application) -> AsyncIterator[None]:
        """aiohttp cleanup context: fronts run while the app does (drained in ``drain``)."""
        self._server = await asyncio.start_unix_server(self._serve_link, path=str(self.link_path))
        self.service.reload_listeners.append(self._pass_reload_on)
        for index in range(self.count):
            await self._start(index)
        yield
        await self.drain(app)
        self.service.reload_listeners.remove(self._pass_reload_on)
        self._server.close()
        await self._server.wait_closed()

    async def drain(self, app: web.Application) -> None:
        """Stop the fronts: each stops accepting, answers what it took, and exits. Their
        webhooks are committed meanwhile: this runs before the service stops accepting."""
        if self._stopping:
            return
        self._stopping = True
        # New connections are refused from now on, as one process refuses them once it
        # drains; the fronts close their copies of the socket as they stop.
        self.listener.close()
        for process in self._processes.values():
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        timeout = self.service.settings.shutdown_timeout + 2.0
        await asyncio.gather(
            *(self._await_exit(i, p, timeout) for i, p in list(self._processes.items()))
        )
        for watcher in list(self._watchers):
            watcher.cancel()
        if self._commits:
            await asyncio.gather(*self._commits, return_exceptions=True)

    async def _await_exit(
        self, index: int, process: asyncio.subprocess.Process, grace: float
    ) -> None:
        try:
            await asyncio.wait_for(process.wait(), grace)
        except TimeoutError:
            log_event(logger, logging.WARNING, "front_killed", front=index, pid=process.pid)
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()

    async def _start(self, index: int, exits: int = 0) -> None:
        fd = self.listener.fileno()
        # Its own session: a terminal's Ctrl-C reaches this process only, which then stops
        # the fronts with one SIGTERM each.
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "alertrouter.frontend",
            "--link", str(self.link_path), "--fd", str(fd),
            pass_fds=(fd,), stdin=asyncio.subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        self._processes[index] = process
        if self._stopping:  # drain began while it was starting
            process.send_signal(signal.SIGTERM)
            await self._await_exit(index, process, self.service.settings.shutdown_timeout)
            return
        log_event(logger, logging.INFO, "front_started", front=index, pid=process.pid)
        watcher = asyncio.create_task(self._watch(index, process, exits))
        self._watchers.add(watcher)
        watcher.add_done_callback(self._watchers.discard)

    async def _watch(self, index: int, process: asyncio.subprocess.Process, exits: int) -> None:
        """A front that exits while we serve is started again, sooner after a long run than
        after a quick failure (the listener stays open here, so connections wait in its
        backlog meanwhile)."""
        started = time.monotonic()
        code = await process.wait()
        if self._stopping:
            return
        exits = 0 if time.monotonic() - started > _STEADY_SECONDS else exits
        delay = _RESTART_DELAYS_SECONDS[min(exits, len(_RESTART_DELAYS_SECONDS) - 1)]
        log_event(
            logger, logging.ERROR, "front_exited",
            front=index, pid=process.pid, code=code, restart_in_seconds=delay,
        )  # fmt: skip
        await asyncio.sleep(delay)
        if not self._stopping:
            try:
                await self._start(index, exits + 1)
            except OSError as exc:
                log_event(logger, logging.ERROR, "front_not_started", front=index, error=str(exc))

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
                    elif isinstance(message, Reloaded):
                        self._confirm(outbox, message.generation, message.error)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the front exited; _watch decides what follows
        finally:
            self._links.discard(outbox)
            self._confirm(outbox, self._generation, "the front exited")
            self._unconfirmed.pop(outbox, None)
            writer.close()

    async def _commit(self, outbox: Outbox, take: Take) -> None:
        bind_request_id(take.request_id)  # this task's context only
        try:
            committed = await commit_intake(self.service, from_wire(take.intake))
        except StoreError as exc:
            log_event(logger, logging.ERROR, "webhook_not_committed", error=str(exc))
            outbox.put(Done(take.seq, None, 503, "state store unavailable, retry"))
            return
        except Exception:
            # One process would answer 500 from its request middleware; the front does.
            logger.exception("webhook_commit_failed")
            outbox.put(Done(take.seq, None, 500, "internal error"))
            return
        outbox.put(Done(take.seq, committed, 200, ""))

    def _count(self, served: Served) -> None:
        metrics = self.service.metrics
        metrics.webhooks_received.labels(str(served.status)).inc()
        metrics.count_request(served.method, served.endpoint, served.status, served.seconds)

    def _config_text(self) -> ConfigText:
        config = self.service.runtime.config
        return ConfigText(config.text, config.file)

    async def _pass_reload_on(self) -> None:
        """Tell every front the config the owner swapped in, and wait until they route with
        it (a new front starts with it), so that a webhook sent after the reload answer is
        routed by the new file, as with one process."""
        self._generation += 1
        reload = Reload(self._generation, self._config_text())
        loop = asyncio.get_running_loop()
        confirmations = []
        for outbox in self._links:
            confirmation: asyncio.Future[str] = loop.create_future()
            self._unconfirmed.setdefault(outbox, []).append((reload.generation, confirmation))
            confirmations.append(confirmation)
            outbox.put(reload)
        if not confirmations:
            return
        done, late = await asyncio.wait(confirmations, timeout=_RELOAD_WAIT_SECONDS)
        errors = [f.result() for f in done if f.result()]
        if errors or late:
            log_event(
                logger, logging.ERROR, "front_reload_failed",
                errors=errors, unconfirmed=len(late), generation=reload.generation,
            )  # fmt: skip

    def _confirm(self, outbox: Outbox, generation: int, error: str) -> None:
        """``outbox``'s front routes with ``generation`` (or could not): every reload up to
        it is settled."""
        waiting = self._unconfirmed.get(outbox, [])
        while waiting and waiting[0][0] <= generation:
            _, confirmation = waiting.pop(0)
            if not confirmation.done():
                confirmation.set_result(error)
