"""A set of named templates, as Go's ``*template.Template`` and its associated templates."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .builtins import BUILTINS
from .errors import ExecError
from .interpreter import FuncEntry, Interpreter
from .nodes import Tree
from .parser import parse as parse_text
from .signature import signature_of
from .strconv import go_quote

__all__ = ["Template"]

_MISSING_KEY = {"default": "invalid", "invalid": "invalid", "zero": "zero", "error": "error"}


class Template:
    """Named templates sharing a function map and options (Go's ``template.New(name)`` set).

    ``html=True`` makes it an html/template set: output is escaped for its HTML context.
    """

    def __init__(
        self,
        *,
        funcs: Mapping[str, Callable[..., Any]] | None = None,
        missingkey: str = "default",
        html: bool = False,
    ) -> None:
        if missingkey not in _MISSING_KEY:
            raise ValueError(f"unrecognized option missingkey={missingkey}")
        self.missing_key = _MISSING_KEY[missingkey]
        self.html = html
        self._funcs: dict[str, FuncEntry] = {}
        self._trees: dict[str, Tree] = {}
        self._escaped: dict[Any, Any] = {}
        self._html_funcs: dict[str, FuncEntry] | None = None
        if funcs:
            self.add_funcs(funcs)

    def option(self, *options: str) -> Template:
        """Go's ``Option``: only ``missingkey=default|invalid|zero|error`` exists."""
        for opt in options:
            key, sep, value = opt.partition("=")
            if key != "missingkey" or not sep or value not in _MISSING_KEY:
                raise ValueError(f"unrecognized option: {opt}")
            self.missing_key = _MISSING_KEY[value]
        return self

    def add_funcs(self, funcs: Mapping[str, Callable[..., Any]]) -> Template:
        """Add functions (Go's ``Funcs``); a name may replace a builtin."""
        for name, fn in funcs.items():
            if not callable(fn):
                raise ValueError(f"value for {name} not a function")
            self._funcs[name] = (fn, signature_of(fn))
        self._escaped.clear()
        self._html_funcs = None
        return self

    def _has_func(self, name: str) -> bool:
        return name in self._funcs or name in BUILTINS

    def parse_tree(self, text: str, name: str = "", *, parse_name: str | None = None) -> Tree:
        """Parse ``text`` as template ``name``, add its definitions, return its top tree.

        As Go associates trees: a later definition replaces an earlier one unless it is empty.
        """
        trees = parse_text(name, text, _FuncNames(self), parse_name=parse_name)
        self.add_parse_trees(trees)
        return trees[name]

    def add_parse_trees(self, trees: Mapping[str, Tree]) -> None:
        """Add parsed trees (Go's ``AddParseTree``): an empty tree never replaces a template."""
        self._escaped.clear()
        for tname, tree in trees.items():
            old = self._trees.get(tname)
            if old is not None and tree.is_empty():
                continue
            self._trees[tname] = tree

    def function_names(self) -> frozenset[str]:
        """Names a template text may call: builtins and the function map."""
        return frozenset(self._funcs) | frozenset(BUILTINS)

    def parse(self, text: str, name: str = "") -> Template:
        """Parse ``text`` as template ``name`` (and its ``define``s) into this set."""
        self.parse_tree(text, name)
        return self

    def clone(self) -> Template:
        """An independent copy: later parses into either do not affect the other."""
        other = Template(html=self.html)
        other.missing_key = self.missing_key
        other._funcs = dict(self._funcs)
        other._trees = dict(self._trees)
        # Escaped trees are not shared: a clone may redefine what they call.
        return other

    def lookup(self, name: str) -> Tree | None:
        """The tree of template ``name``, or None."""
        return self._trees.get(name)

    def names(self) -> list[str]:
        """Names of the templates in the set, sorted."""
        return sorted(self._trees)

    def execute(self, name: str, data: Any) -> str:
        """Execute template ``name`` with ``data`` as dot (Go's ``ExecuteTemplate``)."""
        tree = self._trees.get(name)
        if tree is None:
            raise ExecError(f"template: no template {go_quote(name)} associated with template")
        return self.execute_tree(tree, data)

    def execute_tree(self, tree: Tree, data: Any) -> str:
        """Execute a tree parsed into this set (see ``parse_tree``)."""
        if not self.html:
            return Interpreter(self._trees.get, self._funcs, self.missing_key).run(tree, data)
        from .escape import escape_tree
        from .htmlescapers import ESCAPERS

        escaped, lookup = escape_tree(self, tree)
        funcs = self._html_funcs
        if funcs is None:
            # The escapers are ordinary functions the escaped pipelines call.
            funcs = {**self._funcs, **{k: (f, signature_of(f)) for k, f in ESCAPERS.items()}}
            self._html_funcs = funcs
        return Interpreter(lookup, funcs, self.missing_key).run(escaped, data)

    # For the escaper.

    @property
    def trees(self) -> dict[str, Tree]:
        """The set's templates by name (read-only use)."""
        return self._trees

    @property
    def escaped_cache(self) -> dict[Any, Any]:
        """Escaped trees of an html set, reset by every parse."""
        return self._escaped

    @property
    def funcs(self) -> dict[str, FuncEntry]:
        """The function map as (function, signature) entries."""
        return self._funcs


class _FuncNames:
    """The function names a parse may use, without copying the map."""

    def __init__(self, tmpl: Template) -> None:
        self.tmpl = tmpl

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.tmpl._has_func(name)
