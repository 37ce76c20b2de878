"""Errors of the template engine, worded as Go's text/template words them.

TemplateError
├── ParseError   the template text does not parse (``template: NAME:LINE: …``)
└── ExecError    execution stopped (``template: NAME:LINE:COL: executing "NAME" at <…>: …``)
GoError          raised by a template function to return a Go ``error``
"""

from __future__ import annotations

__all__ = ["ExecError", "GoError", "ParseError", "TemplateError"]


class TemplateError(Exception):
    """Base of the errors a template set raises; ``str()`` is Go's message."""


class ParseError(TemplateError):
    """The template text is not a valid Go template."""


class ExecError(TemplateError):
    """Executing a template failed; output so far is discarded."""


class GoError(Exception):
    """A template function's Go ``error`` result: execution stops with this message."""
