"""Alertmanager's template functions and Prometheus' humanizing helpers.

Expected strings of the case-mapping and regexp tables were printed by amtool 0.25; the tests
marked ``amtool`` render those tables through amtool again when it is installed.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from alertrouter.templates.content import HTML, URL
from alertrouter.templates.data import data_from_webhook
from alertrouter.templates.errors import GoError
from alertrouter.templates.functions import alertmanager_funcs, go_json
from alertrouter.templates.gofmt import quote
from alertrouter.templates.gotime import GoDuration, GoTime, parse_rfc3339
from alertrouter.templates.humanize import (
    humanize,
    humanize_1024,
    humanize_duration,
    humanize_percentage,
    humanize_timestamp,
)
from templates_amtool import DATA_DIR, amtool_render, amtool_render_many, needs_amtool

FUNCS = alertmanager_funcs()
RAW_WEBHOOKS = Path(__file__).parent / "fixtures" / "alertmanager" / "raw"

CASE_CASES: list[tuple[str, str, str, str]] = [
    ("hELLO wORLD", "Hello World", "HELLO WORLD", "hello world"),
    ("foo_bar baz-qux", "Foo_bar Baz-Qux", "FOO_BAR BAZ-QUX", "foo_bar baz-qux"),
    ("o'neil mcdonald", "O'neil Mcdonald", "O'NEIL MCDONALD", "o'neil mcdonald"),
    ("1st 2nd x1y", "1St 2Nd X1y", "1ST 2ND X1Y", "1st 2nd x1y"),
    ("FOO.BAR a.b..c d:e", "Foo.bar A.b..C D:e", "FOO.BAR A.B..C D:E", "foo.bar a.b..c d:e"),
    ("ßtraße ǆemal", "Sstraße ǅemal", "ßTRAßE ǄEMAL", "ßtraße ǆemal"),
    ("hello,world/path", "Hello,World/Path", "HELLO,WORLD/PATH", "hello,world/path"),
    ("élan ÉLAN", "Élan Élan", "ÉLAN ÉLAN", "élan élan"),
    ("日本語abc", "日本語Abc", "日本語ABC", "日本語abc"),
    ("it’s", "It’s", "IT’S", "it’s"),
    ("ﬁsh", "Fish", "ﬁSH", "ﬁsh"),
    ("αβγ ΣΑΣ σς", "Αβγ Σας Σς", "ΑΒΓ ΣΑΣ ΣΣ", "αβγ σασ σς"),
    ("a&b<c", "A&B<C", "A&B<C", "a&b<c"),
    ("tab\tx\ny", "Tab\tX\nY", "TAB\tX\nY", "tab\tx\ny"),
    ("İstanbul", "İstanbul", "İSTANBUL", "istanbul"),
    ("_abc", "_Abc", "_ABC", "_abc"),
    ("don't", "Don't", "DON'T", "don't"),
    ("a--b", "A--B", "A--B", "a--b"),
    ("(hi)", "(Hi)", "(HI)", "(hi)"),
    ('"quoted words"', '"Quoted Words"', '"QUOTED WORDS"', '"quoted words"'),
    ("a.'b", "A.'B", "A.'B", "a.'b"),
    ("a·b", "A·b", "A·B", "a·b"),
    ("ǅ", "ǅ", "Ǆ", "ǆ"),
    ("ŉ", "ʼN", "ŉ", "ŉ"),
    ("ΐ", "Ϊ́", "ΐ", "ΐ"),
    ("aB-cD", "Ab-Cd", "AB-CD", "ab-cd"),
    ("x@y.com", "X@Y.com", "X@Y.COM", "x@y.com"),
    ("it's-a test", "It's-A Test", "IT'S-A TEST", "it's-a test"),
    ("école", "École", "ÉCOLE", "école"),
    ("ΣΑΣ'Σ", "Σασ'ς", "ΣΑΣ'Σ", "σασ'σ"),
    ("a\xadb", "A\xadb", "A\xadB", "a\xadb"),
    ("ＡＢＣ ｄｅｆ", "Ａｂｃ Ｄｅｆ", "ＡＢＣ ＤＥＦ", "ａｂｃ ｄｅｆ"),
    ("", "", "", ""),
    ("ǰ", "J̌", "ǰ", "ǰ"),
    ("Straße", "Straße", "STRAßE", "straße"),
]
REGEX_CASES: list[tuple[str, str, str, str, bool]] = [
    (
        "(\\w+)@(\\w+)",
        "$2 at $1 ${1}x $1x $$ $ ${2",
        "mail bob@example and al@b",
        "mail example at bob bobx  $ $ ${2 and b at al alx  $ $ ${2",
        True,
    ),
    ("a*", "-", "baaac", "-b-c-", True),
    ("", "-", "abc", "-a-b-c-", True),
    ("x*", "<$0>", "xxaxx", "<xx>a<xx>", True),
    (
        "(?P<first>\\w+) (?P<last>\\w+)",
        "$last, ${first}! $3 $00 $01 ${last",
        "John Smith",
        "Smith, John!    ${last",
        True,
    ),
    ("b", "\\$1", "abc", "a\\c", True),
    ("(a)|(b)", "[$1|$2]", "ab", "[a|][|b]", True),
    ("^", "> ", "line1\nline2", "> line1\nline2", True),
    ("(?m)^", "> ", "line1\nline2", "> line1\n> line2", True),
    ("é+", "E", "café éé", "cafE E", True),
    ("\\b", "|", "hi there", "|hi| |there|", True),
    ("(?i)HOST", "node", "host Host hOsT", "node node node", True),
    ("[[:digit:]]+", "#", "a1b22c333", "a#b#c#", True),
    ("\\pL+", "L", "abc 123 ßü", "L 123 L", True),
    ("(?s).+", "x", "a\nb", "x", True),
    ("a|ab", "X", "ab", "Xb", True),
    ("(a+)(b+)?", "[$2$1]", "aab a", "[baa] [a]", True),
    (":9100$", "", "node-1:9100", "node-1", True),
]


def test_function_set() -> None:
    """The map holds 0.25's functions and those later releases added, nothing else."""
    assert set(FUNCS) == {
        "toUpper",
        "toLower",
        "title",
        "trimSpace",
        "join",
        "match",
        "safeHtml",
        "safeUrl",
        "urlUnescape",
        "reReplaceAll",
        "stringSlice",
        "routeLabels",
        "date",
        "tz",
        "now",
        "since",
        "humanizeDuration",
        "toDate",
        "mustToDate",
        "toJson",
        "base64encode",
        "base64decode",
        "list",
        "append",
        "dict",
    }


