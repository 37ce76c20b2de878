"""How html/template's context moves through URLs, JavaScript and CSS (Go's transition.go)."""

from __future__ import annotations

import re
from dataclasses import replace

from .htmlcontext import Context, JSCtx, State, URLPart, error_context
from .strconv import go_quote

__all__ = [
    "block_cmt",
    "css",
    "css_str",
    "decode_css",
    "js",
    "js_delimited",
    "line_cmt",
    "url",
]


def url(c: Context, s: str) -> tuple[Context, int]:
    """URL state: note when the query or fragment starts."""
    if "#" in s or "?" in s:
        c = replace(c, url_part=URLPart.QUERY_OR_FRAG)
    elif len(s) != _eat_space(s, 0) and c.url_part == URLPart.NONE:
        c = replace(c, url_part=URLPart.PRE_QUERY)
    return c, len(s)


def _eat_space(s: str, i: int) -> int:
    while i < len(s) and s[i] in " \t\n\f\r":
        i += 1
    return i


_JS_KEYWORDS_BEFORE_REGEXP = frozenset(
    [
        "break",
        "case",
        "continue",
        "delete",
        "do",
        "else",
        "finally",
        "in",
        "instanceof",
        "return",
        "throw",
        "try",
        "typeof",
        "void",
    ]
)


def _next_js_ctx(s: str, preceding: JSCtx) -> JSCtx:
    s = s.rstrip("\t\n\f\r \u2028\u2029")
    if not s:
        return preceding
    c = s[-1]
    n = len(s)
    if c in "+-":
        start = n - 1
        while start > 0 and s[start - 1] == c:
            start -= 1
        if (n - start) & 1 == 1:
            return JSCtx.REGEXP
        return JSCtx.DIV_OP
    if c == ".":
        if n != 1 and "0" <= s[n - 2] <= "9":
            return JSCtx.DIV_OP
        return JSCtx.REGEXP
    if c in ",<>=*%&|^?!~:;({[}":
        return JSCtx.REGEXP
    j = n
    while j > 0 and _is_js_ident_part(s[j - 1]):
        j -= 1
    if s[j:] in _JS_KEYWORDS_BEFORE_REGEXP:
        return JSCtx.REGEXP
    return JSCtx.DIV_OP


def _is_js_ident_part(ch: str) -> bool:
    return ch in "$_" or ("0" <= ch <= "9") or ("a" <= ch <= "z") or ("A" <= ch <= "Z")


def js(c: Context, s: str) -> tuple[Context, int]:
    """JS code: find where a string, regexp or comment starts."""
    m = re.search(r"[\"'/`]", s)
    if m is None:
        return replace(c, js_ctx=_next_js_ctx(s, c.js_ctx)), len(s)
    i = m.start()
    c = replace(c, js_ctx=_next_js_ctx(s[:i], c.js_ctx))
    ch = s[i]
    if ch == '"':
        c = replace(c, state=State.JS_DQ_STR, js_ctx=JSCtx.REGEXP)
    elif ch == "'":
        c = replace(c, state=State.JS_SQ_STR, js_ctx=JSCtx.REGEXP)
    elif ch == "`":
        # Go 1.19.8 tracks template literals only to refuse actions inside them.
        c = replace(c, state=State.JS_BQ_STR, js_ctx=JSCtx.REGEXP)
    elif i + 1 < len(s) and s[i + 1] == "/":
        c, i = replace(c, state=State.JS_LINE_CMT), i + 1
    elif i + 1 < len(s) and s[i + 1] == "*":
        c, i = replace(c, state=State.JS_BLOCK_CMT), i + 1
    elif c.js_ctx == JSCtx.REGEXP:
        c = replace(c, state=State.JS_REGEXP)
    elif c.js_ctx == JSCtx.DIV_OP:
        c = replace(c, js_ctx=JSCtx.REGEXP)
    else:
        return error_context(
            f"'/' could start a division or regexp: {go_quote(s[i : i + 32])}"
        ), len(s)
    return c, i + 1


def js_delimited(c: Context, s: str) -> tuple[Context, int]:
    """Inside a JS string or regexp literal: find its end."""
    specials = '\\"'
    if c.state == State.JS_SQ_STR:
        specials = "\\'"
    elif c.state == State.JS_BQ_STR:
        specials = "\\`"
    elif c.state == State.JS_REGEXP:
        specials = "\\/[]"
    k = 0
    in_charset = False
    while True:
        i = next((j for j in range(k, len(s)) if s[j] in specials), -1)
        if i < 0:
            break
        ch = s[i]
        if ch == "\\":
            i += 1
            if i == len(s):
                return error_context(
                    f"unfinished escape sequence in JS string: {go_quote(s)}"
                ), len(s)
        elif ch == "[":
            in_charset = True
        elif ch == "]":
            in_charset = False
        elif not in_charset:
            return replace(c, state=State.JS, js_ctx=JSCtx.DIV_OP), i + 1
        k = i + 1
    if in_charset:
        return error_context(f"unfinished JS regexp charset: {go_quote(s)}"), len(s)
    return c, len(s)


