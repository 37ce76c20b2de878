"""The operator console in a real browser: Debian's chromium, driven by Playwright, on loopback.

The app runs in-process with delivery workers and a fake Slack on 127.0.0.1. Every request the
browser makes is recorded, and none may leave the app. Screenshots of each page go to
``tmp_path``, or to ``docs/screenshots/`` (committed, linked from the README) with
``UPDATE_SCREENSHOTS=1``.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import os
import re
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from alertrouter.app import make_app
from alertrouter.cli.main import main as cli_main
from alertrouter.config.loader import load_routing_config
from alertrouter.config.settings import Settings
from alertrouter.service import SERVICE, Service
from fakes.slack import FakeSlack
from test_delivery_acceptance import routing, wait_until

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.skipif(
        not os.access(CHROMIUM, os.X_OK),
        reason="needs Debian's chromium (apt-get install chromium)",
    ),
    pytest.mark.slow,
]
playwright_api = pytest.importorskip("playwright.async_api")

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures" / "alertmanager"
SHIPPED = REPO / "config" / "alertrouter.yml"
TOKEN = "console-" + "s" * 24
XSS = "<img src=x onerror=alert(1)>"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def screenshots(tmp_path: Path) -> Path:
    """Where this run's screenshots go."""
    folder = tmp_path / "screenshots"
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        folder = REPO / "docs" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def templated(slack_url: str) -> str:
    """``routing`` with a Slack title and text templated, for the template preview."""
    fields = (
        "        send_resolved: true\n"
        "        title: '[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}'\n"
        "        text: '{{ range .Alerts }}{{ .Labels.instance }}: "
        "{{ .Annotations.summary }}{{ end }}'\n"
    )
    return routing(slack_url).replace("        send_resolved: true\n", fields, 1)


def fixture(name: str) -> dict[str, Any]:
    """A webhook body from tests/fixtures/alertmanager/."""
    body: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return body


@dataclass
class Console:
    """The app on a TestServer, and the browser page looking at it."""

    client: TestClient[Any, Any]
    service: Service
    page: Any  # playwright Page
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        """The app's base URL."""
        return str(self.client.make_url("")).rstrip("/")

    async def post(self, body: dict[str, Any]) -> list[int]:
        """POST a webhook; the job ids."""
        answer = await self.client.post("/api/v1/alerts", json=body)
        assert answer.status == 200, await answer.text()
        jobs: list[int] = (await answer.json())["jobs"]
        return jobs

    async def open(self, path: str) -> None:
        """Load a console page."""
        await self.page.goto(f"{self.url}{path}")

    async def log_in(self) -> None:
        """Log in through the form, as an operator does."""
        await self.open("/ui/")
        assert "/ui/login" in self.page.url
        await self.page.fill("#token", TOKEN)
        await self.page.click("button[type=submit]")
        await self.page.wait_for_url(f"{self.url}/ui/")

    def outside(self) -> list[str]:
        """Every request the browser made that did not go to the app."""
        return [url for url in self.requests if not url.startswith(f"{self.url}/")]


@contextlib.asynccontextmanager
async def console(
    folder: Path, routing_text: str | None = None, *, deliver: bool = True
) -> AsyncIterator[Console]:
    """Serve ``routing_text`` (default: the shipped policy, routing only) with the admin token
    set, and a headless chromium page that records every request and dialog."""
    if routing_text is None:
        path, deliver = SHIPPED, False
    else:
        path = folder / "routing.yml"
        path.write_text(routing_text, encoding="utf-8")
    config = load_routing_config(path, allow_missing_env=True)
    settings = Settings(
        config_path=str(path),
        state_url=f"sqlite:///{folder / 'state.db'}",
        admin_token=TOKEN,
        dry_run=routing_text is None,
    )
    app = make_app(settings, config, deliver=deliver)
    async with (
        TestClient(TestServer(app, host="127.0.0.1")) as client,
        playwright_api.async_playwright() as driver,
    ):
        browser = await driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            seen = Console(client, app[SERVICE], page)
            page.on("request", lambda request: seen.requests.append(request.url))
            page.on("dialog", lambda dialog: seen.dialogs.append(dialog.message))
            yield seen
        finally:
            await browser.close()


async def shoot(seen: Console, folder: Path, name: str) -> None:
    """A full-page screenshot of what the browser shows."""
    await seen.page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


