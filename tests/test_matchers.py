"""Matcher parsing and matching, against Alertmanager 0.25's pkg/labels behaviour."""

from __future__ import annotations

import random
import string

import pytest
import re2

from alertrouter.errors import MatcherSyntaxError
from alertrouter.router.matchers import (
    Matcher,
    MatchType,
    compile_anchored,
    parse_label_assignment,
    parse_matcher,
    parse_matchers,
)

EQ, NE, RE, NRE = MatchType.EQUAL, MatchType.NOT_EQUAL, MatchType.REGEX, MatchType.NOT_REGEX


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("foo=bar", [("foo", EQ, "bar")]),
        ('foo="bar"', [("foo", EQ, "bar")]),
        ("foo=~bar.*", [("foo", RE, "bar.*")]),
        ('foo=~"bar.*"', [("foo", RE, "bar.*")]),
        ("foo!=bar", [("foo", NE, "bar")]),
        ('foo!~"bar.*"', [("foo", NRE, "bar.*")]),
        ('{foo="bar", baz=~"qux"}', [("foo", EQ, "bar"), ("baz", RE, "qux")]),
        ("{foo=bar}", [("foo", EQ, "bar")]),
        ('  foo  =  "bar"  ', [("foo", EQ, "bar")]),
        ('foo="bar,baz"', [("foo", EQ, "bar,baz")]),
        ('foo=~"a,b",bar=c', [("foo", RE, "a,b"), ("bar", EQ, "c")]),
        ('foo="quoted \\"inner\\""', [("foo", EQ, 'quoted "inner"')]),
        ('foo="new\\nline"', [("foo", EQ, "new\nline")]),
        ('foo="back\\\\slash"', [("foo", EQ, "back\\slash")]),
        ('foo="spurious\\qescape"', [("foo", EQ, "spurious\\qescape")]),
        ("foo=", [("foo", EQ, "")]),
        ('foo=""', [("foo", EQ, "")]),
        ("foo:bar=baz", [("foo:bar", EQ, "baz")]),
        ("foo=bar baz", [("foo", EQ, "bar baz")]),
        ("foo=~\\d+", [("foo", RE, "\\d+")]),
        ("", []),
    ],
)
def test_parse_matchers_accepts_alertmanager_syntax(
    text: str, expected: list[tuple[str, MatchType, str]]
) -> None:
    """Every form Alertmanager's ParseMatchers accepts parses to the same name, op and value."""
    assert [(m.name, m.type, m.value) for m in parse_matchers(text)] == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("foo", "bad matcher format: foo"),
        ("0foo=bar", "bad matcher format"),
        ("foo-bar=baz", "bad matcher format"),
        ('foo="bar', "unescaped double quote"),
        ('foo=bar"', "unescaped double quote"),
        ('foo="ba"r"', "unescaped double quote"),
        ('foo=~"("', 'invalid regex "(": missing )'),
        ('foo=~"(?=lookahead)"', "invalid regex"),
        ('foo=~"(a)\\\\1"', "invalid regex"),
        ('foo=~"x**"', "invalid regex"),
    ],
)
def test_parse_matchers_rejects_what_alertmanager_rejects(text: str, message: str) -> None:
    """Malformed matchers and regexes RE2 (Go) rejects raise MatcherSyntaxError with a reason."""
    with pytest.raises(MatcherSyntaxError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_matchers(text)


@pytest.mark.parametrize(
    ("matcher", "value", "expected"),
    [
        ('foo="bar"', "bar", True),
        ('foo="bar"', "baz", False),
        ('foo="bar"', "", False),
        ('foo!="bar"', "", True),
        ('foo=""', "", True),
        ('foo=~"ba."', "bar", True),
        ('foo=~"ba"', "bar", False),
        ('foo=~"ar"', "bar", False),
        ('foo=~".*ar"', "bar", True),
        ('foo!~"ba."', "bar", False),
        ('foo!~"x"', "", True),
        ('foo=~""', "", True),
        ('foo=~".*"', "", True),
        ('foo=~".+"', "", False),
        ('foo=~"a|b"', "b", True),
        ('foo=~"a|b"', "ab", False),
        ('foo=~"(?i)CRIT.*"', "critical", True),
        ('foo=~"bar$"', "bar\n", False),
        ('foo=~"[[:alpha:]]+"', "abc", True),
        ('foo=~"\\\\d+"', "123", True),
        ('foo=~"\\\\d+"', "١٢٣", False),
        ('foo=~"a.c"', "a\nc", False),
    ],
)
def test_matching_follows_go_semantics(matcher: str, value: str, expected: bool) -> None:
    """Anchored, RE2/Go semantics: `$` is end of text, \\d is ASCII, POSIX classes work."""
    assert parse_matcher(matcher).matches(value) is expected


def test_fast_path_agrees_with_re2_on_random_inputs() -> None:
    """The Python `re` fast path accepts exactly the strings RE2 does, for its pattern subset."""
    rng = random.Random(20261128)
    pieces = ["a", "b", ".", ".*", "[a-c]", "(a|bc)", "x+", "\\.", "\\d", "\\w", "-", "[^b]", "?"]
    alphabet = "abcx.-1_\n" + string.ascii_uppercase[:2]
    disagreements = []
    for _ in range(400):
        pattern = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 5)))
        try:
            fast = compile_anchored(pattern)
        except MatcherSyntaxError:
            continue
        reference = re2.compile("^(?:" + pattern + ")$")
        for _ in range(20):
            value = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6)))
            if fast(value) != (reference.match(value) is not None):
                disagreements.append((pattern, value))
    assert not disagreements


def test_matcher_string_round_trips() -> None:
    """str() renders a matcher in the quoted form that parses back to the same matcher."""
    original = Matcher.create("foo", EQ, 'a"b\\c\nd')
    assert parse_matcher(str(original)) == original


@pytest.mark.parametrize(
    ("text", "expected"),
    [("foo=bar", ("foo", "bar")), ('foo="a b"', ("foo", "a b")), ("foo=", ("foo", ""))],
)
def test_label_assignment_parses_like_amtool(text: str, expected: tuple[str, str]) -> None:
    """routes test takes labels as name=value, values optionally quoted."""
    assert parse_label_assignment(text) == expected


@pytest.mark.parametrize("text", ["foo=~bar", "foo!=bar", "foo"])
def test_label_assignment_rejects_other_operators(text: str) -> None:
    """Only `=` assigns a label value."""
    with pytest.raises(MatcherSyntaxError):
        parse_label_assignment(text)
