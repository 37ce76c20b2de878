"""Routing can be tested before receivers are ported; secret files may exist only in production."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from alertrouter.cli.main import main

UNPORTED = """\
route:
  receiver: default
  routes:
    - matchers: ['severity="critical"']
      receiver: pager
receivers:
  - name: default
    carrierpigeon_configs: [{coop: roof}]
  - name: pager
    pagerduty_configs:
      - routing_key_file: /run/secrets/pagerduty-key-that-is-not-here
      - {}
"""


def write(tmp_path: Path, text: str) -> Path:
    file = tmp_path / "alertmanager.yml"
    file.write_text(textwrap.dedent(text))
    return file


def test_routes_test_reports_unbuildable_integrations_as_warnings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unknown type and an integration missing its key are warnings; the receivers line
    comes out as amtool prints it and the exit code is 0."""
    file = write(tmp_path, UNPORTED)
    assert main(["routes", "test", "--config", str(file), "severity=critical"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[0] == "pager"
    assert 'unknown notifier type "carrierpigeon"' in err
    assert "pagerduty_configs[1]" in err
    assert err.count("warning: ") == 2  # the missing key file itself is allowed here


@pytest.mark.parametrize("flag", ["--tree", "--explain"])
def test_routes_test_tree_and_explain_work_on_such_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str
) -> None:
    """``--tree`` and ``--explain`` print for a file whose integrations cannot be built."""
    file = write(tmp_path, UNPORTED)
    assert main(["routes", "test", "--config", str(file), flag, "severity=warning"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "default"
    assert len(out.splitlines()) > 2


def test_routes_test_cases_run_on_such_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--cases`` runs golden cases against a file with unported receivers."""
    file = write(tmp_path, UNPORTED)
    cases = tmp_path / "cases.yml"
    cases.write_text(
        "tests:\n  - name: critical pages\n    labels: {severity: critical}\n    expect: [pager]\n"
    )
    assert main(["routes", "test", "--config", str(file), "--cases", str(cases)]) == 0
    assert "1 of 1 cases passed" in capsys.readouterr().out


def test_routes_test_still_refuses_a_broken_route_tree(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An undefined receiver in the tree is an error even when testing routes."""
    file = write(tmp_path, "route: {receiver: nobody}\nreceivers: [{name: somebody}]\n")
    assert main(["routes", "test", "--config", str(file), "a=b"]) == 1
    assert 'undefined receiver "nobody"' in capsys.readouterr().err


def test_check_config_allow_missing_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A ``*_file`` that exists only in production fails check-config unless
    ``--allow-missing-files``, which lists it."""
    file = write(
        tmp_path,
        """\
        route: {receiver: pager}
        receivers:
          - name: pager
            pagerduty_configs:
              - routing_key_file: /run/secrets/pd-key-not-here
                http_config: {bearer_token_file: /run/secrets/proxy-token-not-here}
        """,
    )
    assert main(["check-config", str(file)]) == 1
    assert "cannot read /run/secrets/pd-key-not-here" in capsys.readouterr().err
    assert main(["check-config", "--allow-missing-files", str(file)]) == 0
    out = capsys.readouterr().out
    assert "missing files (allowed): /run/secrets/pd-key-not-here" in out
    assert "/run/secrets/proxy-token-not-here" in out
