"""Deep copies of parse trees, so html escaping can edit a set's templates privately."""

from __future__ import annotations

from typing import TypeVar, cast

from .nodes import (
    ActionNode,
    ChainNode,
    CommandNode,
    IfNode,
    ListNode,
    Node,
    PipeNode,
    RangeNode,
    TemplateNode,
    TextNode,
    Tree,
    VariableNode,
    WithNode,
)

__all__ = ["copy_node", "copy_tree"]

N = TypeVar("N", bound=Node)


def _copy_pipe(p: PipeNode) -> PipeNode:
    q = PipeNode(p.pos, p.src, p.line)
    q.is_assign = p.is_assign
    q.decl = [VariableNode(v.pos, v.src, list(v.ident)) for v in p.decl]
    q.cmds = [CommandNode(c.pos, c.src, [copy_node(a) for a in c.args]) for c in p.cmds]
    return q


def copy_node(n: N) -> N:
    """A deep copy of ``n``; leaves that are never edited are shared."""
    out: Node
    if isinstance(n, ListNode):
        out = ListNode(n.pos, n.src, [copy_node(m) for m in n.nodes])
    elif isinstance(n, TextNode):
        out = TextNode(n.pos, n.src, n.text)
    elif isinstance(n, ActionNode):
        out = ActionNode(n.pos, n.src, n.line, _copy_pipe(n.pipe))
    elif isinstance(n, PipeNode):
        out = _copy_pipe(n)
    elif isinstance(n, IfNode | RangeNode | WithNode):
        out = type(n)(
            n.pos,
            n.src,
            n.line,
            _copy_pipe(n.pipe),
            copy_node(n.list),
            copy_node(n.else_list) if n.else_list is not None else None,
        )
    elif isinstance(n, TemplateNode):
        out = TemplateNode(
            n.pos, n.src, n.line, n.name, _copy_pipe(n.pipe) if n.pipe is not None else None
        )
    elif isinstance(n, ChainNode):
        out = ChainNode(n.pos, n.src, copy_node(n.node), list(n.fields))
    else:
        return n
    return cast(N, out)


def copy_tree(t: Tree, name: str | None = None) -> Tree:
    """A deep copy of ``t``, renamed to ``name`` when given."""
    return Tree(t.name if name is None else name, copy_node(t.root), t.src)
