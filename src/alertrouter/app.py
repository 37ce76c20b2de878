"""``make_app(settings, config)``: the aiohttp application; ``cleanup_ctx`` owns every resource."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.typedefs import Middleware

from alertrouter.api.ops import setup_routes
from alertrouter.api.protocol import recorder
from alertrouter.config.loader import RoutingConfig
from alertrouter.config.settings import Settings
from alertrouter.delivery.engine import DeliveryEngine
from alertrouter.delivery.worker import WorkerTiming
from alertrouter.errors import NotifierError
from alertrouter.logs import bind_request_id, get_logger, log_event
from alertrouter.metrics import Metrics
from alertrouter.sentry import capture_dead_letter
from alertrouter.service import SERVICE, Runtime, Service
from alertrouter.store.base import Job, Store
from alertrouter.store.factory import store_from_url
from alertrouter.store.instrumented import InstrumentedStore
from alertrouter.ui import setup_ui

__all__ = ["RecordRequest", "make_app", "request_middleware"]

logger = get_logger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_request_ids = random.Random()  # seeded from os.urandom; ids need to differ, not be secret


def make_app(
    settings: Settings,
    config: RoutingConfig,
    *,
    store: Store | None = None,
    clock: Callable[[], float] = time.time,
    deliver: bool = False,
) -> web.Application:
    """Build the service for an already validated routing ``config``.

    Delivery workers run only with ``deliver=True`` (what ``serve`` does); without, jobs stay
    queued: tests of ingest alone never reach a provider.
    """
    metrics = Metrics()
    app = web.Application(
        client_max_size=settings.max_body_bytes,
        middlewares=[request_middleware(_record_in_metrics, _count_protocol_error)],
    )
    service = Service(
        settings,
        Runtime.create(config, clock()),
        InstrumentedStore(store or store_from_url(settings.state_url), metrics),
        metrics,
        clock,
    )
    app[SERVICE] = service
    setup_routes(app, metrics=settings.enable_metrics)
    setup_ui(app)
    app.cleanup_ctx.append(_store_context)
    if deliver:
        app.cleanup_ctx.append(_delivery_context)
    app.cleanup_ctx.append(_sighup_context)
    app.on_shutdown.append(_stop_accepting)
    return app


async def _store_context(app: web.Application) -> AsyncIterator[None]:
    service = app[SERVICE]
    await service.store.open()
    _warn_if_open(service.settings)
    service.start_accepting()
    log_event(
        logger,
        logging.INFO,
        "service_started",
        store=service.store.backend,
        config=service.runtime.config.file,
        dry_run=service.settings.dry_run,
    )
    yield
    service.stop_accepting()
    await service.store.close()
    log_event(logger, logging.INFO, "service_stopped")


async def _delivery_context(app: web.Application) -> AsyncIterator[None]:
    service = app[SERVICE]
    timeout = aiohttp.ClientTimeout(total=30, sock_connect=10)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        engine = DeliveryEngine(
            service.store,
            service.metrics,
            session,
            dry_run=service.settings.dry_run,
            clock=service.clock,
            on_dead_letter=_report_dead_letter,
            timing=WorkerTiming(
                lease_seconds=service.settings.lease_seconds,
                queue_hold_seconds=service.settings.queue_hold_seconds,
                idle_poll_seconds=min(5.0, service.settings.queue_hold_seconds / 3),
            ),
        )
        await engine.apply(service.runtime.config)
        service.attach_engine(engine)
        yield
        service.attach_engine(None)
        await engine.stop(grace=service.settings.shutdown_timeout)


async def _sighup_context(app: web.Application) -> AsyncIterator[None]:
    service = app[SERVICE]
    loop = asyncio.get_running_loop()
    tasks: set[asyncio.Task[list[str]]] = set()

    def on_sighup() -> None:
        task = loop.create_task(service.reload())
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    try:
        loop.add_signal_handler(signal.SIGHUP, on_sighup)
        installed = True
    except (RuntimeError, NotImplementedError, ValueError):  # not the main thread (tests)
        installed = False
    yield
    if installed:
        loop.remove_signal_handler(signal.SIGHUP)
    for task in list(tasks):
        await task


async def _stop_accepting(app: web.Application) -> None:
    app[SERVICE].stop_accepting()
    log_event(logger, logging.INFO, "service_draining")


def _warn_if_open(settings: Settings) -> None:
    if not settings.webhook_token and not (settings.webhook_user and settings.webhook_password):
        log_event(
            logger,
            logging.WARNING,
            "webhook_auth_disabled",
            hint="set ALERTROUTER_WEBHOOK_TOKEN (bearer) or ALERTROUTER_WEBHOOK_USER/PASSWORD",
        )


def _report_dead_letter(job: Job, error: NotifierError) -> None:
    alerts = job.payload["alerts"]
    capture_dead_letter(
        job.receiver,
        job.integration,
        error.reason,
        [str(a.get("labels", {}).get("alertname")) for a in alerts],
        job_id=job.id,
        attempts=job.attempts,
        alerts=len(alerts),
    )


RecordRequest = Callable[[web.Request, str, int, float], None]  # request, endpoint, status, s
RecordProtocolError = Callable[[web.Request, str], None]  # request, kind
CLIENT_CLOSED = 499  # nginx's status for "the client hung up first"; never sent, only counted


def request_middleware(
    record: RecordRequest, protocol_error: RecordProtocolError | None = None
) -> Middleware:
    """Every request: a request id (the caller's X-Request-Id or a new one) bound to the logs
    and set on the answer; ``record``-ed with its route template, status and duration; and
    the one broad ``except`` of the HTTP side (log once with context, answer 500 as JSON).

    A client that hangs up mid-body, or sends a body its framing contradicts, is the
    network's doing: ``protocol_error`` counts it, with no traceback and no 500.

    One middleware rather than three: each costs a coroutine and a call per request.
    """

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        request_id = request.headers.get("X-Request-Id") or f"{_request_ids.getrandbits(64):016x}"
        token = bind_request_id(request_id)
        resource = request.match_info.route.resource
        endpoint = resource.canonical if resource is not None else "unmatched"
        started = time.perf_counter()
        status = 500
        try:
            try:
                response = await handler(request)
            except web.HTTPException as exc:
                status = exc.status
                if status not in (404, 405):
                    raise
                response = _routing_error(request, exc)
            except asyncio.CancelledError:
                raise
            except ConnectionError:  # the client hung up (aiohttp's "Connection lost")
                if protocol_error is not None:
                    protocol_error(request, "client_disconnected")
                status = CLIENT_CLOSED
                return web.Response(status=CLIENT_CLOSED)  # nobody reads it; aiohttp drops it
            except web.RequestPayloadError:  # a chunked body that breaks its own framing
                if protocol_error is not None:
                    protocol_error(request, "bad_framing")
                problem = {"field": "(body)", "message": "malformed request body framing"}
                response = web.json_response({"errors": [problem]}, status=400)
                response.force_close()
            except Exception:
                fields = {"path": request.path, "method": request.method}
                logger.exception("request_failed", extra={"fields": fields})
                problem = {"field": "(server)", "message": "internal error; it has been logged"}
                response = web.json_response({"errors": [problem]}, status=500)
            status = response.status
            response.headers["X-Request-Id"] = request_id
            return response
        finally:
            record(request, endpoint, status, time.perf_counter() - started)
            _reset(token)

    return middleware


def _routing_error(request: web.Request, exc: web.HTTPException) -> web.Response:
    """404 and 405 as JSON, like every other error answer (405 keeps its Allow header)."""
    if exc.status == 404:
        problem = {"field": "(path)", "message": f"no such endpoint: {request.path}"}
        return web.json_response({"errors": [problem]}, status=404)
    allowed = exc.headers.get("Allow", "")
    message = f"method {request.method} not allowed here; allowed: {allowed}"
    return web.json_response(
        {"errors": [{"field": "(method)", "message": message}]},
        status=405,
        headers={"Allow": allowed},
    )


def _record_in_metrics(request: web.Request, endpoint: str, status: int, seconds: float) -> None:
    request.app[SERVICE].metrics.count_request(request.method, endpoint, status, seconds)


def _count_protocol_error(request: web.Request, kind: str) -> None:
    recorder(request.app[SERVICE].metrics)(kind, request.remote, None)


def _reset(token: Any) -> None:
    with contextlib.suppress(ValueError):  # token from another context: nothing to reset
        token.var.reset(token)
