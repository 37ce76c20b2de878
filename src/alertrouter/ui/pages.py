"""The console's pages: login, overview, notifications, dead letters, routes, templates.

Each GET page renders the facts its JSON twin answers; the only actions (log in, log out,
replay dead letters) are POSTs that need the credential and this session's CSRF token.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web

from alertrouter.api.console import replay_dead_letters
from alertrouter.api.facts import STATES, history_facts, history_query, overview_facts
from alertrouter.api.routing_facts import (
    parse_labels_text,
    route_test_facts,
    route_tree_facts,
    template_preview_facts,
)
from alertrouter.errors import MatcherSyntaxError
from alertrouter.logs import get_logger, log_event
from alertrouter.service import SERVICE
from alertrouter.store.query import JobQuery
from alertrouter.ui.auth import ConsoleAuth
from alertrouter.ui.render import render_page

__all__ = ["AUTH", "setup_pages"]

logger = get_logger(__name__)
AUTH = web.AppKey("console_auth", ConsoleAuth)
DEAD_LETTERS_SHOWN = 1000


def setup_pages(console: web.Application) -> None:
    """Register every page of the console (paths relative to ``/ui/``)."""
    console.router.add_get("/", overview)
    console.router.add_get("/login", login_form)
    console.router.add_post("/login", login)
    console.router.add_post("/logout", logout)
    console.router.add_get("/notifications", notifications)
    console.router.add_get("/dead-letters", dead_letters)
    console.router.add_post("/dead-letters/replay", replay)
    console.router.add_get("/routes", routes)
    console.router.add_get("/templates", templates_form)
    console.router.add_post("/templates", templates_preview)


def _page(request: web.Request, name: str, status: int = 200, **context: Any) -> web.Response:
    """A page with what every page needs: the CSRF token, whether logging out makes sense."""
    auth = request.app[AUTH]
    return render_page(
        name,
        status,
        csrf=auth.csrf_token(request),
        logged_in=auth.needs_login,
        current=name,
        **context,
    )


def _safe_next(target: str) -> str:
    """Only a path inside the console: never another site after a login."""
    if target.startswith("/ui/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/ui/"


async def login_form(request: web.Request) -> web.StreamResponse:
    """The login form (without an admin token there is nothing to log in to)."""
    auth = request.app[AUTH]
    if not auth.needs_login:
        raise web.HTTPSeeOther("/ui/")
    return _page(request, "login", next=_safe_next(request.query.get("next", "/ui/")), error="")


async def login(request: web.Request) -> web.StreamResponse:
    """Check the admin token; set the session cookie and go on, or show the form again."""
    auth = request.app[AUTH]
    form = await request.post()
    target = _safe_next(str(form.get("next", "/ui/")))
    if not auth.needs_login:
        raise web.HTTPSeeOther("/ui/")
    if not auth.csrf_valid(request, form):
        error = "The form was stale or came from another site; try again."
        return _page(request, "login", 403, next=target, error=error)
    if not auth.token_matches(str(form.get("token", ""))):
        log_event(logger, logging.WARNING, "console_login_failed", remote=request.remote)
        return _page(request, "login", 401, next=target, error="That is not the admin token.")
    log_event(logger, logging.INFO, "console_login", remote=request.remote)
    response = web.HTTPSeeOther(target)
    auth.set_session(response, request, request.app[SERVICE].clock())
    raise response


async def logout(request: web.Request) -> web.StreamResponse:
    """End the session (CSRF-checked, so another site cannot log the operator out)."""
    auth = request.app[AUTH]
    form = await request.post()
    if not auth.csrf_valid(request, form):
        return render_page("denied", 403, reason="the form was stale; reload and try again")
    response = web.HTTPSeeOther("/ui/login")
    auth.clear_session(response)
    raise response


async def overview(request: web.Request) -> web.StreamResponse:
    """Queues, last hour, config, store and replica."""
    facts = await overview_facts(request.app[SERVICE])
    return _page(request, "overview", facts=facts)


async def notifications(request: web.Request) -> web.StreamResponse:
    """The delivery history with its filters."""
    service = request.app[SERVICE]
    try:
        wanted = history_query(request.query)
        error = ""
    except ValueError as exc:
        wanted, error = JobQuery(), str(exc)
    facts = await history_facts(service, wanted)
    receivers = sorted(service.runtime.config.receivers)
    return _page(
        request,
        "notifications",
        facts=facts,
        wanted=wanted,
        state=wanted.states[0] if len(wanted.states) == 1 else "",
        error=error,
        receivers=receivers,
        states=STATES,
        query=dict(request.query),
    )


async def dead_letters(request: web.Request) -> web.StreamResponse:
    """Dead letters with their reason, newest first, each with a replay button."""
    service = request.app[SERVICE]
    facts = await history_facts(service, JobQuery(states=("dead",), limit=DEAD_LETTERS_SHOWN))
    replayed = [part for part in request.query.get("replayed", "").split(",") if part.isdigit()]
    return _page(request, "dead_letters", facts=facts, replayed=replayed)


async def replay(request: web.Request) -> web.StreamResponse:
    """Requeue the chosen dead letters (one button's, or every ticked box's)."""
    auth = request.app[AUTH]
    form = await request.post()
    if not auth.csrf_valid(request, form):
        return render_page("denied", 403, reason="the form was stale; reload and try again")
    only = form.get("only")
    chosen = [str(only)] if only is not None else [str(v) for v in form.getall("id", [])]
    ids = [int(v) for v in chosen if v.isdigit()]
    requeued = await replay_dead_letters(request.app[SERVICE], ids)
    log_event(logger, logging.INFO, "console_replay", requeued=requeued, remote=request.remote)
    raise web.HTTPSeeOther(f"/ui/dead-letters?replayed={','.join(map(str, requeued)) or 'none'}")


async def routes(request: web.Request) -> web.StreamResponse:
    """The route tree as nested boxes, and the routing tester for ``?labels=``."""
    service = request.app[SERVICE]
    config = service.runtime.config
    text = request.query.get("labels", "")
    test: dict[str, Any] | None = None
    error = ""
    if text.strip():
        try:
            test = route_test_facts(config, parse_labels_text(text), service.clock())
        except MatcherSyntaxError as exc:
            error = f"Failed to parse labels: {exc}"
    outcomes = {step["route"]: step["outcome"] for step in test["walk"]} if test else {}
    return _page(
        request,
        "routes",
        tree=route_tree_facts(config),
        labels_text=text,
        test=test,
        error=error,
        matched=set(test["matched"]) if test else set(),
        outcomes=outcomes,
    )


async def templates_form(request: web.Request) -> web.StreamResponse:
    """Choose a receiver and data to preview its templated fields."""
    config = request.app[SERVICE].runtime.config
    return _page(
        request,
        "templates",
        receivers=sorted(config.receivers),
        chosen="",
        data="",
        preview=None,
        error="",
    )


async def templates_preview(request: web.Request) -> web.StreamResponse:
    """Render the chosen receiver's templated fields for the sample or the pasted data.

    A POST only because pasted alert data is too big for a URL; it changes nothing."""
    auth = request.app[AUTH]
    config = request.app[SERVICE].runtime.config
    form = await request.post()
    if not auth.csrf_valid(request, form):
        return render_page("denied", 403, reason="the form was stale; reload and try again")
    chosen = str(form.get("receiver", ""))
    data = str(form.get("data", "")).strip()
    error = ""
    preview = None
    try:
        payload = json.loads(data) if data else None
        if payload is not None and not isinstance(payload, dict):
            raise ValueError("data: want a webhook body (a JSON object)")
        preview = template_preview_facts(config, chosen, payload)
    except ValueError as exc:  # json.JSONDecodeError is a ValueError too
        error = str(exc)
    return _page(
        request,
        "templates",
        receivers=sorted(config.receivers),
        chosen=chosen,
        data=data,
        preview=preview,
        error=error,
    )
