"""Admin HTTP handlers: inspect and replay deliveries (design.md §6).

Protected by ``ALERTROUTER_ADMIN_TOKEN`` (bearer). Without a token configured they answer only
requests from this machine (loopback), so a default install is not open to the network.
"""

from __future__ import annotations

import hmac
import ipaddress
from typing import Any, cast

from aiohttp import web

from alertrouter.service import SERVICE, Service
from alertrouter.store.base import Job, JobState

__all__ = ["from_loopback", "job_summary", "require_admin", "setup_admin_routes"]

_STATES = ("pending", "inflight", "dead", "done")


def setup_admin_routes(app: web.Application) -> None:
    """Register the deliveries endpoints."""
    app.router.add_get("/api/v1/deliveries", list_deliveries)
    app.router.add_get("/api/v1/deliveries/{id:\\d+}", get_delivery)
    app.router.add_post("/api/v1/deliveries/{id:\\d+}/retry", retry_delivery)
    app.router.add_post("/api/v1/deliveries/retry", retry_all_dead)


def require_admin(request: web.Request) -> Service:
    """The service, if the request carries the admin token (or, with none set, is local);
    401 or 403 otherwise."""
    service = request.app[SERVICE]
    token = service.settings.admin_token
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        # aiohttp keeps undecodable header bytes as surrogates: encode them back, never fail.
        presented = given.strip().encode("utf-8", "surrogateescape")
        if scheme.lower() != "bearer" or not hmac.compare_digest(presented, token.encode()):
            raise web.HTTPUnauthorized(
                text='{"errors": [{"field": "Authorization", "message": "admin token required"}]}',
                content_type="application/json",
                headers={"WWW-Authenticate": 'Bearer realm="alertrouter-admin"'},
            )
    elif not from_loopback(request):
        raise web.HTTPForbidden(
            text='{"errors": [{"field": "Authorization", "message": '
            '"set ALERTROUTER_ADMIN_TOKEN to use the admin API from another host"}]}',
            content_type="application/json",
        )
    return service


def from_loopback(request: web.Request) -> bool:
    """Whether the request's peer address is a loopback one."""
    try:
        return ipaddress.ip_address(request.remote or "").is_loopback
    except ValueError:
        return False


def job_summary(job: Job) -> dict[str, Any]:
    """A delivery as the API and CLI show it (no secrets: jobs hold none)."""
    alerts = job.payload.get("alerts", [])
    return {
        "id": job.id,
        "receiver": job.receiver,
        "integration": job.integration,
        "state": job.state,
        "attempts": job.attempts,
        "created_at": job.created_at,
        "due_at": job.due_at,
        "finished_at": job.finished_at,
        "latency_seconds": None
        if job.finished_at is None
        else round(job.finished_at - job.created_at, 6),
        "last_error": job.last_error,
        "receipt": job.receipt,
        "alerts": [
            {
                "alertname": a.get("labels", {}).get("alertname"),
                "status": a.get("status"),
                "fingerprint": a.get("fingerprint"),
            }
            for a in alerts
        ],
    }


async def list_deliveries(request: web.Request) -> web.Response:
    """``?state=pending|inflight|dead|done|all&limit=N&order=oldest|newest`` (pending, oldest
    first by default); ``all`` is the newest of every state, newest first."""
    service = require_admin(request)
    state = request.query.get("state", "pending")
    order = request.query.get("order", "newest" if state == "all" else "oldest")
    if state not in (*_STATES, "all"):
        message = f"want one of {', '.join(_STATES)}, all"
        return web.json_response({"errors": [{"field": "state", "message": message}]}, status=400)
    if order not in ("oldest", "newest"):
        return web.json_response(
            {"errors": [{"field": "order", "message": "want oldest or newest"}]}, status=400
        )
    try:
        limit = max(1, min(1000, int(request.query.get("limit", "100"))))
    except ValueError:
        return web.json_response(
            {"errors": [{"field": "limit", "message": "want a number"}]}, status=400
        )
    newest = order == "newest"
    states = _STATES if state == "all" else (state,)
    jobs = [
        job
        for each in states
        for job in await service.store.list_jobs(cast(JobState, each), limit, newest_first=newest)
    ]
    jobs.sort(key=lambda job: job.id, reverse=newest)
    return web.json_response({"deliveries": [job_summary(job) for job in jobs[:limit]]})


async def get_delivery(request: web.Request) -> web.Response:
    """One delivery by id."""
    service = require_admin(request)
    job = await service.store.get_job(int(request.match_info["id"]))
    if job is None:
        raise web.HTTPNotFound(text='{"errors": [{"field": "id", "message": "no such delivery"}]}',
                               content_type="application/json")  # fmt: skip
    return web.json_response(job_summary(job))


async def retry_delivery(request: web.Request) -> web.Response:
    """Requeue one dead-lettered delivery; 409 when it is not dead."""
    service = require_admin(request)
    job_id = int(request.match_info["id"])
    if not await service.store.requeue(job_id, service.clock()):
        return web.json_response(
            {"errors": [{"field": "id", "message": "not in the dead-letter list"}]}, status=409
        )
    job = await service.store.get_job(job_id)
    if job is not None:
        service.wake([job.queue])
    return web.json_response({"requeued": [job_id]})


async def retry_all_dead(request: web.Request) -> web.Response:
    """Requeue every dead-lettered delivery."""
    service = require_admin(request)
    requeued = []
    queues = set()
    for job in await service.store.list_jobs("dead", limit=100_000):
        if await service.store.requeue(job.id, service.clock()):
            requeued.append(job.id)
            queues.add(job.queue)
    service.wake(queues)
    return web.json_response({"requeued": requeued})
