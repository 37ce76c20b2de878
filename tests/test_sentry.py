"""Errors to Sentry: a real sentry-sdk in a real ``serve`` process, posting to a loopback
Sentry that records envelopes (design.md §9)."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web

from fakes.http import FakeHTTPServer, RecordedRequest, ScriptedAnswer
from fakes.pagerduty import FakePagerDuty
from processes import free_port, stop_process

ROUTING_KEY = "pd-secret-routing-key-0123456789abcdef"
SLACK_URL_SECRET = "T0SENTRY/B0SECRET/slack-secret-path-0123"
WEBHOOK_TOKEN = "webhook-token-sentry-test-987"
FIXTURE = Path(__file__).parent / "fixtures" / "alertmanager" / "raw" / "firing_critical.body"


class FakeSentry(FakeHTTPServer):
    """Accepts envelopes as Sentry's ingest does and keeps their decoded items."""

    def setup(self, app: web.Application) -> None:
        app.router.add_post("/api/{project}/envelope/", self.route(self._envelope))

    @property
    def dsn(self) -> str:
        """A DSN pointing here."""
        return f"http://publickey@127.0.0.1:{self.port}/1"

    async def _envelope(self, request: RecordedRequest) -> web.StreamResponse:
        return web.json_response({"id": "0" * 32})

    def raw_bodies(self) -> list[bytes]:
        """Every envelope body as sent (aiohttp already undid a Content-Encoding)."""
        return [
            gzip.decompress(r.body) if r.body.startswith(b"\x1f\x8b") else r.body
            for r in self.requests
        ]

    def events(self) -> list[dict[str, Any]]:
        """The error/message events (not sessions or client reports) in the envelopes."""
        found = []
        for body in self.raw_bodies():
            lines = body.split(b"\n")
            for header, payload in zip(lines[1::2], lines[2::2], strict=False):
                if json.loads(header).get("type") == "event":
                    found.append(json.loads(payload))
        return found


def routing_file(folder: Path, pagerduty_url: str) -> Path:
    path = folder / "routing.yml"
    path.write_text(
        "route:\n"
        "  receiver: pagerduty-critical\n"
        "  routes:\n"
        "    - matchers: ['severity=\"warning\"']\n"
        "      receiver: slack-warnings\n"
        "receivers:\n"
        "  - name: pagerduty-critical\n"
        "    pagerduty_configs:\n"
        f"      - routing_key: {ROUTING_KEY}\n"
        f"        url: {pagerduty_url}\n"
        "  - name: slack-warnings\n"
        "    slack_configs:\n"
        f"      - api_url: http://127.0.0.1:9/services/{SLACK_URL_SECRET}\n"
    )
    return path


@asynccontextmanager
async def serving(config: Path, state: Path, dsn: str) -> AsyncIterator[str]:
    """``alertrouter serve`` with Sentry on ``dsn``; yields its URL; SIGTERM, then kill."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALERTROUTER_", "SENTRY"))}
    env.update(
        SENTRY_DSN=dsn,
        ENVIRONMENT="ci",
        ALERTROUTER_WEBHOOK_TOKEN=WEBHOOK_TOKEN,
        ALERTROUTER_LOG_FORMAT="json",
    )
    runner = "from alertrouter.cli.main import main; raise SystemExit(main())"
    args = ["serve", "--config", str(config), "--listen", f"127.0.0.1:{port}",
            "--state-url", f"sqlite:///{state}"]  # fmt: skip
    log = (state.parent / "serve.log").open("wb")
    command = [sys.executable, "-c", runner, *args]
    process = await asyncio.to_thread(
        subprocess.Popen, command, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_until("the service is ready", lambda: _ready(url), within=20)
        yield url
    finally:
        await asyncio.to_thread(stop_process, process, 15)
        log.close()


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/-/ready", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


async def wait_until(what: str, check: Callable[[], bool], within: float = 10.0) -> None:
    """Poll ``check`` until true; fail naming ``what`` after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not await asyncio.to_thread(check):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {within}s waiting for {what}")
        await asyncio.sleep(0.1)


async def post_fixture(url: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.post(
            f"{url}/api/v1/alerts",
            content=FIXTURE.read_bytes(),
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {WEBHOOK_TOKEN}",
            },
        )


@pytest.mark.timeout(90)
async def test_a_dead_letter_is_one_tagged_event_without_any_secret(tmp_path: Path) -> None:
    """A 400 from PagerDuty dead-letters the job: Sentry gets one event tagged receiver,
    integration and reason with the alert name, and no envelope holds a configured secret."""
    async with FakeSentry() as sentry, FakePagerDuty() as pagerduty:
        pagerduty.fail_next(ScriptedAnswer(400, json.dumps({"status": "invalid event"})))
        config = routing_file(tmp_path, pagerduty.events_url)
        async with serving(config, tmp_path / "state.db", sentry.dsn) as url:
            assert (await post_fixture(url)).status_code == 200
            await wait_until("the dead-letter event", lambda: bool(sentry.events()), within=20)
            await asyncio.sleep(1.0)  # anything else the process would send arrives too
        events = sentry.events()
        bodies = sentry.raw_bodies()
    (event,) = events
    assert event["tags"]["receiver"] == "pagerduty-critical"
    assert event["tags"]["integration"] == "pagerduty"
    assert event["tags"]["reason"] == "clientError"
    assert event["environment"] == "ci"
    assert event["release"].startswith("alertrouter@")
    assert event["contexts"]["notification"]["alertnames"] == ["HighErrorRate"]
    for body in bodies:
        for secret in (ROUTING_KEY, SLACK_URL_SECRET, WEBHOOK_TOKEN):
            assert secret.encode() not in body


@pytest.mark.timeout(60)
async def test_ingest_and_delivery_work_with_sentry_down(tmp_path: Path) -> None:
    """With the Sentry endpoint refusing connections, webhooks are answered fast and delivered."""
    async with FakePagerDuty() as pagerduty:
        config = routing_file(tmp_path, pagerduty.events_url)
        dead_dsn = f"http://publickey@127.0.0.1:{free_port()}/1"
        async with serving(config, tmp_path / "state.db", dead_dsn) as url:
            started = time.monotonic()
            response = await post_fixture(url)
            assert response.status_code == 200
            assert time.monotonic() - started < 2.0
            await wait_until("the PagerDuty event", lambda: len(pagerduty.events) == 1)
