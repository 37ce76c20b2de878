"""``alertrouter routes test --cases``: golden routing cases, and how a failure reads."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from alertrouter.cli.main import main

REPO = Path(__file__).resolve().parent.parent


def test_the_shipped_cases_pass(capsys: pytest.CaptureFixture[str]) -> None:
    """config/routes.test.yml passes against the shipped policy."""
    config, cases = REPO / "config" / "alertrouter.yml", REPO / "config" / "routes.test.yml"
    assert main(["routes", "test", "--config", str(config), "--cases", str(cases)]) == 0
    assert "cases passed" in capsys.readouterr().out


def test_a_failing_case_prints_its_labels_as_alertmanager_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A failure names the case, its file:line, and the labels as {a="b", ...}; exit 1."""
    cases = tmp_path / "cases.yml"
    cases.write_text(
        textwrap.dedent(
            """\
            tests:
              - name: critical pages
                labels: {severity: critical, team: "db \\"main\\""}
                expect: [slack-warnings]
            """
        ),
        encoding="utf-8",
    )
    config = REPO / "config" / "alertrouter.yml"
    assert main(["routes", "test", "--config", str(config), "--cases", str(cases)]) == 1
    out = capsys.readouterr().out
    assert f"FAIL critical pages ({cases}:2)" in out
    assert '  labels: {severity="critical", team="db \\"main\\""}' in out
