"""End to end: the real Alertmanager posts to a real ``alertrouter serve``, which creates and
closes the Opsgenie alert and sends Telegram, Teams (both kinds) and Discord the firing and the
resolved message, on the loopback fakes."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import shutil
import sys
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from fakes.discord import FakeDiscord
from fakes.msteams import FakeTeamsConnector
from fakes.msteamsv2 import FakeTeamsWorkflow
from fakes.opsgenie import FakeOpsgenie
from fakes.telegram import FakeTelegram
from processes import free_port

ALERTMANAGER = shutil.which("prometheus-alertmanager") or (
    "/usr/bin/prometheus-alertmanager"
    if os.access("/usr/bin/prometheus-alertmanager", os.X_OK)
    else None
)
OPSGENIE_KEY = "e2e0e2e0-4c5d-6e7f-8091-a2b3c4d5e6f7"
TELEGRAM_TOKEN = "424242:e2eTokenAAHdqTcvCH1vGWJxfSeofSAs0K"
CHAT = -1009988776655
TIMEOUT = 30.0

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(ALERTMANAGER is None, reason="prometheus-alertmanager not installed"),
]

ROUTING = """\
route: {{receiver: oncall, repeat_interval: 1h}}
receivers:
  - name: oncall
    opsgenie_configs:
      - api_key: {opsgenie_key}
        api_url: {opsgenie_url}
        priority: '{{{{ if eq .CommonLabels.severity "critical" }}}}P1{{{{ end }}}}'
    telegram_configs:
      - bot_token: {telegram_token}
        chat_id: {chat}
        api_url: {telegram_url}
    msteams_configs:
      - webhook_url: {teams_url}
    msteamsv2_configs:
      - webhook_url: {workflow_url}
    discord_configs:
      - webhook_url: {discord_url}
"""

ALERTMANAGER_CONFIG = """\
route:
  receiver: alertrouter
  group_by: ['alertname']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: alertrouter
    webhook_configs:
      - url: {url}/api/v1/alerts
        send_resolved: true
