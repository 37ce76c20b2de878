"""Issue #14 from outside: a real ``alertrouter serve``, loopback fakes, real failures.

A poisoned job does not hold its queue; a slow SMTP relay gets one email; a Redis outage or a
full disk between the send and its acknowledgement sends nothing twice. Every process is
stopped by its PID, every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from alertrouter.config.loader import load_routing_config
from alertrouter.drafts import draft_jobs
from alertrouter.payload import WebhookPayload
from alertrouter.router.tree import Router
from alertrouter.store.sqlite.store import SQLiteStore
from fakes.pagerduty import FakePagerDuty
from fakes.smtp import FakeSMTP
from redis_server import RedisServer, require_redis_server
from test_delivery_acceptance import ROUTING_KEY, Process, serve_process, wait_until, webhook

# Short leases: the old code re-sent an unacknowledged job as soon as its lease ran out.
FAST_TAKEOVER = {"ALERTROUTER_LEASE_SECONDS": "1", "ALERTROUTER_QUEUE_HOLD_SECONDS": "1"}


def pagerduty_routing(folder: Path, url: str) -> Path:
    """Every alert to one PagerDuty integration at ``url``, retrying fast."""
    path = folder / "routing.yml"
    path.write_text(
        textwrap.dedent(f"""
            route:
              receiver: pagerduty
              repeat_interval: 1h
            receivers:
              - name: pagerduty
                pagerduty_configs:
                  - routing_key: {ROUTING_KEY}
                    url: {url}
            """),
        encoding="utf-8",
    )
    return path


async def deliveries(server: Process, state: str) -> list[dict[str, Any]]:
    """GET /api/v1/deliveries?state=... (the admin API answers loopback without a token)."""
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{server.url}/api/v1/deliveries", params={"state": state}) as answer,
    ):
        assert answer.status == 200, await answer.text()
        body: dict[str, Any] = await answer.json()
        return list(body["deliveries"])


async def ready_status(server: Process) -> int:
    """GET /-/ready's status code."""
    async with aiohttp.ClientSession() as http, http.get(f"{server.url}/-/ready") as answer:
        return answer.status


async def post_status(server: Process, body: dict[str, Any]) -> int:
    """POST one webhook; its status code."""
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{server.url}/api/v1/alerts", json=body) as answer,
    ):
        return answer.status


def log_events(server: Process) -> list[dict[str, Any]]:
    """Every JSON log line of the process, parsed."""
    return [json.loads(line) for line in server.logs().splitlines() if line.startswith("{")]


async def queue_a_poisoned_job(config_path: Path, state: Path) -> None:
    """Store a job for an alert an older alertrouter accepted: ``startsAt`` in year 10000 UTC.

    Written through the library, as that version would have: today ingest refuses it (400).
    """
    body = webhook(["poisoned:9100"], severity="critical", alertname="Poisoned")
    valid = WebhookPayload.model_validate(body)
    alert = valid.alerts[0].model_copy(update={"startsAt": "9999-12-31T23:59:59-23:59"})
    payload = valid.model_copy(update={"alerts": [alert]})
    config = load_routing_config(config_path)
    drafts = draft_jobs(payload, config, Router(config.root), datetime_now())
    store = SQLiteStore(state)
    await store.open()
    try:
        await store.claim_and_enqueue(drafts.drafts, time.time())
    finally:
        await store.close()


def datetime_now() -> Any:
    """Now, as draft_jobs wants it."""
    from datetime import UTC, datetime

    return datetime.now(UTC)


async def test_a_poisoned_job_is_dead_lettered_and_a_later_critical_alert_pages_in_seconds(
    tmp_path: Path,
) -> None:
    """The crashing job goes to the dead letters after a few tries; the queue moves on."""
    for poisoned in ("9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59"):
        body = webhook(["refused:9100"], severity="critical")
        body["alerts"][0]["startsAt"] = poisoned
        with pytest.raises(Exception, match="startsAt"):
            WebhookPayload.model_validate(body)
    async with FakePagerDuty() as pagerduty:
        config = pagerduty_routing(tmp_path, pagerduty.events_url)
        state = tmp_path / "state.db"
        await queue_a_poisoned_job(config, state)
        async with serve_process(tmp_path, config, state) as server:
            for poisoned in ("9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59"):
                refused = webhook(["refused:9100"], severity="critical")
                refused["alerts"][0]["startsAt"] = poisoned
                assert await post_status(server, refused) == 400
            posted = time.monotonic()
            await server.post(webhook(["later:9100"], severity="critical", alertname="Later"))
            await pagerduty.wait_for(1, within=15)
            paged_after = pagerduty.requests[0].at - posted

            async def buried() -> bool:
                return len(await deliveries(server, "dead")) == 1

            await wait_until("the poisoned job to be dead-lettered", buried, 15)
            (dead,) = await deliveries(server, "dead")
            events = log_events(server)
    assert dead["alerts"][0]["alertname"] == "Poisoned"
    assert "OverflowError" in dead["last_error"]
    paged = [e["payload"]["custom_details"]["labels"]["alertname"] for e in pagerduty.events]
    assert paged == ["Later"]
    assert paged_after < 10, f"the later alert waited {paged_after:.1f}s behind the poisoned one"
    crashes = [e for e in events if e["event"] == "notifier_crashed"]
    assert len(crashes) == 3
    print(f"later critical alert paged {paged_after:.2f}s after it was posted")


