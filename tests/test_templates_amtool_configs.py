"""Real-world configs' templated receiver fields and our default templates, as amtool renders.

For every config in ``tests/data/amconfigs`` that ``amtool check-config`` accepts: each receiver
string with ``{{`` and each of Alertmanager's default field templates (which the config's own files
may redefine) renders byte-identical to amtool, email ``html`` as an html template.
"""

from __future__ import annotations

import functools
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from templates_amtool import ALERTMANAGER_NAMES
from test_templates_oracle import AMTOOL, DATA_DIR, Case, differences, needs_amtool

CONFIGS_DIR = Path(__file__).parent / "data" / "amconfigs"
DATA = [
    str(DATA_DIR / n) for n in ("realistic_group.json", "realistic_resolved.json", "mixed.json")
]

# The receiver fields Alertmanager 0.25 fills from its default templates (config/notifiers.go).
DEFAULT_FIELDS = [
    ("email", "html", '{{ template "email.default.html" . }}'),
    ("email", "text", '{{ template "email.default.subject" . }}'),
    ("slack", "text", '{{ if eq .Status "firing" }}danger{{ else }}good{{ end }}'),
    ("pagerduty", "text", '{{ template "pagerduty.default.instances" .Alerts.Firing }}'),
    ("pagerduty", "text", '{{ template "pagerduty.default.instances" .Alerts.Resolved }}'),
    ("pagerduty", "text", "{{ .Alerts.Firing | len }}"),
    ("pagerduty", "text", "{{ .Alerts.Resolved | len }}"),
    ("pushover", "text", '{{ if eq .Status "firing" }}2{{ else }}0{{ end }}'),
] + [
    ("any", "text", f'{{{{ template "{name}" . }}}}')
    for name in ALERTMANAGER_NAMES
    # Helpers, the email defaults (above, as fields) and the alert-list template are no fields.
    if not name.startswith("__")
    and name not in {"email.default.html", "email.default.subject", "pagerduty.default.instances"}
]


@functools.cache
def accepted(config: Path) -> bool:
    """Whether ``amtool check-config`` accepts the file."""
    assert AMTOOL is not None
    proc = subprocess.run([AMTOOL, "check-config", str(config)], capture_output=True, check=False)
    return proc.returncode == 0


def template_fields(node: Any, html: bool = False) -> Iterator[tuple[str, bool]]:
    """Every string with ``{{`` under ``node``, and whether it is an email ``html`` body."""
    if isinstance(node, str):
        if "{{" in node:
            yield node, html
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from template_fields(value, html=key == "html")
    elif isinstance(node, list):
        for value in node:
            yield from template_fields(value)


def config_globs(config: Path, doc: dict[str, Any]) -> tuple[str, ...]:
    """The config's ``templates:`` globs, relative ones taken against its folder."""
    return tuple(os.path.join(config.parent, g) for g in doc.get("templates") or ())


def config_cases() -> list[Case]:
    """Cases for every templated field of every accepted config."""
    cases: list[Case] = []
    for config in sorted(CONFIGS_DIR.glob("*/alertmanager.yml")):
        if not accepted(config):
            continue
        doc = yaml.safe_load(config.read_text(encoding="utf-8"))
        globs = config_globs(config, doc)
        fields = sorted(set(template_fields(doc.get("receivers") or [])))
        for text, html in fields:
            for data in DATA:
                cases.append(Case(text, "html" if html else "text", data, globs))
        if globs:
            for _, kind, text in DEFAULT_FIELDS:
                cases.append(Case(text, kind, DATA[0], globs))
    return cases


@pytest.mark.amtool
@needs_amtool
def test_config_fields_render_as_amtool_renders_them() -> None:
    """Every templated receiver field of every accepted config renders as amtool renders it."""
    cases = config_cases()
    assert len(cases) > 300
    report = differences(cases)
    assert not report, f"{len(report)} of {len(cases)} differ\n" + "\n".join(report[:10])


@pytest.mark.amtool
@needs_amtool
def test_our_default_templates_render_as_debians_do() -> None:
    """Our own default.tmpl/email.tmpl render every default field as amtool with Debian's files."""
    cases = [Case(text, kind, data) for _, kind, text in DEFAULT_FIELDS for data in DATA] + [
        Case(text, "html", DATA[1]) for _, _, text in DEFAULT_FIELDS
    ]
    report = differences(cases, debian_defaults=False)
    assert not report, f"{len(report)} of {len(cases)} differ\n" + "\n".join(report[:10])
