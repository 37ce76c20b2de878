"""Console page times with 10,000 notifications in the history.

The app runs in-process on loopback with the default SQLite store (a file in a temporary
folder) and no delivery workers. The history is filled through the real paths: webhooks of 100
alerts each are POSTed to ``/api/v1/alerts`` (the routing sends each alert to PagerDuty, one
job per alert, so 100 webhooks make 10,000 jobs), then the store leases them and marks 98 %
delivered with a receipt and 2 % dead, as workers would. Then each console page and JSON twin
is requested ``--requests`` times (after 3 warm-up requests) with the admin bearer token, and
the time from sending the request to reading the whole answer is reported: median, p95, max.

Run it with ``.venv/bin/python bench/bench_ui.py`` (``--notifications N`` to change the size).
The goal is every page under 200 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from alertrouter.app import make_app
from alertrouter.config.loader import load_routing_config
from alertrouter.config.settings import Settings
from alertrouter.payload import alertmanager_fingerprint
from alertrouter.service import SERVICE
from machine import command_line, cpu_model, load_average

TOKEN = "bench-" + "x" * 26
ALERTS_PER_WEBHOOK = 100
GOAL_MS = 200.0
ROUTING = """
route:
  receiver: pagerduty
  repeat_interval: 1h
  routes:
    - matchers: ['severity="critical"']
      receiver: pagerduty
    - matchers: ['team="infrastructure"']
      receiver: pagerduty
      continue: true
receivers:
  - name: pagerduty
    pagerduty_configs:
      - routing_key: {key}
        url: http://127.0.0.1:9/v2/enqueue
"""


def webhook(batch: int) -> dict[str, Any]:
    """One Alertmanager webhook of ``ALERTS_PER_WEBHOOK`` distinct firing alerts."""
    alerts = []
    for i in range(ALERTS_PER_WEBHOOK):
        labels = {
            "alertname": f"Alert{(batch * 7 + i) % 40}",
            "severity": ("critical", "warning", "info")[i % 3],
            "team": ("infrastructure", "payments", "search")[i % 3],
            "instance": f"host-{batch}-{i}:9100",
            "job": "node",
        }
        alerts.append(
            {
                "status": "firing",
                "labels": labels,
                "annotations": {"summary": f"summary {batch}/{i}", "description": "x" * 120},
                "startsAt": "2026-12-05T10:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus.example/graph",
                "fingerprint": alertmanager_fingerprint(labels),
            }
        )
    return {
        "version": "4",
        "groupKey": f'{{}}:{{batch="{batch}"}}',
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "pagerduty",
        "groupLabels": {},
        "commonLabels": {"job": "node"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example",
        "alerts": alerts,
    }


async def fill(client: TestClient[Any, Any], app: Any, notifications: int) -> float:
    """Ingest and settle ``notifications`` jobs; the seconds it took."""
    started = time.perf_counter()
    service = app[SERVICE]
    for batch in range(notifications // ALERTS_PER_WEBHOOK):
        answer = await client.post("/api/v1/alerts", json=webhook(batch))
        assert answer.status == 200, await answer.text()
    store = service.store
    settled = 0
    while True:
        jobs = await store.fetch_due(None, service.clock(), 500, 600)
        if not jobs:
            break
        for job in jobs:
            settled += 1
            if settled % 50 == 0:
                await store.dead_letter(job.id, "serverError: PagerDuty answered 500", time.time())
            else:
                receipt = {"status": 202, "dedup_key": f"k{job.id}", "message": "Event processed"}
                await store.complete(job.id, time.time(), receipt)
    return time.perf_counter() - started


async def measure(
    client: TestClient[Any, Any], method: str, path: str, body: Any, n: int
) -> list[float]:
    """Milliseconds per request for ``n`` requests after 3 warm-ups."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    times: list[float] = []
    for i in range(n + 3):
        started = time.perf_counter()
        answer = await client.request(
            method, path, json=body, headers=headers, allow_redirects=False
        )
        await answer.read()
        elapsed = (time.perf_counter() - started) * 1000
        assert answer.status == 200, (path, answer.status)
        if i >= 3:
            times.append(elapsed)
    return times


async def run(notifications: int, requests: int) -> int:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "routing.yml"
        path.write_text(textwrap.dedent(ROUTING).format(key="k" * 32), encoding="utf-8")
        settings = Settings(
            config_path=str(path),
            state_url=f"sqlite:///{Path(folder) / 'state.db'}",
            admin_token=TOKEN,
        )
        app = make_app(settings, load_routing_config(path))
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            took = await fill(client, app, notifications)
            stats = await app[SERVICE].store.stats()
            dead = sum(stats.dead.values())
            print(f"History: {notifications:,} notifications ({notifications - dead:,} delivered, "
                  f"{dead:,} dead), filled in {took:.1f} s")  # fmt: skip
            first = await (
                await client.get(
                    "/api/v1/notifications?limit=1", headers={"Authorization": f"Bearer {TOKEN}"}
                )
            ).json()
            fingerprint = first["notifications"][0]["alerts"][0]["fingerprint"]
            tester = "/ui/routes?labels=severity%3Dcritical%0Ateam%3Dinfrastructure"
            one_alert = f"/ui/notifications?fingerprint={fingerprint}"
            route_test = {"labels": {"severity": "critical"}}
            cases: list[tuple[str, str, str, Any]] = [
                ("overview", "GET", "/ui/", None),
                ("notifications (newest 100)", "GET", "/ui/notifications", None),
                ("notifications ?alertname=", "GET", "/ui/notifications?alertname=Alert7", None),
                ("notifications ?fingerprint=", "GET", one_alert, None),
                ("notifications ?state=dead", "GET", "/ui/notifications?state=dead", None),
                ("dead letters (200)", "GET", "/ui/dead-letters", None),
                ("routes + tester", "GET", tester, None),
                ("templates", "GET", "/ui/templates", None),
                ("GET /api/v1/overview", "GET", "/api/v1/overview", None),
                ("GET /api/v1/notifications", "GET", "/api/v1/notifications", None),
                ("POST /api/v1/routes/test", "POST", "/api/v1/routes/test", route_test),
            ]  # fmt: skip
            print()
            print("| page | median ms | p95 ms | max ms | under 200 ms |")
            print("|---|--:|--:|--:|---|")
            worst = 0.0
            for name, method, target, body in cases:
                times = sorted(await measure(client, method, target, body, requests))
                p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
                worst = max(worst, p95)
                print(f"| {name} | {statistics.median(times):.1f} | {p95:.1f} | {times[-1]:.1f} | "
                      f"{'yes' if p95 < GOAL_MS else 'NO'} |")  # fmt: skip
    return 0 if worst < GOAL_MS else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notifications", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    print(f"Command: {command_line()}")
    print(f"Machine: {len(os.sched_getaffinity(0))} CPUs, {cpu_model()}, {platform.system()} "
          f"{platform.release()}")  # fmt: skip
    print(f"Python: {platform.python_implementation()} {platform.python_version()}")
    print(f"Load average at start: {load_average()}")
    code = asyncio.run(run(args.notifications, args.requests))
    print(f"\nLoad average at end: {load_average()}")
    return code


if __name__ == "__main__":
    sys.exit(main())
