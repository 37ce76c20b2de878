"""html/template's typed content: strings the escaper trusts for one context.

Each is a ``str`` subclass so functions (Alertmanager's ``safeHtml``) can return them and the
engine can tell them from plain strings, as Go tells ``template.HTML`` from ``string``.
"""

from __future__ import annotations

__all__ = ["CSS", "HTML", "JS", "URL", "HTMLAttr", "JSStr", "Srcset"]


class _Content(str):
    """A string with a Go type name, trusted by html/template in one context."""

    __slots__ = ()
    go_type = "template.content"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str.__repr__(self)})"


class HTML(_Content):
    """Known-safe HTML markup (Go's ``template.HTML``)."""

    __slots__ = ()
    go_type = "template.HTML"


class HTMLAttr(_Content):
    """A known-safe attribute name and value pair (``template.HTMLAttr``)."""

    __slots__ = ()
    go_type = "template.HTMLAttr"


class JS(_Content):
    """A known-safe JavaScript expression (``template.JS``)."""

    __slots__ = ()
    go_type = "template.JS"


class JSStr(_Content):
    """Known-safe text for a JavaScript string literal body (``template.JSStr``)."""

    __slots__ = ()
    go_type = "template.JSStr"


class CSS(_Content):
    """Known-safe CSS (``template.CSS``)."""

    __slots__ = ()
    go_type = "template.CSS"


class URL(_Content):
    """A known-safe URL or URL substring (``template.URL``)."""

    __slots__ = ()
    go_type = "template.URL"


class Srcset(_Content):
    """A known-safe ``srcset`` attribute value (``template.Srcset``)."""

    __slots__ = ()
    go_type = "template.Srcset"
