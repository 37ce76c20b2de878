"""Send a synthetic alert straight through one receiver's integrations, with no service: the
way to check credentials and endpoints before going live (``test-alert --direct``)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp

from alertrouter.config.loader import RoutingConfig
from alertrouter.errors import ConfigError, ConfigProblem, NotifierError
from alertrouter.notifiers.base import Notification, Receipt
from alertrouter.notifiers.registry import notifier_class
from alertrouter.payload import build_test_webhook

__all__ = ["DirectResult", "send_direct"]


@dataclass(frozen=True, slots=True)
class DirectResult:
    """One integration's answer to one step (the alert, or its resolve)."""

    integration: str
    step: str  # "firing" or "resolved"
    receipt: Receipt | None
    error: NotifierError | None
    seconds: float


async def send_direct(
    config: RoutingConfig,
    receiver_name: str,
    labels: Mapping[str, str],
    *,
    resolve: bool = False,
) -> list[DirectResult]:
    """Send the alert (then its resolve) through every integration of ``receiver_name``."""
    receiver = config.receivers.get(receiver_name)
    if receiver is None:
        known = ", ".join(config.receivers) or "none"
        message = f'no receiver "{receiver_name}" (known: {known})'
        raise ConfigError([ConfigProblem(config.file, None, "receivers", message)])
    results: list[DirectResult] = []
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        notifiers = [
            (spec.key, notifier_class(spec.type)(
                spec.config, session, receiver=receiver.name, integration=spec.key,
                templates=config.templates,
            ))
            for spec in receiver.integrations
        ]  # fmt: skip
        for step in ("firing", "resolved") if resolve else ("firing",):
            body = build_test_webhook(labels, resolved=step == "resolved")
            notification = Notification(
                receiver=receiver.name,
                integration="",
                alerts=tuple(body["alerts"]),
                group={k: v for k, v in body.items() if k != "alerts"},
            )
            for key, notifier in notifiers:
                started = time.perf_counter()
                receipt, error = None, None
                try:
                    receipt = await notifier.send(notification)
                except NotifierError as exc:
                    error = exc
                elapsed = time.perf_counter() - started
                results.append(DirectResult(key, step, receipt, error, elapsed))
        for _, notifier in notifiers:
            await notifier.close()
    return results
