"""``incident_per: group``: the dedup_key is Alertmanager's own, so a cut-over from
Alertmanager's PagerDuty receiver resolves the incidents it opened.

The real Alertmanager 0.25 posts one alert group both to its own PagerDuty integration (at a
loopback fake) and to a webhook (another fake); our PagerDuty notifier then sends that webhook
group with ``incident_per: group``, and its dedup_key must be the one Alertmanager sent, for
the trigger and for the resolve.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest

from alertrouter.notifiers.base import Notification
from alertrouter.notifiers.pagerduty import PagerDutyConfig, PagerDutyNotifier
from fakes.pagerduty import FakePagerDuty
from fakes.webhook import FakeWebhookReceiver
from processes import free_port, stop_process

ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which(
    "prometheus-alertmanager", path="/usr/bin"
)
KEY = "R0uT1nGkEy0123456789abcdefABCDEF"

pytestmark = pytest.mark.skipif(
    ALERTMANAGER is None,
    reason="prometheus-alertmanager not installed (Debian package; CI installs it)",
)

CONFIG = """\
route:
  receiver: both
  group_by: ['alertname']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: both
    webhook_configs:
      - url: {hook}
        send_resolved: true
    pagerduty_configs:
      - routing_key: {key}
        url: {pagerduty}
"""


async def wait_for(what: str, check: Any, within: float = 20.0) -> None:
    """Poll ``check`` until true; fail naming ``what``."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def as_notification(payload: Any) -> Notification:
    """What our worker hands the notifier for the webhook group Alertmanager posted."""
    body = payload.model_dump(mode="json")
    alerts = tuple(body.pop("alerts"))
    return Notification("both", "pagerduty[0]", alerts, body)


async def test_group_incidents_use_alertmanagers_dedup_key(tmp_path: Path) -> None:
    """Trigger and resolve of a two-alert group carry Alertmanager's own dedup_key."""
    assert ALERTMANAGER is not None
    async with FakePagerDuty() as theirs, FakePagerDuty() as ours, FakeWebhookReceiver() as hook:
        config = tmp_path / "alertmanager.yml"
        config.write_text(
            CONFIG.format(hook=hook.url, key=KEY, pagerduty=theirs.events_url), encoding="utf-8"
        )
        port = free_port()
        log = (tmp_path / "alertmanager.log").open("wb")
        process = subprocess.Popen(  # noqa: ASYNC220 - Popen only forks; stop_process wants it
            [
                ALERTMANAGER,
                f"--config.file={config}",
                f"--storage.path={tmp_path / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            async with (
                httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as api,
                aiohttp.ClientSession() as session,
            ):

                async def ready() -> bool:
                    try:
                        return (await api.get("/-/ready")).status_code == 200
                    except httpx.TransportError:
                        return False

                deadline = time.monotonic() + 20
                while not await ready():
                    assert process.poll() is None, (tmp_path / "alertmanager.log").read_text()
                    assert time.monotonic() < deadline, "alertmanager did not get ready"
                    await asyncio.sleep(0.1)
                alerts = [
                    {"labels": {"alertname": "DiskFull", "instance": f"db-{i}"}} for i in (1, 2)
                ]
                assert (await api.post("/api/v2/alerts", json=alerts)).status_code == 200
                await wait_for("Alertmanager's trigger", lambda: len(theirs.events) == 1)
                await wait_for("the webhook", lambda: len(hook.payloads) == 1)

                config_model = PagerDutyConfig.model_validate(
                    {"routing_key": KEY, "url": ours.events_url, "incident_per": "group"}
                )
                notifier = PagerDutyNotifier(
                    config_model, session, receiver="both", integration="pagerduty[0]"
                )
                await notifier.send(as_notification(hook.payloads[0]))

                now = datetime.now(UTC).isoformat()
                for alert in alerts:
                    alert["endsAt"] = now
                assert (await api.post("/api/v2/alerts", json=alerts)).status_code == 200
                await wait_for("Alertmanager's resolve", lambda: len(theirs.events) == 2)
                await wait_for("the resolved webhook", lambda: len(hook.payloads) == 2)
                await notifier.send(as_notification(hook.payloads[1]))
        finally:
            stop_process(process)
            log.close()
    actions = [(e["event_action"], e["dedup_key"]) for e in theirs.events]
    assert actions == [(e["event_action"], e["dedup_key"]) for e in ours.events]
    assert [a for a, _ in actions] == ["trigger", "resolve"]
    assert actions[0][1] == actions[1][1]
