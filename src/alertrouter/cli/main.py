"""The ``alertrouter`` command: parses arguments, calls library functions, returns exit codes."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from alertrouter import __version__
from alertrouter.cli.client import DEFAULT_URL
from alertrouter.cli.overview import add_overview_parser
from alertrouter.cli.service import (
    deliveries_list_command,
    deliveries_retry_command,
    test_alert_command,
)
from alertrouter.cli.template import add_template_parser
from alertrouter.config.cases import load_cases, run_cases
from alertrouter.config.loader import RoutingConfig, load_routing_config
from alertrouter.config.settings import (
    DEFAULT_CONFIG,
    DEFAULT_LISTEN,
    DEFAULT_STATE_URL,
    Settings,
)
from alertrouter.constants import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from alertrouter.durations import format_duration
from alertrouter.errors import ConfigError, MatcherSyntaxError, ServeError, StoreError
from alertrouter.router.matchers import format_label_set, parse_label_set
from alertrouter.router.report import render_explain, render_tree
from alertrouter.router.tree import Router

__all__ = ["main"]


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
        "--state",
        default="all",
        choices=["all", "pending", "inflight", "dead", "done"],
        help="only deliveries in this state (default: every state, newest first)",
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
    check.add_argument(
        "--allow-missing-files",
        action="store_true",
        help="do not fail on *_file paths that do not exist here (they exist in production)",
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
    add_template_parser(commands)
    add_overview_parser(commands)
    return parser


def _client_flags(parser: argparse.ArgumentParser, token_env: str) -> None:
    parser.add_argument("--url", default=DEFAULT_URL, help=f"service URL ({DEFAULT_URL})")
    parser.add_argument("--token", help=f"bearer token (default ${token_env})")
    parser.set_defaults(token_env=token_env)


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
    from alertrouter.serve import run_server

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
        if len(exc.problems) == 1:
            print(f"alertrouter: invalid configuration: {exc.problems[0]}", file=sys.stderr)
            return EXIT_FAILED
        print("alertrouter: invalid configuration:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_FAILED
    except (ServeError, StoreError) as exc:
        print(f"alertrouter: cannot start: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def check_config_command(args: argparse.Namespace) -> int:
    """Validate each file; print a summary of each valid one and every problem of the others."""
    failed = False
    for file in args.files:
        try:
            config = load_routing_config(
                file,
                allow_missing_env=args.allow_missing_env,
                allow_missing_files=args.allow_missing_files,
            )
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
    if config.missing_files:
        lines.append(f"  missing files (allowed): {', '.join(config.missing_files)}")
    if config.warnings:
        lines.append(f"  {len(config.warnings)} warning(s):")
        lines.extend(f"    - {item}" for item in config.warnings)
    if config.ignored:
        lines.append(f"  {len(config.ignored)} ignored key(s):")
        lines.extend(f"    - {item}" for item in config.ignored)
    return "\n".join(lines)


def routes_test_command(args: argparse.Namespace) -> int:
    """``routes test``: the receivers line first, then the optional tree, walk and cases.

    Only the route tree must be valid: integrations that cannot be built here (a type not
    ported yet, a missing secret file) are warnings on stderr, so routing can be tested first.
    """
    try:
        config = load_routing_config(
            args.config, allow_missing_env=True, allow_missing_files=True, routing_only=True
        )
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_FAILED
    for warning in config.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    router = Router(config.root)
    if args.cases:
        return _run_cases(router, args.cases)
    try:
        labels = parse_label_set(args.labels)
    except MatcherSyntaxError as exc:
        print(f"Failed to parse labels: {exc}", file=sys.stderr)
        return EXIT_USAGE
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
        print(f"  labels: {format_label_set(case.labels)}")
        print(f"  - expected: {','.join(case.expect)}")
        print(f"  + got:      {','.join(result.got)}")
    print(f"{len(results) - len(failures)} of {len(results)} cases passed")
    return EXIT_FAILED if failures else EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
