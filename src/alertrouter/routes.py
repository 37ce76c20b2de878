"""HTTP handlers (aiohttp's "routes") and ``setup_routes``. Design.md §6."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import re
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from prometheus_client.aiohttp import make_aiohttp_handler
from pydantic import ValidationError

from alertrouter import __version__
from alertrouter.admin_routes import setup_admin_routes
from alertrouter.errors import StoreError
from alertrouter.ingest import draft_jobs
from alertrouter.logs import get_logger, log_event
from alertrouter.metrics import Metrics
from alertrouter.service import SERVICE, Service
from alertrouter.store.base import StoreStats
from alertrouter.webhook import WebhookPayload, format_validation_errors

__all__ = ["SERVICE", "setup_routes"]

logger = get_logger(__name__)


def setup_routes(app: web.Application, *, metrics: bool = True) -> None:
    """Register every endpoint; the metrics ones only when ``metrics``."""
    app.router.add_post("/api/v1/alerts", receive_alerts)
    if metrics:
        app.router.add_get("/api/v1/metrics", serve_metrics)
        app.router.add_get("/metrics", serve_metrics)
    app.router.add_get("/-/healthy", healthy)
    app.router.add_get("/-/ready", ready)
    app.router.add_post("/-/reload", reload_config)
    app.router.add_get("/api/v1/status", status)
    setup_admin_routes(app)


def _problem_response(status: int, problems: list[dict[str, Any]]) -> web.Response:
    return web.json_response({"errors": problems}, status=status)


async def receive_alerts(request: web.Request) -> web.Response:
    """Alertmanager's webhook: answer 200 only once every resulting job is committed."""
    metrics = request.app[SERVICE].metrics
    try:
        response = await _receive_alerts(request)
    except web.HTTPException as exc:
        metrics.webhooks_received.labels(str(exc.status)).inc()
        raise
    metrics.webhooks_received.labels(str(response.status)).inc()
    return response


