"""Start the service from settings: validate the config, then run aiohttp until a signal."""

from __future__ import annotations

import asyncio
import errno
import gc
import logging
import os
import signal
import socket
import ssl

from aiohttp import web

from alertrouter.api.protocol import ProtocolAwareRunner
from alertrouter.app import make_app
from alertrouter.config.loader import RoutingConfig, load_routing_config
from alertrouter.config.settings import Settings, parse_listen
from alertrouter.errors import ConfigError, ConfigProblem, ServeError
from alertrouter.logs import configure_logging, get_logger, log_event
from alertrouter.sentry import init_sentry
from alertrouter.service import SERVICE

__all__ = [
    "bind_listen",
    "listen_error",
    "load_for_serving",
    "run_server",
    "ssl_context",
    "tune_garbage_collector",
]

logger = get_logger(__name__)
_GC_YOUNG_THRESHOLD = 20_000  # allocations between young-generation collections


def load_for_serving(settings: Settings) -> RoutingConfig:
    """Load the routing file; unset variables are errors unless dry-running.

    The error for unset variables names them all, so the operator sets them in one go.
    """
    if settings.dry_run:
        return load_routing_config(settings.config_path, allow_missing_env=True)
    try:
        return load_routing_config(settings.config_path)
    except ConfigError as exc:
        if exc.unset_variables:
            hint = (
                f"unset: {', '.join(exc.unset_variables)}. Set them, or run with --dry-run to log "
                "what would be sent instead of sending it"
            )
            exc.problems.append(ConfigProblem(settings.config_path, None, "", hint))
        raise


def run_server(settings: Settings) -> None:
    """Serve until SIGTERM or SIGINT, then drain in-flight requests and close the store.

    Every reason not to start (config, listen address, TLS files, state store) raises a
    ConfigError, ServeError or StoreError before anything is logged: the caller prints one
    line, and ``listening`` is logged only once the socket is bound and the store open.
    """
    configure_logging(settings.log_format, settings.log_level)
    config = load_for_serving(settings)
    try:
        host, port = parse_listen(settings.listen)
    except ValueError as exc:
        raise ServeError(str(exc)) from None
    tls = ssl_context(settings)
    sockets = bind_listen(settings.listen, host, port)
    try:
        app = make_app(settings, config, deliver=True)
        sentry = init_sentry(settings.sentry_dsn, settings.environment, app[SERVICE].scrubber)
        tune_garbage_collector()
        asyncio.run(_serve(app, settings, sockets, tls, sentry=sentry))
    finally:
        for sock in sockets:
            sock.close()


async def _serve(
    app: web.Application,
    settings: Settings,
    sockets: list[socket.socket],
    tls: ssl.SSLContext | None,
    *,
    sentry: bool,
) -> None:
    """Open the store, serve on ``sockets``, log ``listening``, wait for a signal, shut down."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    runner = ProtocolAwareRunner(
        app,
        metrics=app[SERVICE].metrics,
        header_timeout=settings.header_timeout,
        # After refusing a body (413, 401) read what follows for at most a second, not
        # aiohttp's ten: enough for the client to see the answer, not a gigabyte's worth.
        lingering_time=1.0,
        access_log=None,
        handle_signals=False,
        shutdown_timeout=settings.shutdown_timeout,
    )
    try:
        await runner.setup()  # cleanup_ctx: the store opens here (StoreError: lock, Redis, ...)
        for sock in sockets:
            await web.SockSite(runner, sock, ssl_context=tls).start()
        service = app[SERVICE]
        log_event(
            logger,
            logging.INFO,
            "listening",
            url=f"{'https' if tls else 'http'}://{settings.listen}",
            pid=os.getpid(),
        )
        if service.runtime.config.missing_variables:
            log_event(
                logger,
                logging.WARNING,
                "dry_run_missing_variables",
                variables=list(service.runtime.config.missing_variables),
            )
        if sentry:
            log_event(logger, logging.INFO, "sentry_enabled", environment=settings.environment)
        await stop.wait()
    finally:
        await runner.cleanup()


def bind_listen(listen: str, host: str, port: int) -> list[socket.socket]:
    """Bound, listening sockets for every address ``host`` resolves to (as aiohttp would bind).

    Bound here, before the store opens and before anything is logged, so that a port in use
    is one clear error rather than a traceback after a ``listening`` line.
    """
    try:
        infos = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror as exc:
        raise ServeError(
            f"cannot listen on {listen}: cannot resolve {host!r}: {exc.strerror}"
        ) from None
    sockets: list[socket.socket] = []
    try:
        for family, kind, proto, _, address in dict.fromkeys(infos):
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.listen(1024)
            sock.setblocking(False)
    except OSError as exc:
        for sock in sockets:
            sock.close()
        raise ServeError(listen_error(listen, exc)) from None
    return sockets


def listen_error(listen: str, exc: OSError) -> str:
    """One line on why ``listen`` could not be bound, with the usual cause named."""
    if exc.errno == errno.EADDRINUSE:
        return f"cannot listen on {listen}: address already in use (another process has the port)"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"cannot listen on {listen}: address not available on this host"
    if exc.errno == errno.EACCES:
        return f"cannot listen on {listen}: permission denied (ports below 1024 need privileges)"
    return f"cannot listen on {listen}: {exc.strerror or exc}"


def tune_garbage_collector() -> None:
    """Collect the young generation less often, and never scan what startup built.

    Every webhook allocates thousands of short-lived objects while the claims cache holds
    many long-lived ones: at the default threshold (700) the collector ran many times per
    request and took about a third of the CPU at 20 alerts a webhook (bench/bench_ingest.py).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(_GC_YOUNG_THRESHOLD, 20, 100)


def ssl_context(settings: Settings) -> ssl.SSLContext | None:
    if not settings.tls_cert_file and not settings.tls_key_file:
        return None
    if not (settings.tls_cert_file and settings.tls_key_file):
        raise ServeError("--tls-cert-file and --tls-key-file go together")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(settings.tls_cert_file, settings.tls_key_file)
    except (OSError, ssl.SSLError) as exc:
        if isinstance(exc, ssl.SSLError):
            reason = exc.reason or str(exc)
        else:
            reason = f"{exc.filename or 'file'}: {exc.strerror or exc}"
        raise ServeError(
            f"cannot load TLS certificate {settings.tls_cert_file} with key "
            f"{settings.tls_key_file}: {reason}"
        ) from None
    return context
