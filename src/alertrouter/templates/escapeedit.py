"""Rewriting action pipelines to end in their context's escapers (part of Go's escape.go)."""

from __future__ import annotations

from .nodes import CommandNode, IdentifierNode, PipeNode

__all__ = ["PREDEFINED_ESCAPERS", "ensure_pipeline_contains"]

PREDEFINED_ESCAPERS = frozenset(["html", "urlquery"])
_EQUIV = {
    "_html_template_attrescaper": "html",
    "_html_template_htmlescaper": "html",
    "_html_template_rcdataescaper": "html",
    "_html_template_urlescaper": "urlquery",
    "_html_template_urlnormalizer": "urlquery",
}


def _norm(name: str) -> str:
    return _EQUIV.get(name, name)


def _ident_cmd(name: str, pipe: PipeNode) -> CommandNode:
    return CommandNode(pipe.pos, pipe.src, [IdentifierNode(pipe.pos, pipe.src, name)])


def ensure_pipeline_contains(p: PipeNode, s: list[str]) -> None:
    """Append the escapers ``s`` to pipeline ``p`` (Go's ensurePipelineContains).

    A trailing ``html`` or ``urlquery`` stands in for the escaper it equals, so it is not
    applied twice; ``{{html a b}}`` first becomes ``{{_eval_args_ a b | html}}``.
    """
    if not s:
        return
    s = list(s)
    length = len(p.cmds)
    if length > 0:
        last = p.cmds[-1]
        head = last.args[0]
        if isinstance(head, IdentifierNode) and head.name in PREDEFINED_ESCAPERS:
            esc = head.name
            if len(p.cmds) == 1 and len(last.args) > 1:
                # {{html a b}} becomes {{_eval_args_ a b | html}} so html can merge below.
                last.args[0] = IdentifierNode(head.pos, head.src, "_eval_args_")
                p.cmds.append(_ident_cmd(esc, p))
                length += 1
            dup = False
            for i, name in enumerate(s):
                if _norm(esc) == _norm(name):
                    s[i] = esc
                    dup = True
            if dup:
                length -= 1
    new_cmds = p.cmds[:length]
    inserted = {_norm(c.args[0].name) for c in new_cmds if isinstance(c.args[0], IdentifierNode)}
    for name in s:
        if _norm(name) not in inserted:
            new_cmds.append(_ident_cmd(name, p))
    p.cmds = new_cmds
