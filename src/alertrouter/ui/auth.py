"""Who may see the console: the admin credential as a session cookie or a bearer header.

With ``ALERTROUTER_ADMIN_TOKEN`` set, a request needs ``Authorization: Bearer <token>`` or the
session cookie that ``/ui/login`` sets after checking the token; without one, it must come from
loopback, like the admin API. Sessions and CSRF tokens are HMACs under a key derived from the
admin token: replicas share them, restarts keep them, changing the token ends them all.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
from collections.abc import Mapping
from urllib.parse import urlsplit

from aiohttp import web

from alertrouter.api.admin import from_loopback

__all__ = ["SESSION_COOKIE", "SESSION_SECONDS", "ConsoleAuth"]

SESSION_COOKIE = "alertrouter_session"
SESSION_SECONDS = 12 * 3600


def _loopback_host(host: str) -> bool:
    """Whether a Host header names this machine: localhost, or a loopback address."""
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    name = name.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class ConsoleAuth:
    """Checks credentials and issues session cookies and CSRF tokens."""

    def __init__(self, admin_token: str | None) -> None:
        self.token = admin_token
        # Without a token nothing is shared to derive from: a per-process key still makes the
        # CSRF token unguessable for a page on another origin.
        self._key = (
            hmac.new(admin_token.encode(), b"alertrouter-ui", hashlib.sha256).digest()
            if admin_token
            else os.urandom(32)
        )

    @property
    def needs_login(self) -> bool:
        """Whether a login is possible and needed (an admin token is set)."""
        return self.token is not None

    def _sign(self, message: str) -> str:
        return hmac.new(self._key, message.encode(), hashlib.sha256).hexdigest()

    def token_matches(self, given: str) -> bool:
        """Whether ``given`` is the admin token (constant time)."""
        return self.token is not None and hmac.compare_digest(given.encode(), self.token.encode())

    def new_session(self, now: float) -> str:
        """A session cookie value: its expiry and the HMAC of it."""
        expires = int(now + SESSION_SECONDS)
        return f"{expires}.{self._sign(f'session:{expires}')}"

    def session_valid(self, value: str, now: float) -> bool:
        """Whether ``value`` is a session this key issued that has not expired."""
        expires, _, signature = value.partition(".")
        if not expires.isdigit() or int(expires) < now:
            return False
        return hmac.compare_digest(signature, self._sign(f"session:{expires}"))

    def allowed(self, request: web.Request, now: float) -> bool:
        """Whether ``request`` carries the admin credential (or, with none set, is loopback)."""
        if self.token is None:
            # The Host check stops DNS rebinding: a page on another site whose name now
            # resolves to 127.0.0.1 reaches us from loopback, but under its own host name.
            return from_loopback(request) and _loopback_host(request.host)
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and self.token_matches(given):
            return True
        return self.session_valid(request.cookies.get(SESSION_COOKIE, ""), now)

    def csrf_token(self, request: web.Request) -> str:
        """The CSRF token of this session (bound to its cookie, so a new login changes it)."""
        return self._sign(f"csrf:{request.cookies.get(SESSION_COOKIE, '')}")

    def csrf_valid(self, request: web.Request, form: Mapping[str, object]) -> bool:
        """Whether the form carries this session's CSRF token and, when the browser names
        the page's origin, that origin is this server."""
        origin = request.headers.get("Origin")
        # Host only, not the scheme: behind a TLS proxy the page is https and we see http.
        if origin is not None and urlsplit(origin).netloc != request.host:
            return False
        given = form.get("csrf")
        return isinstance(given, str) and hmac.compare_digest(given, self.csrf_token(request))

    def set_session(self, response: web.StreamResponse, request: web.Request, now: float) -> None:
        """Set the session cookie: HttpOnly, SameSite=Strict, Secure when served over TLS
        (directly, or by a proxy that says ``X-Forwarded-Proto: https``)."""
        response.set_cookie(
            SESSION_COOKIE,
            self.new_session(now),
            max_age=SESSION_SECONDS,
            path="/ui/",
            httponly=True,
            samesite="Strict",
            # Behind a TLS proxy too: a client that lies about it only loses its own login.
            secure=request.secure or request.headers.get("X-Forwarded-Proto") == "https",
        )

    def clear_session(self, response: web.StreamResponse) -> None:
        """Forget the session cookie (logout)."""
        response.del_cookie(SESSION_COOKIE, path="/ui/")
