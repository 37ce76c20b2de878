"""Start the service from settings: validate the config, then run aiohttp until a signal."""

from __future__ import annotations

import gc
import logging
import os
import shutil
import socket
import ssl

from aiohttp import web

from alertrouter.app import make_app
from alertrouter.config.loader import RoutingConfig, load_routing_config
from alertrouter.config.settings import Settings, parse_listen
from alertrouter.errors import AlertRouterError, ConfigError, ConfigProblem
from alertrouter.frontend.owner import Fronts, socket_folder
from alertrouter.logs import configure_logging, get_logger, log_event
from alertrouter.sentry import init_sentry
from alertrouter.service import SERVICE

__all__ = [
    "ServeError",
    "load_for_serving",
    "run_server",
    "ssl_context",
    "tune_garbage_collector",
]

logger = get_logger(__name__)
_GC_YOUNG_THRESHOLD = 20_000  # allocations between young-generation collections


class ServeError(AlertRouterError):
    """The service cannot start as configured (bad listen address, TLS files, ...)."""


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
    """Serve until SIGTERM or SIGINT, then drain in-flight requests and close the store."""
    configure_logging(settings.log_format, settings.log_level)
    config = load_for_serving(settings)
    try:
        host, port = parse_listen(settings.listen)
    except ValueError as exc:
        raise ServeError(str(exc)) from None
    tls = ssl_context(settings)
    if settings.ingest_processes < 0:
        raise ServeError("--ingest-processes: want 0 or more")
    app = make_app(settings, config, deliver=True)
    if init_sentry(settings, app[SERVICE].scrubber):
        log_event(logger, logging.INFO, "sentry_enabled", environment=settings.environment)
    if config.missing_variables:
        log_event(
            logger,
            logging.WARNING,
            "dry_run_missing_variables",
            variables=list(config.missing_variables),
        )
    log_event(
        logger,
        logging.INFO,
        "listening",
        url=f"{'https' if tls else 'http'}://{settings.listen}",
        pid=os.getpid(),
        ingest_processes=settings.ingest_processes,
    )
    tune_garbage_collector()
    if settings.ingest_processes:
        _run_with_fronts(app, settings, host, port)
        return
    web.run_app(
        app,
        host=host,
        port=port,
        ssl_context=tls,
        print=None,
        access_log=None,
        shutdown_timeout=settings.shutdown_timeout,
        handle_signals=True,
    )


def _run_with_fronts(app: web.Application, settings: Settings, host: str, port: int) -> None:
    """Listen here, take webhooks in ``settings.ingest_processes`` fronts (frontend/), and
    serve everything else to them on a Unix socket."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        listener = socket.create_server((host, port), family=family, backlog=1024)
    except OSError as exc:
        raise ServeError(f"cannot listen on {settings.listen}: {exc.strerror or exc}") from None
    listener.set_inheritable(True)
    folder = socket_folder()
    fronts = Fronts(app[SERVICE], settings.ingest_processes, listener, folder)
    app.cleanup_ctx.append(fronts.context)
    app.on_shutdown.insert(0, fronts.drain)  # before the service stops taking commits
    try:
        web.run_app(
            app,
            path=str(fronts.owner_http),
            print=None,
            access_log=None,
            shutdown_timeout=settings.shutdown_timeout,
            handle_signals=True,
        )
    finally:
        listener.close()
        shutil.rmtree(folder, ignore_errors=True)


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
        raise ServeError(f"cannot load TLS certificate/key: {exc}") from None
    return context
