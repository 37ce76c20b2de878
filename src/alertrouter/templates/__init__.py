"""Go's text/template and html/template as Alertmanager uses them (standalone, pure).

``Template`` is a set of named templates (Go's ``template.New(...)``); ``from_globs`` builds
Alertmanager's text and html sets; ``render`` behaves as ``amtool template render``.
"""

from __future__ import annotations

from .alertmanager import DEFAULT_TEMPLATE_FILES, AlertmanagerTemplates, from_globs, render
from .content import CSS, HTML, JS, URL, HTMLAttr, JSStr, Srcset
from .errors import ExecError, GoError, ParseError, TemplateError
from .template import Template

__all__ = [
    "CSS",
    "DEFAULT_TEMPLATE_FILES",
    "HTML",
    "JS",
    "URL",
    "AlertmanagerTemplates",
    "ExecError",
    "GoError",
    "HTMLAttr",
    "JSStr",
    "ParseError",
    "Srcset",
    "Template",
    "TemplateError",
    "from_globs",
    "render",
]
