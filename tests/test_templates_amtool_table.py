"""Hand-written templates covering every construct and builtin, rendered by amtool and by us."""

from __future__ import annotations

import pytest

from test_templates_oracle import DATA_DIR, Case, differences, needs_amtool

RESOLVED = str(DATA_DIR / "realistic_resolved.json")

TEXT = [
    # Text, comments, trimming, raw strings, chars and numbers.
    "plain text only",
    "a {{/* comment */}} b",
    "a  {{- /* trimmed comment */ -}}  b",
    "a \n {{- .Status -}} \n b",
    '{{ `raw\\n"q"` }}|{{ "esc\\t\\x41\\u00e9\\101" }}',
    "{{ 'a' }} {{ '\\n' }} {{ '\\u00e9' }}",
    "{{ 0x1F }} {{ 0o17 }} {{ 017 }} {{ 0b101 }} {{ 1_000_000 }} {{ -7 }} {{ +3 }}",
    "{{ 1.5 }} {{ 2e3 }} {{ 1e21 }} {{ 0.000001 }} {{ 1e-7 }} {{ 0x1p-2 }} {{ 3.0 }}",
    "{{ true }} {{ false }} {{ . | len }}",
    # Fields, methods, chains and variables.
    "{{ .Receiver }} {{ .Status }} {{ .ExternalURL }}",
    "{{ .GroupLabels }} {{ .CommonLabels.team }} [{{ .CommonLabels.missing }}]",
    "{{ .CommonLabels.SortedPairs }} {{ .CommonLabels.Names }} {{ .CommonLabels.Values }}",
    "{{ (.CommonLabels.Remove .GroupLabels.Names).Names }}",
    "{{ (index .Alerts 0).Labels.instance }} {{ (index .Alerts 1).EndsAt }}",
    '{{ (index .Alerts 0).StartsAt.Format "2006-01-02T15:04:05Z07:00" }}',
    "{{ (index .Alerts 0).StartsAt.Unix }} {{ (index .Alerts 0).StartsAt.UTC }}",
    '{{ $x := .Status }}{{ $x }} {{ $x = "changed" }}{{ $x }} {{ $.Receiver }}',
    "{{ $a := 1 }}{{ if true }}{{ $a = 2 }}{{ $b := 3 }}{{ $b }}{{ end }}{{ $a }}",
    "{{ with $s := .Status }}{{ $s }}/{{ . }}{{ end }}",
    "{{ $ }}",
    "{{ . }}",
    # Control flow.
    "{{ if .Alerts }}has{{ else }}none{{ end }}",
    '{{ if eq .Status "resolved" }}R{{ else if eq .Status "firing" }}F{{ else }}?{{ end }}',
    "{{ if and .Status (not .GroupLabels.nope) }}y{{ end }}",
    "{{ range .Alerts }}{{ .Status }},{{ end }}",
    "{{ range $i, $a := .Alerts }}{{ $i }}:{{ $a.Fingerprint }} {{ end }}",
    "{{ range $k, $v := .CommonLabels }}{{ $k }}={{ $v }};{{ end }}",
    "{{ range .CommonLabels }}[{{ . }}]{{ end }}",
    "{{ range .Alerts.Resolved }}{{ .Labels.instance }}{{ else }}no resolved{{ end }}",
    "{{ range $i, $e := .Alerts }}{{ if eq $i 1 }}{{ break }}{{ end }}{{ $e.Status }}{{ end }}",
    "{{ range $i, $e := .Alerts }}{{ if eq $i 1 }}{{ continue }}{{ end }}{{ $i }}{{ end }}",
    "{{ range .Alerts }}{{ range .Labels.SortedPairs }}{{ .Name }} {{ end }}|{{ end }}",
    "{{ with .CommonAnnotations.nope }}x{{ else }}empty{{ end }}",
    "{{ with .Alerts.Firing }}{{ len . }} firing{{ end }}",
    "{{ $ = 1 }}{{ $ }} {{ $x := 1 }}{{ with $x := 2 }}{{ $x }}{{ end }}{{ $x }}",
    "{{ $x := 1 }}{{ range $x := .Alerts }}{{ end }}{{ $x }}",
    "{{ if $x := .Status }}{{ $x }}{{ end }}{{ $x }}",
    '{{ define "t" }}{{ $x }}{{ end }}{{ $x := 1 }}{{ template "t" }}',
    "{{ range $i, $e := .Alerts }}{{ $i = 5 }}{{ $i }}{{ end }}",
    "{{ $a, $b := 1 }}",
    "{{ range $a, $b, $c := .Alerts }}{{ end }}",
    "{{ with $a, $b := 1 }}{{ end }}",
    '{{ template "x" $y := 1 }}',
    "{{ .Status | $x := 1 }}",
    "{{ print ($x := 3) $x }} {{ ($x := .Alerts).Resolved }}",
    "{{ (print 1).Foo }}",
    # Templates.
    '{{ define "t" }}<{{ . }}>{{ end }}{{ template "t" .Status }}{{ template "t" }}',
    '{{ block "b" .Receiver }}[{{ . }}]{{ end }}',
    '{{ define "rec" }}{{ if . }}{{ len . }}{{ template "rec" (slice . 1) }}{{ end }}{{ end }}'
    '{{ template "rec" .Alerts }}',
    '{{ template "__subject" . }}',
    '{{ template "slack.default.title" . }}',
    '{{ template "slack.default.fallback" . }}',
    '{{ template "email.default.subject" . }}',
    '{{ template "pagerduty.default.instances" .Alerts.Firing }}',
    '{{ define "__subject" }}overridden{{ end }}{{ template "slack.default.title" . }}',
    '{{ define "__subject" }}   {{ end }}{{ template "slack.default.title" . }}',
    # Builtins.
    '{{ and 1 0 2 }} {{ and 1 2 }} {{ or 0 "" }} {{ or 0 "x" 1 }} {{ not 0 }} {{ not .Alerts }}',
    '{{ len .Alerts }} {{ len .Status }} {{ len "ünï" }} {{ len .CommonLabels }}',
    "{{ index .Alerts 1 }}",
    '{{ index .CommonLabels "team" }} [{{ index .CommonLabels "nope" }}] {{ index "abc" 1 }}',
    "{{ slice .Status 1 3 }} {{ slice .Status 2 }} {{ slice .Alerts 1 2 }}",
    '{{ (slice .Alerts 0 2).Firing | len }} {{ printf "%T" (slice .Alerts 1) }}',
    '{{ printf "%T %v %c" (index "a" 0) (index "a" 0) (index "a" 0) }} {{ lt (index "a" 0) 98 }}',
    '{{ print 1 2 "a" "b" 3 }} {{ print nil }} {{ println 1 "x" }}',
    '{{ printf "%s|%q|%v|%d|%5.1f|%-4s|%x|%T" .Status .Status .Alerts 42 3.14159 "ab" "hi" 1 }}',
    '{{ printf "%d %s" "x" 2 }} {{ printf "%!" }} {{ printf "%d" }}',
    '{{ printf "%[2]s %[1]s" "a" "b" }}',
    '{{ html "<a href=\'x\'>&amp;</a>" }} {{ html 1 "<" }} {{ html nil }}',
    '{{ js "it\'s <b>\\"x\\"</b> & =" }} {{ js "\\u2028" }}',
    '{{ urlquery "a b&c=d/é" }} {{ urlquery 1 2 }}',
    '{{ eq 1 1 }} {{ eq 1 2 3 1 }} {{ eq "a" "a" }} {{ eq .Status "firing" }} {{ ne 1 2 }}',
    '{{ lt 1 2 }} {{ le 2 2 }} {{ gt "b" "a" }} {{ ge 1.5 2.5 }} {{ lt \'a\' 98 }}',
    "{{ eq true true }} {{ ne false true }}",
    "{{ eq (index .Alerts 0) (index .Alerts 0) }}",
    "{{ eq (index .CommonLabels.SortedPairs 0) (index .CommonLabels.SortedPairs 1) }}",
    "{{ eq (index .Alerts 0).StartsAt (index .Alerts 1).StartsAt }} {{ eq $ $ }}",
    # Alertmanager's functions.
    '{{ toUpper .Status }} {{ toLower "ÀBC" }} {{ title "hello wörld-foo bar_baz" }}',
    '{{ join ", " .CommonLabels.Values }} {{ join "-" (stringSlice "a" "b") }}',
    '{{ match "^fir" .Status }} {{ reReplaceAll "(i)" "[$1]" .Status }}',
    '{{ .Status | toUpper | printf "%s!" }} {{ "x" | printf "%s-%s" "y" }}',
    '{{ safeHtml "<b>" }}',
    # Errors, which must fail in both.
    "{{ .Nope }}",
    "{{ .Status.Nope }}",
    "{{ nope }}",
    "{{ len 3 }}",
    "{{ index .Alerts 5 }}",
    "{{ slice .Status 3 1 }}",
    '{{ lt 1 "a" }}',
    "{{ lt true false }}",
    "{{ eq .Alerts .Alerts }}",
    '{{ eq 1 "1" }}',
    "{{ eq 1 }}",
    "{{ toUpper 1 }}",
    "{{ toUpper }}",
    '{{ join "," "x" }}',
    '{{ template "nope" }}',
    "{{ if }}{{ end }}",
    "{{ range }}{{ end }}",
    "{{ end }}",
    "{{ else }}",
    "{{ if true }}x",
    "{{ range .Alerts }}{{ else if true }}{{ end }}",
    "{{ with .Status }}{{ else with .Receiver }}{{ end }}",
    "{{ break }}",
    "{{ range .Alerts }}{{ break 1 }}{{ end }}",
    "{{ $x }}",
    "{{ $x = 1 }}",
    "{{ $x := 1 }}{{ $x := 2 }}{{ $x }}",
    "{{ 1 2 }}",
    "{{ nil }}",
    "{{ . | 1 }}",
    "{{ 08 }}",
    "{{ 1e400 }}",
    "{{ 9223372036854775808 }}",
    "{{ -9223372036854775808 }}",
    "{{ 18446744073709551615 }}",
    "{{ (1).Foo }}",
    "{{ .Status | }}",
    "{{ ( .Status }}",
    "{{ .Status ) }}",
    '{{ "unterminated }}',
    "{{ 'ab' }}",
    "{{ /* bad comment */ }}",
    "{{/* unclosed comment }}",
    "{{ $.Status.X.Y }}",
    "{{ .Status @ }}",
    "{{ range 3 }}{{ . }}{{ end }}",
    "{{ range .Status }}{{ . }}{{ end }}",
    '{{ define "a" }}1{{ end }}{{ define "a" }}2{{ end }}',
    '{{ define "a" }}{{ define "b" }}{{ end }}{{ end }}',
    '{{ template "a" . }}{{ define "a" }}{{ template "a" . }}{{ end }}',
    '{{ define "r" }}{{ template "r" }}{{ end }}{{ template "r" }}',
    "{{ printf }}",
    "{{ (index .Alerts 0).StartsAt.Format }}",
    '{{ match "(" "x" }}',
    "{{\n.Status\n}}",
    # Lexer corners.
    "{{-}} {{- }} {{ -}} {{--}}",
    'a {{- -}} b {{ "}}" }} {{ "{{" }} x{{/**/}}y',
    "{{.Status-}} {{ $x:=1 }}{{$x}} {{ . Status }} {{ .Status.}}",
    "{{ ($x := 1) }}{{ $x }} {{ print (1) (2) -1 +2 .5 1. }}",
    "{{ print 0x }} {{ print 1e }} {{ print 0x1.8p1 }} {{ print 1+x }}",
    "{{ print '\\'' '\\x41' '\\101' '\\U0001F600' }}",
    "{{ nil | print }} {{ if nil }}x{{ end }}{{ range nil }}x{{ end }} {{ len nil }}",
    "{{ index nil 1 }}",
    "{{ not nil }} {{ eq nil nil }} {{ html nil }} {{ print nil nil }}",
    "{{ $i := 0 }}{{ $e := 0 }}{{ range $i, $e = .Alerts }}{{ $i }}{{ end }}{{ $i }}",
    "{{ range $e := .Alerts }}{{ end }}{{ $e }}",
    '{{ index .Alerts 0 "x" }}',
    "{{ call .Alerts.Firing }}",
    "{{ .Alerts.Firing 1 }} ",
    "{{ .Receiver 1 }}",
    "{{ .GroupLabels.x 1 }}",
    "{{ .GroupLabels.SortedPairs 1 }}",
    "{{ .Status\n| toUpper }}",
]

