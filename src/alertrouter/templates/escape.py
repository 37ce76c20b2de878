"""html/template's contextual auto-escaping of parse trees (Go's escape.go).

Escaping walks a template and every template it calls, tracking the HTML context through the
text, and appends the escaper for that context to each action's pipeline. Templates called in a
non-text context are escaped as derived copies (``name$htmltemplate_…``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from .errors import ExecError
from .escapeedit import PREDEFINED_ESCAPERS, ensure_pipeline_contains
from .htmlcontext import Context, Delim, JSCtx, State, URLPart, is_comment, nudge
from .htmltransitions import after_text
from .nodes import (
    ActionNode,
    BreakNode,
    ContinueNode,
    IdentifierNode,
    IfNode,
    ListNode,
    Node,
    RangeNode,
    TemplateNode,
    TextNode,
    Tree,
    WithNode,
)
from .strconv import go_quote
from .treecopy import copy_tree

if TYPE_CHECKING:
    from .template import Template

__all__ = ["escape_tree"]


def _err_at(node: Node | None, line: int, message: str) -> str:
    """An html/template error text: with a node, its location; else filled in later."""
    if node is not None:
        loc = node.src.location(node.pos)
        return f"html/template:{loc}: {message}"
    if line:
        return f"\0{line}\0{message}"
    return message


class _Shared:
    """State every escaper of one escaping run shares: the set and private tree copies."""

    def __init__(self, tmpl: Template) -> None:
        self.tmpl = tmpl
        self.work: dict[str, Tree] = {}

    def working(self, name: str) -> Tree | None:
        tree = self.work.get(name)
        if tree is None:
            orig = self.tmpl.trees.get(name)
            if orig is None:
                return None
            tree = copy_tree(orig)
            self.work[name] = tree
        return tree


class _Escaper:
    """One escaping pass: inferred output contexts, derived templates and pending edits.

    Edits are recorded, not applied, so a speculative pass (a range body run twice, a
    recursive template's assumed output) can be dropped; ``commit`` applies them.
    """

    def __init__(self, shared: _Shared) -> None:
        self.shared = shared
        self.output: dict[str, Context] = {}
        self.derived: dict[str, Tree] = {}
        self.called: set[str] = set()
        self.action_edits: dict[int, tuple[ActionNode, list[str]]] = {}
        self.template_edits: dict[int, tuple[TemplateNode, str]] = {}
        self.text_edits: dict[int, tuple[TextNode, str]] = {}

    def template(self, name: str) -> Tree | None:
        tree = self.shared.working(name)
        if tree is None:
            tree = self.derived.get(name)
        return tree

    # Node dispatch.

    def escape(self, c: Context, n: Node) -> Context:
        if isinstance(n, ActionNode):
            return self.escape_action(c, n)
        if isinstance(n, IfNode):
            return self.escape_branch(c, n, "if")
        if isinstance(n, RangeNode):
            return self.escape_branch(c, n, "range")
        if isinstance(n, WithNode):
            return self.escape_branch(c, n, "with")
        if isinstance(n, ListNode):
            return self.escape_list(c, n)
        if isinstance(n, TemplateNode):
            return self.escape_template(c, n)
        if isinstance(n, TextNode):
            return self.escape_text(c, n)
        if isinstance(n, BreakNode | ContinueNode):
            return c
        raise AssertionError(f"escaping {n} is unimplemented")

    def escape_list(self, c: Context, n: ListNode | None) -> Context:
        if n is None:
            return c
        for m in n.nodes:
            c = self.escape(c, m)
        return c

    def escape_action(self, c: Context, n: ActionNode) -> Context:
        if n.pipe.decl:
            return c
        c = nudge(c)
        for pos, cmd in enumerate(n.pipe.cmds):
            head = cmd.args[0]
            if not isinstance(head, IdentifierNode) or head.name not in PREDEFINED_ESCAPERS:
                continue
            if pos < len(n.pipe.cmds) - 1 or (
                c.state == State.ATTR and c.delim == Delim.SPACE_OR_TAG_END and head.name == "html"
            ):
                return Context(
                    state=State.ERROR,
                    err=_err_at(
                        n,
                        n.line,
                        f"predefined escaper {go_quote(head.name)} disallowed in template",
                    ),
                )
        s: list[str] = []
        st = c.state
        if st == State.ERROR:
            return c
        if st in (
            State.URL,
            State.CSS_DQ_STR,
            State.CSS_SQ_STR,
            State.CSS_DQ_URL,
            State.CSS_SQ_URL,
            State.CSS_URL,
        ):
            if c.url_part == URLPart.UNKNOWN:
                return Context(
                    state=State.ERROR,
                    err=_err_at(n, n.line, f"{n} appears in an ambiguous context within a URL"),
                )
            if c.url_part == URLPart.NONE:
                s.append("_html_template_urlfilter")
            if c.url_part in (URLPart.NONE, URLPart.PRE_QUERY):
                if st in (State.CSS_DQ_STR, State.CSS_SQ_STR):
                    s.append("_html_template_cssescaper")
                else:
                    s.append("_html_template_urlnormalizer")
            else:
                s.append("_html_template_urlescaper")
        elif st == State.JS:
            s.append("_html_template_jsvalescaper")
            c = replace(c, js_ctx=JSCtx.DIV_OP)
        elif st in (State.JS_DQ_STR, State.JS_SQ_STR):
            s.append("_html_template_jsstrescaper")
        elif st == State.JS_BQ_STR:
            return Context(
                state=State.ERROR,
                err=_err_at(n, n.line, f"{n} appears in a JS template literal"),
            )
        elif st == State.JS_REGEXP:
            s.append("_html_template_jsregexpescaper")
        elif st == State.CSS:
            s.append("_html_template_cssvaluefilter")
        elif st == State.TEXT:
            s.append("_html_template_htmlescaper")
        elif st == State.RCDATA:
            s.append("_html_template_rcdataescaper")
        elif st == State.ATTR:
            pass
        elif st in (State.ATTR_NAME, State.TAG):
            c = replace(c, state=State.ATTR_NAME)
            s.append("_html_template_htmlnamefilter")
        elif st == State.SRCSET:
            s.append("_html_template_srcsetescaper")
        elif is_comment(st):
            s.append("_html_template_commentescaper")
        else:
            raise AssertionError(f"unexpected state {st}")
        if c.delim == Delim.SPACE_OR_TAG_END:
            s.append("_html_template_nospaceescaper")
        elif c.delim != Delim.NONE:
            s.append("_html_template_attrescaper")
        self.action_edits[id(n)] = (n, s)
        return c

    def join(self, a: Context, b: Context, node: Node, name: str) -> Context:
        if a.state == State.ERROR:
            return a
        if b.state == State.ERROR:
            return b
        if a == b:
            return a
        c = replace(a, url_part=b.url_part)
        if c == b:
            return replace(c, url_part=URLPart.UNKNOWN)
        c = replace(a, js_ctx=b.js_ctx)
        if c == b:
            return replace(c, js_ctx=JSCtx.UNKNOWN)
        na, nb = nudge(a), nudge(b)
        if not (na == a and nb == b):
            e = self.join(na, nb, node, name)
            if e.state != State.ERROR:
                return e
        return Context(
            state=State.ERROR,
            err=_err_at(
                node,
                0,
                f"{{{{{name}}}}} branches end in different contexts: {a}, {b}",
            ),
        )

    def escape_branch(self, c: Context, n: IfNode | RangeNode | WithNode, name: str) -> Context:
        c0 = self.escape_list(c, n.list)
        if name == "range" and c0.state != State.ERROR:
            # The body may run again: it must end where it starts.
            c1, _ = self.escape_list_conditionally(c0, n.list, None)
            c0 = self.join(c0, c1, n, name)
            if c0.state == State.ERROR:
                msg = c0.err
                prefix, sep, rest = msg.partition(": ")
                if msg.startswith("html/template:") and sep:
                    msg = f"{prefix}: on range loop re-entry: {rest}"
                else:
                    msg = "on range loop re-entry: " + msg
                return replace(c0, err=msg)
        c1 = self.escape_list(c, n.else_list)
        return self.join(c0, c1, n, name)

    def escape_list_conditionally(
        self,
        c: Context,
        n: ListNode,
        accept: Callable[[_Escaper, Context], bool] | None,
    ) -> tuple[Context, bool]:
        e1 = _Escaper(self.shared)
        e1.output = dict(self.output)
        c = e1.escape_list(c, n)
        ok = accept is not None and accept(e1, c)
        if ok:
            self.output.update(e1.output)
            self.derived.update(e1.derived)
            self.called |= e1.called
            self.action_edits.update(e1.action_edits)
            self.template_edits.update(e1.template_edits)
            self.text_edits.update(e1.text_edits)
        return c, ok

    def escape_template(self, c: Context, n: TemplateNode) -> Context:
        c, name = self.escape_tree(c, n, n.name, n.line)
        if name != n.name:
            self.template_edits[id(n)] = (n, name)
        return c

    def escape_tree(self, c: Context, node: Node, name: str, line: int) -> tuple[Context, str]:
        dname = c.mangle(name)
        self.called.add(dname)
        out = self.output.get(dname)
        if out is not None:
            return out, dname
        t = self.template(name)
        if t is None:
            return (
                Context(
                    state=State.ERROR,
                    err=_err_at(node, line, f"no such template {go_quote(name)}"),
                ),
                dname,
            )
        if dname != name:
            dt = self.template(dname)
            if dt is None:
                dt = copy_tree(self.shared.tmpl.trees.get(name) or t, dname)
                self.derived[dname] = dt
            t = dt
        return self.compute_out_ctx(c, t), dname

    def compute_out_ctx(self, c: Context, t: Tree) -> Context:
        c1, ok = self.escape_template_body(c, t)
        if not ok:
            c2, ok2 = self.escape_template_body(c1, t)
            if ok2:
                c1, ok = c2, True
        if not ok and c1.state != State.ERROR:
            return Context(
                state=State.ERROR,
                err=_err_at(t.root, 0, f"cannot compute output context for template {t.name}"),
            )
        return c1

    def escape_template_body(self, c: Context, t: Tree) -> tuple[Context, bool]:
        def accept(e1: _Escaper, c1: Context) -> bool:
            if c1.state == State.ERROR:
                return False
            if t.name not in e1.called:
                return True
            return c == c1

        # Assume the output context equals the input so recursive calls terminate.
        self.output[t.name] = c
        return self.escape_list_conditionally(c, t.root, accept)

    def escape_text(self, c: Context, n: TextNode) -> Context:
        s = n.text
        written, i = 0, 0
        b: list[str] = []
        while i != len(s):
            c1, nread = after_text(c, s[i:])
            i1 = i + nread
            if c.state in (State.TEXT, State.RCDATA):
                end = i1
                if c1.state != c.state:
                    k = s.rfind("<", i, end)
                    if k >= 0:
                        end = k
                for j in range(i, end):
                    if s[j] == "<" and not s[j:].upper().startswith("<!DOCTYPE"):
                        b.append(s[written:j])
                        b.append("&lt;")
                        written = j + 1
            elif is_comment(c.state) and c.delim == Delim.NONE:
                if c.state == State.JS_BLOCK_CMT:
                    if any(ch in s[written:i1] for ch in "\n\r\u2028\u2029"):
                        b.append("\n")
                    else:
                        b.append(" ")
                elif c.state == State.CSS_BLOCK_CMT:
                    b.append(" ")
                written = i1
            if c.state != c1.state and is_comment(c1.state) and c1.delim == Delim.NONE:
                cs = i1 - 2
                if c1.state == State.HTML_CMT:
                    cs -= 2
                b.append(s[written:cs])
                written = i1
            if i == i1 and c.state == c1.state:
                raise AssertionError(f"infinite loop from {c} to {c1} on {s[:i]!r}..{s[i:]!r}")
            c, i = c1, i1
        if written != 0 and c.state != State.ERROR:
            if not is_comment(c.state) or c.delim != Delim.NONE:
                b.append(s[written:])
            self.text_edits[id(n)] = (n, "".join(b))
        return c

    # Applying the edits.

    def commit(self) -> dict[str, Tree]:
        for n, names in self.action_edits.values():
            ensure_pipeline_contains(n.pipe, names)
        for tn, name in self.template_edits.values():
            tn.name = name
        for xn, text in self.text_edits.values():
            xn.text = text
        trees = dict(self.shared.tmpl.trees)
        trees.update(self.shared.work)
        trees.update(self.derived)
        return trees


def _finish_error(message: str, name: str) -> str:
    if message.startswith("html/template:"):
        return message
    if message.startswith("\0"):
        _, line, text = message.split("\0", 2)
        return f"html/template:{name}:{line}: {text}"
    if not name:
        return f"html/template: {message}"
    return f"html/template:{name}: {message}"


def escape_tree(tmpl: Template, tree: Tree) -> tuple[Tree, Callable[[str], Tree | None]]:
    """The escaped copy of ``tree`` and a lookup for the escaped templates it calls.

    Results are cached in the set; an escaping failure raises ExecError every time.
    """
    cache = tmpl.escaped_cache
    key = ("escaped", id(tree))
    hit = cache.get(key)
    if hit is not None and hit[0] is tree:
        if isinstance(hit[1], str):
            raise ExecError(hit[1])
        return hit[1], hit[2]
    shared = _Shared(tmpl)
    top = copy_tree(tree)
    shared.work[tree.name] = top
    e = _Escaper(shared)
    c, _ = e.escape_tree(Context(), tree.root, tree.name, 0)
    message = ""
    if c.state == State.ERROR:
        message = _finish_error(c.err, tree.name)
    elif c.state != State.TEXT:
        message = _finish_error(f"ends in a non-text context: {c}", tree.name)
    if message:
        cache[key] = (tree, message, None)
        raise ExecError(message)
    trees = e.commit()
    result = (tree, top, trees.get)
    cache[key] = result
    return top, trees.get
