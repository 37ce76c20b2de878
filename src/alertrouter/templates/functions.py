"""Alertmanager's template function map (``template.DefaultFuncs``).

The 0.25 set (``toUpper``, ``toLower``, ``title``, ``join``, ``match``, ``safeHtml``,
``reReplaceAll``, ``stringSlice``) plus the functions later releases added, so templates copied
from today's documentation work. Parameter annotations tell the engine Go's parameter types
(``str`` is ``string``, ``list[str]`` is ``[]string``, ``*args`` variadic); a function signals a
Go error by raising ``GoError``.
"""

from __future__ import annotations

import base64
import binascii
import unicodedata
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import unquote_to_bytes

import re2

from .content import HTML, URL
from .data import Strings
from .errors import GoError
from .gofmt import can_backquote, format_float, go_type_name, quote
from .gotime import GoDuration, GoTime, load_location, parse_time
from .humanize import humanize_duration

__all__ = ["alertmanager_funcs", "compile_go_regexp", "go_json", "title", "to_lower", "to_upper"]

# --- case mapping ------------------------------------------------------------------------------


def to_upper(s: str) -> str:
    """Go's ``strings.ToUpper``: per-rune simple case mapping (``ß`` stays ``ß``)."""
    out = []
    for ch in s:
        up = ch.upper()
        out.append(up if len(up) == 1 else ch)
    return "".join(out)


def to_lower(s: str) -> str:
    """Go's ``strings.ToLower``: per-rune simple case mapping, no final-sigma rule."""
    out = []
    for ch in s:
        if ch == "\u0130":
            # Dotted capital I: Go's simple mapping is plain "i"; Python's full one adds a dot.
            out.append("i")
            continue
        low = ch.lower()
        out.append(low if len(low) == 1 else ch)
    return "".join(out)


# Word-break classes MidLetter, MidNumLet and Single_Quote: inside a word, but two in a row end it.
_MID = frozenset("'.:·\u0387\u05f4\u2018\u2019\u2024\u2027\ufe13\ufe52\ufe55\uff07\uff0e\uff1a")


def _is_cased(ch: str) -> bool:
    return ch.lower() != ch or ch.upper() != ch or unicodedata.category(ch) == "Lt"


def _is_break(ch: str) -> bool:
    if ch in _MID or ch == "_":
        return False
    return unicodedata.category(ch)[0] not in "LMN" and unicodedata.category(ch) != "Cf"


def title(text: str) -> str:
    """``cases.Title(language.AmericanEnglish)``: each word's first letter title-cased, rest lower.

    A word runs until a break (space, punctuation other than ``' . :`` and ``_``) or two of
    ``' . :`` in a row; digits do not start a word, so ``1st`` becomes ``1St`` as in Go.
    """
    out: list[str] = []
    word: list[str] = []  # rest of the current word, lowered together (final sigma)
    mid_word = False
    prev_mid = False

    def flush() -> None:
        if word:
            out.append("".join(word).lower())
            word.clear()

    for ch in text:
        if prev_mid and ch in _MID:
            mid_word = False
        is_mid = ch in _MID
        if _is_cased(ch):
            if not mid_word:
                flush()
                out.append(ch.title())
                mid_word = True
            else:
                word.append(ch)
        elif _is_break(ch):
            flush()
            out.append(ch)
            mid_word = False
        else:
            # Uncased but inside the word ("'" in "o'neil"): kept for final-sigma context.
            word.append(ch)
        prev_mid = is_mid
    flush()
    return "".join(out)


# --- regular expressions -----------------------------------------------------------------------

# RE2 (C++) wording → Go's regexp/syntax wording.
_RE2_ERRORS = {
    "missing )": "missing closing )",
    "missing ]": "missing closing ]",
    "unexpected )": "unexpected )",
    "bad repetition operator": "invalid nested repetition operator",
    "no argument for repetition operator": "missing argument to repetition operator",
    "trailing \\": "trailing backslash at end of expression",
    "invalid repetition size": "invalid repeat count",
    "invalid perl operator": "invalid or unsupported Perl syntax",
    "invalid named capture group": "invalid named capture",
    "invalid character class": "invalid character class",
    "invalid character class range": "invalid character class range",
    "invalid escape sequence": "invalid escape sequence",
    "invalid UTF-8": "invalid UTF-8",
}
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False


