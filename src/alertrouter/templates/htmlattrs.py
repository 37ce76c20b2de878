"""Attribute and MIME tables html/template uses to pick an escaping context (Go's attr.go)."""

from __future__ import annotations

__all__ = ["attr_type", "is_js_type"]

# Attribute kinds (Go's attrTypeMap, reduced to the kinds that change escaping).
_URL_ATTRS = frozenset(
    [
        "action",
        "archive",
        "background",
        "cite",
        "classid",
        "codebase",
        "data",
        "formaction",
        "href",
        "icon",
        "longdesc",
        "manifest",
        "poster",
        "profile",
        "src",
        "usemap",
        "xmlns",
    ]
)
_PLAIN_ATTRS = frozenset(
    [
        "accept",
        "accept-charset",
        "accesskey",
        "align",
        "alt",
        "async",
        "autocomplete",
        "autofocus",
        "autoplay",
        "border",
        "challenge",
        "charset",
        "checked",
        "class",
        "color",
        "cols",
        "colspan",
        "content",
        "contenteditable",
        "contextmenu",
        "controls",
        "coords",
        "crossorigin",
        "datetime",
        "default",
        "defer",
        "dir",
        "dirname",
        "disabled",
        "draggable",
        "dropzone",
        "enctype",
        "for",
        "form",
        "formenctype",
        "formmethod",
        "formnovalidate",
        "formtarget",
        "headers",
        "height",
        "hidden",
        "high",
        "hreflang",
        "http-equiv",
        "id",
        "ismap",
        "keytype",
        "kind",
        "label",
        "lang",
        "language",
        "list",
        "loop",
        "low",
        "max",
        "maxlength",
        "media",
        "mediagroup",
        "method",
        "min",
        "multiple",
        "name",
        "novalidate",
        "open",
        "optimum",
        "pattern",
        "placeholder",
        "preload",
        "pubdate",
        "radiogroup",
        "readonly",
        "rel",
        "required",
        "reversed",
        "rows",
        "rowspan",
        "sandbox",
        "spellcheck",
        "scope",
        "scoped",
        "seamless",
        "selected",
        "shape",
        "size",
        "sizes",
        "span",
        "srcdoc",
        "srclang",
        "start",
        "step",
        "tabindex",
        "target",
        "title",
        "type",
        "value",
        "width",
        "wrap",
    ]
)


_UNSAFE_ATTRS = frozenset(["content", "http-equiv", "rel", "sandbox", "type"])


def attr_type(name: str) -> str:
    """The content kind of attribute ``name`` (Go's attrType).

    One of url, css, js, srcset, html (``srcdoc``), unsafe (``type``, ``rel``, …) or plain.
    """
    if name.startswith("data-"):
        name = name[5:]
    elif ":" in name:
        prefix, _, short = name.partition(":")
        if prefix == "xmlns":
            return "url"
        name = short
    if name in _URL_ATTRS:
        return "url"
    if name == "style":
        return "css"
    if name == "srcset":
        return "srcset"
    if name == "srcdoc":
        return "html"
    if name in _UNSAFE_ATTRS:
        return "unsafe"
    if name in _PLAIN_ATTRS:
        return "plain"
    if name.startswith("on"):
        return "js"
    if "src" in name or "uri" in name or "url" in name:
        return "url"
    return "plain"


_JS_MIME_TYPES = frozenset(
    [
        "application/ecmascript",
        "application/javascript",
        "application/json",
        "application/ld+json",
        "application/x-ecmascript",
        "application/x-javascript",
        "module",
        "text/ecmascript",
        "text/javascript",
        "text/javascript1.0",
        "text/javascript1.1",
        "text/javascript1.2",
        "text/javascript1.3",
        "text/javascript1.4",
        "text/javascript1.5",
        "text/jscript",
        "text/livescript",
        "text/x-ecmascript",
        "text/x-javascript",
    ]
)


def is_js_type(mime: str) -> bool:
    """Whether a ``<script type>`` value is JavaScript (its content is then escaped as JS)."""
    mime = mime.split(";", 1)[0].lower().strip()
    return mime in _JS_MIME_TYPES
