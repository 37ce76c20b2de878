"""The real amtool as an oracle: running it, in batches, and comparing with our renderer.

Other differential test modules import the helpers here; the one test checks the harness itself.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from alertrouter.templates import TemplateError, render

AMTOOL = shutil.which("amtool")
DEBIAN_DEFAULTS = (
    "/usr/share/prometheus/alertmanager/default.tmpl",
    "/usr/share/prometheus/alertmanager/email.tmpl",
)
DATA_DIR = Path(__file__).parent / "data" / "templates"
FIXTURES_DIR = Path(__file__).parent / "fixtures" / "alertmanager"

needs_amtool = pytest.mark.skipif(
    AMTOOL is None or not Path(DEBIAN_DEFAULTS[0]).exists(),
    reason="amtool 0.25 (Debian prometheus-alertmanager) with its default templates is absent",
)


@dataclass(frozen=True)
class Case:
    """One render: the template text, its type, the data file and extra template globs."""

    text: str
    kind: str = "text"
    data: str | None = str(DATA_DIR / "realistic_group.json")  # None: amtool's example data
    globs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Outcome:
    """What a renderer did: its output, or that it failed (with the message)."""

    ok: bool
    output: str

    def agrees(self, other: Outcome) -> bool:
        """Identical output, or both failed."""
        return self.ok == other.ok and (not self.ok or self.output == other.output)


def run_amtool(case: Case) -> Outcome:
    """Render ``case`` with the real amtool."""
    assert AMTOOL is not None
    cmd = [AMTOOL, "template", "render", f"--template.text={case.text}"]
    cmd += [f"--template.glob={g}" for g in (*DEBIAN_DEFAULTS, *case.globs)]
    cmd += [f"--template.type={case.kind}"]
    if case.data is not None:
        cmd.append(f"--template.data={case.data}")
    proc = subprocess.run(cmd, capture_output=True, timeout=30, check=False)
    if proc.returncode != 0:
        return Outcome(False, proc.stderr.decode("utf-8", "replace"))
    return Outcome(True, proc.stdout.decode("utf-8", "surrogateescape"))


def run_ours(case: Case, *, debian_defaults: bool = True) -> Outcome:
    """Render ``case`` with our engine, as amtool would (Debian's default files as globs)."""
    payload: Any = None
    if case.data is not None:
        payload = json.loads(Path(case.data).read_text(encoding="utf-8"))
    globs = (*DEBIAN_DEFAULTS, *case.globs) if debian_defaults else case.globs
    try:
        return Outcome(True, render(list(globs), case.text, payload, case.kind))  # type: ignore[arg-type]
    except TemplateError as exc:
        return Outcome(False, str(exc))


def amtool_outcomes(cases: Sequence[Case], workers: int = 3) -> list[Outcome]:
    """amtool's outcome for each case, run ``workers`` at a time."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run_amtool, cases))


def differences(cases: Iterable[Case], **ours: Any) -> list[str]:
    """A report line for every case where our outcome disagrees with amtool's."""
    cases = list(cases)
    report = []
    for case, theirs in zip(cases, amtool_outcomes(cases), strict=True):
        mine = run_ours(case, **ours)
        if not mine.agrees(theirs):
            report.append(
                f"{case.kind} {case.text!r} on {Path(case.data or 'example data').name}:\n"
                f"  amtool: {theirs.ok} {theirs.output!r}\n  ours:   {mine.ok} {mine.output!r}"
            )
    return report


@pytest.mark.amtool
@needs_amtool
def test_harness_sees_amtool_and_us_agree_on_a_field() -> None:
    """The harness renders one field with both renderers and finds them equal."""
    case = Case("{{ .Status }}/{{ len .Alerts }}")
    assert run_amtool(case) == Outcome(True, "firing/3")
    assert run_ours(case) == Outcome(True, "firing/3")
