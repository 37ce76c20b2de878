"""README.md stays true for a newcomer: every setting the code reads is documented."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_alertrouter_variable_the_code_reads_is_in_the_readme() -> None:
    """Each ALERTROUTER_* name in src/ appears in README.md, and none there is gone from src/."""
    code = "\n".join(p.read_text() for p in (ROOT / "src").rglob("*.py"))
    read = set(re.findall(r'"(ALERTROUTER_[A-Z_]+)"', code))
    documented = set(re.findall(r"\b(ALERTROUTER_[A-Z_]+)\b", (ROOT / "README.md").read_text()))
    assert read - documented == set(), "read by the code, missing from README.md"
    assert documented - set(re.findall(r"\b(ALERTROUTER_[A-Z_]+)\b", code)) == set(), (
        "in README.md, no longer read by the code"
    )