def block_cmt(c: Context, s: str) -> tuple[Context, int]:
    """Inside a ``/* */`` comment (JS or CSS): find its end."""
    i = s.find("*/")
    if i < 0:
        return c, len(s)
    state = State.JS if c.state == State.JS_BLOCK_CMT else State.CSS
    return replace(c, state=state), i + 2


def line_cmt(c: Context, s: str) -> tuple[Context, int]:
    """Inside a ``//`` comment (JS or CSS): find the line end."""
    if c.state == State.JS_LINE_CMT:
        terminators, end = "\n\r\u2028\u2029", State.JS
    else:
        terminators, end = "\n\f\r", State.CSS
    i = next((j for j, ch in enumerate(s) if ch in terminators), -1)
    if i < 0:
        return c, len(s)
    return replace(c, state=end), i


def _ends_with_css_keyword(b: str, kw: str) -> bool:
    i = len(b) - len(kw)
    if i < 0:
        return False
    if i != 0:
        r = b[i - 1]
        if r.isalnum() or r in "-_" or ord(r) >= 0x80:
            return False
    return b[i:].lower() == kw


def css(c: Context, s: str) -> tuple[Context, int]:
    """CSS: find where a string, ``url(``, or comment starts."""
    k = 0
    while True:
        i = next((j for j in range(k, len(s)) if s[j] in "(\"'/"), -1)
        if i < 0:
            return c, len(s)
        ch = s[i]
        if ch == "(":
            p = s[:i].rstrip("\t\n\f\r ")
            if _ends_with_css_keyword(p, "url"):
                j = len(s) - len(s[i + 1 :].lstrip("\t\n\f\r "))
                if j != len(s) and s[j] == '"':
                    return replace(c, state=State.CSS_DQ_URL), j + 1
                if j != len(s) and s[j] == "'":
                    return replace(c, state=State.CSS_SQ_URL), j + 1
                return replace(c, state=State.CSS_URL), j
        elif ch == "/":
            if i + 1 < len(s):
                if s[i + 1] == "/":
                    return replace(c, state=State.CSS_LINE_CMT), i + 2
                if s[i + 1] == "*":
                    return replace(c, state=State.CSS_BLOCK_CMT), i + 2
        elif ch == '"':
            return replace(c, state=State.CSS_DQ_STR), i + 1
        elif ch == "'":
            return replace(c, state=State.CSS_SQ_STR), i + 1
        k = i + 1


_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def decode_css(s: str) -> str:
    """Resolve CSS backslash escapes (``\\41 `` is ``A``, ``\\"`` is ``"``), as Go's decodeCSS."""
    if "\\" not in s:
        return s
    out: list[str] = []
    i = 0
    while i < len(s):
        j = s.find("\\", i)
        if j < 0:
            out.append(s[i:])
            break
        out.append(s[i:j])
        if j + 1 >= len(s):
            break
        if s[j + 1] in _HEX_DIGITS:
            k = j + 2
            while k < len(s) and k < j + 7 and s[k] in _HEX_DIGITS:
                k += 1
            code = int(s[j + 1 : k], 16)
            if code > 0x10FFFF:
                code, k = code // 16, k - 1
            out.append(chr(code) if not 0xD800 <= code <= 0xDFFF else "\ufffd")
            # One optional space ends the escape; CRLF counts as one.
            if s.startswith("\r\n", k):
                k += 2
            elif k < len(s) and s[k] in " \t\n\f\r":
                k += 1
            i = k
        else:
            out.append(s[j + 1])
            i = j + 2
    return "".join(out)


def css_str(c: Context, s: str) -> tuple[Context, int]:
    """Inside a CSS string or ``url(…)``: track the URL part, find the end."""
    if c.state in (State.CSS_DQ_STR, State.CSS_DQ_URL):
        end_and_esc = '\\"'
    elif c.state in (State.CSS_SQ_STR, State.CSS_SQ_URL):
        end_and_esc = "\\'"
    else:
        end_and_esc = "\\\t\n\f\r )"
    k = 0
    while True:
        i = next((j for j in range(k, len(s)) if s[j] in end_and_esc), -1)
        if i < 0:
            c2, _ = url(c, decode_css(s[k:]))
            return c2, len(s)
        if s[i] == "\\":
            i += 1
            if i == len(s):
                return error_context(
                    f"unfinished escape sequence in CSS string: {go_quote(s)}"
                ), len(s)
        else:
            return replace(c, state=State.CSS), i + 1
        c, _ = url(c, decode_css(s[: i + 1]))
        k = i + 1
