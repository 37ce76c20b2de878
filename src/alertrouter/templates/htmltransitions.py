"""How html/template's context moves over template text (Go's transition.go)."""

from __future__ import annotations

import html as htmllib
from dataclasses import replace

from . import htmlscripts as scripts
from .htmlattrs import attr_type, is_js_type
from .htmlcontext import (
    ATTR_START,
    ELEMENT_CONTENT,
    ELEMENT_NAMES,
    Attr,
    Context,
    Delim,
    Element,
    State,
    error_context,
)
from .strconv import go_quote

__all__ = ["after_text"]


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
    State.URL: scripts.url,
    State.SRCSET: scripts.url,
    State.JS: scripts.js,
    State.JS_DQ_STR: scripts.js_delimited,
    State.JS_SQ_STR: scripts.js_delimited,
    State.JS_REGEXP: scripts.js_delimited,
    State.JS_BQ_STR: scripts.js_delimited,
    State.JS_BLOCK_CMT: scripts.block_cmt,
    State.JS_LINE_CMT: scripts.line_cmt,
    State.CSS: scripts.css,
    State.CSS_DQ_STR: scripts.css_str,
    State.CSS_SQ_STR: scripts.css_str,
    State.CSS_DQ_URL: scripts.css_str,
    State.CSS_SQ_URL: scripts.css_str,
    State.CSS_URL: scripts.css_str,
    State.CSS_BLOCK_CMT: scripts.block_cmt,
    State.CSS_LINE_CMT: scripts.line_cmt,
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