async def test_a_posted_alert_shows_as_delivered_and_hostile_labels_stay_text(
    tmp_path: Path,
) -> None:
    """After logging in, a posted fixture's notification appears delivered in the history,
    with a label value holding HTML rendered as text; nothing leaves the app."""
    body = fixture("firing_warning")
    body["alerts"][0]["labels"]["instance"] = XSS
    async with FakeSlack() as slack, console(tmp_path, templated(slack.webhook_url())) as seen:
        await seen.log_in()
        shots = screenshots(tmp_path)
        (job_id,) = await seen.post(body)
        await slack.wait_for(1, 10)

        async def shown_delivered() -> bool:
            await seen.open("/ui/notifications")
            row = seen.page.locator(f'#notifications tr[data-id="{job_id}"]')
            return await row.count() == 1 and await row.get_attribute("data-state") == "done"

        await wait_until("the delivered notification on the page", shown_delivered, 10)
        row = seen.page.locator(f'#notifications tr[data-id="{job_id}"]')
        assert XSS in await row.inner_text()
        assert await seen.page.locator('img[src="x"]').count() == 0
        await shoot(seen, shots, "notifications")
        await seen.open("/ui/")
        queue = seen.page.locator('#queues tr[data-queue="slack/slack[0]"]')
        assert (await queue.locator("td").nth(6).inner_text()).strip() == "1"
        await shoot(seen, shots, "overview")
        await seen.open("/ui/templates")
        await seen.page.select_option("#receiver", "slack")
        await seen.page.click("#preview-form button[type=submit]")
        await seen.page.wait_for_selector("pre.output")
        assert await seen.page.locator("pre.output").all_inner_texts() == [
            "[FIRING] HighErrorRate",
            "checkout-1:8080: Checkout 5xx ratio above 5%",
        ]
        await shoot(seen, shots, "templates")
        await seen.page.wait_for_timeout(200)  # let any late request or dialog surface
        assert seen.dialogs == []
        assert seen.outside() == []


async def test_a_dead_letter_replayed_with_the_button_is_delivered(tmp_path: Path) -> None:
    """A 400 dead-letters a notification; its Replay button requeues it and the fake gets it."""
    async with FakeSlack() as slack, console(tmp_path, routing(slack.webhook_url())) as seen:
        slack.fail_next(FakeSlack.webhook_error(400, "invalid_payload"))
        await seen.log_in()
        (job_id,) = await seen.post(fixture("firing_warning"))

        async def buried() -> bool:
            job = await seen.service.store.get_job(job_id)
            return job is not None and job.state == "dead"

        await wait_until("the dead letter", buried, 10)
        await seen.open("/ui/dead-letters")
        row = seen.page.locator(f'#dead-letters tr[data-id="{job_id}"]')
        assert "invalid_payload" in await row.inner_text()
        await shoot(seen, screenshots(tmp_path), "dead-letters")
        await row.locator("button.replay").click()
        await seen.page.wait_for_selector("#replayed")
        assert str(job_id) in await seen.page.locator("#replayed").inner_text()
        await slack.wait_for(2, 10)

        async def delivered() -> bool:
            job = await seen.service.store.get_job(job_id)
            return job is not None and job.state == "done"

        await wait_until("the replayed delivery", delivered, 10)
        assert len(slack.messages) == 1
        assert seen.outside() == []


async def test_select_all_replays_every_dead_letter(tmp_path: Path) -> None:
    """Ticking "select all" (the console's one script) and "Replay selected" requeues both."""
    async with FakeSlack() as slack, console(tmp_path, routing(slack.webhook_url())) as seen:
        refused = FakeSlack.webhook_error(400, "invalid_payload")
        slack.fail_next(refused, refused)
        await seen.log_in()
        first = fixture("firing_warning")
        second = copy.deepcopy(first)
        second["alerts"][0]["labels"]["instance"] = "checkout-9:8080"
        second["alerts"][0]["fingerprint"] = "0000000000000009"
        ids = [*await seen.post(first), *await seen.post(second)]

        async def both_dead() -> bool:
            return len(await seen.service.store.list_jobs("dead")) == 2

        await wait_until("two dead letters", both_dead, 10)
        await seen.open("/ui/dead-letters")
        await seen.page.check("#select-all")
        await seen.page.click("#replay-selected")
        await seen.page.wait_for_selector("#replayed")
        await slack.wait_for(4, 10)
        text = await seen.page.locator("#replayed").inner_text()
        assert all(str(i) in text for i in ids)
        assert seen.outside() == []


async def test_the_routing_tester_highlights_what_routes_test_matches(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Typed labels highlight exactly the routes ``alertrouter routes test --tree`` stars, and
    the page shows its receivers line and the ``--explain`` walk."""
    labels = ["severity=critical", "team=infrastructure"]
    code = await asyncio.to_thread(
        cli_main, ["routes", "test", "--config", str(SHIPPED), "--tree", "--explain", *labels]
    )
    printed = capsys.readouterr().out
    assert code == 0
    starred = re.findall(r"^\*\s+(\S+)", printed, flags=re.MULTILINE)
    async with console(tmp_path) as seen:
        await seen.log_in()
        await seen.open("/ui/routes")
        await seen.page.fill("#labels", "\n".join(labels))
        await seen.page.click("#route-test button[type=submit]")
        await seen.page.wait_for_selector("#test-receivers")
        highlighted = await seen.page.eval_on_selector_all(
            ".route.matched", "nodes => nodes.map(n => n.dataset.route)"
        )
        receivers = await seen.page.locator("#test-receivers").inner_text()
        explained = await seen.page.locator("#explain").inner_text()
        await shoot(seen, screenshots(tmp_path), "routes")
        await seen.page.context.clear_cookies()
        await seen.open("/ui/")
        await shoot(seen, screenshots(tmp_path), "login")
        assert seen.outside() == []
    assert highlighted == starred == ["route.routes[0]", "route.routes[1]"]
    assert receivers == printed.splitlines()[0] == "pagerduty-critical,email-infrastructure"
    assert explained.strip() in printed