"""


async def eventually(what: str, check: Callable[[], bool], logs: Callable[[], str]) -> None:
    """Poll ``check`` without blocking the loop the fakes answer on; fail after TIMEOUT."""
    deadline = time.monotonic() + TIMEOUT
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}\n{logs()}")
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def process(
    command: list[str], log: Path, ready_url: str, env: dict[str, str] | None = None
) -> AsyncIterator[asyncio.subprocess.Process]:
    """Start ``command`` and wait until ``ready_url`` answers 200; stopped by PID afterwards."""
    with log.open("wb") as output:
        started = await asyncio.create_subprocess_exec(
            *command, env=env, stdout=output, stderr=asyncio.subprocess.STDOUT
        )
    try:
        async with httpx.AsyncClient(timeout=2) as probe:
            deadline = time.monotonic() + TIMEOUT
            while True:
                if started.returncode is not None or time.monotonic() > deadline:
                    text = await asyncio.to_thread(log.read_text, errors="replace")
                    pytest.fail(f"{command[0]} not ready ({started.returncode}):\n{text}")
                with contextlib.suppress(httpx.TransportError):
                    if (await probe.get(ready_url)).status_code == 200:
                        break
                await asyncio.sleep(0.05)
        yield started
    finally:
        if started.returncode is None:
            started.terminate()
        try:
            await asyncio.wait_for(started.wait(), 10)
        except TimeoutError:
            started.kill()
            await started.wait()


async def test_firing_then_resolved_reach_opsgenie_telegram_teams_and_discord(
    tmp_path: Path,
) -> None:
    """Alertmanager's firing group creates the Opsgenie alert under Alertmanager's own alias and
    a message at Telegram, Teams (connector and Workflows) and Discord; its resolve closes that
    alias and sends each of the others a resolved message."""
    assert ALERTMANAGER is not None
    async with (
        FakeOpsgenie(api_key=OPSGENIE_KEY) as og,
        FakeTelegram(token=TELEGRAM_TOKEN, chats={CHAT}) as tg,
        FakeTeamsConnector() as teams,
        FakeTeamsWorkflow() as workflow,
        FakeDiscord() as discord,
    ):
        routing = tmp_path / "alertrouter.yml"
        routing.write_text(
            ROUTING.format(
                opsgenie_key=OPSGENIE_KEY, opsgenie_url=og.api_url, telegram_token=TELEGRAM_TOKEN,
                chat=CHAT, telegram_url=tg.url, teams_url=teams.webhook_url(),
                workflow_url=workflow.webhook_url(), discord_url=discord.webhook_url(),
            )
        )  # fmt: skip
        port, am_port = free_port(), free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("ALERTROUTER_")}
        serve = [
            str(Path(sys.executable).with_name("alertrouter")), "serve", "--config",
            str(routing), "--listen", f"127.0.0.1:{port}", "--state-url",
            f"sqlite:///{tmp_path / 'state.db'}",
        ]  # fmt: skip
        router_log = tmp_path / "alertrouter.log"
        am_config = tmp_path / "alertmanager.yml"
        am_config.write_text(ALERTMANAGER_CONFIG.format(url=f"http://127.0.0.1:{port}"))
        alertmanager = [
            ALERTMANAGER, f"--config.file={am_config}",
            f"--storage.path={tmp_path / 'am-data'}",
            f"--web.listen-address=127.0.0.1:{am_port}", "--cluster.listen-address=",
        ]  # fmt: skip
        am_log = tmp_path / "alertmanager.log"

        def logs() -> str:
            return router_log.read_text(errors="replace") + am_log.read_text(errors="replace")

        async with (
            process(serve, router_log, f"http://127.0.0.1:{port}/-/ready", env),
            process(alertmanager, am_log, f"http://127.0.0.1:{am_port}/-/ready"),
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{am_port}", timeout=5) as am_api,
        ):
            labels = {"alertname": "E2EDiskFull", "severity": "critical", "instance": "db-1"}
            started = datetime.now(UTC)
            alert = {"labels": labels, "annotations": {"summary": "disk full on db-1"},
                     "startsAt": started.isoformat()}  # fmt: skip
            assert (await am_api.post("/api/v2/alerts", json=[alert])).status_code == 200
            alias = hashlib.sha256(b'{}:{alertname="E2EDiskFull"}').hexdigest()
            await eventually("the Opsgenie create", lambda: alias in og.alerts, logs)
            await eventually("the Telegram message", lambda: len(tg.messages) == 1, logs)
            await eventually("the Teams card", lambda: len(teams.cards) == 1, logs)
            await eventually("the Workflows card", lambda: len(workflow.messages) == 1, logs)
            await eventually("the Discord message", lambda: len(discord.messages) == 1, logs)
            assert teams.cards[0]["title"].startswith("[FIRING:1] E2EDiskFull")
            assert teams.cards[0]["themeColor"] == "8C1A1A"
            assert discord.messages[0]["embeds"][0]["title"].startswith("[FIRING:1] E2EDiskFull")
            assert og.alerts[alias]["status"] == "open"
            assert og.alerts[alias]["body"]["priority"] == "P1"
            assert tg.messages[0]["text"].startswith("Alerts Firing:")  # telegram.default.message

            ended = datetime.now(UTC) - timedelta(seconds=1)
            resolved = {**alert, "endsAt": ended.isoformat()}
            assert (await am_api.post("/api/v2/alerts", json=[resolved])).status_code == 200
            await eventually(
                "the Opsgenie close", lambda: og.alerts[alias]["status"] == "closed", logs
            )
            await eventually("the resolved Telegram message", lambda: len(tg.messages) == 2, logs)
            assert [action for action, _ in og.actions] == ["create", "close"]
            assert tg.messages[1]["text"].startswith("Alerts Resolved:")
            await eventually("the resolved Teams card", lambda: len(teams.cards) == 2, logs)
            await eventually(
                "the resolved Workflows card", lambda: len(workflow.messages) == 2, logs
            )
            await eventually(
                "the resolved Discord message", lambda: len(discord.messages) == 2, logs
            )
            assert teams.cards[1]["title"].startswith("[RESOLVED] E2EDiskFull")
            assert teams.cards[1]["themeColor"] == "2DC72D"
            assert discord.messages[1]["embeds"][0]["title"].startswith("[RESOLVED] E2EDiskFull")