def _go_only_rejections(pattern: str) -> None:
    """Reject what RE2 accepts but Go 1.19's regexp does not (``(?<name>``, ``\\C``)."""
    i = 0
    in_class = False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            if pattern[i + 1] == "C" and not in_class:
                raise GoError("error parsing regexp: invalid escape sequence: `\\C`")
            i += 2
            continue
        if ch == "[" and not in_class:
            in_class = True
            if pattern.startswith("[^]", i) or pattern.startswith("[]", i):
                i += 2 if pattern[i + 1] == "]" else 3
                continue
        elif ch == "]" and in_class:
            in_class = False
        elif not in_class and pattern.startswith("(?<", i):
            raise GoError("error parsing regexp: invalid or unsupported Perl syntax: `(?<`")
        i += 1


@lru_cache(maxsize=512)
def compile_go_regexp(pattern: str) -> Any:
    """Compile ``pattern`` with Go's syntax; raise ``GoError`` worded as Go's parser words it.

    Compiled patterns are cached: templates apply the same few patterns to every alert.
    """
    _go_only_rejections(pattern)
    try:
        return re2.compile(pattern, _RE2_OPTIONS)
    except re2.error as exc:
        raw = exc.args[0] if exc.args else ""
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        code, _, arg = text.partition(": ")
        if code == "trailing \\":
            code, arg = text, ""
        raise GoError(f"error parsing regexp: {_RE2_ERRORS.get(code, code)}: `{arg}`") from None


def _go_quote(s: str) -> str:
    # regexp.MustCompile's panic quotes the pattern with backquotes when it can.
    return "`" + s + "`" if can_backquote(s) else quote(s)


def _extract_name(template: str) -> tuple[str, int, str] | None:
    """Parse a ``$name``/``${name}`` reference (text after ``$``): (name, group number, rest)."""
    brace = template.startswith("{")
    body = template[1:] if brace else template
    i = 0
    while i < len(body) and (body[i].isalpha() or body[i].isdecimal() or body[i] == "_"):
        i += 1
    if i == 0:
        return None
    name = body[:i]
    if brace:
        if i >= len(body) or body[i] != "}":
            return None
        i += 1
    num = -1
    if name.isascii() and name.isdigit() and not (name[0] == "0" and len(name) > 1):
        num = int(name) if len(name) <= 8 else -1
    return name, num, body[i:]


def _expand(template: str, match: Any, names: Mapping[str, int], groups: int) -> str:
    """Go's ``Regexp.Expand`` for ``ReplaceAllString`` templates."""
    out: list[str] = []
    while True:
        before, dollar, after = template.partition("$")
        out.append(before)
        if not dollar:
            return "".join(out)
        template = after
        if template.startswith("$"):
            out.append("$")
            template = template[1:]
            continue
        parsed = _extract_name(template)
        if parsed is None:
            out.append("$")
            continue
        name, num, template = parsed
        index = num if num >= 0 else names.get(name, -1)
        if 0 <= index <= groups:
            out.append(match.group(index) or "")


def _replace_all(regex: Any, text: str, repl: str) -> str:
    """Go's ``ReplaceAllString``: an empty match right after a match is not replaced."""
    out: list[str] = []
    last_end = 0
    pos = 0
    names: Mapping[str, int] = regex.groupindex
    groups: int = regex.groups
    while pos <= len(text):
        m = regex.search(text, pos)
        if m is None:
            break
        start, end = m.span()
        out.append(text[last_end:start])
        if end > last_end or start == 0:
            out.append(_expand(repl, m, names, groups))
        last_end = end
        pos = pos + 1 if pos + 1 > end else end
    out.append(text[last_end:])
    return "".join(out)


