"""HTTP handlers (aiohttp's "routes") and ``setup_routes``. Design.md §6."""

from __future__ import annotations

from collections.abc import Iterable

from aiohttp import web
from prometheus_client.aiohttp import make_aiohttp_handler

from alertrouter import __version__
from alertrouter.api.admin import require_admin, setup_admin_routes
from alertrouter.api.console import setup_console_api
from alertrouter.api.webhook import expect_within_limit, receive_alerts
from alertrouter.constants import WEBHOOK_PATH
from alertrouter.errors import StoreError
from alertrouter.logs import get_logger
from alertrouter.metrics import Metrics, integration_label
from alertrouter.service import SERVICE
from alertrouter.store.base import StoreStats

__all__ = ["SERVICE", "setup_routes"]

logger = get_logger(__name__)


def setup_routes(app: web.Application, *, metrics: bool = True) -> None:
    """Register every endpoint; the metrics ones only when ``metrics``."""
    app.router.add_post(WEBHOOK_PATH, receive_alerts, expect_handler=expect_within_limit)
    if metrics:
        app.router.add_get("/api/v1/metrics", serve_metrics)
        app.router.add_get("/metrics", serve_metrics)
    app.router.add_get("/-/healthy", healthy)
    app.router.add_get("/-/ready", ready)
    app.router.add_post("/-/reload", reload_config)
    app.router.add_get("/api/v1/status", status)
    setup_admin_routes(app)
    setup_console_api(app)


async def serve_metrics(request: web.Request) -> web.StreamResponse:
    """Prometheus exposition of the app's registry, queue gauges refreshed from the store."""
    service = request.app[SERVICE]
    try:
        stats = await service.store.stats()
    except StoreError:
        stats = None  # still expose everything else; the queue gauges keep their last values
    dry_run = service.settings.dry_run
    if stats is not None:
        kinds = {
            integration_label(spec.type, dry_run=dry_run)
            for receiver in service.runtime.config.receivers.values()
            for spec in receiver.integrations
        }
        update_queue_gauges(service.metrics, stats, service.clock(), kinds, dry_run=dry_run)
    # What /-/ready answers, as a series: the store answered just now (stats) and we accept.
    service.metrics.ready.set(1 if stats is not None and service.accepting else 0)
    return await make_aiohttp_handler(service.metrics.registry)(request)


def update_queue_gauges(
    metrics: Metrics,
    stats: StoreStats,
    now: float,
    kinds: Iterable[str],
    *,
    dry_run: bool = False,
) -> None:
    """Set queue_depth, queue_oldest_age_seconds and dead_letters per integration type.

    ``kinds`` are the configured types: they, and every type shown before, read 0 rather than
    keeping a stale value.
    """

    def _integration_type(queue: str) -> str:
        return integration_label(queue.partition("/")[2].partition("[")[0], dry_run=dry_run)

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
    if service.store.commit_error is not None:
        # The last write failed (a full disk answers reads): ready again once one commits.
        try:
            await service.store.check_commit()
        except StoreError as exc:
            raise web.HTTPServiceUnavailable(
                text=f"not ready: the store cannot commit: {exc}\n"
            ) from None
    return web.Response(text="OK\n")


async def reload_config(request: web.Request) -> web.Response:
    """Reload the routing file (admin credential): 200 when applied, 400 listing every problem."""
    problems = await require_admin(request).reload()
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