HTML = [
    "<p>{{ .Receiver }}</p>",
    "1 < 2 & 3 > 2 <!-- comment {{ .Status }} --> <!DOCTYPE html>",
    '<a href="{{ .ExternalURL }}/#/alerts?receiver={{ .Receiver }}">{{ .Status }}</a>',
    '<a href="{{ (index .Alerts 1).GeneratorURL }}">gen</a>',
    '<a href="{{ (index .Alerts 0).GeneratorURL }}">gen</a>',
    "<a href={{ .ExternalURL }} title={{ .Receiver }}>x</a>",
    "<td title='{{ .CommonAnnotations.runbook_url }}'>{{ .CommonLabels.team }}</td>",
    '<img src="{{ .ExternalURL }}/img?x={{ .Status }}" alt="{{ .Receiver }}">',
    "<script>var r = {{ .Receiver }}; var n = {{ len .Alerts }}; var b = {{ true }};</script>",
    "<script>var s = \"{{ .Receiver }}\"; var t = '{{ .Status }}';</script>",
    "<script>var l = {{ .CommonLabels.Values }}; var m = {{ .CommonLabels }};</script>",
    "<style>p { color: {{ .Status }}; }</style>",
    "<style>p { background: url('{{ .ExternalURL }}'); font: \"{{ .Receiver }}\" }</style>",
    '<p style="color: {{ .Status }}">x</p>',
    '<a onclick="alert({{ .Receiver }})">x</a>',
    "<textarea>{{ .Receiver }}</textarea><title>{{ .Receiver }}</title>",
    '<p {{ "class" }}="x" {{ "onclick" }}="y">',
    '<p class="{{ .Status }} {{ .Receiver }}">',
    '{{ safeHtml "<b>bold</b>" }} <a title="{{ safeHtml "<b>t</b>" }}">',
    '{{ .Receiver | html }} <a href="/q?x={{ .Receiver | urlquery }}">',
    '{{ html .Receiver "x" }}',
    '<a href="{{ "javascript:alert(1)" }}">x</a> <a href="{{ "HTTPS://ok" }}">y</a>',
    '<a href="mailto:{{ .Receiver }}">m</a>',
    "{{ range .Alerts }}<li>{{ .Labels.instance }} {{ .Annotations.summary }}</li>{{ end }}",
    '{{ define "cell" }}<td>{{ . }}</td>{{ end }}<tr>{{ template "cell" .Status }}</tr>',
    '{{ define "v" }}{{ . }}{{ end }}<a title="{{ template "v" .Receiver }}">',
    "{{ if .Alerts }}<b>{{ else }}<i>{{ end }}x",
    '<a href="{{ if .Alerts }}/a{{ else }}/b{{ end }}?q={{ .Status }}">',
    '{{ template "email.default.subject" . }}',
    '{{ template "email.default.html" . }}',
    "<script>var y = `a{{ .Receiver }}`;</script>",
    '<a title={{ "" | html }}>',
    '<a href="{{ .Receiver }}',
    "<a {{ .Status }}={{ .Receiver }}>",
    '<p title="{{ .Receiver }}" {{ if .Alerts }}data-x="1"{{ end }}>',
    "<a title={{ .Receiver }} class=x>",
    '<a href="/{{ .Receiver }}?{{ .Status }}">',
    '<img srcset="{{ .ExternalURL }} 1x">',
    '<img srcset="{{ "a.png 1x, javascript:x 2x" }}"><img srcset="{{ " a b.png 1x ,c 2.5x" }}">',
    '<a href="{{ "%41%zz%" }}" data-url="{{ "javascript:x" }}" data-foo="{{ "javascript:x" }}">',
    '<a xlink:href="{{ "javascript:x" }}" xmlns:x="{{ "javascript:x" }}">',
    '<script type="text/template">{{ .Receiver }}</script>',
    '<script type="text/javascript">var x = {{ .Receiver }};</script>',
    "<script>/* {{ .Receiver }} */ var a = 1; // {{ .Status }}\n</script>",
    "<script>var r = /{{ .Receiver }}/; var x = a / {{ 2 }};</script>",
    "<style>/* {{ .Receiver }} */ a { background: url({{ .ExternalURL }}) }</style>",
    '<p title="{{ .Receiver }}" title2=x{{ .Status }}><input value={{ .Receiver }} checked>',
    '<textarea>{{ safeHtml "<b>" }}</textarea><title>{{ safeHtml "<i>x</i>" }}</title>',
    '<a href="{{ safeHtml "javascript:x" }}">',
    '<p>{{ "\\u2028" }} {{ "\\x00" }}</p><a title="{{ "\\x00" }}" b={{ "\\x00a" }}>',
    "<!-- x --><p>{{ .Status }}<!-- {{ .Receiver }}",
    '<a onclick=\'var x = "{{ .Receiver }}"\'><p x={{ "a" }}{{ "b" }}>',
    '<svg><a href="{{ .ExternalURL }}"></a></svg><a href="{{ "" }}"><a href="{{ . }}">',
    '{{ "<" }}a{{ "b>" }}',
    '<p {{ "type" }}="x" {{ "rel" }}="y" {{ "srcdoc" }}="z" {{ "srclang" }}="w">',
    '<p {{ "data-x" }}="v" {{ "content" }}="u">',
    '<meta content="{{ "javascript:x" }}"><iframe srcdoc="{{ "<b>" }}"></iframe>',
    '{{ range .Alerts }}<a href="{{ .GeneratorURL }}{{ end }}">',
    '<a href="{{ if .Alerts }}/x?y={{ else }}/z{{ end }}{{ .Status }}">',
    '<a href="/x{{ if .Alerts }}?y=1{{ end }}&z={{ .Status }}">',
    '<script>var a = {{ if .Alerts }}1{{ else }}"x"{{ end }} / {{ .Status }};</script>',
    '{{ define "rec" }}{{ if . }}<b>{{ template "rec" (slice . 1) }}</b>{{ end }}{{ end }}'
    '{{ template "rec" .Alerts }}',
    '{{ define "open" }}<a href="{{ . }}{{ end }}{{ template "open" .Status }}">',
    '{{ define "q" }}?q={{ . }}{{ end }}<a href="/x{{ template "q" .Status }}">',
    '{{ define "t" }}{{ . }}{{ end }}<script>var x = {{ template "t" .Status }};</script>'
    '<p>{{ template "t" .Status }}</p><a title={{ template "t" .Receiver }}>',
    '{{ define "bad" }}<a href="{{ end }}{{ if .Alerts }}{{ template "bad" }}{{ end }}">',
    '<a title="{{ range .Alerts }}{{ .Status }},{{ end }}">',
    "<script>{{ range .Alerts }}x = {{ .Status }};{{ end }}</script>",
    "<script>function f() { } /{{ .Status }}/.test(x); x = y / {{ 2 }} / 3; "
    "return /{{ .Status }}/; a++ / {{ 1 }}; a+ /{{ .Status }}/ </script>",
    "<style>p { color: {{ `\\41 B\\\\x` }} } "
    'a { background: url("{{ .ExternalURL }}\\3f x") }</style>',
]


