"""What the notification series count (design.md §8): Alertmanager's meanings for the names it
shares with us, counted by a real worker over the memory store; build, process and dry-run series.
"""

from __future__ import annotations

import platform
import time
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from alertrouter import __version__
from alertrouter.app import make_app
from alertrouter.config.loader import load_routing_config
from alertrouter.config.settings import Settings
from alertrouter.delivery.worker import IntegrationWorker
from alertrouter.errors import PermanentNotifierError, RetryableNotifierError
from alertrouter.metrics import Metrics
from alertrouter.notifiers.log import LogConfig, LogNotifier, stand_in
from alertrouter.notifiers.pagerduty import PagerDutyNotifier
from alertrouter.notifiers.slack import SlackNotifier
from alertrouter.store.memory import MemoryStore
from factories import make_draft
from test_delivery_worker import NonCoalescingNotifier, RecordingNotifier, run_worker, spec_with

RECEIVER = "slack-warnings"  # run_worker's receiver


def value(worker: IntegrationWorker, name: str, **labels: str) -> float:
    """One sample of the worker's registry (0 when the series does not exist)."""
    found = worker.metrics.registry.get_sample_value(name, labels)
    return 0.0 if found is None else found


@pytest.fixture
async def session() -> Any:
    async with aiohttp.ClientSession() as http:
        yield http


async def test_a_retried_notification_is_attempted_once_and_requested_each_time(
    session: Any,
) -> None:
    """Two failed requests then a delivery: 1 attempted, 3 requests (2 failed), 0 failed."""
    store = MemoryStore()
    await store.claim_and_enqueue([make_draft("a")], time.time())
    notifier = NonCoalescingNotifier(LogConfig(), session, receiver="r", integration="slack[0]")
    notifier.failures += [RetryableNotifierError("serverError", "500")] * 2
    spec = spec_with(retry={"initial": "10ms", "max_interval": "20ms"})
    worker = await run_worker(store, notifier, until=lambda: bool(notifier.sent), spec=spec)
    pair = {"receiver": RECEIVER, "integration": "slack"}
    assert value(worker, "alertrouter_notifications_total", **pair) == 1
    assert value(worker, "alertrouter_notifications_delivered_total", **pair) == 1
    assert (
        value(worker, "alertrouter_notifications_failed_total", reason="serverError", **pair) == 0
    )
    assert value(worker, "alertrouter_notification_requests_total", integration="slack") == 3
    assert value(worker, "alertrouter_notification_requests_failed_total", integration="slack") == 2
    assert value(worker, "alertrouter_notification_latency_seconds_count", integration="slack") == 3
    assert value(worker, "alertrouter_delivery_latency_seconds_count", integration="slack") == 1


async def test_a_dead_letter_is_one_failed_notification_with_its_reason(session: Any) -> None:
    """A permanent failure counts the notification attempted once and failed once (clientError)."""
    store = MemoryStore()
    await store.claim_and_enqueue([make_draft("x")], time.time())
    notifier = RecordingNotifier(LogConfig(), session, receiver="r", integration="slack[0]")
    notifier.failures.append(PermanentNotifierError("clientError", "400 invalid_payload"))
    dead: list[Any] = []
    worker = await run_worker(store, notifier, until=lambda: bool(dead), dead=dead)
    pair = {"receiver": RECEIVER, "integration": "slack"}
    assert value(worker, "alertrouter_notifications_total", **pair) == 1
    assert (
        value(worker, "alertrouter_notifications_failed_total", reason="clientError", **pair) == 1
    )
    assert value(worker, "alertrouter_notifications_delivered_total", **pair) == 0
    assert value(worker, "alertrouter_notification_requests_failed_total", integration="slack") == 1


async def test_a_digest_counts_every_notification_it_carries_in_one_request(session: Any) -> None:
    """25 queued jobs sent as one digest: 25 attempted and delivered, 1 request."""
    store = MemoryStore()
    for i in range(25):
        await store.claim_and_enqueue([make_draft(f"d{i}")], time.time())
    notifier = RecordingNotifier(LogConfig(), session, receiver="r", integration="slack[0]")
    spec = spec_with(storm={"threshold": 10})
    worker = await run_worker(store, notifier, until=lambda: bool(notifier.sent), spec=spec)
    pair = {"receiver": RECEIVER, "integration": "slack"}
    assert value(worker, "alertrouter_notifications_total", **pair) == 25
    assert value(worker, "alertrouter_notifications_delivered_total", **pair) == 25
    assert value(worker, "alertrouter_notification_requests_total", integration="slack") == 1


def test_build_info_and_process_series_are_on_the_app_registry() -> None:
    """build_info carries the version and Python; the process collector is registered."""
    registry = Metrics().registry
    build = {"version": __version__, "python": platform.python_version()}
    assert registry.get_sample_value("alertrouter_build_info", build) == 1
    assert registry.get_sample_value("process_resident_memory_bytes") is not None


ROUTING = """\
route: {receiver: pager}
receivers:
  - name: pager
    pagerduty_configs: [{routing_key: "${PAGERDUTY_SERVICE_KEY}"}]
"""


async def test_a_dry_run_labels_its_deliveries_integration_log(tmp_path: Any) -> None:
    """Dry run: every series says integration="log" (the notifier used), none "pagerduty"."""
    path = tmp_path / "alertrouter.yml"
    path.write_text(ROUTING, encoding="utf-8")
    settings = Settings(
        config_path=str(path), state_url="memory://", dry_run=True, webhook_token="t"
    )
    app = make_app(settings, load_routing_config(path, allow_missing_env=True), deliver=True)
    async with TestClient(TestServer(app)) as client:
        answer = await client.get("/metrics")
        text = await answer.text()
    assert 'alertrouter_notifications_total{integration="log",receiver="pager"} 0.0' in text
    assert 'alertrouter_queue_depth{integration="log"} 0.0' in text
    assert "alertrouter_ready 1.0" in text
    assert 'integration="pagerduty"' not in text


def test_a_dry_run_keeps_pagerdutys_no_digest_semantics() -> None:
    """Dry run: PagerDuty's stand-in never coalesces a backlog (every incident is logged on
    its own), while a type that digests keeps digesting."""
    assert stand_in(PagerDutyNotifier).coalesce is False
    assert issubclass(stand_in(PagerDutyNotifier), LogNotifier)
    assert stand_in(SlackNotifier) is LogNotifier
