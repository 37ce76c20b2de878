"""Execute parse trees: a tree-walking interpreter following Go 1.19's text/template/exec.go."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Any, Final

from .builtins import BUILTINS
from .errors import ExecError, GoError
from .gofmt import format_value
from .goreflect import MISSING, is_true, kind, type_name
from .nodes import (
    ActionNode,
    BoolNode,
    BreakNode,
    ChainNode,
    CommandNode,
    ContinueNode,
    DotNode,
    FieldNode,
    IdentifierNode,
    IfNode,
    ListNode,
    NilNode,
    Node,
    NumberNode,
    PipeNode,
    RangeNode,
    StringNode,
    TemplateNode,
    TextNode,
    Tree,
    VariableNode,
    WithNode,
)
from .signature import GoParam, Signature, signature_of
from .strconv import go_quote

__all__ = ["FuncEntry", "Interpreter"]

FuncEntry = tuple[Callable[..., Any], Signature | None]

# The piped value of a command when there is none (Go's missingVal).
_NO_FINAL: Final = object()
_MAX_DEPTH = 100000
_RECURSION_LIMIT = 10000
# Each template call costs ~5 Python frames; Go allows 100000 nested calls, and the default
# limit of 1000 frames would stop recursive templates at ~190 levels. Raised once, when the
# engine is imported, rather than in the middle of some execution.
if sys.getrecursionlimit() < _RECURSION_LIMIT:
    sys.setrecursionlimit(_RECURSION_LIMIT)
_BUILTIN_VALUES = (str, int, float, complex, list, tuple)


class _Break(Exception):  # noqa: N818 - control flow for {{break}}, not an error
    pass


class _Continue(Exception):  # noqa: N818 - control flow for {{continue}}
    pass


class _Failure(Exception):  # noqa: N818 - internal carrier, re-raised as ExecError
    """Internal: carries the finished Go error message up the stack."""


def _percent(s: str) -> str:
    return s.replace("%", "%%")


class Interpreter:
    """One execution: variables, the current node (for error positions) and the output."""

    def __init__(
        self,
        lookup: Callable[[str], Tree | None],
        funcs: Mapping[str, FuncEntry],
        missing_key: str,
    ) -> None:
        self.lookup = lookup
        self.funcs = funcs
        self.missing_key = missing_key
        self.out: list[str] = []
        self.vars: list[list[Any]] = []
        self.node: Node | None = None
        self.tmpl_name = ""
        self.depth = 0

    # Entry point.

    def run(self, tree: Tree, data: Any) -> str:
        """Execute ``tree`` with dot = ``data``; raise ExecError with Go's message."""
        self.tmpl_name = tree.name
        self.vars = [["$", data]]
        try:
            self.walk(data, tree.root)
        except _Failure as exc:
            raise ExecError(str(exc)) from None
        except RecursionError:
            raise ExecError(
                f"template: {self.location()}: exceeded maximum template depth ({_MAX_DEPTH})"
            ) from None
        return "".join(self.out)

    # Errors.

    def location(self) -> str:
        """Where the current node is, as exec errors print it."""
        if self.node is None:
            return _percent(self.tmpl_name)
        loc = self.node.src.location(self.node.pos)
        return f"{loc}: executing {go_quote(self.tmpl_name)} at <{self.node}>"

    def fail(self, message: str) -> _Failure:
        """Go's ``state.errorf``: the error, located at the current node, to raise."""
        if self.node is None:
            return _Failure(f"template: {self.tmpl_name}: {message}")
        loc = self.node.src.location(self.node.pos)
        return _Failure(
            f"template: {loc}: executing {go_quote(self.tmpl_name)} at <{self.node}>: {message}"
        )

    # Statements.

    def walk(self, dot: Any, node: Node) -> None:
        """Execute ``node`` with ``dot`` as the cursor (Go's ``walk``)."""
        self.node = node
        if type(node) is TextNode:
            self.out.append(node.text)
        elif type(node) is ActionNode:
            pipe = node.pipe
            val = self.eval_pipeline(dot, pipe)
            if not pipe.decl:
                self.print_value(node, val)
        elif type(node) is ListNode:
            out = self.out
            for n in node.nodes:
                if type(n) is TextNode:
                    out.append(n.text)
                else:
                    self.walk(dot, n)
        elif isinstance(node, IfNode | WithNode):
            mark = len(self.vars)
            val = self.eval_pipeline(dot, node.pipe)
            if is_true(val):
                self.walk(val if isinstance(node, WithNode) else dot, node.list)
            elif node.else_list is not None:
                self.walk(dot, node.else_list)
            del self.vars[mark:]
        elif isinstance(node, RangeNode):
            self.walk_range(dot, node)
        elif isinstance(node, TemplateNode):
            self.walk_template(dot, node)
        elif isinstance(node, BreakNode):
            raise _Break
        elif isinstance(node, ContinueNode):
            raise _Continue
        else:  # pragma: no cover - the parser makes no other nodes
            raise self.fail(f"unknown node: {node}")

    def print_value(self, node: Node, val: Any) -> None:
        """Write an action's value as ``fmt.Fprint`` would (``<no value>`` when invalid)."""
        self.node = node
        if val is MISSING or val is None:
            self.out.append("<no value>")
            return
        if kind(val) == "func":
            raise self.fail(f"can't print {node} of type {type_name(val)}")
        self.out.append(val if type(val) is str else format_value(val))

    def walk_range(self, dot: Any, node: RangeNode) -> None:
        """``{{range}}``: slices in order, maps by sorted key; else-branch when empty."""
        self.node = node
        mark = len(self.vars)
        val = self.eval_pipeline(dot, node.pipe)
        k = kind(val)
        items: list[tuple[Any, Any]]
        if k == "slice":
            items = list(enumerate(val))
        elif k == "map":
            items = [(key, val[key]) for key in sorted(val)]
        elif k == "invalid":
            items = []
        else:
            raise self.fail(f"range can't iterate over {format_value(val)}")
        decl = node.pipe.decl
        inner = len(self.vars)
        try:
            for key, elem in items:
                if decl:
                    if node.pipe.is_assign:
                        self.set_var(decl[0].ident[0], key if len(decl) > 1 else elem)
                        if len(decl) > 1:
                            self.set_var(decl[1].ident[0], elem)
                    else:
                        self.vars[-1][1] = elem
                        if len(decl) > 1:
                            self.vars[-2][1] = key
                try:
                    self.walk(elem, node.list)
                except _Continue:
                    pass
                finally:
                    del self.vars[inner:]
        except _Break:
            pass
        else:
            if not items and node.else_list is not None:
                self.walk(dot, node.else_list)
        del self.vars[mark:]

    def walk_template(self, dot: Any, node: TemplateNode) -> None:
        """``{{template}}``: run a named template with a fresh variable scope."""
        self.node = node
        tree = self.lookup(node.name)
        if tree is None:
            raise self.fail(f"template {go_quote(node.name)} not defined")
        if self.depth == _MAX_DEPTH:
            raise self.fail(f"exceeded maximum template depth ({_MAX_DEPTH})")
        new_dot = self.eval_pipeline(dot, node.pipe) if node.pipe is not None else MISSING
        saved = (self.vars, self.tmpl_name)
        self.vars = [["$", new_dot]]
        self.tmpl_name = tree.name
        self.depth += 1
        try:
            self.walk(new_dot, tree.root)
        except RecursionError:
            # Out of Python stack: report Go's depth error from the innermost template that
            # still has room to build the message.
            raise self.fail(f"exceeded maximum template depth ({_MAX_DEPTH})") from None
        finally:
            self.depth -= 1
            self.vars, self.tmpl_name = saved

    # Variables.

    def set_var(self, name: str, value: Any) -> None:
        """Assign to the innermost variable ``name`` (``$x = …``)."""
        for entry in reversed(self.vars):
            if entry[0] == name:
                entry[1] = value
                return
        raise self.fail(f"undefined variable: {name}")

    def var_value(self, name: str) -> Any:
        """The value of the innermost variable ``name``."""
        for entry in reversed(self.vars):
            if entry[0] == name:
                return entry[1]
        raise self.fail(f"undefined variable: {name}")

    # Pipelines and commands.

    def eval_pipeline(self, dot: Any, pipe: PipeNode) -> Any:
        """Run a pipeline's commands, piping each result into the next; bind declarations."""
        self.node = pipe
        value: Any = _NO_FINAL
        for cmd in pipe.cmds:
            value = self.eval_command(dot, cmd, value)
            if value is None:
                # A nil interface result is Go's invalid value from here on.
                value = MISSING
        for v in pipe.decl:
            if pipe.is_assign:
                self.set_var(v.ident[0], value)
            else:
                self.vars.append([v.ident[0], value])
        return value

    def not_a_function(self, args: list[Node], final: Any) -> None:
        """Refuse arguments given to something that is not a function or method."""
        if len(args) > 1 or final is not _NO_FINAL:
            raise self.fail(f"can't give argument to non-function {args[0]}")

    def eval_command(self, dot: Any, cmd: CommandNode, final: Any) -> Any:
        """One command: a function, method, field, variable, pipeline or constant."""
        first = cmd.args[0]
        if type(first) is FieldNode:
            return self.eval_field_node(dot, first, cmd.args, final)
        if isinstance(first, ChainNode):
            return self.eval_chain_node(dot, first, cmd.args, final)
        if isinstance(first, IdentifierNode):
            return self.eval_function(dot, first, cmd, cmd.args, final)
        if isinstance(first, PipeNode):
            self.not_a_function(cmd.args, final)
            return self.eval_pipeline(dot, first)
        if isinstance(first, VariableNode):
            return self.eval_variable_node(dot, first, cmd.args, final)
        self.node = first
        self.not_a_function(cmd.args, final)
        if isinstance(first, BoolNode):
            return first.value
        if isinstance(first, DotNode):
            return dot
        if isinstance(first, NilNode):
            raise self.fail("nil is not a command")
        if isinstance(first, NumberNode):
            return self.ideal_constant(first)
        if isinstance(first, StringNode):
            return first.text
        raise self.fail(f"can't evaluate command {go_quote(str(first))}")

    def ideal_constant(self, n: NumberNode) -> Any:
        """A number literal as Go types it when untyped: int, float64 or complex128."""
        self.node = n
        text = n.text
        if n.as_complex is not None:
            return n.as_complex
        is_hex_int = (
            len(text) > 2
            and text[0] == "0"
            and text[1] in "xX"
            and not any(c in text for c in "pP")
        )
        if (
            n.as_float is not None
            and not is_hex_int
            and not text.startswith("'")
            and any(c in text for c in ".eEpP")
        ):
            return n.as_float
        if n.as_int is not None:
            return n.as_int
        if n.as_uint is not None:
            raise self.fail(f"{text} overflows int")
        return MISSING

    def eval_field_node(self, dot: Any, field: FieldNode, args: list[Node], final: Any) -> Any:
        """``.A.B`` relative to dot."""
        self.node = field
        return self.eval_field_chain(dot, dot, field, field.ident, args, final)

    def eval_chain_node(self, dot: Any, chain: ChainNode, args: list[Node], final: Any) -> Any:
        """``(pipeline).A.B``."""
        self.node = chain
        if isinstance(chain.node, NilNode):
            raise self.fail(f"indirection through explicit nil in {chain}")
        pipe = self.eval_arg(dot, None, chain.node)
        return self.eval_field_chain(dot, pipe, chain, chain.fields, args, final)

    def eval_variable_node(
        self, dot: Any, var: VariableNode, args: list[Node] | None, final: Any
    ) -> Any:
        """``$x.A.B``."""
        self.node = var
        value = self.var_value(var.ident[0])
        if len(var.ident) == 1:
            if args is not None:
                self.not_a_function(args, final)
            return value
        return self.eval_field_chain(dot, value, var, var.ident[1:], args, final)

    def eval_field_chain(
        self,
        dot: Any,
        receiver: Any,
        node: Node,
        ident: list[str],
        args: list[Node] | None,
        final: Any,
    ) -> Any:
        """Follow field names from ``receiver``; the last may be a method given args."""
        for name in ident[:-1]:
            receiver = self.eval_field(dot, name, node, None, _NO_FINAL, receiver)
        return self.eval_field(dot, ident[-1], node, args, final, receiver)

    def eval_field(
        self,
        dot: Any,
        name: str,
        node: Node,
        args: list[Node] | None,
        final: Any,
        receiver: Any,
    ) -> Any:
        """One field, method or map key of ``receiver`` (Go's ``evalField``)."""
        if receiver is MISSING:
            if self.missing_key == "error":
                raise self.fail(f"nil data; no entry for key {go_quote(name)}")
            return MISSING
        if receiver is None:
            raise self.fail(f"nil pointer evaluating interface {{}}.{name}")
        has_args = (args is not None and len(args) > 1) or final is not _NO_FINAL
        is_map = isinstance(receiver, Mapping)
        if name[:1].isupper():
            # Builtin types have no upper-case attributes: anything found is a Go method (or,
            # on a struct, a field).
            attr = getattr(receiver, name, MISSING)
            if attr is not MISSING:
                if callable(attr):
                    return self.eval_call(dot, attr, False, node, name, args, final)
                if not is_map and not isinstance(receiver, _BUILTIN_VALUES):
                    if has_args:
                        raise self.fail(f"{name} has arguments but cannot be invoked as function")
                    return attr
        if is_map:
            if has_args:
                raise self.fail(f"{name} is not a method but has arguments")
            if name in receiver:
                return receiver[name]
            if self.missing_key == "zero":
                return getattr(type(receiver), "go_zero_value", None)
            if self.missing_key == "error":
                raise self.fail(f"map has no entry for key {go_quote(name)}")
            return MISSING
        raise self.fail(f"can't evaluate field {name} in type {type_name(receiver)}")

    def eval_function(
        self, dot: Any, node: IdentifierNode, cmd: Node, args: list[Node] | None, final: Any
    ) -> Any:
        """Call a function of the map (or a builtin) named by ``node``."""
        self.node = node
        entry = self.funcs.get(node.name)
        is_builtin = False
        if entry is None:
            builtin = BUILTINS.get(node.name)
            if builtin is None:
                raise self.fail(f"{go_quote(node.name)} is not a defined function")
            entry = builtin
            is_builtin = True
        fn, sig = entry
        return self.eval_call(dot, fn, is_builtin, cmd, node.name, args, final, sig)

    def eval_call(
        self,
        dot: Any,
        fn: Callable[..., Any],
        is_builtin: bool,
        node: Node,
        name: str,
        args: list[Node] | None,
        final: Any,
        sig: Signature | None = None,
    ) -> Any:
        """Check arity and argument types as Go's ``evalCall``, then call ``fn``."""
        arg_nodes = args[1:] if args is not None else []
        if sig is None:
            sig = signature_of(fn)
        num_in = len(arg_nodes) + (1 if final is not _NO_FINAL else 0)
        num_fixed = len(arg_nodes)
        if sig.variadic is not None:
            num_fixed = len(sig.fixed)
            if num_in < num_fixed:
                raise self.fail(
                    f"wrong number of args for {name}: want at least {num_fixed} "
                    f"got {len(arg_nodes)}"
                )
        elif num_in != len(sig.fixed):
            raise self.fail(f"wrong number of args for {name}: want {len(sig.fixed)} got {num_in}")

        if is_builtin and name in ("and", "or"):
            want = name == "or"
            v: Any = MISSING
            for arg in arg_nodes:
                v = self.eval_arg(dot, sig.fixed[0], arg)
                if is_true(v) == want:
                    return v
            if final is not _NO_FINAL:
                v = final
            return v

        argv: list[Any] = []
        i = 0
        while i < num_fixed and i < len(arg_nodes):
            argv.append(self.eval_arg(dot, sig.fixed[i], arg_nodes[i]))
            i += 1
        if sig.variadic is not None:
            while i < len(arg_nodes):
                argv.append(self.eval_arg(dot, sig.variadic, arg_nodes[i]))
                i += 1
        if final is not _NO_FINAL:
            if sig.variadic is not None and num_in - 1 >= num_fixed:
                t = sig.variadic
            else:
                t = sig.fixed[num_in - 1]
            argv.append(self.validate_type(final, t))
        try:
            return fn(*argv)
        except GoError as exc:
            self.node = node
            raise self.fail(f"error calling {name}: {exc}") from None
        except (_Failure, _Break, _Continue, RecursionError):
            raise
        except Exception as exc:  # a bug in a function: report it as Go reports a panic
            self.node = node
            raise self.fail(f"error calling {name}: {exc}") from exc

    # Arguments.

    def eval_arg(self, dot: Any, typ: GoParam | None, n: Node) -> Any:
        """Evaluate an argument for a parameter of Go type ``typ``."""
        self.node = n
        # The common cases first, by exact type.
        if type(n) is FieldNode:
            return self.validate_type(self.eval_field_node(dot, n, [n], _NO_FINAL), typ)
        if type(n) is StringNode and (typ is None or typ.kind in ("string", "any", "value")):
            return n.text
        if isinstance(n, DotNode):
            return self.validate_type(dot, typ)
        if isinstance(n, NilNode):
            if typ is not None and typ.kind == "value":
                return MISSING
            if typ is None or typ.kind in ("any", "slice"):
                return None
            raise self.fail(f"cannot assign nil to {typ.name}")
        if isinstance(n, FieldNode):
            return self.validate_type(self.eval_field_node(dot, n, [n], _NO_FINAL), typ)
        if isinstance(n, VariableNode):
            return self.validate_type(self.eval_variable_node(dot, n, None, _NO_FINAL), typ)
        if isinstance(n, PipeNode):
            return self.validate_type(self.eval_pipeline(dot, n), typ)
        if isinstance(n, IdentifierNode):
            return self.validate_type(self.eval_function(dot, n, n, None, _NO_FINAL), typ)
        if isinstance(n, ChainNode):
            return self.validate_type(self.eval_chain_node(dot, n, [], _NO_FINAL), typ)
        k = typ.kind if typ is not None else "any"
        if k == "bool":
            if isinstance(n, BoolNode):
                return n.value
            raise self.fail(f"expected bool; found {n}")
        if k == "float64":
            if isinstance(n, NumberNode) and n.as_float is not None:
                return n.as_float
            raise self.fail(f"expected float; found {n}")
        if k == "int":
            if isinstance(n, NumberNode) and n.as_int is not None:
                return n.as_int
            raise self.fail(f"expected integer; found {n}")
        if k == "string":
            if isinstance(n, StringNode):
                return n.text
            raise self.fail(f"expected string; found {n}")
        if k in ("any", "value"):
            if isinstance(n, BoolNode):
                return n.value
            if isinstance(n, NumberNode):
                return self.ideal_constant(n)
            if isinstance(n, StringNode):
                return n.text
        assert typ is not None
        raise self.fail(f"can't handle {n} for arg of type {typ.name}")

    def validate_type(self, value: Any, typ: GoParam | None) -> Any:
        """Check a computed value is assignable to ``typ`` (Go's ``validateType``)."""
        if typ is None or typ.kind == "value":
            return value
        if typ.kind == "any" and value is not MISSING:
            return value
        if value is MISSING or value is None:
            if typ.kind == "any":
                return None
            if typ.kind == "slice":
                return []
            raise self.fail(f"invalid value; expected {typ.name}")
        k = typ.kind
        ok = True
        if k == "string":
            ok = type(value) is str
        elif k == "int":
            ok = type(value) is int
        elif k == "float64":
            ok = type(value) is float
        elif k == "bool":
            ok = type(value) is bool
        elif k == "slice":
            ok = isinstance(value, list | tuple)
        if not ok:
            raise self.fail(f"wrong type for value; expected {typ.name}; got {type_name(value)}")
        return value
