"""Alertmanager's template set: defaults, config globs, Execute{Text,HTML}String, render."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import alertrouter.templates as templates
from alertrouter.templates import ExecError, ParseError, from_globs, render
from alertrouter.templates.alertmanager import go_glob
from alertrouter.templates.data import data_from_webhook

DATA_DIR = Path(__file__).parent / "data" / "templates"


@pytest.fixture
def data() -> object:
    payload = json.loads((DATA_DIR / "realistic_group.json").read_text(encoding="utf-8"))
    return data_from_webhook(payload)


def test_public_api_is_exactly_all() -> None:
    """The package exports exactly what ``__all__`` lists."""
    public = {n for n in dir(templates) if not n.startswith("_") and n != "annotations"}
    modules = {n for n in public if type(getattr(templates, n)).__name__ == "module"}
    assert public - modules == set(templates.__all__)


def test_default_templates_are_loaded_first(data: object) -> None:
    """Without globs the set already knows Alertmanager's default template names."""
    tmpl = from_globs([])
    title = tmpl.execute_text_string('{{ template "slack.default.title" . }}', data)
    assert title == "[FIRING:2] DiskFull critical (störage)"


def test_relative_globs_resolve_against_the_config_folder(tmp_path: Path, data: object) -> None:
    """A relative glob is taken against base_dir; a glob matching nothing is fine."""
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "a.tmpl").write_text('{{ define "mine" }}M:{{ .Status }}{{ end }}')
    tmpl = from_globs(["t/*.tmpl", "none/*.tmpl"], base_dir=tmp_path)
    assert tmpl.execute_text_string('{{ template "mine" . }}', data) == "M:firing"


def test_config_files_redefine_default_names(tmp_path: Path, data: object) -> None:
    """A config template file that redefines a default name wins, in text and html sets."""
    (tmp_path / "o.tmpl").write_text('{{ define "__subject" }}<{{ .Status }}>{{ end }}')
    tmpl = from_globs([str(tmp_path / "*.tmpl")])
    assert tmpl.execute_text_string('{{ template "slack.default.title" . }}', data) == "<firing>"
    assert tmpl.execute_html_string('{{ template "slack.default.title" . }}', data) == (
        "&lt;firing>"
    )


def test_a_file_that_does_not_parse_is_an_error_naming_file_and_line(tmp_path: Path) -> None:
    """Parse errors name the file's base name and line, as Go's ParseGlob does."""
    (tmp_path / "bad.tmpl").write_text('{{ define "x" }}\n{{ .Foo \n{{ end }}')
    with pytest.raises(ParseError, match=r"^template: bad\.tmpl:3: "):
        from_globs([str(tmp_path / "*.tmpl")])


def test_execute_strings_as_alertmanager(data: object) -> None:
    """Empty text renders empty; text and html strings render with their set."""
    tmpl = from_globs([])
    assert tmpl.execute_text_string("", data) == ""
    assert tmpl.execute_text_string("{{ .CommonLabels.nope }}|{{ .Receiver }}", data) == (
        '|team-<ops> & "oncall"'
    )
    assert tmpl.execute_html_string("{{ .Receiver }}", data) == (
        "team-&lt;ops&gt; &amp; &#34;oncall&#34;"
    )
    # Parsed text is cached: a second call gives the same result.
    assert tmpl.execute_html_string("{{ .Receiver }}", data) == (
        "team-&lt;ops&gt; &amp; &#34;oncall&#34;"
    )


def test_execute_string_does_not_leak_definitions_between_calls(data: object) -> None:
    """Each text is parsed into a clone: its defines do not reach the shared set."""
    tmpl = from_globs([])
    tmpl.execute_text_string('{{ define "x" }}x{{ end }}', data)
    with pytest.raises(ExecError, match='template "x" not defined'):
        tmpl.execute_text_string('{{ template "x" . }}', data)


def test_render_uses_amtool_default_data_without_a_data_file() -> None:
    """Without data, render uses amtool's built-in example alerts."""
    out = render([], "{{ .Receiver }} {{ len .Alerts }} {{ .ExternalURL }}", None)
    assert out == "receiver 2 https://example.com"


def test_render_html_kind_escapes() -> None:
    """render with kind html escapes like amtool --template.type=html."""
    payload = {"receiver": "<r>", "status": "firing", "alerts": []}
    assert render([], "<b>{{ .Receiver }}</b>", payload, "html") == "<b>&lt;r&gt;</b>"


def test_globs_follow_go_syntax(tmp_path: Path) -> None:
    """Globs match dot files, negate classes with ^, sort, and reject a malformed pattern."""
    for name in ("b.tmpl", "a.tmpl", ".hidden.tmpl", "c.txt"):
        (tmp_path / name).write_text("")
    names = [Path(p).name for p in go_glob(str(tmp_path / "*.tmpl"))]
    assert names == [".hidden.tmpl", "a.tmpl", "b.tmpl"]
    assert [Path(p).name for p in go_glob(str(tmp_path / "[^a.]*"))] == ["b.tmpl", "c.txt"]
    with pytest.raises(ParseError, match="syntax error in pattern"):
        go_glob(str(tmp_path / "[ab"))
