"""The ``alertrouter`` command: parses arguments, calls library functions, returns exit codes."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from alertrouter import __version__
from alertrouter.client import (
    DEFAULT_URL,
    ClientError,
    ServiceClient,
    build_test_webhook,
    unique_test_labels,
)
from alertrouter.config.durations import format_duration
from alertrouter.config.loader import RoutingConfig, load_routing_config
from alertrouter.config.settings import (
    DEFAULT_CONFIG,
    DEFAULT_LISTEN,
    DEFAULT_STATE_URL,
    Settings,
)
from alertrouter.direct_test import send_direct
from alertrouter.errors import ConfigError, RetryableNotifierError
from alertrouter.router.cases import load_cases, run_cases
from alertrouter.router.matchers import MatcherSyntaxError, parse_label_assignment
from alertrouter.router.report import render_explain, render_tree
from alertrouter.router.tree import Router

__all__ = ["main"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = argparse.ArgumentParser(
        prog="alertrouter",
        description="Routes Alertmanager webhooks to PagerDuty, Slack, email and webhooks.",
    )
    parser.add_argument("--version", action="version", version=f"alertrouter {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser(
        "serve",
        help="run the service",
        description="Serve the Alertmanager webhook. Flags override the ALERTROUTER_* "
        "environment variables.",
    )
    serve.add_argument("--config", metavar="FILE", help=f"routing file (default {DEFAULT_CONFIG})")
    serve.add_argument("--listen", metavar="HOST:PORT", help=f"default {DEFAULT_LISTEN}")
    serve.add_argument("--state-url", metavar="URL", help=f"default {DEFAULT_STATE_URL}")
    serve.add_argument(
        "--dry-run",
        action="store_true",
        default=None,
        help="send nothing: every integration logs what it would send; unset secrets allowed",
    )
    serve.add_argument("--log-format", choices=["json", "console"])
    serve.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
    serve.add_argument("--max-body-bytes", type=int, metavar="N", help="default 8 MiB")
    serve.add_argument("--tls-cert-file", metavar="FILE", help="serve HTTPS with this cert")
    serve.add_argument("--tls-key-file", metavar="FILE", help="... and this key")
    serve.set_defaults(handler=serve_command)

    test_alert = commands.add_parser(
        "test-alert",
        help="post a test alert to a running service and follow its deliveries",
        description="Post an Alertmanager-format webhook with a unique test alert. With "
        "--wait, follow each resulting delivery and exit 0 only when all were delivered.",
    )
    _client_flags(test_alert, token_env="ALERTROUTER_WEBHOOK_TOKEN")
    test_alert.add_argument("--admin-token", help="for --wait (default $ALERTROUTER_ADMIN_TOKEN)")
    test_alert.add_argument("--severity", default="warning", help="severity label (warning)")
    test_alert.add_argument(
        "--label", action="append", default=[], metavar="NAME=VALUE", help="extra label"
    )
    test_alert.add_argument(
        "--resolve", action="store_true", help="then send its resolve (after delivery with --wait)"
    )
    test_alert.add_argument("--wait", action="store_true", help="follow the deliveries")
    test_alert.add_argument(
        "--direct",
        action="store_true",
        help="no service: send straight through --receiver's integrations of --config",
    )
    test_alert.add_argument("--config", metavar="FILE", help="routing file (with --direct)")
    test_alert.add_argument("--receiver", metavar="NAME", help="receiver to test (with --direct)")
    test_alert.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for (60)")
    test_alert.set_defaults(handler=test_alert_command)

    deliveries = commands.add_parser("deliveries", help="inspect and replay deliveries")
    deliveries_commands = deliveries.add_subparsers(dest="deliveries_command", metavar="COMMAND")
    deliveries_commands.required = True
    listing = deliveries_commands.add_parser("list", help="list deliveries")
    _client_flags(listing, token_env="ALERTROUTER_ADMIN_TOKEN")
    listing.add_argument(
        "--state", default="pending", choices=["pending", "inflight", "dead", "done"]
    )
    listing.add_argument("--limit", type=int, default=100)
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=deliveries_list_command)
    retry = deliveries_commands.add_parser("retry", help="requeue dead-lettered deliveries")
    _client_flags(retry, token_env="ALERTROUTER_ADMIN_TOKEN")
    which = retry.add_mutually_exclusive_group(required=True)
    which.add_argument("id", nargs="?", type=int, help="delivery id")
    which.add_argument("--all", action="store_true", help="every dead-lettered delivery")
    retry.set_defaults(handler=deliveries_retry_command)

    check = commands.add_parser("check-config", help="validate routing files")
    check.add_argument("files", nargs="+", metavar="FILE")
    check.add_argument(
        "--allow-missing-env",
        action="store_true",
        help="do not fail on unset ${VAR} references (e.g. secrets absent in CI)",
    )
    check.set_defaults(handler=check_config_command)

    routes = commands.add_parser("routes", help="inspect the routing tree")
    routes_commands = routes.add_subparsers(dest="routes_command", metavar="COMMAND")
    routes_commands.required = True
    test = routes_commands.add_parser(
        "test",
        help="print the receivers a label set reaches (the line amtool prints)",
        description="Print the receivers that alerts with the given labels reach, comma-"
        "separated, exactly as `amtool config routes test` does.",
    )
    test.add_argument("--config", required=True, metavar="FILE", help="routing file")
    test.add_argument("--tree", action="store_true", help="also print the route tree")
    test.add_argument("--explain", action="store_true", help="also print the walk, node by node")
    test.add_argument("--cases", metavar="FILE", help="run golden cases from a YAML file")
    test.add_argument(
        "--verify-receivers",
        metavar="R1,R2",
        help="exit 1 unless the receivers are exactly these (as amtool's --verify.receivers)",
    )
    test.add_argument("labels", nargs="*", metavar="name=value")
    test.set_defaults(handler=routes_test_command)
    return parser


def _client_flags(parser: argparse.ArgumentParser, token_env: str) -> None:
    parser.add_argument("--url", default=DEFAULT_URL, help=f"service URL ({DEFAULT_URL})")
    parser.add_argument("--token", help=f"bearer token (default ${token_env})")
    parser.set_defaults(token_env=token_env)


def _token(args: argparse.Namespace, explicit: str | None = None) -> str | None:
    return explicit or args.token or os.environ.get(args.token_env) or None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return EXIT_USAGE
    code: int = handler(args)
    return code


def serve_command(args: argparse.Namespace) -> int:
    """Validate everything, then serve until SIGTERM/SIGINT."""
    from alertrouter.server import ServeError, run_server

    try:
        settings = Settings.from_env(os.environ).with_overrides(
            config_path=args.config,
            listen=args.listen,
            state_url=args.state_url,
            dry_run=args.dry_run,
            log_format=args.log_format,
            log_level=args.log_level,
            max_body_bytes=args.max_body_bytes,
            tls_cert_file=args.tls_cert_file,
            tls_key_file=args.tls_key_file,
        )
        run_server(settings)
    except ConfigError as exc:
        print("alertrouter: invalid configuration:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_FAILED
    except ServeError as exc:
        print(f"alertrouter: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def test_alert_command(args: argparse.Namespace) -> int:
    """Post a unique test alert; with --wait, report each delivery and its outcome."""
    extra: dict[str, str] = {}
    for text in args.label:
        try:
            name, value = parse_label_assignment(text)
        except MatcherSyntaxError as exc:
            print(f"--label {text}: {exc}", file=sys.stderr)
            return EXIT_USAGE
        extra[name] = value
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
    """List deliveries in a state, as a table or JSON."""
    try:
        with ServiceClient(args.url, _token(args)) as client:
            found = client.deliveries(args.state, args.limit)
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
    print(format_table(headers, rows) if rows else f"no {args.state} deliveries")
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


def check_config_command(args: argparse.Namespace) -> int:
    """Validate each file; print a summary of each valid one and every problem of the others."""
    failed = False
    for file in args.files:
        try:
            config = load_routing_config(file, allow_missing_env=args.allow_missing_env)
        except ConfigError as exc:
            failed = True
            print(f"Checking {file}  FAILED: {len(exc.problems)} problem(s)", file=sys.stderr)
            for problem in exc.problems:
                print(f"  {problem}", file=sys.stderr)
            continue
        print(f"Checking {file}  SUCCESS")
        print(_summary(config))
    return EXIT_FAILED if failed else EXIT_OK


def _summary(config: RoutingConfig) -> str:
    nodes = config.root.walk()
    intervals = ", ".join(format_duration(r) for r in config.repeat_intervals)
    lines = [f"  {len(config.receivers)} receiver(s):"]
    for receiver in config.receivers.values():
        kinds = (
            ", ".join(spec.key for spec in receiver.integrations) or "no integrations: blackhole"
        )
        lines.append(f"    - {receiver.name} ({kinds})")
    lines.append(f"  {len(nodes)} route(s) including the root; repeat intervals: {intervals}")
    if config.time_intervals:
        lines.append(f"  {len(config.time_intervals)} time interval(s)")
    if config.missing_variables:
        lines.append(f"  unset variables (allowed): {', '.join(config.missing_variables)}")
    if config.ignored:
        lines.append(f"  {len(config.ignored)} ignored key(s):")
        lines.extend(f"    - {item}" for item in config.ignored)
    return "\n".join(lines)


def routes_test_command(args: argparse.Namespace) -> int:
    """``routes test``: the receivers line first, then the optional tree, walk and cases."""
    try:
        config = load_routing_config(args.config, allow_missing_env=True)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_FAILED
    router = Router(config.root)
    if args.cases:
        return _run_cases(router, args.cases)
    labels: dict[str, str] = {}
    for text in args.labels:
        try:
            name, value = parse_label_assignment(text)
        except MatcherSyntaxError as exc:
            print(f"Failed to parse labels: {exc}", file=sys.stderr)
            return EXIT_USAGE
        labels[name] = value
    receivers = ",".join(route.receiver for route in router.match(labels))
    print(receivers)
    if args.tree:
        print("\nMatching routes (* = final match):")
        print(render_tree(config.root, labels))
    if args.explain:
        print("\nWalk:")
        print(render_explain(config.root, labels))
    if args.verify_receivers is not None and args.verify_receivers != receivers:
        print("WARNING: Expected receivers did not match resolved receivers.")
        return EXIT_FAILED
    return EXIT_OK


def _run_cases(router: Router, cases_file: str) -> int:
    try:
        cases = load_cases(Path(cases_file).read_text(encoding="utf-8"), cases_file)
    except OSError as exc:
        print(f"{cases_file}: cannot read: {exc.strerror}", file=sys.stderr)
        return EXIT_FAILED
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_FAILED
    results = run_cases(router, cases)
    failures = [r for r in results if not r.passed]
    for result in results:
        case = result.case
        if result.passed:
            print(f"PASS {case.name}")
            continue
        print(f"FAIL {case.name} ({cases_file}:{case.line})")
        print(f"  labels: {dict(case.labels)}")
        print(f"  - expected: {','.join(case.expect)}")
        print(f"  + got:      {','.join(result.got)}")
    print(f"{len(results) - len(failures)} of {len(results)} cases passed")
    return EXIT_FAILED if failures else EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
