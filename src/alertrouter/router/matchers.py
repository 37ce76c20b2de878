"""Label matchers with Alertmanager's syntax and semantics (=, !=, =~, !~; anchored RE2 regexes)."""

from __future__ import annotations

import enum
import re
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

import re2

from alertrouter.errors import MatcherSyntaxError

__all__ = [
    "MatchType",
    "Matcher",
    "format_label_set",
    "parse_label_assignment",
    "parse_label_set",
    "parse_matcher",
    "parse_matchers",
]

_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # an invalid regex is reported to the user, not to stderr

# Alertmanager's own matcher grammar, compiled with RE2 so that leftmost-first choice, the lazy
# value and Go's `\s` (ASCII only) behave exactly as in Go.
_MATCHER_RE = re2.compile(
    r"^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(=~|=|!=|!~)\s*((?s).*?)\s*$", options=_RE2_OPTIONS
)

# Python's `re` is ~30x faster than the RE2 binding per call, and for fully anchored patterns
# in this subset both accept exactly the same strings: no `$` (Python's also matches before a
# final newline), no `(?` flags, no `{,n}` (a literal in Go), and escapes only of punctuation or
# of \d \w \b (ASCII in Go, so re.ASCII; not \B, which Python < 3.14 never matches on "").
# Anything else is matched by RE2 itself.
_FAST_SUBSET = re.compile(r"(?:[^\\$]|\\[dDwWb]|\\[^0-9A-Za-z])*")
_NOT_IN_FAST_SUBSET = ("(?", "{,", "[:")
# C++ RE2 accepts a little syntax that Go's regexp (Alertmanager 0.25, Go 1.19, Unicode 13)
# rejects: \C, (?<name>...), and scripts added to Unicode since.
_NEWER_SCRIPTS = (
    "Cypro_Minoan|Old_Uyghur|Tangsa|Toto|Vithkuqi|Kawi|Nag_Mundari|Garay|Gurung_Khema|"
    "Kirat_Rai|Ol_Onal|Sunuwar|Todhri|Tulu_Tigalari"
)
_GO_REJECTS = re.compile(r"\\C|\(\?<[^=!]|\\[pP]\{\^?(?:" + _NEWER_SCRIPTS + r")\}")


class MatchType(enum.Enum):
    """The four matcher operators."""

    EQUAL = "="
    NOT_EQUAL = "!="
    REGEX = "=~"
    NOT_REGEX = "!~"


def compile_anchored(pattern: str) -> Callable[[str], bool]:
    """Compile ``pattern`` as Alertmanager does (RE2, fully anchored) into a membership test.

    Raises MatcherSyntaxError for any pattern Alertmanager would reject.
    """
    unsupported = _GO_REJECTS.search(pattern.replace("\\\\", ""))
    if unsupported:
        reason = f"invalid or unsupported Perl syntax: `{unsupported.group(0)}`"
        raise MatcherSyntaxError(f"invalid regex {_go_quote(pattern)}: {reason}")
    try:
        # Exactly Alertmanager's construction, searched unanchored like Go's MatchString: a
        # pattern that closes the group itself (`a)|(b`) means there what it means here.
        compiled = re2.compile("^(?:" + pattern + ")$", options=_RE2_OPTIONS)
    except re2.error as exc:
        reason = _re2_reason(exc)
        raise MatcherSyntaxError(f"invalid regex {_go_quote(pattern)}: {reason}") from None
    fast = _compile_fast_path(pattern)
    if fast is not None:
        return lambda value: fast.fullmatch(value) is not None

    # Each RE2 call costs ~2 µs in the binding; label values repeat, so remember answers.
    @lru_cache(maxsize=1024)
    def by_re2(value: str) -> bool:
        return compiled.search(value) is not None

    return by_re2


def _compile_fast_path(pattern: str) -> re.Pattern[str] | None:
    if any(s in pattern for s in _NOT_IN_FAST_SUBSET) or not _FAST_SUBSET.fullmatch(pattern):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # e.g. FutureWarning on "[[": leave it to RE2
            re.compile(pattern, re.ASCII)  # must stand alone: `a)|(b` escapes the group
            return re.compile("(?:" + pattern + ")", re.ASCII)
    except (re.error, Warning):
        return None


def _re2_reason(exc: re2.error) -> str:
    raw = exc.args[0] if exc.args else ""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    # RE2 quotes the failing fragment of the anchored pattern; drop our anchoring from it.
    reason, sep, fragment = text.rpartition(": ")
    if not sep:
        return text
    if fragment.startswith("^(?:"):
        return reason
    return f"{reason}: {fragment.removesuffix(')$')}" if fragment != ")$" else reason


