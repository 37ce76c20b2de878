"""Lexing and parsing Go templates: accepted syntax, trees and Go's parse error messages."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alertrouter.templates import ExecError, ParseError, Template, TemplateError
from alertrouter.templates.lexer import ItemType, lex
from alertrouter.templates.parser import parse

FUNCS = frozenset({"printf", "len", "eq", "and", "index"})


def tree_strings(text: str) -> dict[str, str]:
    return {name: str(tree.root) for name, tree in parse("", text, FUNCS).items()}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a {{ .A.B }} b", "a {{.A.B}} b"),
        ("{{ $x := 1 }}{{ $x = 2 }}{{ $x }}", "{{$x := 1}}{{$x = 2}}{{$x}}"),
        (
            "{{ if .X }}a{{ else if .Y }}b{{ else }}c{{ end }}",
            "{{if .X}}a{{else}}{{if .Y}}b{{else}}c{{end}}{{end}}",
        ),
        (
            "{{range $i, $e := .}}{{break}}{{continue}}{{end}}",
            "{{range $i, $e := .}}{{break}}{{continue}}{{end}}",
        ),
        ("{{ with .X }}w{{ else }}e{{ end }}", "{{with .X}}w{{else}}e{{end}}"),
        ('{{ (.X).Y | printf "%s" }}', '{{(.X).Y | printf "%s"}}'),
        ("{{ $.X }} {{ . }} {{ nil | len }}", "{{$.X}} {{.}} {{nil | len}}"),
        ("x {{- /* c */ -}} y", "xy"),
        ("x {{- 3 -}} y", "x{{3}}y"),
        ("x {{-3}} y", "x {{-3}} y"),
        ("{{\n .X\n}}", "{{.X}}"),
        ("{{ `a\nb` }} {{ 'x' }} {{ 0x1F }}", "{{`a\nb`}} {{'x'}} {{0x1F}}"),
        ('{{ template "t" . }}{{ template "u" }}', '{{template "t" .}}{{template "u"}}'),
    ],
)
def test_parse_renders_the_tree_as_go_prints_it(text: str, expected: str) -> None:
    """The parsed top-level tree prints as Go's node String() methods print it."""
    assert tree_strings(text)[""] == expected


def test_define_and_block_add_named_trees() -> None:
    """define and block add templates beside the top-level one."""
    trees = tree_strings('{{ define "a" }}A{{ end }}{{ block "b" . }}B{{ end }}')
    assert trees == {"a": "A", "b": "B", "": '{{template "b" .}}'}


def test_lexer_ends_with_eof_or_error() -> None:
    """The token list ends with EOF, or with the first error."""
    assert lex("a{{.X}}")[-1].typ == ItemType.EOF
    assert lex("a{{.X")[-1].typ == ItemType.ERROR


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{{ .Status ", "template: t:1: unclosed action"),
        ("{{ 1 | 2 }}", "template: t:1: non executable command in pipeline stage 2"),
        ("{{ foo }}", 'template: t:1: function "foo" not defined'),
        ("{{end}}", "template: t:1: unexpected {{end}}"),
        ("{{ $y }}", 'template: t:1: undefined variable "$y"'),
        ("{{break}}", "template: t:1: {{break}} outside {{range}}"),
        ("{{range .}}{{else}}{{continue}}{{end}}", "template: t:1: {{continue}} outside {{range}}"),
        ("{{ 08 }}", 'template: t:1: integer overflow: "08"'),
        ("{{ 1e400 }}", 'template: t:1: illegal number syntax: "1e400"'),
        ("{{ 3x }}", 'template: t:1: bad number syntax: "3x"'),
        ("{{ if true }}x", "template: t:1: unexpected EOF"),
        ("{{ with .A }}{{ else with .B }}{{ end }}", "template: t:1: unexpected <with> in else"),
        ("{{ if }}{{ end }}", "template: t:1: missing value for if"),
        ("{{/* x */ }}", "template: t:1: comment ends before closing delimiter"),
        ("{{/* x }}", "template: t:1: unclosed comment"),
        ('{{ "a }}', "template: t:1: unterminated quoted string"),
        ("{{ (1 }}", "template: t:1: unclosed left paren"),
        ("{{ 1) }}", "template: t:1: unexpected right paren U+0029 ')'"),
        ("{{ .A @ }}", 'template: t:1: unexpected "@" in operand'),
        ("{{ .A=1 }}", "template: t:1: bad character U+003D '='"),
        ("{{ 'ab' }}", "template: t:1: malformed character constant: 'ab'"),
        ('{{ "\\q" }}', "template: t:1: invalid syntax"),
        ("{{ $x := 1 }}{{ $x := }}", "template: t:1: missing value for command"),
        ("{{ (1).X }}{{ .X.Y", "template: t:1: unclosed action"),
        (
            '{{ define "a" }}1{{ end }}{{ define "a" }}2{{ end }}',
            'template: t:1: template: multiple definition of template "a"',
        ),
        ("a\nb\n{{ .X", "template: t:3: unclosed action"),
        ("{{ .X\n\n@ }}", 'template: t:3: unexpected "@" in operand'),
        ("{{ .X\n\n", "template: t:3: unclosed action started at t:1"),
    ],
)
def test_parse_errors_are_worded_as_go_words_them(text: str, message: str) -> None:
    """Each malformed template fails with Go's message, file name and line."""
    with pytest.raises(ParseError) as exc:
        Template(funcs={}).parse(text, "t")
    assert str(exc.value) == message


