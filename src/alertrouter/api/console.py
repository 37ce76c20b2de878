"""The console's JSON twins (admin credential, as the rest of the admin API).

``GET /api/v1/overview``, ``GET /api/v1/notifications``, ``GET /api/v1/routes``,
``POST /api/v1/routes/test`` and ``POST /api/v1/templates/preview``: each answers the facts
its ``/ui/`` page draws (``api/facts.py``, ``api/routing_facts.py``). Dead letters are
``/api/v1/deliveries?state=dead`` and their retry endpoints, as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from aiohttp import web

from alertrouter.api.admin import require_admin
from alertrouter.api.facts import history_facts, history_query, overview_facts
from alertrouter.api.routing_facts import (
    route_test_facts,
    route_tree_facts,
    template_preview_facts,
)
from alertrouter.errors import StoreError
from alertrouter.service import Service

__all__ = ["replay_dead_letters", "setup_console_api"]


def setup_console_api(app: web.Application) -> None:
    """Register the JSON twins of the console's pages."""
    app.router.add_get("/api/v1/overview", overview)
    app.router.add_get("/api/v1/notifications", notifications)
    app.router.add_get("/api/v1/routes", routes)
    app.router.add_post("/api/v1/routes/test", routes_test)
    app.router.add_post("/api/v1/templates/preview", template_preview)


def _problem(field: str, message: str, status: int = 400) -> web.Response:
    return web.json_response({"errors": [{"field": field, "message": message}]}, status=status)


async def overview(request: web.Request) -> web.Response:
    """Queues, last hour, config and reload, store and replica."""
    service = require_admin(request)
    try:
        return web.json_response(await overview_facts(service))
    except StoreError as exc:
        return _problem("(store)", str(exc), 503)


async def notifications(request: web.Request) -> web.Response:
    """The delivery history, newest first, filtered by the query (``history_query``)."""
    service = require_admin(request)
    try:
        wanted = history_query(request.query)
    except ValueError as exc:
        field, _, message = str(exc).partition(": ")
        return _problem(field, message)
    return web.json_response(await history_facts(service, wanted))


async def routes(request: web.Request) -> web.Response:
    """The route tree, nested."""
    service = require_admin(request)
    return web.json_response(route_tree_facts(service.runtime.config))


async def _json_object(request: web.Request) -> Mapping[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(
            text='{"errors": [{"field": "(body)", "message": "want a JSON object"}]}',
            content_type="application/json",
        ) from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(
            text='{"errors": [{"field": "(body)", "message": "want a JSON object"}]}',
            content_type="application/json",
        )
    return body


async def routes_test(request: web.Request) -> web.Response:
    """``{"labels": {...}}`` -> what ``alertrouter routes test --explain`` says, and more."""
    service = require_admin(request)
    labels = (await _json_object(request)).get("labels")
    if not isinstance(labels, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in labels.items()
    ):
        return _problem("labels", "want an object of label names to string values")
    return web.json_response(route_test_facts(service.runtime.config, labels, service.clock()))


async def template_preview(request: web.Request) -> web.Response:
    """``{"receiver": name, "data": webhook body or null}`` -> each templated field rendered."""
    service = require_admin(request)
    body = await _json_object(request)
    receiver, data = body.get("receiver"), body.get("data")
    if not isinstance(receiver, str):
        return _problem("receiver", "want a receiver name")
    if data is not None and not isinstance(data, dict):
        return _problem("data", "want a webhook body (an object) or null for the sample")
    try:
        facts = template_preview_facts(service.runtime.config, receiver, data)
    except ValueError as exc:
        field, _, message = str(exc).partition(": ")
        return _problem(field, message)
    return web.json_response(facts)


async def replay_dead_letters(service: Service, job_ids: Iterable[int]) -> list[int]:
    """Requeue each dead letter of ``job_ids`` and wake its queue, as ``deliveries retry``
    does through the admin API; the ids that were requeued (others were not dead)."""
    requeued: list[int] = []
    queues: set[str] = set()
    for job_id in job_ids:
        if await service.store.requeue(job_id, service.clock()):
            requeued.append(job_id)
            job = await service.store.get_job(job_id)
            if job is not None:
                queues.add(job.queue)
    service.wake(queues)
    return requeued
