"""The parse tree: one class per Go ``parse.Node`` kind, with Go's ``String()`` rendering."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .strconv import go_quote

__all__ = [
    "ActionNode",
    "BoolNode",
    "BreakNode",
    "ChainNode",
    "CommandNode",
    "ContinueNode",
    "DotNode",
    "FieldNode",
    "IdentifierNode",
    "IfNode",
    "ListNode",
    "NilNode",
    "Node",
    "NumberNode",
    "PipeNode",
    "RangeNode",
    "Source",
    "StringNode",
    "TemplateNode",
    "TextNode",
    "Tree",
    "VariableNode",
    "WithNode",
]


@dataclass(frozen=True, slots=True)
class Source:
    """The text a node was parsed from and the name errors give it (Go's ``ParseName``)."""

    name: str
    text: str

    def location(self, pos: int) -> str:
        """``NAME:LINE:COL`` with a 0-based byte column, as Go's ``ErrorContext``."""
        before = self.text[:pos]
        line = 1 + before.count("\n")
        col = len(before[before.rfind("\n") + 1 :].encode("utf-8", "surrogatepass"))
        return f"{self.name}:{line}:{col}"


class Node:
    """Base of the tree nodes: a position in a source."""

    __slots__ = ("pos", "src")

    def __init__(self, pos: int, src: Source) -> None:
        self.pos = pos
        self.src = src

    def __str__(self) -> str:  # pragma: no cover - every subclass overrides it
        raise NotImplementedError


class TextNode(Node):
    """Plain text between actions."""

    __slots__ = ("text",)

    def __init__(self, pos: int, src: Source, text: str) -> None:
        super().__init__(pos, src)
        self.text = text

    def __str__(self) -> str:
        return self.text


class ListNode(Node):
    """A sequence of nodes."""

    __slots__ = ("nodes",)

    def __init__(self, pos: int, src: Source, nodes: list[Node] | None = None) -> None:
        super().__init__(pos, src)
        self.nodes: list[Node] = nodes if nodes is not None else []

    def __str__(self) -> str:
        return "".join(str(n) for n in self.nodes)


class DotNode(Node):
    """The cursor ``.``."""

    __slots__ = ()

    def __str__(self) -> str:
        return "."


class NilNode(Node):
    """The untyped ``nil``."""

    __slots__ = ()

    def __str__(self) -> str:
        return "nil"


class BoolNode(Node):
    """``true`` or ``false``."""

    __slots__ = ("value",)

    def __init__(self, pos: int, src: Source, value: bool) -> None:
        super().__init__(pos, src)
        self.value = value

    def __str__(self) -> str:
        return "true" if self.value else "false"


class NumberNode(Node):
    """A number or character constant with every Go kind it fits."""

    __slots__ = ("as_complex", "as_float", "as_int", "as_uint", "text")

    def __init__(self, pos: int, src: Source, text: str) -> None:
        super().__init__(pos, src)
        self.text = text
        self.as_int: int | None = None
        self.as_uint: int | None = None
        self.as_float: float | None = None
        self.as_complex: complex | None = None

    def __str__(self) -> str:
        return self.text


class StringNode(Node):
    """A quoted or raw string; ``quoted`` is the original spelling."""

    __slots__ = ("quoted", "text")

    def __init__(self, pos: int, src: Source, quoted: str, text: str) -> None:
        super().__init__(pos, src)
        self.quoted = quoted
        self.text = text

    def __str__(self) -> str:
        return self.quoted


class IdentifierNode(Node):
    """A function name."""

    __slots__ = ("name",)

    def __init__(self, pos: int, src: Source, name: str) -> None:
        super().__init__(pos, src)
        self.name = name

    def __str__(self) -> str:
        return self.name


class VariableNode(Node):
    """``$x.Field.Field``: the variable name then field names."""

    __slots__ = ("ident",)

    def __init__(self, pos: int, src: Source, ident: list[str]) -> None:
        super().__init__(pos, src)
        self.ident = ident

    def __str__(self) -> str:
        return ".".join(self.ident)


class FieldNode(Node):
    """``.A.B``: field names relative to dot."""

    __slots__ = ("ident",)

    def __init__(self, pos: int, src: Source, ident: list[str]) -> None:
        super().__init__(pos, src)
        self.ident = ident

    def __str__(self) -> str:
        return "".join("." + i for i in self.ident)


class ChainNode(Node):
    """``(pipeline).A.B`` or ``$x.A`` where the head is not a field or variable."""

    __slots__ = ("fields", "node")

    def __init__(self, pos: int, src: Source, node: Node, fields: list[str]) -> None:
        super().__init__(pos, src)
        self.node = node
        self.fields = fields

    def __str__(self) -> str:
        head = f"({self.node})" if isinstance(self.node, PipeNode) else str(self.node)
        return head + "".join("." + f for f in self.fields)


class CommandNode(Node):
    """One command of a pipeline: an operand followed by arguments."""

    __slots__ = ("args",)

    def __init__(self, pos: int, src: Source, args: list[Node] | None = None) -> None:
        super().__init__(pos, src)
        self.args: list[Node] = args if args is not None else []

    def __str__(self) -> str:
        return " ".join(f"({a})" if isinstance(a, PipeNode) else str(a) for a in self.args)


class PipeNode(Node):
    """``$x := cmd | cmd``: declarations (or assignments) and commands."""

    __slots__ = ("cmds", "decl", "is_assign", "line")

    def __init__(self, pos: int, src: Source, line: int) -> None:
        super().__init__(pos, src)
        self.line = line
        self.is_assign = False
        self.decl: list[VariableNode] = []
        self.cmds: list[CommandNode] = []

    def __str__(self) -> str:
        s = ""
        if self.decl:
            s = ", ".join(str(v) for v in self.decl) + (" = " if self.is_assign else " := ")
        return s + " | ".join(str(c) for c in self.cmds)


class ActionNode(Node):
    """``{{pipeline}}``: evaluated and, without declarations, printed."""

    __slots__ = ("line", "pipe")

    def __init__(self, pos: int, src: Source, line: int, pipe: PipeNode) -> None:
        super().__init__(pos, src)
        self.line = line
        self.pipe = pipe

    def __str__(self) -> str:
        return "{{" + str(self.pipe) + "}}"


class _BranchNode(Node):
    __slots__ = ("else_list", "line", "list", "pipe")
    keyword = ""

    def __init__(
        self,
        pos: int,
        src: Source,
        line: int,
        pipe: PipeNode,
        body: ListNode,
        else_list: ListNode | None,
    ) -> None:
        super().__init__(pos, src)
        self.line = line
        self.pipe = pipe
        self.list = body
        self.else_list = else_list

    def __str__(self) -> str:
        s = "{{" + self.keyword + " " + str(self.pipe) + "}}" + str(self.list)
        if self.else_list is not None:
            s += "{{else}}" + str(self.else_list)
        return s + "{{end}}"


class IfNode(_BranchNode):
    """``{{if}}``."""

    __slots__ = ()
    keyword = "if"


class RangeNode(_BranchNode):
    """``{{range}}``."""

    __slots__ = ()
    keyword = "range"


class WithNode(_BranchNode):
    """``{{with}}``."""

    __slots__ = ()
    keyword = "with"


class BreakNode(Node):
    """``{{break}}``."""

    __slots__ = ()

    def __str__(self) -> str:
        return "{{break}}"


class ContinueNode(Node):
    """``{{continue}}``."""

    __slots__ = ()

    def __str__(self) -> str:
        return "{{continue}}"


class TemplateNode(Node):
    """``{{template "name" pipeline}}``."""

    __slots__ = ("line", "name", "pipe")

    def __init__(self, pos: int, src: Source, line: int, name: str, pipe: PipeNode | None) -> None:
        super().__init__(pos, src)
        self.line = line
        self.name = name
        self.pipe = pipe

    def __str__(self) -> str:
        if self.pipe is None:
            return "{{template " + go_quote(self.name) + "}}"
        return "{{template " + go_quote(self.name) + " " + str(self.pipe) + "}}"


@dataclass(slots=True, eq=False)
class Tree:
    """One named template: its root list and the source errors point into."""

    name: str
    root: ListNode
    src: Source
    extra: dict[str, Any] = field(default_factory=dict)

    def is_empty(self) -> bool:
        """Go's ``IsEmptyTree``: nothing but whitespace text."""
        return all(isinstance(n, TextNode) and not n.text.strip() for n in self.root.nodes)