@pytest.mark.amtool
@needs_amtool
@pytest.mark.parametrize("data", ["realistic_group.json", "realistic_resolved.json"])
def test_text_constructs_render_as_amtool_renders_them(data: str) -> None:
    """Every text construct, builtin and error renders identically or fails in both."""
    cases = [Case(t, "text", str(DATA_DIR / data)) for t in TEXT]
    report = differences(cases)
    assert not report, "\n".join(report)


@pytest.mark.amtool
@needs_amtool
@pytest.mark.parametrize("data", ["realistic_group.json", "realistic_resolved.json"])
def test_html_contexts_render_as_amtool_renders_them(data: str) -> None:
    """Every html context renders identically (escaped alike) or fails in both."""
    cases = [Case(t, "html", str(DATA_DIR / data)) for t in HTML]
    report = differences(cases)
    assert not report, "\n".join(report)


@pytest.mark.amtool
@needs_amtool
def test_text_constructs_in_html_templates_render_as_amtool_renders_them() -> None:
    """The text table rendered as html templates agrees with amtool too."""
    report = differences(Case(t, "html", RESOLVED) for t in TEXT)
    assert not report, "\n".join(report)


EXAMPLE_DATA = [
    '{{ template "slack.default.title" . }}|{{ template "pagerduty.default.instances" .Alerts }}',
    '{{ template "email.default.subject" . }} {{ .Receiver }} {{ .Status }} {{ .ExternalURL }}',
    "{{ range .Alerts }}{{ .Labels }} {{ .Annotations }} {{ .Fingerprint }};{{ end }}",
    "{{ .GroupLabels }} {{ .CommonLabels }} {{ .CommonAnnotations }} {{ len .Alerts.Firing }}",
    # amtool reads the clock once per timestamp, so durations between them vary by nanoseconds.
    "{{ range .Alerts }}{{ .StartsAt.Before .EndsAt }} {{ .EndsAt.IsZero }};{{ end }}",
]


@pytest.mark.amtool
@needs_amtool
def test_amtool_example_data_renders_as_amtool_renders_it() -> None:
    """Without a data file both use amtool's built-in example alerts (time-free fields)."""
    report = differences(Case(t, kind, None) for t in EXAMPLE_DATA for kind in ("text", "html"))
    assert not report, "\n".join(report)