def test_a_later_empty_define_does_not_replace_a_template() -> None:
    """As Go associates trees, an empty redefinition keeps the old body, a non-empty one wins."""
    tmpl = Template().parse('{{ define "x" }}old{{ end }}')
    tmpl.parse('{{ define "x" }}  {{ end }}')
    assert tmpl.execute("x", None) == "old"
    tmpl.parse('{{ define "x" }}new{{ end }}')
    assert tmpl.execute("x", None) == "new"


def test_clone_is_independent_of_the_original() -> None:
    """Parsing into a clone leaves the original set unchanged."""
    base = Template().parse('{{ define "x" }}base{{ end }}')
    clone = base.clone().parse('{{ define "x" }}clone{{ end }}{{ define "y" }}y{{ end }}')
    assert base.execute("x", None) == "base"
    assert base.lookup("y") is None
    assert clone.execute("x", None) == "clone"
    assert clone.names() == ["", "x", "y"]


TRUNCATED = [
    "{{ abc",
    "{{ .abc",
    "{{ $abc",
    "{{ 12",
    "{{ true",
    '{{ "x"',
    "{{ 'x'",
    "{{ (",
    "{{ .X.",
    "{{ $",
    "{{ .",
    "{{-",
    "{{",
    "{{ /*",
    "{{/* */",
    "{{ 1 |",
    "{{ $x :",
]


@pytest.mark.parametrize("text", TRUNCATED)
def test_truncated_actions_fail_to_parse(text: str) -> None:
    """An action cut off at end of input is a parse error, never a crash."""
    with pytest.raises(ParseError):
        Template().parse(text)


def test_every_prefix_of_a_rich_template_parses_or_fails_cleanly() -> None:
    """Cutting a template anywhere gives a tree or a ParseError, and executing never crashes."""
    text = (
        '{{ define "d" }}{{ range $i, $e := . }}{{ if eq $i 1 }}{{ break }}{{ end }}'
        '{{ $e | printf "%q" }}{{ else }}none{{ end }}{{ end }}'
        '{{- /* c */ -}} {{ with $x := .L }}{{ template "d" $x }}{{ end }}'
        "{{ (index .L 0) }} {{ 'a' }} {{ 0x1F }} {{ `raw` }} {{ .M.k }}{{ len .L -}}  x"
    )
    data = {"L": [1, 2, 3], "M": {"k": "v"}}
    for end in range(len(text) + 1):
        try:
            tmpl = Template().parse(text[:end])
        except ParseError:
            continue
        with contextlib.suppress(ExecError):
            tmpl.execute("", data)


TOKENS = [
    "{{",
    "}}",
    "{{- ",
    " -}}",
    "/*",
    "*/",
    " ",
    "\n",
    ".",
    "$",
    "$x",
    ":=",
    "=",
    "|",
    "(",
    ")",
    '"s"',
    "`r`",
    "'c'",
    "1",
    "-2",
    "0x1F",
    "1.5",
    "if",
    "else",
    "end",
    "range",
    "with",
    "define",
    "template",
    "block",
    "break",
    "continue",
    "nil",
    "true",
    "len",
    "index",
    "printf",
    "eq",
    "and",
    ".A",
    ".B.C",
    ",",
    "@",
    "é",
    "<b>",
    "x",
]


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=24))
def test_token_soup_parses_or_fails_cleanly(tokens: list[str]) -> None:
    """Any mix of template tokens gives a tree or a TemplateError: no other exception."""
    text = "".join(tokens)
    for html in (False, True):
        try:
            out = Template(html=html).parse(text).execute("", {"A": [1, 2], "B": {"C": "v"}})
        except TemplateError:
            continue
        assert isinstance(out, str)