async def _receive_alerts(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    if not service.accepting:
        raise web.HTTPServiceUnavailable(text="alertrouter is starting or draining\n")
    if not _authorized(request, service):
        scheme = "Bearer" if service.settings.webhook_token else "Basic"
        return web.json_response(
            {"errors": [{"field": "Authorization", "message": "missing or invalid credentials"}]},
            status=401,
            headers={"WWW-Authenticate": f'{scheme} realm="alertrouter"'},
        )
    if request.content_type != "application/json":
        message = f"want Content-Type application/json, got {request.content_type or 'none'}"
        return _problem_response(415, [{"field": "Content-Type", "message": message}])
    body = await request.read()  # over client_max_size aiohttp answers 413
    try:
        payload = _parse_payload(body)
    except _BadBodyError as exc:
        return _problem_response(400, exc.problems)
    runtime = service.runtime
    now = service.clock()
    firing = sum(alert.status == "firing" for alert in payload.alerts)
    service.metrics.alerts_received.labels("firing").inc(firing)
    service.metrics.alerts_received.labels("resolved").inc(len(payload.alerts) - firing)
    drafts = draft_jobs(payload, runtime.config, runtime.router, _as_datetime(now))
    try:
        outcome = await service.store.claim_and_enqueue(drafts.drafts, now)
    except StoreError as exc:
        log_event(logger, logging.ERROR, "webhook_not_committed", error=str(exc))
        raise web.HTTPServiceUnavailable(text="state store unavailable, retry\n") from None
    if service.engine is not None:
        service.engine.wake({f"{d.receiver}/{d.integration}" for d in drafts.drafts})
    # One increment per (receiver, reason): a resend suppresses every alert it holds.
    for (receiver, reason), count in Counter((*drafts.suppressed, *outcome.suppressed)).items():
        service.metrics.alerts_suppressed.labels(receiver, reason).inc(count)
    suppressed = len(drafts.suppressed) + len(outcome.suppressed)
    log_event(
        logger,
        logging.INFO,
        "webhook_accepted",
        group_key=payload.groupKey,
        alerts=len(payload.alerts),
        queued=len(outcome.job_ids),
        suppressed=suppressed,
    )
    return web.json_response(
        {
            "accepted": len(payload.alerts),
            "queued": len(outcome.job_ids),
            "suppressed": suppressed,
            "jobs": list(outcome.job_ids),
        }
    )


class _BadBodyError(Exception):
    def __init__(self, problems: list[dict[str, Any]]) -> None:
        self.problems = problems


def _parse_payload(body: bytes) -> WebhookPayload:
    """Parse and validate the body in one pass (pydantic's JSON parser), or _BadBodyError."""
    try:
        if _SURROGATE_ESCAPE.search(body):
            data = _replace_lone_surrogates(json.loads(body))
            return WebhookPayload.model_validate(data)
        return WebhookPayload.model_validate_json(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        if isinstance(exc, ValidationError):
            raise _BadBodyError(format_validation_errors(exc)) from None
        raise _BadBodyError([{"field": "(body)", "message": f"invalid JSON: {exc}"}]) from None


# JSON may escape lone UTF-16 surrogates (\ud800) that no UTF-8 text can hold; Go's decoder,
# and so Alertmanager, reads them as U+FFFD. Only bodies that contain such escapes are walked.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _replace_lone_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    if isinstance(value, list):
        return [_replace_lone_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_replace_lone_surrogates(k): _replace_lone_surrogates(v) for k, v in value.items()}
    return value


def _authorized(request: web.Request, service: Service) -> bool:
    settings = service.settings
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.partition(" ")
    # aiohttp keeps undecodable header bytes as surrogates: encode them back, never fail.
    given = credentials.strip().encode("utf-8", "surrogateescape")
    if settings.webhook_token:
        expected = settings.webhook_token.encode()
        return scheme.lower() == "bearer" and hmac.compare_digest(given, expected)
    if settings.webhook_user is not None and settings.webhook_password is not None:
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(given, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            return False
        user, _, password = decoded.partition(":")
        user_ok = hmac.compare_digest(user.encode(), settings.webhook_user.encode())
        password_ok = hmac.compare_digest(password.encode(), settings.webhook_password.encode())
        return user_ok and password_ok
    return True


def _as_datetime(now: float) -> datetime:
    return datetime.fromtimestamp(now, UTC)


async def serve_metrics(request: web.Request) -> web.StreamResponse:
    """Prometheus exposition of the app's registry, queue gauges refreshed from the store."""
    service = request.app[SERVICE]
    try:
        stats = await service.store.stats()
    except StoreError:
        stats = None  # still expose everything else; the queue gauges keep their last values
    if stats is not None:
        kinds = {
            spec.type
            for receiver in service.runtime.config.receivers.values()
            for spec in receiver.integrations
        }
        update_queue_gauges(service.metrics, stats, service.clock(), kinds)
    return await make_aiohttp_handler(service.metrics.registry)(request)


def update_queue_gauges(
    metrics: Metrics, stats: StoreStats, now: float, kinds: Iterable[str]
) -> None:
    """Set queue_depth, queue_oldest_age_seconds and dead_letters per integration type.

    ``kinds`` are the configured types: they, and every type shown before, read 0 rather than
    keeping a stale value.
    """
    metrics.queue_kinds_seen.update(kinds)
    depth = dict.fromkeys(metrics.queue_kinds_seen, 0)
    dead = dict.fromkeys(metrics.queue_kinds_seen, 0)
    oldest: dict[str, float] = {}
    for queue, count in (*stats.pending.items(), *stats.inflight.items()):
        kind = _integration_type(queue)
        depth[kind] = depth.get(kind, 0) + count
    for queue, count in stats.dead.items():
        kind = _integration_type(queue)
        dead[kind] = dead.get(kind, 0) + count
    for queue, created in stats.oldest_pending_created_at.items():
        kind = _integration_type(queue)
        oldest[kind] = min(oldest.get(kind, created), created)
    metrics.queue_kinds_seen.update(depth, dead)
    for kind, count in depth.items():
        metrics.queue_depth.labels(kind).set(count)
        age = now - oldest[kind] if kind in oldest else 0.0
        metrics.queue_oldest_age.labels(kind).set(max(0.0, age))
    for kind, count in dead.items():
        metrics.dead_letters.labels(kind).set(count)


def _integration_type(queue: str) -> str:
    return queue.partition("/")[2].partition("[")[0]


async def healthy(request: web.Request) -> web.Response:
    """Liveness: the process answers."""
    return web.Response(text="OK\n")


async def ready(request: web.Request) -> web.Response:
    """Readiness: accepting, a config is loaded and the store answers."""
    service = request.app[SERVICE]
    if not service.accepting:
        raise web.HTTPServiceUnavailable(text="not ready: starting or draining\n")
    try:
        await service.store.ping()
    except StoreError as exc:
        raise web.HTTPServiceUnavailable(text=f"not ready: {exc}\n") from None
    return web.Response(text="OK\n")


async def reload_config(request: web.Request) -> web.Response:
    """Reload the routing file: 200 when applied, 400 listing every problem otherwise."""
    problems = await request.app[SERVICE].reload()
    if problems:
        return web.json_response({"status": "rejected", "errors": problems}, status=400)
    return web.json_response({"status": "reloaded"})


async def status(request: web.Request) -> web.Response:
    """Version, config hash and load time, store backend, queue depth, dead letters."""
    service = request.app[SERVICE]
    runtime = service.runtime
    try:
        stats = await service.store.stats()
    except StoreError as exc:
        raise web.HTTPServiceUnavailable(text=f"store unavailable: {exc}\n") from None
    return web.json_response(
        {
            "version": __version__,
            "config": {
                "file": runtime.config.file,
                "sha256": runtime.config.sha256,
                "loaded_at": runtime.loaded_at,
                "last_reload_successful": service.last_reload_ok,
            },
            "store": service.store.backend,
            "dry_run": service.settings.dry_run,
            "queue_depth": sum(stats.pending.values()) + sum(stats.inflight.values()),
            "dead_letters": sum(stats.dead.values()),
            "queues": {
                queue: {
                    "pending": stats.pending.get(queue, 0),
                    "inflight": stats.inflight.get(queue, 0),
                    "dead": stats.dead.get(queue, 0),
                }
                for queue in sorted({*stats.pending, *stats.inflight, *stats.dead})
            },
        }
    )
