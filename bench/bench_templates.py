"""Template rendering throughput: renders per second of Alertmanager's default templates.

The group is 20 alerts (a seeded mix of firing and resolved, 6 labels and 2 annotations each)
built by ``data_from_webhook`` from a webhook payload. The headline row is the one Alertmanager
renders for every Slack notification, ``{{ template "slack.default.text" . }}``; the other rows
show a template that does work (the title) and the email body through html/template. Each row is
timed with ``time.perf_counter`` over a fixed count, 5 times; median, min and max renders/s are
reported. The text is parsed once (``execute_text_string`` caches it), as in the service.

A second table is the share of a Slack delivery's CPU that rendering takes: the Slack notifier
sends the same 20-alert group (title and text Go templates, the text listing every alert) to a
loopback server that answers like Slack's incoming webhook, under ``cProfile``; the share is the
time inside ``FieldRenderer`` (template data built once per notification, then each field
rendered) over the time inside ``SlackNotifier.send`` (message building, JSON, the HTTP round
trip on loopback).

Run it with ``.venv/bin/python bench/bench_templates.py`` (``--quick`` does a tenth of the work).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import platform
import pstats
import random
import statistics
import sys
import time
from typing import Any

import aiohttp
from aiohttp import web

from alertrouter.notifiers.base import Notification
from alertrouter.notifiers.slack import SlackConfig, SlackNotifier
from alertrouter.templates import from_globs
from alertrouter.templates.data import data_from_webhook
from machine import command_line, cpu_model, load_average

ROWS = [
    ("text", '{{ template "slack.default.text" . }}', 20000),
    ("text", '{{ template "slack.default.title" . }}', 5000),
    ("text", '{{ template "pagerduty.default.instances" .Alerts.Firing }}', 500),
    ("html", '{{ template "email.default.html" . }}', 200),
]


def group_payload(alerts: int, seed: int = 20) -> dict[str, Any]:
    """A webhook payload of ``alerts`` alerts sharing alertname and severity."""
    rng = random.Random(seed)
    items = []
    for i in range(alerts):
        firing = rng.random() < 0.7
        items.append(
            {
                "status": "firing" if firing else "resolved",
                "labels": {
                    "alertname": "HighLatency",
                    "severity": "warning",
                    "service": f"svc-{i % 4}",
                    "instance": f"10.0.{i // 250}.{i % 250}:9100",
                    "job": "node",
                    "region": rng.choice(["eu-west-1", "us-east-1"]),
                },
                "annotations": {
                    "summary": f"p99 latency above 500ms on svc-{i % 4}",
                    "runbook_url": "https://runbooks.example.com/latency",
                },
                "startsAt": f"2026-03-01T10:{i % 60:02d}:00Z",
                "endsAt": "0001-01-01T00:00:00Z" if firing else "2026-03-01T11:00:00Z",
                "generatorURL": "http://prometheus:9090/graph?g0.expr=latency",
                "fingerprint": f"{rng.getrandbits(64):016x}",
            }
        )
    return {
        "receiver": "slack-warnings",
        "status": "firing",
        "alerts": items,
        "groupLabels": {"alertname": "HighLatency"},
        "commonLabels": {"alertname": "HighLatency", "severity": "warning", "job": "node"},
        "commonAnnotations": {"runbook_url": "https://runbooks.example.com/latency"},
        "externalURL": "http://alertmanager:9093",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the work")
    args = parser.parse_args()
    scale = 0.1 if args.quick else 1.0

    tmpl = from_globs([])
    data = data_from_webhook(group_payload(20))
    print("## Template rendering (20-alert group)\n")
    print(
        f"- machine: {cpu_model()}, {platform.python_implementation()} {platform.python_version()}"
    )
    print(f"- load average before: {load_average()}")
    print(f"- command: `{command_line()}`\n")
    print("| type | template | renders/s (median) | min | max | µs/render |")
    print("|---|---|---:|---:|---:|---:|")
    for kind, text, count in ROWS:
        render = tmpl.execute_html_string if kind == "html" else tmpl.execute_text_string
        n = max(1, int(count * scale))
        render(text, data)  # parse and cache once, as the service does
        rates = []
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(n):
                render(text, data)
            rates.append(n / (time.perf_counter() - start))
        median = statistics.median(rates)
        shown = text.replace("|", "\\|")
        print(
            f"| {kind} | `{shown}` | {median:,.0f} | {min(rates):,.0f} | {max(rates):,.0f} "
            f"| {1e6 / median:,.1f} |"
        )
    print()
    share(max(20, int(400 * scale)))
    sys.stdout.flush()


SLACK_TITLE = '{{ template "slack.default.title" . }}'
SLACK_TEXT = (
    "{{ range .Alerts }}*{{ .Labels.alertname }}* {{ .Labels.instance }} "
    '({{ .Status }}, since {{ .StartsAt.Format "15:04" }}): {{ .Annotations.summary }}\n{{ end }}'
)


async def _deliveries(count: int) -> tuple[float, float]:
    """Seconds inside SlackNotifier.send and inside FieldRenderer, over ``count`` sends."""
    app = web.Application()

    async def hook(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(text="ok")

    app.router.add_post("/services/T/B/X", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    payload = group_payload(20)
    alerts = tuple(payload.pop("alerts"))
    notification = Notification("slack-warnings", "slack[0]", alerts, payload)
    config = SlackConfig.model_validate(
        {
            "api_url": f"http://127.0.0.1:{port}/services/T/B/X",
            "title": SLACK_TITLE,
            "text": SLACK_TEXT,
        }
    )
    profile = cProfile.Profile()
    async with aiohttp.ClientSession() as session:
        notifier = SlackNotifier(config, session, receiver="slack-warnings", integration="slack[0]")
        await notifier.send(notification)  # warm: parse and cache the templates, connect
        profile.enable()
        for _ in range(count):
            await notifier.send(notification)
        profile.disable()
        await notifier.close()
    await runner.cleanup()
    stats = pstats.Stats(profile)
    send = rendering = 0.0
    for (file, _, name), (_, _, _, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        if name == "send" and file.endswith("notifiers/slack.py"):
            send += cumulative
        if name == "_render" and file.endswith("notifiers/templating.py"):
            rendering += cumulative
    return send, rendering


def share(count: int) -> None:
    """Print the share of a Slack delivery's CPU spent rendering its templated fields."""
    send, rendering = asyncio.run(_deliveries(count))
    print("## Rendering's share of a Slack delivery (20 alerts, title and text templated)\n")
    print("| deliveries | send (ms each) | rendering (ms each) | rendering share |")
    print("|---:|---:|---:|---:|")
    print(
        f"| {count} | {1e3 * send / count:.2f} | {1e3 * rendering / count:.2f} "
        f"| {100 * rendering / send:.0f}% |"
    )


if __name__ == "__main__":
    main()