@pytest.mark.parametrize(("text", "titled", "upper", "lower"), CASE_CASES)
def test_case_mapping_matches_go(text: str, titled: str, upper: str, lower: str) -> None:
    """title is x/text's cases.Title; toUpper and toLower map rune by rune as Go's strings do."""
    assert FUNCS["title"](text) == titled
    assert FUNCS["toUpper"](text) == upper
    assert FUNCS["toLower"](text) == lower


@pytest.mark.amtool
@needs_amtool
def test_case_table_matches_amtool() -> None:
    """amtool still maps every row of the case table as recorded."""
    texts = [
        f"{{{{ title {quote(t)} }}}}|{{{{ toUpper {quote(t)} }}}}|{{{{ toLower {quote(t)} }}}}"
        for t, *_ in CASE_CASES
    ]
    assert amtool_render_many(texts) == ["|".join(row[1:]) for row in CASE_CASES]


@pytest.mark.parametrize(("pattern", "repl", "text", "replaced", "matched"), REGEX_CASES)
def test_regexp_functions_match_go(
    pattern: str, repl: str, text: str, replaced: str, matched: bool
) -> None:
    """reReplaceAll expands $1/${name} and skips empty matches after a match; match searches."""
    assert FUNCS["reReplaceAll"](pattern, repl, text) == replaced
    assert FUNCS["match"](pattern, text) is matched


@pytest.mark.amtool
@needs_amtool
def test_regexp_table_matches_amtool() -> None:
    """amtool still replaces and matches every row of the regexp table as recorded."""
    texts = [
        f"{{{{ reReplaceAll {quote(p)} {quote(r)} {quote(t)} }}}}|"
        f"{{{{ match {quote(p)} {quote(t)} }}}}"
        for p, r, t, *_ in REGEX_CASES
    ]
    expected = [f"{rep}|{'true' if m else 'false'}" for *_, rep, m in REGEX_CASES]
    assert amtool_render_many(texts) == expected


