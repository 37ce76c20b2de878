"""Our default templates render the same text as Alertmanager 0.25's, name by name.

amtool is the oracle twice over: it renders each name with Alertmanager's own files and with
ours (it loads either through ``--template.glob``), for several payloads, as text and as html.
The Python engine renders ours too and must print the same.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from alertrouter.templates import render
from templates_amtool import (
    ALERTMANAGER_GLOB,
    ALERTMANAGER_NAMES,
    DATA_DIR,
    OUR_GLOB,
    OUR_TEMPLATES,
    SEPARATOR,
    amtool_render_many,
    needs_amtool,
)

# These two range over alerts, so they are given the alert list rather than the whole data.
_TAKES_ALERTS = frozenset({"__text_alert_list", "pagerduty.default.instances"})
_SHARED = Path(__file__).parent / "fixtures" / "alertmanager"
# None: amtool's built-in example data.
PAYLOADS: list[Path | None] = [
    None,
    *sorted(DATA_DIR.glob("*.json")),
    *(sorted(_SHARED.glob("*_firing.json")) + sorted(_SHARED.glob("*resolved*.json"))),
]


def _call(name: str) -> str:
    return f'{{{{ template "{name}" {".Alerts" if name in _TAKES_ALERTS else "."} }}}}'


def _names(html: bool) -> list[str]:
    # email.default.html is only ever rendered as html (Alertmanager's email notifier does).
    return [n for n in ALERTMANAGER_NAMES if html or n != "email.default.html"]


def _payload_id(path: Path | None) -> str:
    return "amtool-default-data" if path is None else path.name


def test_we_define_every_name() -> None:
    """Our files define each name Alertmanager's defaults define."""
    ours = "".join(p.read_text(encoding="utf-8") for p in sorted(OUR_TEMPLATES.glob("*.tmpl")))
    defined = set(re.findall(r'{{-? *define "([^"]+)"', ours))
    assert set(ALERTMANAGER_NAMES) <= defined
    # Our own helpers stay in our namespace.
    assert {n for n in defined - set(ALERTMANAGER_NAMES) if not n.startswith("__ar_")} == set()


@pytest.mark.amtool
@needs_amtool
def test_alertmanagers_files_define_no_other_name() -> None:
    """The name list above is complete for the installed Alertmanager files."""
    text = "".join(
        Path(p).read_text(encoding="utf-8")
        for p in sorted(Path(ALERTMANAGER_GLOB).parent.glob("*.tmpl"))
    )
    assert set(re.findall(r'define "([^"]+)"', text)) == set(ALERTMANAGER_NAMES)


@pytest.mark.amtool
@needs_amtool
@pytest.mark.parametrize("html", [False, True], ids=["text", "html"])
@pytest.mark.parametrize("payload", PAYLOADS, ids=_payload_id)
def test_amtool_renders_ours_as_alertmanagers(payload: Path | None, html: bool) -> None:
    """Through amtool, every name of ours renders exactly what Alertmanager's renders."""
    names = _names(html)
    calls = [_call(n) for n in names]
    theirs = amtool_render_many(calls, data=payload, glob=ALERTMANAGER_GLOB, html=html)
    ours = amtool_render_many(calls, data=payload, glob=OUR_GLOB, html=html)
    assert dict(zip(names, ours, strict=True)) == dict(zip(names, theirs, strict=True))


@pytest.mark.amtool
@needs_amtool
@pytest.mark.parametrize("html", [False, True], ids=["text", "html"])
@pytest.mark.parametrize("payload", PAYLOADS, ids=_payload_id)
def test_engine_renders_ours_as_alertmanager(payload: Path | None, html: bool) -> None:
    """Our engine, with our default files, renders every name as Alertmanager does."""

    names = _names(html)
    calls = [_call(n) for n in names]
    theirs = amtool_render_many(calls, data=payload, glob=ALERTMANAGER_GLOB, html=html)
    decoded: Any = None if payload is None else json.loads(payload.read_text(encoding="utf-8"))
    # One render for all names, split as amtool's output is.
    joined = render([], "".join(c + SEPARATOR for c in calls), decoded, "html" if html else "text")
    ours = joined.split(SEPARATOR)[:-1]
    assert dict(zip(names, ours, strict=True)) == dict(zip(names, theirs, strict=True))
