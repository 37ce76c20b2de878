"""Executing text templates over plain Python values: Go's semantics, builtins and exec errors."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from alertrouter.templates import ExecError, GoError, Template


class KV(dict[str, str]):
    """A map whose missing keys read as "" under missingkey=zero."""

    go_zero_value: ClassVar[str] = ""
    go_type = "template.KV"

    def Names(self) -> list[str]:
        return sorted(self)


class Item:
    """A struct with a field and methods."""

    go_type = "main.Item"
    go_fields: ClassVar[tuple[str, ...]] = ("Name",)

    def __init__(self, name: str) -> None:
        self.Name = name
        self._secret = "hidden"

    def Greet(self, who: str) -> str:
        return f"{self.Name} greets {who}"

    def Fail(self) -> str:
        raise GoError("it broke")


DATA: dict[str, Any] = {
    "S": "héllo",
    "N": 3,
    "F": 1.5,
    "B": True,
    "L": [1, 2, 3],
    "E": [],
    "M": {"b": 2, "a": 1},
    "K": KV(x="1"),
    "I": Item("it"),
    "Z": None,
}


def run(text: str, data: Any = DATA, **options: Any) -> str:
    funcs = options.pop("funcs", {})
    return Template(funcs=funcs, **options).parse(text).execute("", data)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "{{ .S }} {{ .N }} {{ .F }} {{ .B }} {{ .L }} {{ .M }}",
            "héllo 3 1.5 true [1 2 3] map[a:1 b:2]",
        ),
        ("{{ .Missing }}|{{ .Z }}|{{ .K.nope }}", "<no value>|<no value>|<no value>"),
        ("{{ range $i, $e := .L }}{{ $i }}={{ $e }} {{ end }}", "0=1 1=2 2=3 "),
        ("{{ range $k, $v := .M }}{{ $k }}:{{ $v }},{{ end }}", "a:1,b:2,"),
        ("{{ range .E }}x{{ else }}empty{{ end }}", "empty"),
        ("{{ range .L }}{{ if eq . 2 }}{{ continue }}{{ end }}{{ . }}{{ end }}", "13"),
        ("{{ range .L }}{{ if eq . 2 }}{{ break }}{{ end }}{{ . }}{{ end }}", "1"),
        ("{{ with .S }}{{ . }}{{ end }}{{ with .E }}x{{ else }}y{{ end }}", "héllo" + "y"),
        ("{{ if .E }}a{{ else if .N }}b{{ end }}", "b"),
        ("{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}", "2"),
        ("{{ range .L }}{{ $.S }}{{ end }}", "héllohéllohéllo"),
        (
            '{{ define "t" }}[{{ . }}]{{ end }}{{ template "t" .N }}{{ template "t" }}',
            "[3][<no value>]",
        ),
        ('{{ block "b" .S }}<{{ . }}>{{ end }}', "<héllo>"),
        ('{{ .I.Name }} {{ .I.Greet "you" }} {{ .I }}', "it it greets you {it}"),
        ('{{ "you" | .I.Greet }}', "it greets you"),
        ("{{ .K.Names }} {{ .K.x }}", "[x] 1"),
        ('{{ and 1 0 2 }} {{ and 1 2 }} {{ or 0 "" }} {{ or 0 "x" }} {{ not .E }}', "0 2  x true"),
        ("{{ len .S }} {{ len .L }} {{ len .M }}", "6 3 2"),
        ('{{ index .L 1 }} {{ index .M "b" }} {{ index .K "nope" }}|{{ index .S 0 }}', "2 2 |104"),
        ("{{ slice .L 1 }} {{ slice .L 1 2 }} {{ slice .S 0 3 }}", "[2 3] [2] hé"),
        ('{{ print 1 2 "a" 3 nil }} {{ println "x" 1 }}', "1 2a3 <nil> x 1\n"),
        ('{{ printf "%q-%d-%5.2f" .S .N .F }}', '"héllo"-3- 1.50'),
        (
            '{{ html "<a href=\'x\'>" }} {{ js "a\'b<" }} {{ urlquery "a b&c" }}',
            "&lt;a href=&#39;x&#39;&gt; a\\'b\\u003C a+b%26c",
        ),
        (
            '{{ eq 1 1 }} {{ eq 1 2 3 1 }} {{ ne "a" "b" }} {{ lt 1 2 }} {{ le 2 2 }}',
            "true true true true true",
        ),
        ('{{ gt "b" "a" }} {{ ge 1.5 2.5 }} {{ eq .Z .Missing }}', "true false true"),
        (
            "{{ 0x1F }} {{ 0o17 }} {{ 017 }} {{ 1_000 }} {{ 'a' }} {{ 1e3 }} {{ 2.50 }}",
            "31 15 15 1000 97 1000 2.5",
        ),
        ('{{ .S | printf "%s!" | printf "<%s>" }}', "<héllo!>"),
        ("{{ (index .L 0) }} {{ (.I).Name }}", "1 it"),
        ("a {{- .N -}} b {{- /* c */ -}} c", "a3bc"),
    ],
)
def test_execution_follows_go(text: str, expected: str) -> None:
    """Each construct renders as Go's text/template renders it."""
    assert run(text) == expected