BAD_PATTERNS = [
    ("(", "missing closing ): `(`"),
    (")", "unexpected ): `)`"),
    ("[a", "missing closing ]: `[a`"),
    ("a**", "invalid nested repetition operator: `**`"),
    ("*", "missing argument to repetition operator: `*`"),
    ("a\\", "trailing backslash at end of expression: ``"),
    ("\\q", "invalid escape sequence: `\\q`"),
    ("[z-a]", "invalid character class range: `z-a`"),
    ("(?<n>x)", "invalid or unsupported Perl syntax: `(?<`"),
    ("a{2,1}", "invalid repeat count: `{2,1}`"),
    ("x(?=y)", "invalid or unsupported Perl syntax: `(?=`"),
    ("\\C", "invalid escape sequence: `\\C`"),
]


@pytest.mark.parametrize(("pattern", "reason"), BAD_PATTERNS)
def test_regexp_errors_are_worded_as_go(pattern: str, reason: str) -> None:
    """Bad patterns fail with Go's regexp/syntax wording (and MustCompile's for reReplaceAll)."""
    with pytest.raises(GoError) as match_error:
        FUNCS["match"](pattern, "x")
    assert str(match_error.value) == "error parsing regexp: " + reason
    with pytest.raises(GoError) as replace_error:
        FUNCS["reReplaceAll"](pattern, "", "x")
    quoted = "`" + pattern + "`"
    assert str(replace_error.value) == f"regexp: Compile({quoted}): error parsing regexp: {reason}"


@pytest.mark.amtool
@needs_amtool
@pytest.mark.parametrize(("pattern", "reason"), BAD_PATTERNS[:4])
def test_regexp_errors_match_amtool(pattern: str, reason: str) -> None:
    """amtool reports the same reasons."""
    from templates_amtool import AmtoolError

    with pytest.raises(AmtoolError) as error:
        amtool_render(f'{{{{ match {quote(pattern)} "x" }}}}')
    assert str(error.value).endswith("error calling match: error parsing regexp: " + reason)


def test_join_safe_and_slices() -> None:
    """join, stringSlice, safeHtml and safeUrl behave as in Alertmanager."""
    assert FUNCS["join"](", ", FUNCS["stringSlice"]("a", "b")) == "a, b"
    assert FUNCS["stringSlice"]() == []
    assert isinstance(FUNCS["safeHtml"]("<b>"), HTML)
    assert isinstance(FUNCS["safeUrl"]("javascript:x"), URL)


@pytest.mark.amtool
@needs_amtool
def test_basic_functions_match_amtool() -> None:
    """join, stringSlice and safeHtml render as amtool renders them."""
    text = '{{ join "," (stringSlice "a" "b") }}|{{ stringSlice }}|{{ safeHtml "<b>" }}|{{ "<b>" }}'
    assert amtool_render(text, html=True) == "a,b|[]|<b>|&lt;b&gt;"


def test_trim_space_uses_go_spaces() -> None:
    """trimSpace trims Unicode spaces but keeps the separators Python also strips."""
    assert FUNCS["trimSpace"]("\u3000 \t x y \n\xa0") == "x y"
    assert FUNCS["trimSpace"]("\x1cx\x1f") == "\x1cx\x1f"


def test_url_unescape() -> None:
    """urlUnescape is QueryUnescape: plus is space, bad escapes are errors."""
    assert FUNCS["urlUnescape"]("a%20b+c%2Bd%C3%A9") == "a b c+dé"
    with pytest.raises(GoError, match=r'^invalid URL escape "%zz"$'):
        FUNCS["urlUnescape"]("x%zz")
    with pytest.raises(GoError, match=r'^invalid URL escape "%4"$'):
        FUNCS["urlUnescape"]("%4")


def test_date_and_tz() -> None:
    """date formats with a Go layout; tz moves a time into an IANA zone."""
    t = parse_rfc3339("2026-07-01T12:00:00Z")
    assert FUNCS["date"]("2006-01-02 15:04 MST", t) == "2026-07-01 12:00 UTC"
    moved = FUNCS["tz"]("America/New_York", t)
    assert FUNCS["date"]("15:04 MST -07:00", moved) == "08:00 EDT -04:00"
    with pytest.raises(GoError, match="unknown time zone Nowhere/Land"):
        FUNCS["tz"]("Nowhere/Land", t)
    with pytest.raises(GoError, match=r"expected time\.Time; got string"):
        FUNCS["date"]("2006", "2026")


def test_now_and_since() -> None:
    """now is the current time; since is the duration from a time until now."""
    now = FUNCS["now"]()
    assert isinstance(now, GoTime)
    elapsed = FUNCS["since"](now.Add(-GoDuration(3600 * 10**9)))
    assert isinstance(elapsed, GoDuration)
    assert 3600 * 10**9 <= elapsed < 3700 * 10**9


