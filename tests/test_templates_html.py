"""html/template's contextual escaping: each context's escaper, typed content and escape errors."""

from __future__ import annotations

from typing import Any

import pytest

from alertrouter.templates import CSS, HTML, JS, URL, ExecError, HTMLAttr, Template

DATA: dict[str, Any] = {
    "R": 'team-<ops> & "on\'call"',
    "U": "http://x.com/a b?q=1&r=<2>",
    "J": "javascript:alert(1)",
    "N": 3,
    "L": ["a", "b"],
    "E": "",
    "H": HTML("<b>bold</b>"),
}


def run(text: str, data: Any = DATA) -> str:
    return Template(html=True).parse(text).execute("", data)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<p>{{ .R }}</p>", "<p>team-&lt;ops&gt; &amp; &#34;on&#39;call&#34;</p>"),
        ("{{ .N }} {{ .L }} {{ .Missing }}", "3 [a b] "),
        ("1 < 2 <!-- {{ .R }} --> x", "1 &lt; 2  x"),
        ("<!DOCTYPE html><p>", "<!DOCTYPE html><p>"),
        ('<a title="{{ .R }}">', '<a title="team-&lt;ops&gt; &amp; &#34;on&#39;call&#34;">'),
        ("<a title={{ .R }}>", "<a title=team-&lt;ops&gt;&#32;&amp;&#32;&#34;on&#39;call&#34;>"),
        ("<a title={{ .E }}>", "<a title=>"),
        ('<a href="{{ .U }}">', '<a href="http://x.com/a%20b?q=1&amp;r=%3c2%3e">'),
        (
            '<a href="/s?q={{ .U }}">',
            '<a href="/s?q=http%3a%2f%2fx.com%2fa%20b%3fq%3d1%26r%3d%3c2%3e">',
        ),
        ('<a href="{{ .J }}">', '<a href="#ZgotmplZ">'),
        ('<img src="{{ .J }}">', '<img src="#ZgotmplZ">'),
        (
            "<script>var x = {{ .R }};</script>",
            '<script>var x = "team-\\u003cops\\u003e \\u0026 \\"on\'call\\"";</script>',
        ),
        (
            "<script>var n = {{ .N }}, l = {{ .L }};</script>",
            '<script>var n =  3 , l = ["a","b"];</script>',
        ),
        (
            '<script>var s = "{{ .R }}";</script>',
            '<script>var s = "team-\\u003cops\\u003e \\u0026 '
            '\\u0022on\\u0027call\\u0022";</script>',
        ),
        ('<a onclick="f({{ .N }})">', '<a onclick="f( 3 )">'),
        ("<style>p { color: {{ .E }}red }</style>", "<style>p { color: red }</style>"),
        ("<style>p { color: {{ .R }} }</style>", "<style>p { color: ZgotmplZ }</style>"),
        ('<p style="x: {{ "a;b" }}">', '<p style="x: ZgotmplZ">'),
        (
            "<textarea>{{ .R }}</textarea>",
            "<textarea>team-&lt;ops&gt; &amp; &#34;on&#39;call&#34;</textarea>",
        ),
        ('<p {{ "class" }}="x" {{ "onclick" }}="y">', '<p class="x" ZgotmplZ="y">'),
        ('{{ .H }} <a title="{{ .H }}">', '<b>bold</b> <a title="bold">'),
        (
            '{{ .R | html }} {{ html .R "x" }}',
            "team-&lt;ops&gt; &amp; &#34;on&#39;call&#34; "
            "team-&lt;ops&gt; &amp; &#34;on&#39;call&#34;x",
        ),
        (
            '{{ define "c" }}<td>{{ . }}</td>{{ end }}{{ template "c" .R }}',
            "<td>team-&lt;ops&gt; &amp; &#34;on&#39;call&#34;</td>",
        ),
        (
            '{{ define "v" }}{{ . }}{{ end }}<a title="{{ template "v" .R }}">',
            '<a title="team-&lt;ops&gt; &amp; &#34;on&#39;call&#34;">',
        ),
        ("{{ range .L }}<li>{{ . }}</li>{{ end }}", "<li>a</li><li>b</li>"),
        ('<a {{ "title" }}={{ .N }}>', "<a title=3>"),
    ],
)
def test_each_context_gets_go_escaping(text: str, expected: str) -> None:
    """Output is escaped for its HTML context exactly as Go's html/template does."""
    assert run(text) == expected


def test_typed_content_is_trusted_only_in_its_context() -> None:
    """URL, JS, CSS and HTMLAttr values pass unescaped in their own context."""
    data = {"u": URL("javascript:ok()"), "j": JS("a+b"), "c": CSS("a;b"), "a": HTMLAttr('x="1"')}
    out = run('<a href="{{ .u }}" {{ .a }} onclick="{{ .j }}" style="{{ .c }}">', data)
    assert out == '<a href="javascript:ok%28%29" x="1" onclick="a&#43;b" style="a;b">'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('<a title={{ "x" | html }}>', 'html/template::1:12: predefined escaper "html" disallowed'),
        ('{{ .R | html | printf "%s" }}', 'predefined escaper "html" disallowed in template'),
        ("<script>var y = `{{ .R }}`;</script>", "appears in a JS template literal"),
        ('<a href="{{ .R }}', "ends in a non-text context"),
        ('{{ template "nope" }}', 'no such template "nope"'),
        ('{{ if .N }}<a href="{{ else }}<b>{{ end }}x">', "branches end in different contexts"),
        ("<a title=x'y>", "in unquoted attr"),
    ],
)
def test_unsafe_templates_fail_to_escape(text: str, message: str) -> None:
    """Templates html/template refuses fail at execution with its message."""
    with pytest.raises(ExecError) as exc:
        run(text)
    assert message in str(exc.value)


