"""The operator console: server-rendered pages under ``/ui/`` behind the admin credential.

``setup_ui(app)`` mounts it as a sub-application with its own middleware (credential check,
security headers) unless ``ALERTROUTER_UI=false``. Pages read the same facts as their JSON
twins in ``api/console.py``; templates and static files ship in this package.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from alertrouter.service import SERVICE
from alertrouter.ui.auth import ConsoleAuth
from alertrouter.ui.pages import AUTH, setup_pages
from alertrouter.ui.render import SECURITY_HEADERS, render_page, secure

__all__ = ["setup_ui"]

STATIC = Path(__file__).with_name("static")
_OPEN_PATHS = ("/ui/login", "/ui/static/")  # reachable before a login
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def setup_ui(app: web.Application) -> None:
    """Mount the console at ``/ui/`` on ``app`` (which holds the service), if enabled."""
    service = app[SERVICE]
    if not service.settings.ui:
        return
    console = web.Application(middlewares=[_guard])
    console[SERVICE] = service
    console[AUTH] = ConsoleAuth(service.settings.admin_token)
    setup_pages(console)
    console.router.add_static("/static/", STATIC)
    app.add_subapp("/ui/", console)
    app.router.add_get("/ui", _to_console)


async def _to_console(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/ui/")


@web.middleware
async def _guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Let through only the admin credential (login and static files excepted); add the
    security headers to every answer, errors and redirects included."""
    auth = request.app[AUTH]
    try:
        if not request.path.startswith(_OPEN_PATHS) and not auth.allowed(
            request, request.app[SERVICE].clock()
        ):
            if auth.needs_login:
                if request.method == "GET":
                    raise web.HTTPSeeOther(f"/ui/login?next={request.path}")
                return render_page("denied", 401, reason="log in with the admin token first")
            return render_page(
                "denied",
                403,
                reason="set ALERTROUTER_ADMIN_TOKEN to use the console from another host",
            )
        return secure(await handler(request))
    except web.HTTPException as exc:
        exc.headers.update(SECURITY_HEADERS)
        raise