def test_to_date_and_must_to_date() -> None:
    """toDate returns the zero time on failure; mustToDate returns Go's parse error."""
    assert FUNCS["toDate"]("2006-01-02", "2026-03-04").String() == "2026-03-04 00:00:00 +0000 UTC"
    assert FUNCS["toDate"]("2006-01-02", "nope").IsZero()
    with pytest.raises(GoError, match='cannot parse "nope" as "2006"'):
        FUNCS["mustToDate"]("2006-01-02", "nope")


def test_list_append_dict() -> None:
    """list, append and dict build slices and maps as Alertmanager's main branch does."""
    assert FUNCS["list"]() == []
    assert FUNCS["append"](FUNCS["list"](1), 2, "x") == [1, 2, "x"]
    assert FUNCS["dict"]("a", 1, "b", [2]) == {"a": 1, "b": [2]}
    with pytest.raises(GoError, match="dict requires an even number of arguments"):
        FUNCS["dict"]("a")
    with pytest.raises(GoError, match="dict keys must be strings"):
        FUNCS["dict"](1, 2)


def test_base64() -> None:
    """base64encode/base64decode use the padded URL-safe alphabet; bad input is an error."""
    assert FUNCS["base64encode"]("ü?>") == "w7w_Pg=="
    assert FUNCS["base64decode"]("w7w_Pg==") == "ü?>"
    with pytest.raises(GoError, match="illegal base64 data at input byte 2"):
        FUNCS["base64decode"]("w7+/")


def test_to_json_of_values() -> None:
    """toJson is json.Marshal: sorted maps, HTML-safe escapes, Go float spelling."""
    value = {"b": [1, 2.5, 1e21, 1e-7, None, True], "a": "<&>\u2028\n"}
    assert FUNCS["toJson"](value) == (
        '{"a":"\\u003c\\u0026\\u003e\\u2028\\n","b":[1,2.5,1e+21,1e-7,null,true]}'
    )
    assert FUNCS["toJson"](GoTime.zero()) == '"0001-01-01T00:00:00Z"'
    with pytest.raises(GoError, match=r"json: unsupported value: NaN"):
        FUNCS["toJson"](math.nan)


@pytest.mark.skipif(not RAW_WEBHOOKS.is_dir(), reason="needs the captured Alertmanager webhooks")
@pytest.mark.parametrize(
    "path",
    sorted(RAW_WEBHOOKS.glob("*.body")) if RAW_WEBHOOKS.is_dir() else [],
    ids=lambda p: p.name,
)
def test_to_json_of_data_is_alertmanagers_webhook(path: Path) -> None:
    """toJson of decoded webhook data gives back the bytes Alertmanager sent (its Data part)."""
    raw = path.read_text(encoding="utf-8")
    data = data_from_webhook(json.loads(raw))
    assert raw.startswith(go_json(data)[:-1] + ',"version":')


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "0s"),
        (1, "1s"),
        (60, "1m 0s"),
        (3600, "1h 0m 0s"),
        (86400, "1d 0h 0m 0s"),
        (86400 + 3600, "1d 1h 0m 0s"),
        (-(86400 * 2 + 3600 * 3 + 60 * 4 + 5), "-2d 3h 4m 5s"),
        (899.99, "14m 59s"),
        (0.1, "100ms"),
        (0.0001, "100us"),
        (0.12345, "123.5ms"),
        (60.1, "1m 0s"),
        (1.2345, "1.234s"),
        (12.345, "12.35s"),
        ("3600", "1h 0m 0s"),
        (".12345", "123.5ms"),
        (1234567, "14d 6h 56m 7s"),
        (-1, "-1s"),
        (GoDuration(90 * 10**9), "1m 30s"),
        (math.inf, "+Inf"),
    ],
)
def test_humanize_duration(value: Any, expected: str) -> None:
    """humanizeDuration matches prometheus/common's table."""
    assert humanize_duration(value) == expected
    assert FUNCS["humanizeDuration"](value) == expected


def test_humanize_duration_refuses_text() -> None:
    """Non-numbers fail with Go's ParseFloat or conversion message."""
    with pytest.raises(GoError, match=r'strconv.ParseFloat: parsing "one": invalid syntax'):
        humanize_duration("one")
    with pytest.raises(GoError, match=r"can't convert \[\]interface \{\} to float"):
        humanize_duration([1])