def test_escaping_does_not_change_the_set_for_text_use() -> None:
    """Escaping works on private copies: the html set's trees stay as parsed."""
    tmpl = Template(html=True).parse('{{ define "x" }}{{ . }}{{ end }}<b>{{ template "x" .R }}</b>')
    before = str(tmpl.lookup("x").root)  # type: ignore[union-attr]
    assert tmpl.execute("", DATA) == "<b>team-&lt;ops&gt; &amp; &#34;on&#39;call&#34;</b>"
    assert str(tmpl.lookup("x").root) == before  # type: ignore[union-attr]
    assert tmpl.execute("", DATA) == "<b>team-&lt;ops&gt; &amp; &#34;on&#39;call&#34;</b>"


# Outputs recorded from amtool 0.25 (--template.type=html); literals only, so data-free.
RECORDED = [
    (
        '<script>var a = "{{ "q\\"uo\'te</script>" }}", b = \'{{ "x\\ny" }}\';</script>',
        "<script>var a = \"q\\u0022uo\\u0027te\\u003c\\/script\\u003e\", b = 'x\\ny';</script>",
    ),
    (
        '<script>var re = /{{ "a.b*c" }}/g; var e = /{{ "" }}/;</script>',
        "<script>var re = /a\\.b\\*c/g; var e = /(?:)/;</script>",
    ),
    (
        '<script>var x = {{ "s" }} / {{ 2 }}; y = a++ / {{ 3 }}; '
        'if (x) /{{ "r" }}/.test(y);</script>',
        '<script>var x = "s" /  2 ; y = a++ /  3 ; if (x) /"r"/.test(y);</script>',
    ),
    (
        '<script>/* {{ "c" }} */ var a = 1; // {{ "d" }}\nvar b = {{ true }};</script>',
        "<script>   var a = 1; \nvar b =  true ;</script>",
    ),
    (
        '<script>var o = {{ 1.5 }}, l = {{ "\\u2028" }}, n = {{ -0.000001 }};</script>',
        '<script>var o =  1.5 , l = "\\u2028", n =  -0.000001 ;</script>',
    ),
    (
        '<a onclick="f({{ "a\'b" }}, \'{{ "c" }}\')">x</a>',
        "<a onclick=\"f(&#34;a&#39;b&#34;, 'c')\">x</a>",
    ),
    (
        '<style>p { color: {{ "red" }}; font: "{{ "a\\"b" }}"; } /* {{ "c" }} */</style>',
        '<style>p { color: red; font: "a\\22 b"; }   </style>',
    ),
    (
        '<style>a { background: url({{ "/img?a=1&b=2" }}) } '
        "b { background: url('{{ \"x y\" }}') }</style>",
        "<style>a { background: url(/img?a=1&b=2) } b { background: url('x%20y') }</style>",
    ),
    (
        '<style>p { width: {{ "expression(1)" }}; x: {{ "a--b" }}; y: {{ "\\\\41" }} }</style>',
        "<style>p { width: ZgotmplZ; x: ZgotmplZ; y: A }</style>",
    ),
    (
        '<p style="color: {{ "blue" }}; background: url({{ "javascript:x" }})">s</p>',
        '<p style="color: blue; background: url(#ZgotmplZ)">s</p>',
    ),
    (
        '<img srcset="{{ "a.png 1x, b.png 2x" }}" src="{{ "data:x" }}">',
        '<img srcset="a.png 1x, b.png 2x" src="#ZgotmplZ">',
    ),
    (
        '<a href="{{ "http://a/b c" }}?q={{ "d e&f" }}#{{ "g h" }}">l</a>',
        '<a href="http://a/b%20c?q=d%20e%26f#g%20h">l</a>',
    ),
]


@pytest.mark.parametrize(("text", "expected"), RECORDED)
def test_js_css_and_url_contexts_match_recorded_amtool_output(text: str, expected: str) -> None:
    """JS strings, regexps, values, comments, CSS values, strings and URLs escape as Go."""
    assert run(text, {}) == expected


def test_a_clone_escapes_its_own_definitions() -> None:
    """A clone that redefines a called template renders the new body, escaped."""
    base = Template(html=True).parse('{{ define "x" }}<b>{{ . }}</b>{{ end }}')
    tree = base.parse_tree('{{ template "x" "<1>" }}', "top")
    assert base.execute_tree(tree, None) == "<b>&lt;1&gt;</b>"
    clone = base.clone().parse('{{ define "x" }}<i>{{ . }}</i>{{ end }}')
    assert clone.execute_tree(tree, None) == "<i>&lt;1&gt;</i>"
    assert base.execute_tree(tree, None) == "<b>&lt;1&gt;</b>"
