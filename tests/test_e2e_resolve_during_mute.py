"""End to end through the real Alertmanager: a page, then a mute window that starts, then the
resolve during the mute still reaches PagerDuty (design.md §4; prometheus/alertmanager#3664),
while a firing alert that arrives during the mute is not paged."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from fakes.pagerduty import FakePagerDuty
from processes import free_port
from test_e2e_receivers import ALERTMANAGER, ALERTMANAGER_CONFIG, eventually, process

KEY = "R0uT1nGkEy0123456789abcdefABCDEF"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(ALERTMANAGER is None, reason="prometheus-alertmanager not installed"),
]

ROUTING = """\
time_intervals:
  - name: maintenance
    time_intervals:
      - weekdays: ['sunday:saturday']
route:
  receiver: pager
  repeat_interval: 1h
  routes:
    - matchers: ['severity="critical"']
      receiver: pager
{mute}receivers:
  - name: pager
    pagerduty_configs:
      - routing_key: {key}
        url: {url}
"""


async def test_a_resolve_during_a_mute_reaches_pagerduty(tmp_path: Path) -> None:
    """Paged, then muted by a reload: the resolve is sent, a new firing alert is not."""
    assert ALERTMANAGER is not None
    async with FakePagerDuty() as pagerduty:
        routing = tmp_path / "alertrouter.yml"
        routing.write_text(ROUTING.format(mute="", key=KEY, url=pagerduty.events_url))
        port, am_port = free_port(), free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("ALERTROUTER_")}
        serve = [
            str(Path(sys.executable).with_name("alertrouter")), "serve", "--config",
            str(routing), "--listen", f"127.0.0.1:{port}", "--state-url",
            f"sqlite:///{tmp_path / 'state.db'}",
        ]  # fmt: skip
        am_config = tmp_path / "alertmanager.yml"
        am_config.write_text(ALERTMANAGER_CONFIG.format(url=f"http://127.0.0.1:{port}"))
        alertmanager = [
            ALERTMANAGER, f"--config.file={am_config}",
            f"--storage.path={tmp_path / 'am-data'}",
            f"--web.listen-address=127.0.0.1:{am_port}", "--cluster.listen-address=",
        ]  # fmt: skip
        router_log, am_log = tmp_path / "alertrouter.log", tmp_path / "alertmanager.log"

        def logs() -> str:
            return router_log.read_text(errors="replace") + am_log.read_text(errors="replace")

        async with (
            process(serve, router_log, f"http://127.0.0.1:{port}/-/ready", env),
            process(alertmanager, am_log, f"http://127.0.0.1:{am_port}/-/ready"),
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{am_port}", timeout=5) as am_api,
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as router,
        ):
            paged = {"alertname": "DBDown", "severity": "critical", "instance": "db-1"}
            alert = {"labels": paged, "startsAt": datetime.now(UTC).isoformat()}
            assert (await am_api.post("/api/v2/alerts", json=[alert])).status_code == 200
            await eventually("the page", lambda: len(pagerduty.events) == 1, logs)

            # The maintenance window starts: the critical route is muted from now on.
            mute = "      mute_time_intervals: [maintenance]\n"
            routing.write_text(ROUTING.format(mute=mute, key=KEY, url=pagerduty.events_url))
            assert (await router.post("/-/reload")).status_code == 200

            later = {"alertname": "DiskFull", "severity": "critical", "instance": "db-2"}
            muted = {"labels": later, "startsAt": datetime.now(UTC).isoformat()}
            assert (await am_api.post("/api/v2/alerts", json=[muted])).status_code == 200
            ended = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
            resolved = {**alert, "endsAt": ended}
            assert (await am_api.post("/api/v2/alerts", json=[resolved])).status_code == 200
            await eventually("the resolve", lambda: len(pagerduty.events) == 2, logs)
            muted_line = 'group_key="{}:{alertname=\\"DiskFull\\"}" alerts=1 queued=0 suppressed=1'
            await eventually("the muted alert's webhook", lambda: muted_line in logs(), logs)
    trigger, resolve = pagerduty.events
    assert trigger["event_action"] == "trigger"
    assert resolve["event_action"] == "resolve"
    assert resolve["dedup_key"] == trigger["dedup_key"]
