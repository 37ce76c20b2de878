"""Start the service from settings: validate the config, then run aiohttp until a signal."""

from __future__ import annotations

import gc
import logging
import os
import ssl

from aiohttp import web

from alertrouter.app import make_app
from alertrouter.config.loader import RoutingConfig, load_routing_config
from alertrouter.config.settings import Settings, parse_listen
from alertrouter.errors import AlertRouterError, ConfigError, ConfigProblem
from alertrouter.logs import configure_logging, get_logger, log_event
from alertrouter.sentry import init_sentry
from alertrouter.service import SERVICE

__all__ = ["ServeError", "load_for_serving", "run_server"]

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
    ssl_context = _ssl_context(settings)
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
        url=f"{'https' if ssl_context else 'http'}://{settings.listen}",
        pid=os.getpid(),
    )
    _tune_garbage_collector()
    web.run_app(
        app,
        host=host,
        port=port,
        ssl_context=ssl_context,
        print=None,
        access_log=None,
        shutdown_timeout=settings.shutdown_timeout,
        handle_signals=True,
    )


def _tune_garbage_collector() -> None:
    """Collect the young generation less often, and never scan what startup built.

    Every webhook allocates thousands of short-lived objects while the claims cache holds
    many long-lived ones: at the default threshold (700) the collector ran many times per
    request and took about a third of the CPU at 20 alerts a webhook (bench/bench_ingest.py).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(_GC_YOUNG_THRESHOLD, 20, 100)


def _ssl_context(settings: Settings) -> ssl.SSLContext | None:
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
