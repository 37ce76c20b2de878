"""``alertrouter template render`` takes amtool's flags and prints what amtool prints."""

from __future__ import annotations

from pathlib import Path

import pytest

from alertrouter.cli.main import main
from templates_amtool import ALERTMANAGER_GLOB, amtool_render, needs_amtool

FIXTURES = Path(__file__).parent / "fixtures" / "alertmanager"

CASES = [
    ('{{ template "slack.default.title" . }}', None, "text"),
    ('{{ template "slack.default.text" . }}', FIXTURES / "grouped_firing.json", "text"),
    ('{{ template "pagerduty.default.description" . }}', FIXTURES / "resolved.json", "text"),
    ('{{ template "email.default.html" . }}', FIXTURES / "grouped_partial_resolved.json", "html"),
    (
        '<a href="{{ .ExternalURL }}">{{ .CommonLabels }}</a>',
        FIXTURES / "firing_infra.json",
        "html",
    ),
]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the CLI in-process; (exit code, stdout, stderr)."""
    code = main(["template", "render", *args])
    out, err = capsys.readouterr()
    return code, out, err


@needs_amtool
@pytest.mark.amtool
@pytest.mark.parametrize(("text", "data", "kind"), CASES)
def test_output_equals_amtools(
    capsys: pytest.CaptureFixture[str], text: str, data: Path | None, kind: str
) -> None:
    """The same flags give byte-identical output to amtool's (defaults as the oracle's glob)."""
    args = [f"--template.text={text}", f"--template.type={kind}"]
    if data is not None:
        args.append(f"--template.data={data}")
    code, out, _ = run(capsys, *args)
    assert code == 0
    assert out == amtool_render(text, data=data, glob=ALERTMANAGER_GLOB, html=kind == "html")


def test_a_templates_glob_defines_names(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """--template.glob loads files whose definitions the text can call."""
    (tmp_path / "a.tmpl").write_text('{{ define "x" }}hello {{ .Receiver }}{{ end }}')
    code, out, _ = run(
        capsys, f"--template.glob={tmp_path}/*.tmpl", '--template.text={{ template "x" . }}'
    )
    assert (code, out) == (0, "hello receiver")


def test_an_error_is_one_line_and_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    """A template that fails prints Go's message after ``alertrouter: error:`` and exits 1."""
    code, out, err = run(capsys, "--template.text={{ .Foo }}")
    assert code == 1
    assert out == ""
    assert err == (
        'alertrouter: error: template: :1:3: executing "" at <.Foo>: '
        "can't evaluate field Foo in type template.Data\n"
    )


def test_unreadable_data_file_is_named(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A missing --template.data file is named in the error."""
    missing = tmp_path / "none.json"
    code, _, err = run(capsys, "--template.text=x", f"--template.data={missing}")
    assert code == 1
    assert str(missing) in err
