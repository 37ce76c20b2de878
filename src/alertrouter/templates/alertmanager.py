"""Alertmanager's template set: defaults plus the config's ``templates:`` globs (``FromGlobs``).

Also ``render``, which behaves as ``amtool template render`` does.
"""

from __future__ import annotations

import glob as globmod
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from .errors import ParseError
from .nodes import Tree
from .parser import parse as parse_text
from .template import Template

__all__ = [
    "DEFAULT_TEMPLATE_FILES",
    "AlertmanagerTemplates",
    "from_globs",
    "go_glob",
    "render",
]

DEFAULT_TEMPLATE_FILES: tuple[Path, ...] = (
    Path(__file__).parent / "defaults" / "default.tmpl",
    Path(__file__).parent / "defaults" / "email.tmpl",
)
_CACHE_SIZE = 256


def _default_funcs() -> Mapping[str, Callable[..., Any]]:
    from .functions import alertmanager_funcs

    return alertmanager_funcs()


def _python_pattern(pattern: str) -> str:
    """Go's filepath.Match syntax in Python's glob syntax; ValueError for a bad pattern."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            if i + 1 >= len(pattern):
                raise ValueError("syntax error in pattern")
            out.append(f"[{pattern[i + 1]}]")
            i += 2
            continue
        if ch == "[":
            end = pattern.find("]", i + 2)
            if end < 0:
                raise ValueError("syntax error in pattern")
            body = pattern[i + 1 : end]
            if body.startswith("^"):
                body = "!" + body[1:]
            elif body.startswith("!"):
                body = "\\!" + body[1:]
            out.append(f"[{body}]")
            i = end + 1
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def go_glob(pattern: str) -> list[str]:
    """Go's ``filepath.Glob``: sorted matches, dot files included; ParseError if malformed."""
    try:
        translated = _python_pattern(pattern)
    except ValueError as exc:
        raise ParseError(str(exc)) from None
    return sorted(globmod.glob(translated, include_hidden=True))


class AlertmanagerTemplates:
    """A text set and an html set parsed from the same files, with ``missingkey=zero``."""

    def __init__(self, funcs: Mapping[str, Callable[..., Any]] | None = None) -> None:
        funcs = _default_funcs() if funcs is None else funcs
        self.text = Template(funcs=funcs, missingkey="zero")
        self.html = Template(funcs=funcs, missingkey="zero", html=True)
        self._lock = threading.Lock()
        self._compiled: OrderedDict[tuple[bool, str], tuple[Template, Tree]] = OrderedDict()

    def parse_file(self, path: Path, name: str | None = None) -> None:
        """Parse one file into both sets as template ``name`` (its base name by default)."""
        tname = path.name if name is None else name
        trees = _parse_file_cached(path, tname, self.text.function_names())
        self.text.add_parse_trees(trees)
        self.html.add_parse_trees(trees)
        self._compiled.clear()

    def parse_glob(self, pattern: str) -> None:
        """Parse every file ``pattern`` matches, in sorted order; no match is fine."""
        for match in go_glob(pattern):
            if os.path.isdir(match):
                # Go's ParseGlob fails reading a directory.
                raise ParseError(f"read {match}: is a directory")
            self.parse_file(Path(match))

    def _compile(self, html: bool, text: str) -> tuple[Template, Tree]:
        key = (html, text)
        with self._lock:
            hit = self._compiled.get(key)
            if hit is not None:
                self._compiled.move_to_end(key)
                return hit
        base = self.html if html else self.text
        clone = base.clone()
        # As Alertmanager: the text becomes a new template "" in a clone of the set.
        tree = clone.parse_tree(text, "")
        with self._lock:
            self._compiled[key] = (clone, tree)
            if len(self._compiled) > _CACHE_SIZE:
                self._compiled.popitem(last=False)
        return clone, tree

    def execute_text_string(self, text: str, data: Any) -> str:
        """Alertmanager's ``ExecuteTextString``: render ``text`` with the text set."""
        if text == "":
            return ""
        clone, tree = self._compile(False, text)
        return clone.execute_tree(tree, data)

    def execute_html_string(self, text: str, data: Any) -> str:
        """Alertmanager's ``ExecuteHTMLString``: render ``text`` with the html set."""
        if text == "":
            return ""
        clone, tree = self._compile(True, text)
        return clone.execute_tree(tree, data)


_FILE_CACHE: OrderedDict[tuple[str, int, int, str, frozenset[str]], dict[str, Tree]] = OrderedDict()
_FILE_CACHE_LOCK = threading.Lock()


def _parse_file_cached(path: Path, name: str, funcs: frozenset[str]) -> dict[str, Tree]:
    """Parse a template file once per content version (trees are never mutated after parse)."""
    st = path.stat()
    key = (str(path), st.st_mtime_ns, st.st_size, name, funcs)
    with _FILE_CACHE_LOCK:
        hit = _FILE_CACHE.get(key)
        if hit is not None:
            _FILE_CACHE.move_to_end(key)
            return hit
    text = path.read_text(encoding="utf-8", errors="surrogateescape")
    trees = parse_text(name, text, funcs)
    with _FILE_CACHE_LOCK:
        _FILE_CACHE[key] = trees
        if len(_FILE_CACHE) > _CACHE_SIZE:
            _FILE_CACHE.popitem(last=False)
    return trees


def from_globs(
    globs: Sequence[str],
    *,
    base_dir: str | os.PathLike[str] | None = None,
    defaults: Sequence[Path] | None = None,
    funcs: Mapping[str, Callable[..., Any]] | None = None,
) -> AlertmanagerTemplates:
    """Alertmanager's ``template.FromGlobs``: defaults first, then each glob's files.

    Relative globs are taken against ``base_dir`` (the config file's folder), as Alertmanager
    resolves a config's ``templates:``. A file that does not parse raises ``ParseError``.
    """
    tmpl = AlertmanagerTemplates(funcs)
    for path in DEFAULT_TEMPLATE_FILES if defaults is None else defaults:
        # Alertmanager parses its embedded defaults into the root template "".
        tmpl.parse_file(path, name="")
    for pattern in globs:
        if base_dir is not None and not os.path.isabs(pattern):
            pattern = os.path.join(os.fspath(base_dir), pattern)
        tmpl.parse_glob(pattern)
    return tmpl


def render(
    globs: Sequence[str],
    text: str,
    data_payload: Mapping[str, Any] | None,
    kind: Literal["text", "html"] = "text",
    *,
    defaults: Sequence[Path] | None = None,
) -> str:
    """Render ``text`` as ``amtool template render`` does.

    ``data_payload`` is the decoded ``--template.data`` JSON (a webhook payload); None uses
    amtool's built-in example data. Raises ``ParseError``/``ExecError`` with Go's message, or
    ``data.WebhookDataError`` for a payload Go's JSON decoding would refuse.
    """
    from .data import amtool_default_data, data_from_webhook

    tmpl = from_globs(globs, defaults=defaults)
    data = amtool_default_data() if data_payload is None else data_from_webhook(data_payload)
    if kind == "html":
        return tmpl.execute_html_string(text, data)
    return tmpl.execute_text_string(text, data)
