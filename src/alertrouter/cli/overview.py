"""``alertrouter overview``: the console's overview page in a terminal (``GET /api/v1/overview``).

The same facts as ``/ui/``: each integration's queue and last hour, the config and its last
reload, the store and the replica that answered.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from typing import Any

from alertrouter.cli.client import DEFAULT_URL, ServiceClient
from alertrouter.cli.service import format_table
from alertrouter.constants import EXIT_FAILED, EXIT_OK
from alertrouter.errors import ClientError

__all__ = ["add_overview_parser", "format_overview", "overview_command"]


def add_overview_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``overview [--json] [--url URL] [--token T]``."""
    overview = commands.add_parser(
        "overview", help="queues, the last hour, config and store of a running service"
    )
    overview.add_argument("--url", default=DEFAULT_URL, help=f"service URL ({DEFAULT_URL})")
    overview.add_argument("--token", help="admin token (default $ALERTROUTER_ADMIN_TOKEN)")
    overview.add_argument("--json", action="store_true", help="print the API's JSON")
    overview.set_defaults(handler=overview_command)


def overview_command(args: argparse.Namespace) -> int:
    """Print the overview as text, or as JSON with ``--json``."""
    token = args.token or os.environ.get("ALERTROUTER_ADMIN_TOKEN") or None
    try:
        with ServiceClient(args.url, token) as client:
            facts = client.overview()
    except ClientError as exc:
        print(f"alertrouter: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(json.dumps(facts, indent=2) if args.json else format_overview(facts))
    return EXIT_OK


def _when(value: float | None) -> str:
    if value is None:
        return "-"
    return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def format_overview(facts: dict[str, Any]) -> str:
    """The overview as the page shows it: the config and store, then a row per queue."""
    config = facts["config"]
    reload = "succeeded" if config["last_reload_successful"] else "FAILED"
    lines = [
        f"config   {config['file']}  sha256 {config['sha256'][:16]}  "
        f"loaded {_when(config['loaded_at'])}",
        f"reload   {reload} at {_when(config['last_reload_at'])}",
        f"store    {facts['store']}  replica {facts['replica']}  version {facts['version']}",
        "",
    ]
    headers = ["RECEIVER", "INTEGRATION", "PENDING", "INFLIGHT", "RETRYING UNTIL", "DEAD",
               "DELIVERED 1H", "PER MIN", "FAILED 1H"]  # fmt: skip
    rows = [
        [
            q["receiver"],
            q["integration"],
            str(q["pending"]),
            str(q["inflight"]),
            f"{q['retrying']} until {_when(q['retrying_until'])}" if q["retrying"] else "-",
            str(q["dead"]),
            str(q["delivered_last_hour"]),
            str(q["rate_per_minute"]),
            str(q["failed_last_hour"]),
        ]
        for q in facts["queues"]
    ]
    lines.append(format_table(headers, rows))
    return "\n".join(lines)