# --- JSON (encoding/json.Marshal) --------------------------------------------------------------

_JSON_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_JSON_ESCAPES |= {"\b": "\\b", "\f": "\\f", "<": "\\u003c", ">": "\\u003e", "&": "\\u0026"}
_JSON_ESCAPES |= {"\u2028": "\\u2028", "\u2029": "\\u2029"}


def _json_string(s: str) -> str:
    out = ['"']
    for ch in s:
        esc = _JSON_ESCAPES.get(ch)
        if esc is not None:
            out.append(esc)
        elif ch < " ":
            out.append(f"\\u{ord(ch):04x}")
        elif "\ud800" <= ch <= "\udfff":
            out.append("\\ufffd")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _json_float(v: float) -> str:
    if v != v or v in (float("inf"), float("-inf")):
        raise GoError(f"json: unsupported value: {format_float(v, 'g', -1)}")
    verb = "e" if v != 0 and (abs(v) < 1e-6 or abs(v) >= 1e21) else "f"
    text = format_float(v, verb, -1)
    if verb == "e" and len(text) >= 4 and text[-4] == "e" and text[-3] == "-" and text[-2] == "0":
        text = text[:-2] + text[-1]
    return text


def go_json(value: Any) -> str:
    """Encode ``value`` as Go's ``json.Marshal`` would (sorted maps, HTML-safe escapes)."""
    if value is None or getattr(value, "go_nil", False):
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, GoTime):
        return _json_string(value.Format("2006-01-02T15:04:05.999999999Z07:00"))
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return _json_float(value)
    if isinstance(value, str):
        return _json_string(str(value))
    if isinstance(value, Mapping):
        items = sorted((str(k), v) for k, v in value.items())
        return "{" + ",".join(f"{_json_string(k)}:{go_json(v)}" for k, v in items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(go_json(v) for v in value) + "]"
    fields = getattr(type(value), "go_fields", None)
    if isinstance(fields, tuple):
        tags = getattr(type(value), "go_json", fields)
        pairs = (
            f"{_json_string(t)}:{go_json(getattr(value, f))}"
            for f, t in zip(fields, tags, strict=True)
        )
        return "{" + ",".join(pairs) + "}"
    # Go types without exported fields (time.Location, …) marshal as an empty object.
    return "{}"


# --- the function map --------------------------------------------------------------------------


def _need_time(value: Any) -> GoTime:
    if not isinstance(value, GoTime):
        raise GoError(f"wrong type for value; expected time.Time; got {go_type_name(value)}")
    return value


def _join(sep: str, s: list[str]) -> str:
    return sep.join(s)


def _match(pattern: str, s: str) -> bool:
    return compile_go_regexp(pattern).search(s) is not None


def _re_replace_all(pattern: str, repl: str, text: str) -> str:
    try:
        regex = compile_go_regexp(pattern)
    except GoError as exc:
        # Alertmanager uses MustCompile: the panic message names the pattern.
        raise GoError(f"regexp: Compile({_go_quote(pattern)}): {exc}") from None
    return _replace_all(regex, text, repl)


def _safe_html(text: str) -> HTML:
    return HTML(text)


def _safe_url(text: str) -> URL:
    return URL(text)


def _string_slice(*s: str) -> Strings:
    return Strings(s)


# unicode.IsSpace: Python's str.strip also strips U+001C to U+001F, which Go keeps.
_GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
_GO_SPACE += "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"


def _trim_space(s: str) -> str:
    return s.strip(_GO_SPACE)


_HEX = frozenset("0123456789abcdefABCDEF")


def _url_unescape(s: str) -> str:
    """``url.QueryUnescape``: ``+`` is a space, ``%XX`` a byte; a bad escape is an error."""
    i = 0
    while True:
        i = s.find("%", i)
        if i < 0:
            break
        if i + 2 >= len(s) or s[i + 1] not in _HEX or s[i + 2] not in _HEX:
            bad = s[i : i + 3]
            raise GoError(f"invalid URL escape {quote(bad)}")
        i += 3
    raw = unquote_to_bytes(s.replace("+", " "))
    # Go keeps invalid UTF-8 bytes in the string; Python strings cannot, so they become U+FFFD.
    return raw.decode("utf-8", "replace")


def _route_labels(name: str) -> str:
    # Alertmanager's placeholder; route labels are not part of 0.25-shaped Data.
    return ""


def _date(fmt: str, t: Any) -> str:
    return _need_time(t).Format(fmt)


def _tz(name: str, t: Any) -> GoTime:
    when = _need_time(t)
    try:
        loc = load_location(name)
    except ValueError as exc:
        raise GoError(str(exc)) from None
    return when.In(loc)


def _now() -> GoTime:
    return GoTime.now()


def _since(t: Any) -> GoDuration:
    return GoTime.now().Sub(_need_time(t))


def _humanize_duration(value: Any) -> str:
    return humanize_duration(value)


def _to_date(layout: str, s: str) -> GoTime:
    try:
        return parse_time(layout, s)
    except ValueError:
        return GoTime.zero()


def _must_to_date(layout: str, s: str) -> GoTime:
    try:
        return parse_time(layout, s)
    except ValueError as exc:
        raise GoError(str(exc)) from None


def _to_json(v: Any) -> str:
    return go_json(v)


def _base64_encode(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode("utf-8", "surrogatepass")).decode("ascii")


_B64_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _base64_decode(text: str) -> str:
    """URL-safe, padded base64 as Go's ``base64.URLEncoding.DecodeString``."""
    # Go skips CR and LF anywhere in the input.
    data = text.replace("\r", "").replace("\n", "")
    for i, ch in enumerate(data):
        if ch not in _B64_ALPHABET and ch != "=":
            raise GoError(f"illegal base64 data at input byte {i}")
    body = data.rstrip("=")
    if "=" in body or len(data) % 4 or len(data) - len(body) > 2 or len(body) % 4 == 1:
        index = data.find("=") if "=" in body else len(data) - len(data) % 4
        raise GoError(f"illegal base64 data at input byte {max(index, 0)}")
    try:
        raw = base64.urlsafe_b64decode(data)
    except binascii.Error:
        raise GoError(f"illegal base64 data at input byte {len(body)}") from None
    return raw.decode("utf-8", "replace")


def _list(*args: Any) -> list[Any]:
    return list(args)


def _append(slice_: list[Any], *args: Any) -> list[Any]:
    if slice_ is None:
        return list(args)
    if not isinstance(slice_, list | tuple):
        raise GoError(
            f"wrong type for value; expected []interface {{}}; got {go_type_name(slice_)}"
        )
    return [*slice_, *args]


def _dict(*values: Any) -> dict[str, Any]:
    if len(values) % 2:
        raise GoError("dict requires an even number of arguments")
    out: dict[str, Any] = {}
    for key, value in zip(values[::2], values[1::2], strict=True):
        if not isinstance(key, str):
            raise GoError("dict keys must be strings")
        out[str(key)] = value
    return out


def alertmanager_funcs() -> dict[str, Callable[..., Any]]:
    """Alertmanager's template functions by name (0.25's set plus later additions)."""
    return {
        "toUpper": to_upper,
        "toLower": to_lower,
        "title": title,
        "trimSpace": _trim_space,
        "join": _join,
        "match": _match,
        "safeHtml": _safe_html,
        "safeUrl": _safe_url,
        "urlUnescape": _url_unescape,
        "reReplaceAll": _re_replace_all,
        "stringSlice": _string_slice,
        "routeLabels": _route_labels,
        "date": _date,
        "tz": _tz,
        "now": _now,
        "since": _since,
        "humanizeDuration": _humanize_duration,
        "toDate": _to_date,
        "mustToDate": _must_to_date,
        "toJson": _to_json,
        "base64encode": _base64_encode,
        "base64decode": _base64_decode,
        "list": _list,
        "append": _append,
        "dict": _dict,
    }
