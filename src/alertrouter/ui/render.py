"""Jinja2 rendering for the console: autoescaped everywhere, since alerts are attacker data.

Every label value, annotation and provider answer reaches a page through ``{{ }}`` and so is
HTML-escaped; no template marks anything ``safe``. The security headers go on every answer.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import jinja2
from aiohttp import web

__all__ = ["SECURITY_HEADERS", "render_page", "secure"]

# No inline script or style, nothing from another origin, no framing, no form posting away.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # Not no-referrer: under it the browser sends "Origin: null" even for our own forms, and
    # the CSRF check wants to see that a POST comes from this origin.
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _when(value: float | None) -> str:
    """Unix seconds as UTC, to the second."""
    if value is None:
        return "—"
    return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _iso_input(value: float | None) -> str:
    """Unix seconds as a datetime-local input's value (UTC)."""
    if value is None:
        return ""
    return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("alertrouter.ui", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters["when"] = _when
_ENV.filters["iso_input"] = _iso_input
_ENV.filters["pretty"] = _pretty


def secure(response: web.StreamResponse) -> web.StreamResponse:
    """Add the console's security headers to ``response``."""
    response.headers.update(SECURITY_HEADERS)
    return response


def render_page(name: str, status: int = 200, **context: Any) -> web.Response:
    """Render ``templates/<name>.html.j2`` as an HTML answer with the security headers."""
    body = _ENV.get_template(f"{name}.html.j2").render(**context)
    response = web.Response(text=body, status=status, content_type="text/html")
    secure(response)
    return response
