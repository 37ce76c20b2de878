"""How html/template's context moves over template text (Go's transition.go)."""

from __future__ import annotations

import html as htmllib
import re
from dataclasses import replace

from .htmlattrs import attr_type, is_js_type
from .htmlcontext import (
    ATTR_START,
    ELEMENT_CONTENT,
    ELEMENT_NAMES,
    Attr,
    Context,
    Delim,
    Element,
    JSCtx,
    State,
    URLPart,
    error_context,
)

__all__ = ["after_text", "decode_css"]


_SPACE = " \t\n\f\r"


def _eat_space(s: str, i: int) -> int:
    while i < len(s) and s[i] in _SPACE:
        i += 1
    return i


def _ascii_alpha(ch: str) -> bool:
    return ("A" <= ch <= "Z") or ("a" <= ch <= "z")


def _ascii_alnum(ch: str) -> bool:
    return _ascii_alpha(ch) or "0" <= ch <= "9"


def _eat_tag_name(s: str, i: int) -> tuple[int, Element]:
    if i == len(s) or not _ascii_alpha(s[i]):
        return i, Element.NONE
    j = i + 1
    while j < len(s):
        x = s[j]
        if _ascii_alnum(x):
            j += 1
            continue
        if x in ":-" and j + 1 < len(s) and _ascii_alnum(s[j + 1]):
            j += 2
            continue
        break
    return j, ELEMENT_NAMES.get(s[i:j].lower(), Element.NONE)


def _go_q(s: str) -> str:
    from .strconv import go_quote

    return go_quote(s)


def _eat_attr_name(s: str, i: int) -> tuple[int, str]:
    for j in range(i, len(s)):
        ch = s[j]
        if ch in " \t\n\f\r=>":
            return j, ""
        if ch in "'\"<":
            return -1, f"{_go_q(ch)} in attribute name: {_go_q(s[:32])}"
    return len(s), ""


def _t_text(c: Context, s: str) -> tuple[Context, int]:
    k = 0
    while True:
        i = s.find("<", k)
        if i < 0 or i + 1 == len(s):
            return c, len(s)
        if s.startswith("<!--", i):
            return Context(state=State.HTML_CMT), i + 4
        i += 1
        end = False
        if s[i] == "/":
            if i + 1 == len(s):
                return c, len(s)
            end, i = True, i + 1
        j, e = _eat_tag_name(s, i)
        if j != i:
            if end:
                e = Element.NONE
            return Context(state=State.TAG, element=e), j
        k = j


def _t_tag(c: Context, s: str) -> tuple[Context, int]:
    i = _eat_space(s, 0)
    if i == len(s):
        return c, len(s)
    if s[i] == ">":
        return Context(state=ELEMENT_CONTENT[c.element], element=c.element), i + 1
    j, err = _eat_attr_name(s, i)
    if err:
        return error_context(err), len(s)
    if i == j:
        return (
            error_context(f"expected space, attr name, or end of tag, but got {_go_q(s[i:])}"),
            len(s),
        )
    name = s[i:j].lower()
    attr = Attr.NONE
    if c.element == Element.SCRIPT and name == "type":
        attr = Attr.SCRIPT_TYPE
    else:
        attr = {
            "url": Attr.URL,
            "css": Attr.STYLE,
            "js": Attr.SCRIPT,
            "srcset": Attr.SRCSET,
        }.get(attr_type(name), Attr.NONE)
    state = State.ATTR_NAME if j == len(s) else State.AFTER_NAME
    return Context(state=state, element=c.element, attr=attr), j


def _t_attr_name(c: Context, s: str) -> tuple[Context, int]:
    i, err = _eat_attr_name(s, 0)
    if err:
        return error_context(err), len(s)
    if i != len(s):
        c = replace(c, state=State.AFTER_NAME)
    return c, i


def _t_after_name(c: Context, s: str) -> tuple[Context, int]:
    i = _eat_space(s, 0)
    if i == len(s):
        return c, len(s)
    if s[i] != "=":
        return replace(c, state=State.TAG), i
    return replace(c, state=State.BEFORE_VALUE), i + 1


def _t_before_value(c: Context, s: str) -> tuple[Context, int]:
    i = _eat_space(s, 0)
    if i == len(s):
        return c, len(s)
    delim = Delim.SPACE_OR_TAG_END
    if s[i] == "'":
        delim, i = Delim.SINGLE_QUOTE, i + 1
    elif s[i] == '"':
        delim, i = Delim.DOUBLE_QUOTE, i + 1
    return replace(c, state=ATTR_START[c.attr], delim=delim), i


def _t_html_cmt(c: Context, s: str) -> tuple[Context, int]:
    i = s.find("-->")
    if i >= 0:
        return Context(), i + 3
    return c, len(s)


_SPECIAL_END = {
    Element.SCRIPT: "script",
    Element.STYLE: "style",
    Element.TEXTAREA: "textarea",
    Element.TITLE: "title",
}


def _index_tag_end(s: str, tag: str) -> int:
    res = 0
    while s:
        i = s.find("</")
        if i < 0:
            return -1
        s = s[i + 2 :]
        if len(tag) <= len(s) and s[: len(tag)].lower() == tag:
            s = s[len(tag) :]
            if s and s[0] in "> \t\n\f/":
                return res + i
            res += len(tag)
        res += i + 2
    return -1


