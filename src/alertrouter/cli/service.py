"""CLI commands that talk to a running service over HTTP: test-alert and deliveries.

Also ``test-alert --direct``, which needs no service. Parsing lives in cli.py.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Mapping
from typing import Any

from alertrouter.cli.client import ServiceClient
from alertrouter.config.loader import load_routing_config
from alertrouter.constants import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from alertrouter.delivery.direct import send_direct
from alertrouter.errors import (
    ClientError,
    ConfigError,
    MatcherSyntaxError,
    RetryableNotifierError,
)
from alertrouter.payload import build_test_webhook, unique_test_labels
from alertrouter.router.matchers import parse_label_set

__all__ = [
    "deliveries_list_command",
    "deliveries_retry_command",
    "format_table",
    "test_alert_command",
]


def _token(args: argparse.Namespace, explicit: str | None = None) -> str | None:
    return explicit or args.token or os.environ.get(args.token_env) or None


def test_alert_command(args: argparse.Namespace) -> int:
    """Post a unique test alert; with --wait, report each delivery and its outcome."""
    try:
        extra = parse_label_set(args.label)
    except MatcherSyntaxError as exc:
        print(f"--label {exc}", file=sys.stderr)
        return EXIT_USAGE
    labels = unique_test_labels(args.severity, extra)
    if args.direct:
        return _test_alert_direct(args, labels)
    admin_token = args.admin_token or os.environ.get("ALERTROUTER_ADMIN_TOKEN")
    steps = [False, True] if args.resolve else [False]
    try:
        with (
            ServiceClient(args.url, _token(args)) as poster,
            ServiceClient(args.url, admin_token) as follower,
        ):
            for resolved in steps:
                answer = poster.post_alerts(build_test_webhook(labels, resolved=resolved))
                what = "resolve" if resolved else "alert"
                print(
                    f"posted test {what} {_label_text(labels)}: queued {answer['queued']}, "
                    f"suppressed {answer['suppressed']}"
                )
                if args.wait and not _follow(follower, answer.get("jobs", []), args.timeout):
                    return EXIT_FAILED
    except ClientError as exc:
        print(f"alertrouter: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _test_alert_direct(args: argparse.Namespace, labels: dict[str, str]) -> int:
    if not args.config or not args.receiver:
        print("test-alert --direct needs --config FILE and --receiver NAME", file=sys.stderr)
        return EXIT_USAGE
    try:
        config = load_routing_config(args.config)
        results = asyncio.run(send_direct(config, args.receiver, labels, resolve=args.resolve))
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_FAILED
    if not results:
        print(f"receiver {args.receiver} has no integrations (a blackhole): nothing to send")
        return EXIT_OK
    rows = []
    for result in results:
        if result.receipt is not None:
            outcome, detail = "delivered", result.receipt.provider_status
            if result.receipt.message_id:
                detail += f" id={result.receipt.message_id}"
        else:
            assert result.error is not None
            kind = "retryable" if isinstance(result.error, RetryableNotifierError) else "permanent"
            outcome, detail = f"FAILED ({kind})", f"{result.error.reason}: {result.error}"
        ms = f"{result.seconds * 1000:.0f} ms"
        rows.append([result.integration, result.step, outcome, ms, detail])
    print(format_table(["INTEGRATION", "STEP", "OUTCOME", "TIME", "DETAIL"], rows))
    return EXIT_OK if all(r.receipt is not None for r in results) else EXIT_FAILED


def _label_text(labels: Mapping[str, str]) -> str:
    return "{" + ", ".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


def _follow(client: ServiceClient, job_ids: list[int], timeout: float) -> bool:
    if not job_ids:
        print("nothing was queued: no receiver would be notified (see routes test --explain)")
        return False

    def progress(current: list[dict[str, Any]]) -> None:
        finished = sum(d["state"] in ("done", "dead") for d in current)
        print(f"\r  waiting: {finished}/{len(current)} finished", end="", file=sys.stderr)

    results = client.wait_for(job_ids, timeout, progress)
    print(file=sys.stderr)
    rows = []
    for d in results:
        outcome = {"done": "delivered", "dead": "FAILED"}.get(d["state"], f"still {d['state']}")
        latency = "" if d["latency_seconds"] is None else f"{d['latency_seconds'] * 1000:.0f} ms"
        detail = (
            d["last_error"]
            if d["state"] != "done"
            else (d.get("receipt") or {}).get("provider_status", "")
        )
        rows.append(
            [d["receiver"], d["integration"], outcome, str(d["attempts"]), latency, detail or ""]
        )
    print(
        format_table(["RECEIVER", "INTEGRATION", "OUTCOME", "ATTEMPTS", "LATENCY", "DETAIL"], rows)
    )
    return all(d["state"] == "done" for d in results)


def deliveries_list_command(args: argparse.Namespace) -> int:
    """List recent deliveries (every state, or ``--state``), newest first, as a table or JSON."""
    try:
        with ServiceClient(args.url, _token(args)) as client:
            found = client.deliveries(args.state, args.limit, order="newest")
    except ClientError as exc:
        print(f"alertrouter: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if args.json:
        print(json.dumps(found, indent=2))
        return EXIT_OK
    now = time.time()
    rows = [
        [
            str(d["id"]),
            d["state"],
            d["receiver"],
            d["integration"],
            str(d["attempts"]),
            _age(now - d["created_at"]),
            ", ".join(sorted({str(a["alertname"]) for a in d["alerts"]})),
            d["last_error"] or "",
        ]
        for d in found
    ]
    headers = ["ID", "STATE", "RECEIVER", "INTEGRATION", "ATTEMPTS", "AGE", "ALERTS", "LAST ERROR"]
    which = "" if args.state == "all" else f"{args.state} "
    print(format_table(headers, rows) if rows else f"no {which}deliveries")
    return EXIT_OK


def deliveries_retry_command(args: argparse.Namespace) -> int:
    """Requeue one or every dead-lettered delivery."""
    try:
        with ServiceClient(args.url, _token(args)) as client:
            requeued = client.retry(None if args.all else args.id)
    except ClientError as exc:
        print(f"alertrouter: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"requeued {len(requeued)} deliver{'y' if len(requeued) == 1 else 'ies'}: "
          + ", ".join(map(str, requeued)))  # fmt: skip
    return EXIT_OK


def _age(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h"


def format_table(headers: list[str], rows: list[list[str]]) -> str:
    """Left-aligned columns separated by two spaces."""
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *rows, strict=False)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)