def test_other_humanizers() -> None:
    """humanize, humanize1024, humanizePercentage and humanizeTimestamp follow Prometheus."""
    assert humanize(1234567.0) == "1.235M"
    assert humanize(0.00123) == "1.23m"
    assert humanize(0) == "0"
    assert humanize_1024(1536) == "1.5ki"
    assert humanize_1024(0.5) == "0.5"
    assert humanize_percentage(0.12345) == "12.35%"
    assert humanize_timestamp(1435065584.128) == "2015-06-23 13:19:44.128 +0000 UTC"


ENGINE_CASES = [
    ('{{ toJson (dict "a" 1 "b" (list 1.5 "x" nil true)) }}', '{"a":1,"b":[1.5,"x",null,true]}'),
    ('{{ (index .Alerts 0).StartsAt | date "2006-01-02 15:04 MST" }}', "2026-03-29 01:59 +0200"),
    (
        '{{ tz "Europe/Berlin" (index .Alerts 0).StartsAt }}',
        "2026-03-29 00:59:59.123456789 +0100 CET",
    ),
    (
        '{{ humanizeDuration 3661 }}|{{ humanizeDuration "0.25" }}|'
        "{{ humanizeDuration ((index .Alerts 1).EndsAt.Sub (index .Alerts 1).StartsAt) }}",
        "1h 1m 1s|250ms|59m 59s",
    ),
    ('{{ list 1 2 | toJson }}|{{ append (list 1) 2 "x" }}|{{ list }}', "[1,2]|[1 2 x]|[]"),
    (
        '{{ urlUnescape "a%20b+c" }}|{{ base64encode "é?" }}|{{ base64decode "w6k_" }}|'
        '{{ trimSpace "  x  " }}',
        "a b c|w6k_|é?|x",
    ),
    ('{{ .CommonLabels.Values.Join "," }}|{{ .GroupLabels.Names.Join ":" }}', "Offsets|alertname"),
    (
        '{{ (toDate "2006-01-02" "2026-03-04").Unix }}|{{ toDate "2006" "x" }}',
        "1772582400|0001-01-01 00:00:00 +0000 UTC",
    ),
    (
        '{{ routeLabels "x" }}|{{ since (index .Alerts 0).StartsAt | printf "%T" }}|'
        '{{ now | printf "%T" }}',
        "|time.Duration|time.Time",
    ),
    (
        '{{ title "hELLO wORLD" | toLower | toUpper }}|{{ join "-" (stringSlice "a" "b") }}|'
        '{{ reReplaceAll "(\\\\w+)" "<$1>" "a b" }}|{{ match "^a" "abc" }}',
        "HELLO WORLD|a-b|<a> <b>|true",
    ),
]


@pytest.mark.parametrize(("text", "expected"), ENGINE_CASES)
def test_functions_through_the_engine(text: str, expected: str) -> None:
    """Called from templates, the functions get Go-typed arguments and print Go's results."""
    from alertrouter.templates import render

    payload = json.loads((DATA_DIR / "offsets.json").read_text(encoding="utf-8"))
    assert render([], text, payload, "text") == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{{ mustToDate "2006" "x" }}', 'parsing time "x" as "2006": cannot parse "x" as "2006"'),
        ('{{ tz "Nope/Zone" (index .Alerts 0).StartsAt }}', "unknown time zone Nope/Zone"),
        ('{{ dict "a" }}', "dict requires an even number of arguments"),
    ],
)
def test_function_errors_through_the_engine(text: str, reason: str) -> None:
    """A function's error stops the render with Go's "error calling" message."""
    from alertrouter.templates import ExecError, render

    payload = json.loads((DATA_DIR / "offsets.json").read_text(encoding="utf-8"))
    with pytest.raises(ExecError) as error:
        render([], text, payload, "text")
    name = text.split()[1]
    assert str(error.value).endswith(f"error calling {name}: {reason}")


def test_safe_content_through_html_escaping() -> None:
    """safeUrl and safeHtml values pass html/template's escapers; plain strings do not."""
    from alertrouter.templates import render

    text = '<a href="{{ safeUrl "javascript:x" }}">{{ safeHtml "<b>" }}</a><a href="{{ "javascript:x" }}">'  # noqa: E501
    assert render([], text, {}, "html") == '<a href="javascript:x"><b></a><a href="#ZgotmplZ">'