def _t_special_tag_end(c: Context, s: str) -> tuple[Context, int]:
    if c.element != Element.NONE:
        i = _index_tag_end(s, _SPECIAL_END[c.element])
        if i >= 0:
            return Context(), i
    return c, len(s)


def _t_attr(c: Context, s: str) -> tuple[Context, int]:
    return c, len(s)


def _t_url(c: Context, s: str) -> tuple[Context, int]:
    if "#" in s or "?" in s:
        c = replace(c, url_part=URLPart.QUERY_OR_FRAG)
    elif len(s) != _eat_space(s, 0) and c.url_part == URLPart.NONE:
        c = replace(c, url_part=URLPart.PRE_QUERY)
    return c, len(s)


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


def _t_js(c: Context, s: str) -> tuple[Context, int]:
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
        return error_context(f"'/' could start a division or regexp: {_go_q(s[i : i + 32])}"), len(
            s
        )
    return c, i + 1


def _t_js_delimited(c: Context, s: str) -> tuple[Context, int]:
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
                return error_context(f"unfinished escape sequence in JS string: {_go_q(s)}"), len(s)
        elif ch == "[":
            in_charset = True
        elif ch == "]":
            in_charset = False
        elif not in_charset:
            return replace(c, state=State.JS, js_ctx=JSCtx.DIV_OP), i + 1
        k = i + 1
    if in_charset:
        return error_context(f"unfinished JS regexp charset: {_go_q(s)}"), len(s)
    return c, len(s)


def _t_block_cmt(c: Context, s: str) -> tuple[Context, int]:
    i = s.find("*/")
    if i < 0:
        return c, len(s)
    state = State.JS if c.state == State.JS_BLOCK_CMT else State.CSS
    return replace(c, state=state), i + 2


def _t_line_cmt(c: Context, s: str) -> tuple[Context, int]:
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


def _t_css(c: Context, s: str) -> tuple[Context, int]:
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


def _t_css_str(c: Context, s: str) -> tuple[Context, int]:
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
            c2, _ = _t_url(c, decode_css(s[k:]))
            return c2, len(s)
        if s[i] == "\\":
            i += 1
            if i == len(s):
                return error_context(f"unfinished escape sequence in CSS string: {_go_q(s)}"), len(
                    s
                )
        else:
            return replace(c, state=State.CSS), i + 1
        c, _ = _t_url(c, decode_css(s[: i + 1]))
        k = i + 1


def _t_error(c: Context, s: str) -> tuple[Context, int]:
    return c, len(s)


_TRANSITIONS = {
    State.TEXT: _t_text,
    State.TAG: _t_tag,
    State.ATTR_NAME: _t_attr_name,
    State.AFTER_NAME: _t_after_name,
    State.BEFORE_VALUE: _t_before_value,
    State.HTML_CMT: _t_html_cmt,
    State.RCDATA: _t_special_tag_end,
    State.ATTR: _t_attr,
    State.URL: _t_url,
    State.SRCSET: _t_url,
    State.JS: _t_js,
    State.JS_DQ_STR: _t_js_delimited,
    State.JS_SQ_STR: _t_js_delimited,
    State.JS_REGEXP: _t_js_delimited,
    State.JS_BQ_STR: _t_js_delimited,
    State.JS_BLOCK_CMT: _t_block_cmt,
    State.JS_LINE_CMT: _t_line_cmt,
    State.CSS: _t_css,
    State.CSS_DQ_STR: _t_css_str,
    State.CSS_SQ_STR: _t_css_str,
    State.CSS_DQ_URL: _t_css_str,
    State.CSS_SQ_URL: _t_css_str,
    State.CSS_URL: _t_css_str,
    State.CSS_BLOCK_CMT: _t_block_cmt,
    State.CSS_LINE_CMT: _t_line_cmt,
    State.ERROR: _t_error,
}

_DELIM_ENDS = {
    Delim.DOUBLE_QUOTE: '"',
    Delim.SINGLE_QUOTE: "'",
    Delim.SPACE_OR_TAG_END: " \t\n\f\r>",
}


def after_text(c: Context, s: str) -> tuple[Context, int]:
    """The context after a prefix of ``s`` and the length of that prefix (contextAfterText)."""
    if c.delim == Delim.NONE:
        c1, i = _t_special_tag_end(c, s)
        if i == 0:
            return c1, 0
        return _TRANSITIONS[c.state](c, s[:i])
    ends = _DELIM_ENDS[c.delim]
    i = next((j for j, ch in enumerate(s) if ch in ends), len(s))
    if c.delim == Delim.SPACE_OR_TAG_END:
        j = next((k for k in range(i) if s[k] in "\"'<=`"), -1)
        if j >= 0:
            return (
                error_context(f"{_go_q(s[j])} in unquoted attr: {_go_q(s[:i])}"),
                len(s),
            )
    if i == len(s):
        # Inside the value: decode entities so JS/CSS/URL rules see the real characters.
        u = htmllib.unescape(s)
        while u:
            c1, i1 = _TRANSITIONS[c.state](c, u)
            c, u = c1, u[i1:]
        return c, len(s)
    element = c.element
    if (
        c.state == State.ATTR
        and c.element == Element.SCRIPT
        and c.attr == Attr.SCRIPT_TYPE
        and not is_js_type(s[:i])
    ):
        element = Element.NONE
    if c.delim != Delim.SPACE_OR_TAG_END:
        i += 1
    return Context(state=State.TAG, element=element), i