def test_missingkey_options() -> None:
    """missingkey=zero yields a map's declared zero value; missingkey=error fails."""
    assert run("[{{ .K.nope }}][{{ .M.nope }}]", missingkey="zero") == "[][<no value>]"
    with pytest.raises(ExecError, match='map has no entry for key "nope"'):
        run("{{ .M.nope }}", missingkey="error")


def test_option_sets_missingkey_as_go() -> None:
    """Option("missingkey=zero") behaves as the constructor argument; others are refused."""
    tmpl = Template().option("missingkey=zero").parse("[{{ .K.nope }}]")
    assert tmpl.execute("", DATA) == "[]"
    with pytest.raises(ValueError, match="unrecognized option"):
        Template().option("delims={{")


def test_functions_from_the_map_are_called_with_go_arity_and_types() -> None:
    """A Python function's parameters give Go's arity and string/int checks."""

    def twice(s: str) -> str:
        return s + s

    def total(*n: int) -> int:
        return sum(n)

    funcs = {"twice": twice, "total": total}
    assert run('{{ twice "ab" }} {{ total 1 2 3 }} {{ total }}', funcs=funcs) == "abab 6 0"
    with pytest.raises(ExecError, match="wrong number of args for twice: want 1 got 2"):
        run('{{ twice "a" "b" }}', funcs=funcs)
    with pytest.raises(ExecError, match="expected string; found 1"):
        run("{{ twice 1 }}", funcs=funcs)
    with pytest.raises(ExecError, match="wrong type for value; expected string; got int"):
        run("{{ twice .N }}", funcs=funcs)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "{{ .S.Foo }}",
            'template: :1:5: executing "" at <.S.Foo>: can\'t evaluate field Foo in type string',
        ),
        ("{{ .I._secret }}", "can't evaluate field _secret in type main.Item"),
        ("{{ .I.Fail }}", 'executing "" at <.I.Fail>: error calling Fail: it broke'),
        ("{{ .Z.X }}", "nil pointer evaluating interface {}.X"),
        ("{{ eq 1 1.0 }}", "error calling eq: incompatible types for comparison"),
        ("{{ eq .L .L }}", "error calling eq: non-comparable type [1 2 3]: []interface {}"),
        ("{{ lt true false }}", "error calling lt: invalid type for comparison"),
        ("{{ eq 1 }}", "error calling eq: missing argument for comparison"),
        ("{{ len 3 }}", "error calling len: len of type int"),
        ("{{ index .L 5 }}", "error calling index: index out of range: 5"),
        ("{{ index .M 1 }}", "error calling index: value has type int; should be string"),
        ("{{ slice .L 2 1 }}", "error calling slice: invalid slice index: 2 > 1"),
        ("{{ range 5 }}{{ end }}", "at <5>: range can't iterate over 5"),
        ("{{ 1 2 }}", "can't give argument to non-function 1"),
        ("{{ nil }}", "nil is not a command"),
        ("{{ and }}", "wrong number of args for and: want at least 1 got 0"),
        ("{{ printf 1 }}", "expected string; found 1"),
        ("{{ $x := 1 }}{{ .S | $x }}", "can't give argument to non-function $x"),
        ('{{ template "nope" }}', 'template "nope" not defined'),
        ("{{ 9223372036854775808 }}", "9223372036854775808 overflows int"),
        (
            '{{ define "r" }}{{ template "r" }}{{ end }}{{ template "r" }}',
            "exceeded maximum template depth",
        ),
    ],
)
def test_exec_errors_are_worded_as_go_words_them(text: str, message: str) -> None:
    """Execution stops at the first error with Go's message and location."""
    with pytest.raises(ExecError) as exc:
        run(text)
    assert message in str(exc.value)


def test_exec_error_location_counts_bytes_on_the_line() -> None:
    """The column is a byte offset in the line (at the last field, as Go), in the file's name."""
    tmpl = Template().parse('{{ define "d" }}\né {{ .X.Y }}{{ end }}', "file.tmpl")
    with pytest.raises(ExecError) as exc:
        tmpl.execute("d", {"X": 1})
    assert str(exc.value).startswith('template: file.tmpl:2:8: executing "d" at <.X.Y>:')


def test_execute_unknown_template_name_fails() -> None:
    """Executing a name the set does not hold is an error."""
    with pytest.raises(ExecError, match='no template "x"'):
        Template().execute("x", None)


def test_a_failing_function_bug_is_reported_as_an_exec_error() -> None:
    """A Python exception from a function becomes an exec error, never a crash."""

    def broken() -> str:
        raise KeyError("k")

    with pytest.raises(ExecError, match="error calling broken"):
        run("{{ broken }}", funcs={"broken": broken})


def test_recursive_templates_may_nest_a_thousand_levels() -> None:
    """Recursion far deeper than Python's default stack allows still renders."""
    text = '{{ define "r" }}{{ if . }}x{{ template "r" (slice . 1) }}{{ end }}{{ end }}'
    assert run(text + '{{ template "r" . }}', list(range(1000))) == "x" * 1000