@dataclass(frozen=True, slots=True)
class Matcher:
    """One label matcher; a missing label matches as the empty string."""

    name: str
    type: MatchType
    value: str
    _regex: Callable[[str], bool] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def create(cls, name: str, type_: MatchType, value: str) -> Matcher:
        """Build a matcher, compiling its regex (MatcherSyntaxError when invalid)."""
        regex = None
        if type_ in (MatchType.REGEX, MatchType.NOT_REGEX):
            regex = compile_anchored(value)
        return cls(name, type_, value, regex)

    def matches(self, value: str) -> bool:
        """Whether a label value (``""`` when absent) satisfies this matcher."""
        kind = self.type
        if kind is MatchType.EQUAL:
            return value == self.value
        if kind is MatchType.NOT_EQUAL:
            return value != self.value
        assert self._regex is not None  # set by create() for both regex operators
        found = self._regex(value)
        return found if kind is MatchType.REGEX else not found

    def __str__(self) -> str:
        return f"{self.name}{self.type.value}{quote_label_value(self.value)}"


def quote_label_value(value: str) -> str:
    """A label value as Alertmanager prints it: double-quoted, with \\, \" and \\n escaped."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def format_label_set(labels: Mapping[str, str]) -> str:
    """``{a="b", c="d"}``, sorted by name, as Alertmanager prints a label set."""
    return "{" + ", ".join(f"{k}={quote_label_value(labels[k])}" for k in sorted(labels)) + "}"


def parse_matchers(text: str) -> list[Matcher]:
    """Parse one ``matchers:`` entry: a matcher, or several joined by commas, optionally in {}."""
    if text.startswith("{"):
        text = text[1:]
    if text.endswith("}"):
        text = text[:-1]
    tokens: list[str] = []
    token: list[str] = []
    inside_quotes = False
    escaped = False
    for char in text:
        if char == "," and not inside_quotes:
            tokens.append("".join(token))
            token = []
            continue
        if char == '"':
            if not escaped:
                inside_quotes = not inside_quotes
            else:
                escaped = False
        elif char == "\\":
            escaped = not escaped
        elif char != ",":
            escaped = False
        token.append(char)
    last = "".join(token).strip()
    if last:
        tokens.append(last)
    return [parse_matcher(t) for t in tokens]


def parse_matcher(text: str) -> Matcher:
    """Parse a single ``name<op>value`` matcher; the value may be double-quoted and escaped."""
    found = _MATCHER_RE.match(text)
    if found is None:
        raise MatcherSyntaxError(f"bad matcher format: {text}")
    name, op, raw = found.group(1), found.group(2), found.group(3)
    value = _unquote(raw)
    return Matcher.create(name, MatchType(op), value)


def parse_label_assignment(text: str) -> tuple[str, str]:
    """Parse ``name=value`` (value optionally quoted) as ``amtool config routes test`` does."""
    matcher = parse_matcher(text)
    if matcher.type is not MatchType.EQUAL:
        raise MatcherSyntaxError("labels must be specified as key=value pairs")
    return matcher.name, matcher.value


def parse_label_set(texts: Iterable[str]) -> dict[str, str]:
    """``["a=b", 'c="d e"']`` as a dict; MatcherSyntaxError names the text that is wrong."""
    labels: dict[str, str] = {}
    for text in texts:
        try:
            name, value = parse_label_assignment(text)
        except MatcherSyntaxError as exc:
            raise MatcherSyntaxError(f"{text}: {exc}") from None
        labels[name] = value
    return labels


def _unquote(raw: str) -> str:
    body = raw
    expect_trailing_quote = body.startswith('"')
    if expect_trailing_quote:
        body = body[1:]
    out: list[str] = []
    escaped = False
    last = len(body) - 1
    for i, char in enumerate(body):
        if escaped:
            escaped = False
            if char == "n":
                out.append("\n")
            elif char in '"\\':
                out.append(char)
            else:  # a spurious escape keeps its backslash, as in Alertmanager
                out.append("\\" + char)
            continue
        if char == "\\":
            if i < last:
                escaped = True
                continue
            out.append("\\")
        elif char == '"':
            if not expect_trailing_quote or i < last:
                raise MatcherSyntaxError(f"matcher value contains unescaped double quote: {raw}")
            expect_trailing_quote = False
        else:
            out.append(char)
    if expect_trailing_quote:
        raise MatcherSyntaxError(f"matcher value contains unescaped double quote: {raw}")
    return "".join(out)


def _go_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
