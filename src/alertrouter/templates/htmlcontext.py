"""html/template's parsing context (Go's context.go).

A ``Context`` says where in an HTML document the output is: element text, inside a tag, in an
attribute value (which kind, which quote), in JS or CSS, in a comment.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import IntEnum

__all__ = [
    "Attr",
    "Context",
    "Delim",
    "Element",
    "JSCtx",
    "State",
    "URLPart",
    "error_context",
    "is_comment",
    "nudge",
]


class State(IntEnum):
    """Where the output is (Go's ``state``)."""

    TEXT = 0
    TAG = 1
    ATTR_NAME = 2
    AFTER_NAME = 3
    BEFORE_VALUE = 4
    HTML_CMT = 5
    RCDATA = 6
    ATTR = 7
    URL = 8
    SRCSET = 9
    JS = 10
    JS_DQ_STR = 11
    JS_SQ_STR = 12
    JS_REGEXP = 13
    JS_BLOCK_CMT = 14
    JS_LINE_CMT = 15
    CSS = 16
    CSS_DQ_STR = 17
    CSS_SQ_STR = 18
    CSS_DQ_URL = 19
    CSS_SQ_URL = 20
    CSS_URL = 21
    CSS_BLOCK_CMT = 22
    CSS_LINE_CMT = 23
    ERROR = 24
    DEAD = 25
    JS_BQ_STR = 26


class Delim(IntEnum):
    """How the current attribute value ends."""

    NONE = 0
    DOUBLE_QUOTE = 1
    SINGLE_QUOTE = 2
    SPACE_OR_TAG_END = 3


class URLPart(IntEnum):
    """Which part of a URL the output is in."""

    NONE = 0
    PRE_QUERY = 1
    QUERY_OR_FRAG = 2
    UNKNOWN = 3


class JSCtx(IntEnum):
    """Whether a ``/`` in JS starts a regexp or is a division."""

    REGEXP = 0
    DIV_OP = 1
    UNKNOWN = 2


class Element(IntEnum):
    """Elements whose content is not plain HTML text."""

    NONE = 0
    SCRIPT = 1
    STYLE = 2
    TEXTAREA = 3
    TITLE = 4


class Attr(IntEnum):
    """The kind of attribute whose value is being written."""

    NONE = 0
    SCRIPT = 1
    SCRIPT_TYPE = 2
    STYLE = 3
    URL = 4
    SRCSET = 5


_STATE_NAMES = {
    State.TEXT: "stateText",
    State.TAG: "stateTag",
    State.ATTR_NAME: "stateAttrName",
    State.AFTER_NAME: "stateAfterName",
    State.BEFORE_VALUE: "stateBeforeValue",
    State.HTML_CMT: "stateHTMLCmt",
    State.RCDATA: "stateRCDATA",
    State.ATTR: "stateAttr",
    State.URL: "stateURL",
    State.SRCSET: "stateSrcset",
    State.JS: "stateJS",
    State.JS_DQ_STR: "stateJSDqStr",
    State.JS_SQ_STR: "stateJSSqStr",
    State.JS_BQ_STR: "stateJSBqStr",
    State.JS_REGEXP: "stateJSRegexp",
    State.JS_BLOCK_CMT: "stateJSBlockCmt",
    State.JS_LINE_CMT: "stateJSLineCmt",
    State.CSS: "stateCSS",
    State.CSS_DQ_STR: "stateCSSDqStr",
    State.CSS_SQ_STR: "stateCSSSqStr",
    State.CSS_DQ_URL: "stateCSSDqURL",
    State.CSS_SQ_URL: "stateCSSSqURL",
    State.CSS_URL: "stateCSSURL",
    State.CSS_BLOCK_CMT: "stateCSSBlockCmt",
    State.CSS_LINE_CMT: "stateCSSLineCmt",
    State.ERROR: "stateError",
    State.DEAD: "stateDead",
}
_DELIM_NAMES = {
    Delim.NONE: "delimNone",
    Delim.DOUBLE_QUOTE: "delimDoubleQuote",
    Delim.SINGLE_QUOTE: "delimSingleQuote",
    Delim.SPACE_OR_TAG_END: "delimSpaceOrTagEnd",
}
_URL_PART_NAMES = {
    URLPart.NONE: "urlPartNone",
    URLPart.PRE_QUERY: "urlPartPreQuery",
    URLPart.QUERY_OR_FRAG: "urlPartQueryOrFrag",
    URLPart.UNKNOWN: "urlPartUnknown",
}
_JS_CTX_NAMES = {
    JSCtx.REGEXP: "jsCtxRegexp",
    JSCtx.DIV_OP: "jsCtxDivOp",
    JSCtx.UNKNOWN: "jsCtxUnknown",
}
_ATTR_NAMES = {
    Attr.NONE: "attrNone",
    Attr.SCRIPT: "attrScript",
    Attr.SCRIPT_TYPE: "attrScriptType",
    Attr.STYLE: "attrStyle",
    Attr.URL: "attrURL",
    Attr.SRCSET: "attrSrcset",
}
_ELEMENT_NAMES_GO = {
    Element.NONE: "elementNone",
    Element.SCRIPT: "elementScript",
    Element.STYLE: "elementStyle",
    Element.TEXTAREA: "elementTextarea",
    Element.TITLE: "elementTitle",
}


@dataclass(frozen=True, slots=True)
class Context:
    """A point in the HTML document; ``err`` is set in the ERROR state."""

    state: State = State.TEXT
    delim: Delim = Delim.NONE
    url_part: URLPart = URLPart.NONE
    js_ctx: JSCtx = JSCtx.REGEXP
    attr: Attr = Attr.NONE
    element: Element = Element.NONE
    err: str = ""

    def same(self, other: Context) -> bool:
        """Go's ``context.eq``."""
        return self == other

    def mangle(self, name: str) -> str:
        """A template name unique to this context (Go's ``mangle``)."""
        if self.state == State.TEXT:
            return name
        s = f"{name}$htmltemplate_{_STATE_NAMES[self.state]}"
        if self.delim != Delim.NONE:
            s += "_" + _DELIM_NAMES[self.delim]
        if self.url_part != URLPart.NONE:
            s += "_" + _URL_PART_NAMES[self.url_part]
        if self.js_ctx != JSCtx.REGEXP:
            s += "_" + _JS_CTX_NAMES[self.js_ctx]
        if self.attr != Attr.NONE:
            s += "_" + _ATTR_NAMES[self.attr]
        if self.element != Element.NONE:
            s += "_" + _ELEMENT_NAMES_GO[self.element]
        return s

    def __str__(self) -> str:
        """Go's ``%v`` of a context, as escaping errors print it."""
        return (
            f"{{{_STATE_NAMES[self.state]} {_DELIM_NAMES[self.delim]} "
            f"{_URL_PART_NAMES[self.url_part]} {_JS_CTX_NAMES[self.js_ctx]} "
            f"{_ATTR_NAMES[self.attr]} {_ELEMENT_NAMES_GO[self.element]} <nil>}}"
        )


def error_context(message: str) -> Context:
    """A context in the ERROR state carrying ``message``."""
    return Context(state=State.ERROR, err=message)


def is_comment(state: State) -> bool:
    """Whether ``state`` is inside an HTML, JS or CSS comment."""
    return state in (
        State.HTML_CMT,
        State.JS_BLOCK_CMT,
        State.JS_LINE_CMT,
        State.CSS_BLOCK_CMT,
        State.CSS_LINE_CMT,
    )


def is_in_tag(state: State) -> bool:
    """Whether ``state`` is inside a start tag."""
    return state in (
        State.TAG,
        State.ATTR_NAME,
        State.AFTER_NAME,
        State.BEFORE_VALUE,
        State.ATTR,
    )


ATTR_START = {
    Attr.NONE: State.ATTR,
    Attr.SCRIPT: State.JS,
    Attr.SCRIPT_TYPE: State.ATTR,
    Attr.STYLE: State.CSS,
    Attr.URL: State.URL,
    Attr.SRCSET: State.SRCSET,
}

ELEMENT_CONTENT = {
    Element.NONE: State.TEXT,
    Element.SCRIPT: State.JS,
    Element.STYLE: State.CSS,
    Element.TEXTAREA: State.RCDATA,
    Element.TITLE: State.RCDATA,
}

ELEMENT_NAMES = {
    "script": Element.SCRIPT,
    "style": Element.STYLE,
    "textarea": Element.TEXTAREA,
    "title": Element.TITLE,
}


def nudge(c: Context) -> Context:
    """Move a context that is between tokens into the state an action there would fill."""
    if c.state == State.TAG:
        return replace(c, state=State.ATTR_NAME)
    if c.state == State.BEFORE_VALUE:
        return replace(c, state=ATTR_START[c.attr], delim=Delim.SPACE_OR_TAG_END, attr=Attr.NONE)
    if c.state == State.AFTER_NAME:
        return replace(c, state=State.ATTR_NAME, attr=Attr.NONE)
    return c
