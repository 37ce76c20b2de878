"""html/template's escaping functions, one per context (Go's html.go, js.go, css.go, url.go)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from .content import CSS, HTML, JS, URL, HTMLAttr, JSStr, Srcset
from .errors import GoError
from .gofmt import sprint
from .goreflect import MISSING
from .htmlattrs import attr_type
from .htmlscripts import decode_css

__all__ = ["ESCAPERS", "FAILSAFE"]

FAILSAFE = "ZgotmplZ"


def _stringify(args: tuple[Any, ...]) -> tuple[str, type | None]:
    """The printed arguments and their content type (None for plain text)."""
    if len(args) == 1:
        a = args[0]
        if type(a) is str:
            return a, None
        if isinstance(a, CSS | HTML | HTMLAttr | JS | JSStr | URL | Srcset):
            return str(a), type(a)
    # Untyped nils are skipped rather than printed as <nil>.
    return sprint(*(a for a in args if a is not None and a is not MISSING)), None


def _table(pairs: Mapping[str, str]) -> Callable[[str], str]:
    pattern = re.compile("[" + re.escape("".join(pairs)) + "]")
    return lambda s: pattern.sub(lambda m: pairs[m.group(0)], s)


_HTML_TABLE = {
    "\0": "\ufffd",
    '"': "&#34;",
    "&": "&amp;",
    "'": "&#39;",
    "+": "&#43;",
    "<": "&lt;",
    ">": "&gt;",
}
_HTML_NORM_TABLE = {k: v for k, v in _HTML_TABLE.items() if k != "&"}
_NOSPACE_TABLE = {
    "\0": "&#xfffd;",
    "\t": "&#9;",
    "\n": "&#10;",
    "\v": "&#11;",
    "\f": "&#12;",
    "\r": "&#13;",
    " ": "&#32;",
    '"': "&#34;",
    "&": "&amp;",
    "'": "&#39;",
    "+": "&#43;",
    "<": "&lt;",
    "=": "&#61;",
    ">": "&gt;",
    "`": "&#96;",
}
_NOSPACE_NORM_TABLE = {k: v for k, v in _NOSPACE_TABLE.items() if k != "&"}
_html = _table(_HTML_TABLE)
_html_norm = _table(_HTML_NORM_TABLE)
_NONCHAR = re.compile("[\ufdd0-\ufdef\ufff0-\uffff]")


def _nonchars(s: str) -> str:
    return _NONCHAR.sub(lambda m: f"&#x{ord(m.group(0)):x};", s)


_nospace = _table(_NOSPACE_TABLE)
_nospace_norm = _table(_NOSPACE_NORM_TABLE)


def _strip_tags(s: str) -> str:
    """Text content of an HTML snippet (Go's stripTags), enough for attribute values."""
    from .htmlcontext import Context, State
    from .htmltransitions import after_text

    out: list[str] = []
    c = Context()
    i = 0
    while i < len(s):
        c1, n = after_text(c, s[i:])
        i1 = i + n
        if c.state in (State.TEXT, State.RCDATA):
            j = i1
            if c1.state != c.state:
                k = s.rfind("<", i, i1)
                if k >= 0:
                    j = k
            out.append(s[i:j])
        if c1.state == State.ERROR:
            break
        if i1 == i and c1 == c:
            break
        c, i = c1, i1
    return "".join(out)


def html_escaper(*args: Any) -> str:
    """Element text: HTML content passes, anything else is escaped."""
    s, t = _stringify(args)
    if t is HTML:
        return s
    return _html(s)


def rcdata_escaper(*args: Any) -> str:
    """``<textarea>``/``<title>`` text."""
    s, t = _stringify(args)
    if t is HTML:
        return _html_norm(s)
    return _html(s)


def attr_escaper(*args: Any) -> str:
    """A quoted attribute value."""
    s, t = _stringify(args)
    if t is HTML:
        return _html_norm(_strip_tags(s))
    return _html(s)


def nospace_escaper(*args: Any) -> str:
    """An unquoted attribute value."""
    s, t = _stringify(args)
    if t is HTML:
        return _nonchars(_nospace_norm(_strip_tags(s)))
    return _nonchars(_nospace(s))


def comment_escaper(*args: Any) -> str:
    """Inside a comment nothing is written."""
    return ""


def html_name_filter(*args: Any) -> str:
    """An attribute name: lower-case letters and digits only, never a URL/JS/CSS attribute."""
    s, t = _stringify(args)
    if t is HTMLAttr:
        return s
    if not s:
        return FAILSAFE
    s = s.lower()
    if attr_type(s) != "plain":
        return FAILSAFE
    if not all("0" <= ch <= "9" or "a" <= ch <= "z" for ch in s):
        return FAILSAFE
    return s


def _is_safe_url(s: str) -> bool:
    protocol, sep, _ = s.partition(":")
    if sep and "/" not in protocol:
        return protocol.lower() in ("http", "https", "mailto")
    return True


def url_filter(*args: Any) -> str:
    """A URL's scheme must be http, https or mailto (or absent)."""
    s, t = _stringify(args)
    if t is URL:
        return s
    if not _is_safe_url(s):
        return "#" + FAILSAFE
    return s


_URL_RESERVED = frozenset("!#$&*+,/:;=?@[]")
_URL_UNRESERVED = frozenset("-._~abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_HEX = frozenset("0123456789abcdefABCDEF")


def _process_url(s: str, norm: bool) -> str:
    data = s.encode("utf-8", "surrogatepass")
    out: list[str] = []
    for i, b in enumerate(data):
        ch = chr(b)
        if (
            ch in _URL_UNRESERVED
            or (ch in _URL_RESERVED and norm)
            or (
                ch == "%"
                and norm
                and i + 2 < len(data)
                and chr(data[i + 1]) in _HEX
                and chr(data[i + 2]) in _HEX
            )
        ):
            out.append(ch)
        else:
            out.append(f"%{b:02x}")
    return "".join(out)


def url_normalizer(*args: Any) -> str:
    """A URL (or its start): percent-encode what is not already valid."""
    s, _ = _stringify(args)
    return _process_url(s, True)


def url_escaper(*args: Any) -> str:
    """A URL query or fragment part: percent-encode everything reserved."""
    s, t = _stringify(args)
    return _process_url(s, t is URL)


_HTML_SPACE = " \t\n\f\r"


def _srcset_element(s: str) -> str:
    """One comma-separated srcset candidate: a safe URL, then spaces and alphanumerics only."""
    start = 0
    while start < len(s) and s[start] in _HTML_SPACE:
        start += 1
    end = next((i for i in range(start, len(s)) if s[i] in _HTML_SPACE), len(s))
    url = s[start:end]
    if _is_safe_url(url) and all(
        ch in _HTML_SPACE or (ch < "\x80" and ch.isalnum()) for ch in s[end:]
    ):
        return s[:start] + _process_url(url, True) + s[end:]
    return "#" + FAILSAFE


def srcset_escaper(*args: Any) -> str:
    """A ``srcset`` value: each candidate's URL filtered and normalised."""
    s, t = _stringify(args)
    if t is Srcset:
        return s
    if t is URL:
        return _process_url(s, True).replace(",", "%2c")
    return ",".join(_srcset_element(part) for part in s.split(","))


_LOW_UNICODE = {chr(i): f"\\u{i:04x}" for i in range(0x20)}
_LOW_UNICODE.update({"\t": "\\t", "\n": "\\n", "\v": "\\u000b", "\f": "\\f", "\r": "\\r"})
_JS_STR_TABLE = {
    **_LOW_UNICODE,
    '"': "\\u0022",
    "&": "\\u0026",
    "'": "\\u0027",
    "+": "\\u002b",
    "/": "\\/",
    "<": "\\u003c",
    ">": "\\u003e",
    "\\": "\\\\",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_JS_STR_NORM_TABLE = {k: v for k, v in _JS_STR_TABLE.items() if k != "\\"}
_JS_REGEXP_TABLE = {
    **_JS_STR_TABLE,
    "$": "\\$",
    "(": "\\(",
    ")": "\\)",
    "*": "\\*",
    "+": "\\u002b",
    "-": "\\-",
    ".": "\\.",
    "?": "\\?",
    "[": "\\[",
    "]": "\\]",
    "^": "\\^",
    "{": "\\{",
    "|": "\\|",
    "}": "\\}",
}
_js_str = _table(_JS_STR_TABLE)
_js_str_norm = _table(_JS_STR_NORM_TABLE)
_js_regexp = _table(_JS_REGEXP_TABLE)


def js_str_escaper(*args: Any) -> str:
    """Inside a JS string literal."""
    s, t = _stringify(args)
    if t is JSStr:
        return _js_str_norm(s)
    return _js_str(s)


def js_regexp_escaper(*args: Any) -> str:
    """Inside a JS regexp literal; empty becomes ``(?:)``."""
    s, _ = _stringify(args)
    s = _js_regexp(s)
    return s or "(?:)"


def _is_js_ident_part(ch: str) -> bool:
    return ch in "$_" or ch.isalnum()


def js_val_escaper(*args: Any) -> str:
    """A JS value: JSON, padded so it cannot run into a keyword."""
    a: Any
    if len(args) == 1:
        a = args[0]
        if isinstance(a, JS):
            return str(a)
        if isinstance(a, JSStr):
            return '"' + str(a) + '"'
        string = getattr(a, "String", None)
        # A time.Time marshals itself; other Stringers are written as their string.
        if callable(string) and not callable(getattr(a, "Format", None)):
            a = string()
    else:
        a = sprint(*args)
    from .functions import go_json

    try:
        b = go_json(None if a is MISSING else a)
    except GoError as exc:
        return f" /* {str(exc).replace('*/', '* /')} */null "
    if not b:
        return " null "
    if _is_js_ident_part(b[0]) or _is_js_ident_part(b[-1]):
        return " " + b + " "
    return b


_CSS_TABLE = {
    "\0": "\\0",
    "\t": "\\9",
    "\n": "\\a",
    "\f": "\\c",
    "\r": "\\d",
    '"': "\\22",
    "&": "\\26",
    "'": "\\27",
    "(": "\\28",
    ")": "\\29",
    "+": "\\2b",
    "/": "\\2f",
    ":": "\\3a",
    ";": "\\3b",
    "<": "\\3c",
    ">": "\\3e",
    "\\": "\\\\",
    "{": "\\7b",
    "}": "\\7d",
}


def css_escaper(*args: Any) -> str:
    """Inside a CSS string or URL."""
    s, _ = _stringify(args)
    out: list[str] = []
    for i, ch in enumerate(s):
        repl = _CSS_TABLE.get(ch)
        if repl is None:
            out.append(ch)
            continue
        out.append(repl)
        nxt = s[i + 1] if i + 1 < len(s) else ""
        if repl != "\\\\" and (nxt == "" or nxt in _HEX or nxt in " \t\n\f\r"):
            out.append(" ")
    return "".join(out)


def css_value_filter(*args: Any) -> str:
    """A CSS value: refuse anything that could break out of the declaration."""
    s, t = _stringify(args)
    if t is CSS:
        return s
    s = decode_css(s)
    ident: list[str] = []
    for i, ch in enumerate(s):
        if ch in "\0\"'()/;@[\\]`{}":
            return FAILSAFE
        if ch == "-" and i != 0 and s[i - 1] == "-":
            return FAILSAFE
        if ch < "\x80" and (ch.isalnum() or ch in "-_"):
            ident.append(ch)
    low = "".join(ident).lower()
    if "expression" in low or "mozbinding" in low:
        return FAILSAFE
    return s


def eval_args(*args: Any) -> str:
    """``_eval_args_``: html/template's evalArgs, ``fmt.Sprint`` (nil prints ``<nil>``)."""
    if len(args) == 1 and type(args[0]) is str:
        return str(args[0])
    return sprint(*(None if a is MISSING else a for a in args))


ESCAPERS: dict[str, Callable[..., str]] = {
    "_html_template_attrescaper": attr_escaper,
    "_html_template_commentescaper": comment_escaper,
    "_html_template_cssescaper": css_escaper,
    "_html_template_cssvaluefilter": css_value_filter,
    "_html_template_htmlnamefilter": html_name_filter,
    "_html_template_htmlescaper": html_escaper,
    "_html_template_jsregexpescaper": js_regexp_escaper,
    "_html_template_jsstrescaper": js_str_escaper,
    "_html_template_jsvalescaper": js_val_escaper,
    "_html_template_nospaceescaper": nospace_escaper,
    "_html_template_rcdataescaper": rcdata_escaper,
    "_html_template_srcsetescaper": srcset_escaper,
    "_html_template_urlescaper": url_escaper,
    "_html_template_urlfilter": url_filter,
    "_html_template_urlnormalizer": url_normalizer,
    "_eval_args_": eval_args,
}
