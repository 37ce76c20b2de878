"""A webhook request up to the store, and from the store's outcome to the answer. Design §6.

The HTTP side of ``POST /api/v1/alerts`` in two halves, so that one process can run both
(routes) or an ingest front can take a request (``take_webhook``) and an owner process
commit it (``commit_intake``): both answer alike, count alike and log alike.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from alertrouter.config.settings import Settings
from alertrouter.drafts import Drafts, draft_jobs
from alertrouter.logs import get_logger, log_event
from alertrouter.payload import WebhookPayload, format_validation_errors
from alertrouter.service import Runtime, Service

__all__ = [
    "Committed",
    "Intake",
    "commit_intake",
    "problem_response",
    "take_webhook",
    "webhook_answer",
]

logger = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Intake:
    """One valid webhook, drafted: what the store step needs and what is counted of it."""

    drafts: Drafts
    now: float
    group_key: str
    alerts: int
    firing: int


@dataclass(frozen=True, slots=True)
class Committed:
    """What the store step made of an intake."""

    job_ids: tuple[int, ...]
    suppressed: int  # muted routes and dedup together


def problem_response(status: int, problems: list[dict[str, Any]]) -> web.Response:
    """``{"errors": [{"field", "message"}, ...]}`` with ``status``."""
    return web.json_response({"errors": problems}, status=status)


async def take_webhook(
    request: web.Request, settings: Settings, runtime: Runtime, clock: Callable[[], float]
) -> Intake | web.Response:
    """Check credentials, media type and body, and draft the jobs; or the 4xx answer.

    Over the size limit aiohttp raises its 413 while the body is read.
    """
    if not _authorized(request, settings):
        scheme = "Bearer" if settings.webhook_token else "Basic"
        return web.json_response(
            {"errors": [{"field": "Authorization", "message": "missing or invalid credentials"}]},
            status=401,
            headers={"WWW-Authenticate": f'{scheme} realm="alertrouter"'},
        )
    if request.content_type != "application/json":
        message = f"want Content-Type application/json, got {request.content_type or 'none'}"
        return problem_response(415, [{"field": "Content-Type", "message": message}])
    body = await request.read()
    try:
        payload = _parse_payload(body)
    except _BadBodyError as exc:
        return problem_response(400, exc.problems)
    now = clock()
    firing = sum(alert.status == "firing" for alert in payload.alerts)
    drafts = draft_jobs(payload, runtime.config, runtime.router, datetime.fromtimestamp(now, UTC))
    return Intake(drafts, now, payload.groupKey, len(payload.alerts), firing)


async def commit_intake(service: Service, intake: Intake) -> Committed:
    """Claim and enqueue the intake's drafts in one atomic step, wake their workers, count.

    Raises StoreError when the store cannot commit: nothing was taken, the caller answers 503.
    """
    metrics = service.metrics
    metrics.alerts_received.labels("firing").inc(intake.firing)
    metrics.alerts_received.labels("resolved").inc(intake.alerts - intake.firing)
    drafts = intake.drafts
    outcome = await service.store.claim_and_enqueue(drafts.drafts, intake.now)
    if service.engine is not None:
        service.engine.wake({f"{d.receiver}/{d.integration}" for d in drafts.drafts})
    # One increment per (receiver, reason): a resend suppresses every alert it holds.
    for (receiver, reason), count in Counter((*drafts.suppressed, *outcome.suppressed)).items():
        metrics.alerts_suppressed.labels(receiver, reason).inc(count)
    suppressed = len(drafts.suppressed) + len(outcome.suppressed)
    log_event(
        logger,
        logging.INFO,
        "webhook_accepted",
        group_key=intake.group_key,
        alerts=intake.alerts,
        queued=len(outcome.job_ids),
        suppressed=suppressed,
    )
    return Committed(tuple(outcome.job_ids), suppressed)


def webhook_answer(intake: Intake, committed: Committed) -> web.Response:
    """The 200 for a committed webhook."""
    return web.json_response(
        {
            "accepted": intake.alerts,
            "queued": len(committed.job_ids),
            "suppressed": committed.suppressed,
            "jobs": list(committed.job_ids),
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