async def test_a_relay_that_answers_data_after_12s_gets_one_email(tmp_path: Path) -> None:
    """The final "." is answered after 12 s (past the old 10 s timeout): one email, not seven."""
    async with FakeSMTP(reply_delay=12.0) as smtp:
        path = tmp_path / "routing.yml"
        path.write_text(
            textwrap.dedent(f"""
                route:
                  receiver: email
                receivers:
                  - name: email
                    email_configs:
                      - to: oncall@example.com
                        from: alertrouter@example.com
                        smarthost: {smtp.smarthost}
                        require_tls: false
                        retry: {{initial: 100ms}}
                """),
            encoding="utf-8",
        )
        async with serve_process(tmp_path, path, tmp_path / "state.db") as server:
            await server.post(webhook(["slow-relay:9100"]))

            async def delivered() -> bool:
                return len(await deliveries(server, "done")) == 1

            took = await wait_until("the email to be acknowledged", delivered, 25)
            received = len(smtp.received)
    assert received == 1
    assert took >= 12


@contextlib.contextmanager
def tmpfs(folder: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``folder`` (a disk that can be filled); skip if we can't."""
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {mounted.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(disk: Path) -> Path:
    """Write a file until the disk is full; it is the file to delete to free it."""
    filler = disk / "filler"
    written = 0
    with contextlib.suppress(OSError), filler.open("wb") as out:
        while True:  # until ENOSPC
            out.write(b"\0" * (1 << 20))
            out.flush()
            written += 1 << 20
    assert written, "nothing could be written: the disk was full already"
    # Fill the last partial block too.
    with contextlib.suppress(OSError), filler.open("ab") as out:
        while True:
            out.write(b"\0" * 4096)
            out.flush()
    return filler


async def test_a_full_disk_between_send_and_acknowledgement_pages_once(tmp_path: Path) -> None:
    """The disk fills while PagerDuty holds its answer: one event, readiness 503, then 200."""
    with tmpfs(tmp_path / "disk", "16m") as disk:
        async with FakePagerDuty() as pagerduty:
            pagerduty.gate = asyncio.Event()
            config = pagerduty_routing(tmp_path, pagerduty.events_url)
            state = disk / "state.db"
            async with serve_process(tmp_path, config, state, env=FAST_TAKEOVER) as server:
                await server.post(webhook(["disk:9100"], severity="critical"))
                await pagerduty.wait_for(1)
                filler = await asyncio.to_thread(fill, disk)
                assert await post_status(server, webhook(["disk-2:9100"])) == 503
                assert await ready_status(server) == 503
                pagerduty.gate.set()  # PagerDuty has it: the acknowledgement now fails

                async def pending_ack() -> bool:
                    return any(e["event"] == "notification_ack_pending" for e in log_events(server))

                await wait_until("the acknowledgement to fail", pending_ack, 10)
                await asyncio.sleep(1.5)  # past the old lease (1 s): the old code re-sent here
                filler.unlink()

                async def acknowledged() -> bool:
                    return len(await deliveries(server, "done")) == 1

                await wait_until("the job to be acknowledged", acknowledged, 10)
                assert await ready_status(server) == 200
                await asyncio.sleep(1.5)  # another lease: nothing more may go out
                events = log_events(server)
    assert len(pagerduty.events) == 1
    assert any(e["event"] == "notification_ack_recovered" for e in events)


async def test_a_redis_outage_between_send_and_acknowledgement_pages_once(tmp_path: Path) -> None:
    """Redis stops while PagerDuty holds its answer and comes back: one event, job done."""
    require_redis_server()
    redis = RedisServer(tmp_path / "redis")
    (tmp_path / "redis").mkdir()
    redis.start()
    try:
        async with FakePagerDuty() as pagerduty:
            pagerduty.gate = asyncio.Event()
            config = pagerduty_routing(tmp_path, pagerduty.events_url)
            async with serve_process(
                tmp_path, config, tmp_path / "unused.db", "--state-url", redis.url,
                env=FAST_TAKEOVER,
            ) as server:  # fmt: skip
                await server.post(webhook(["redis:9100"], severity="critical"))
                await pagerduty.wait_for(1)
                port = redis.port
                await asyncio.to_thread(redis.stop)
                pagerduty.gate.set()

                async def pending_ack() -> bool:
                    return any(e["event"] == "notification_ack_pending" for e in log_events(server))

                await wait_until("the acknowledgement to fail", pending_ack, 10)
                await asyncio.sleep(1.5)  # past the old lease (1 s)
                await asyncio.to_thread(redis.start, port)

                async def acknowledged() -> bool:
                    return len(await deliveries(server, "done")) == 1

                await wait_until("the job to be acknowledged", acknowledged, 15)
                await asyncio.sleep(1.5)  # another lease: nothing more may go out
    finally:
        redis.stop()
    assert len(pagerduty.events) == 1
    assert os.environ.get("ALERTROUTER_STATE_URL") is None  # the process had its own settings
