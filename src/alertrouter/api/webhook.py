"""``POST /api/v1/alerts``, the HTTP side: credentials, media type, body; then Service.accept.

Design §6: 200 only after the commit, 400 naming each field, 401, 413, 415, 503.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import re
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from alertrouter.config.settings import Settings
from alertrouter.errors import PayloadError, StoreError
from alertrouter.logs import get_logger, log_event
from alertrouter.payload import WebhookPayload, format_validation_errors
from alertrouter.service import SERVICE

__all__ = ["expect_within_limit", "problem_response", "receive_alerts"]

logger = get_logger(__name__)


def problem_response(status: int, problems: list[dict[str, Any]]) -> web.Response:
    """``{"errors": [{"field", "message"}, ...]}`` with ``status``."""
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
    """Credentials, media type and body (each a 4xx naming what is wrong), then ``accept``.

    Over the size limit aiohttp raises its 413 while the body is read.
    """
    service = request.app[SERVICE]
    if not service.accepting:
        raise web.HTTPServiceUnavailable(text="alertrouter is starting or draining\n")
    settings = service.settings
    if not _authorized(request, settings):
        scheme = "Bearer" if settings.webhook_token else "Basic"
        return web.json_response(
            {"errors": [{"field": "Authorization", "message": "missing or invalid credentials"}]},
            status=401,
            headers={"WWW-Authenticate": f'{scheme} realm="alertrouter"'},
        )
    too_large = _announced_too_large(request, settings.max_body_bytes)
    if too_large is not None:
        return too_large
    if request.content_type != "application/json":
        message = f"want Content-Type application/json, got {request.content_type or 'none'}"
        return problem_response(415, [{"field": "Content-Type", "message": message}])
    body = await request.read()
    try:
        payload = _parse_payload(body)
    except PayloadError as exc:
        return problem_response(400, exc.problems)
    try:
        accepted = await service.accept(payload, service.clock())
    except StoreError as exc:
        log_event(logger, logging.ERROR, "webhook_not_committed", error=str(exc))
        raise web.HTTPServiceUnavailable(text="state store unavailable, retry\n") from None
    return web.json_response(
        {
            "accepted": accepted.alerts,
            "queued": len(accepted.job_ids),
            "suppressed": accepted.suppressed,
            "jobs": list(accepted.job_ids),
        }
    )


async def expect_within_limit(request: web.Request) -> web.Response | None:
    """``Expect: 100-continue``: a 413 for an announced oversize body before the client sends it.

    aiohttp's own handler says "100 Continue" to any size and then reads up to the limit.
    """
    if request.version != (1, 1):
        return None  # HTTP/1.0 has no 100 Continue (aiohttp ignores Expect there too)
    if request.headers.get("Expect", "").lower() != "100-continue":
        raise web.HTTPExpectationFailed(text="only Expect: 100-continue is understood\n")
    too_large = _announced_too_large(request, request.app[SERVICE].settings.max_body_bytes)
    if too_large is not None:
        return too_large
    await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    request.writer.output_size = 0  # as aiohttp's handler: the answer proper starts after
    return None


def _announced_too_large(request: web.Request, limit: int) -> web.Response | None:
    """A 413 when Content-Length says the body is over ``limit`` (counted, one info line)."""
    length = request.content_length
    if length is None or length <= limit:
        return None
    metrics = request.app[SERVICE].metrics
    metrics.http_protocol_errors.labels("body_too_large").inc()
    log_event(logger, logging.INFO, "http_protocol_error", kind="body_too_large",
              peer=request.remote, content_length=length, limit=limit)  # fmt: skip
    message = f"the body ({length} bytes) is over the limit of {limit} bytes"
    response = problem_response(413, [{"field": "(body)", "message": message}])
    response.force_close()  # not reading the body: the connection cannot carry another request
    return response


def _parse_payload(body: bytes) -> WebhookPayload:
    """Parse and validate the body in one pass (pydantic's JSON parser), or PayloadError."""
    try:
        if _SURROGATE_ESCAPE.search(body):
            data = _replace_lone_surrogates(json.loads(body))
            return WebhookPayload.model_validate(data)
        return WebhookPayload.model_validate_json(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        if isinstance(exc, ValidationError):
            raise PayloadError(format_validation_errors(exc)) from None
        raise PayloadError([{"field": "(body)", "message": f"invalid JSON: {exc}"}]) from None


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


def _authorized(request: web.Request, settings: Settings) -> bool:
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
