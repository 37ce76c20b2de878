"""The route tree, a routing test and a template preview, as plain JSON-ready dicts.

The routing test is ``alertrouter routes test``'s: the same receivers line (``Router.match``),
the same ``--explain`` text (``router/report.py``), and the notifications that would be sent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from alertrouter.config.loader import RoutingConfig
from alertrouter.durations import format_duration
from alertrouter.notifiers.templating import quote_meta
from alertrouter.router.matchers import parse_label_set
from alertrouter.router.report import render_explain
from alertrouter.router.tree import Route, Router, explain, suppression_reason
from alertrouter.templates import TemplateError
from alertrouter.templates.data import WebhookDataError, data_from_webhook

__all__ = [
    "SAMPLE_ALERTS",
    "parse_labels_text",
    "route_test_facts",
    "route_tree_facts",
    "template_preview_facts",
]

# The sample data of the template preview: a captured Alertmanager webhook shipped with us.
SAMPLE_ALERTS = Path(__file__).with_name("sample_alerts.json")


def route_tree_facts(config: RoutingConfig) -> dict[str, Any]:
    """The whole tree, nested, each node with its resolved options."""
    return {"file": config.file, "sha256": config.sha256, "root": _node(config.root)}


def _node(route: Route) -> dict[str, Any]:
    return {
        "id": route.id,
        "matchers": [str(m) for m in route.matchers],
        "receiver": route.receiver,
        "repeat_interval": format_duration(route.repeat_interval),
        "continue": route.continue_,
        "mute_time_intervals": list(route.mute_time_intervals),
        "active_time_intervals": list(route.active_time_intervals),
        "routes": [_node(child) for child in route.routes],
    }


def parse_labels_text(text: str) -> dict[str, str]:
    """Labels typed as ``name=value`` pairs, one per line or separated by spaces or commas
    (values may be quoted); MatcherSyntaxError names the part that is wrong."""
    parts: list[str] = []
    for line in text.replace(",", "\n").splitlines():
        line = line.strip()
        if not line:
            continue
        # A quoted value may hold spaces: split on spaces only outside quotes.
        if '"' in line:
            parts.append(line)
        else:
            parts.extend(line.split())
    return parse_label_set(parts)


def route_test_facts(
    config: RoutingConfig, labels: Mapping[str, str], now: float
) -> dict[str, Any]:
    """The matched routes (as ``routes test``), the walk node by node with ``--explain``'s text,
    and each notification that would be sent: receiver, integrations, repeat, mute state."""
    matched = Router(config.root).match(labels)
    at = datetime.fromtimestamp(now, UTC)
    notifications = []
    for route in matched:
        receiver = config.receivers.get(route.receiver)
        notifications.append(
            {
                "route": route.id,
                "receiver": route.receiver,
                "integrations": [spec.key for spec in receiver.integrations] if receiver else [],
                "repeat_interval": format_duration(route.repeat_interval),
                "suppressed": suppression_reason(route, config.time_intervals, at),
            }
        )
    return {
        "labels": dict(labels),
        "receivers": ",".join(route.receiver for route in matched),
        "matched": [route.id for route in matched],
        "walk": [
            {
                "route": step.route.id,
                "depth": step.depth,
                "outcome": step.outcome,
                "failed_matcher": None if step.failed_matcher is None else str(step.failed_matcher),
            }
            for step in explain(config.root, labels)
        ],
        "explain": render_explain(config.root, labels),
        "notifications": notifications,
    }


def template_preview_facts(
    config: RoutingConfig, receiver: str, payload: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Each templated field of ``receiver``'s integrations rendered for ``payload`` (a webhook
    body; None: the shipped sample). Secret fields are never read. ValueError: bad input."""
    found = config.receivers.get(receiver)
    if found is None:
        raise ValueError(f'receiver: no receiver named "{receiver}"')
    body = dict(payload) if payload is not None else json.loads(SAMPLE_ALERTS.read_text())
    body["receiver"] = quote_meta(receiver)
    try:
        data = data_from_webhook(body)
    except WebhookDataError as exc:
        raise ValueError(f"data: {exc}") from None
    integrations = []
    for spec in found.integrations:
        fields = []
        for path, template in _templated_fields(spec.config.model_dump(by_alias=True)):
            html = spec.type == "email" and path == "html"
            try:
                if html:
                    output = config.templates.execute_html_string(template, data)
                else:
                    output = config.templates.execute_text_string(template, data)
                error = None
            except TemplateError as exc:
                output, error = None, str(exc)
            fields.append({"field": path, "template": template, "output": output, "error": error})
        integrations.append({"integration": spec.key, "type": spec.type, "fields": fields})
    return {"receiver": receiver, "integrations": integrations}


def _templated_fields(value: Any, path: str = "") -> list[tuple[str, str]]:
    """Every string holding ``{{`` under ``value``, with its dotted path. A SecretStr is not a
    str, so a secret (a webhook URL, a routing key) is never listed, whatever it holds."""
    if isinstance(value, SecretStr):
        return []
    if isinstance(value, str):
        return [(path, value)] if "{{" in value else []
    found: list[tuple[str, str]] = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            found.extend(_templated_fields(item, f"{path}.{key}" if path else str(key)))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found.extend(_templated_fields(item, f"{path}[{index}]"))
    return found
