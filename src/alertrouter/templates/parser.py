"""Parse Go template text into named trees, following Go 1.19's text/template/parse."""

from __future__ import annotations

from collections.abc import Callable, Container

from .errors import ParseError
from .lexer import Item, ItemType, lex
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
    Source,
    StringNode,
    TemplateNode,
    TextNode,
    Tree,
    VariableNode,
    WithNode,
)
from .numbers import set_number_kinds
from .strconv import GoSyntaxError, go_quote, unquote

__all__ = ["parse"]

_I = ItemType


class _End(Node):
    """``{{end}}``: only seen by the parser."""

    __slots__ = ()

    def __str__(self) -> str:
        return "{{end}}"


class _Else(Node):
    """``{{else}}``: only seen by the parser."""

    __slots__ = ()

    def __str__(self) -> str:
        return "{{else}}"


class _Stream:
    """The lexed items, shared by a template and the definitions inside it."""

    def __init__(self, items: list[Item]) -> None:
        self.items = items
        self.i = 0

    def next_item(self) -> Item:
        item = self.items[self.i]
        if self.i < len(self.items) - 1:
            self.i += 1
        return item


class _Parser:
    """One tree being parsed; its three-token look-ahead mirrors Go's so errors match."""

    def __init__(
        self,
        name: str,
        src: Source,
        stream: _Stream,
        tree_set: dict[str, Tree],
        has_func: Callable[[str], bool],
    ) -> None:
        self.name = name
        self.src = src
        self.stream = stream
        self.tree_set = tree_set
        self.has_func = has_func
        self.token: list[Item] = [Item(_I.EOF, 0, "", 0)] * 3
        self.peek_count = 0
        self.vars: list[str] = ["$"]
        self.range_depth = 0
        self.action_line = 0
        self.root = ListNode(0, src)

    # Token buffer.

    def next(self) -> Item:
        if self.peek_count > 0:
            self.peek_count -= 1
        else:
            self.token[0] = self.stream.next_item()
        return self.token[self.peek_count]

    def backup(self) -> None:
        self.peek_count += 1

    def backup2(self, t1: Item) -> None:
        self.token[1] = t1
        self.peek_count = 2

    def backup3(self, t2: Item, t1: Item) -> None:
        self.token[1] = t1
        self.token[2] = t2
        self.peek_count = 3

    def peek(self) -> Item:
        if self.peek_count > 0:
            return self.token[self.peek_count - 1]
        self.peek_count = 1
        self.token[0] = self.stream.next_item()
        return self.token[0]

    def next_non_space(self) -> Item:
        while True:
            token = self.next()
            if token.typ != _I.SPACE:
                return token

    def peek_non_space(self) -> Item:
        token = self.next_non_space()
        self.backup()
        return token

    # Errors.

    def errorf(self, message: str) -> ParseError:
        return ParseError(f"template: {self.src.name}:{self.token[0].line}: {message}")

    def unexpected(self, token: Item, context: str) -> ParseError:
        if token.typ == _I.ERROR:
            extra = ""
            if self.action_line != 0 and self.action_line != token.line:
                extra = f" in action started at {self.src.name}:{self.action_line}"
                if token.val.endswith(" action"):
                    extra = extra[len(" in action") :]
            return self.errorf(f"{token}{extra}")
        return self.errorf(f"unexpected {token} in {context}")

    def expect(self, expected: ItemType, context: str) -> Item:
        token = self.next_non_space()
        if token.typ != expected:
            raise self.unexpected(token, context)
        return token

    # Structure.

    def sub_parser(self, name: str) -> _Parser:
        return _Parser(name, self.src, self.stream, self.tree_set, self.has_func)

    def add(self) -> None:
        tree = Tree(self.name, self.root, self.src)
        old = self.tree_set.get(self.name)
        if old is None or old.is_empty():
            self.tree_set[self.name] = tree
            return
        if not tree.is_empty():
            raise self.errorf(f"template: multiple definition of template {go_quote(self.name)}")

    def parse(self) -> None:
        self.root = ListNode(self.peek().pos, self.src)
        while self.peek().typ != _I.EOF:
            if self.peek().typ == _I.LEFT_DELIM:
                delim = self.next()
                if self.next_non_space().typ == _I.DEFINE:
                    sub = self.sub_parser("definition")
                    sub.parse_definition()
                    continue
                self.backup2(delim)
            n = self.text_or_action()
            if isinstance(n, _End | _Else):
                raise self.errorf(f"unexpected {n}")
            self.root.nodes.append(n)

    def parse_definition(self) -> None:
        context = "define clause"
        token = self.next_non_space()
        if token.typ not in (_I.STRING, _I.RAW_STRING):
            raise self.unexpected(token, context)
        try:
            self.name = unquote(token.val)
        except GoSyntaxError as exc:
            raise self.errorf(str(exc)) from None
        self.expect(_I.RIGHT_DELIM, context)
        self.root, end = self.item_list()
        if not isinstance(end, _End):
            raise self.errorf(f"unexpected {end} in {context}")
        self.add()

    def item_list(self) -> tuple[ListNode, Node]:
        lst = ListNode(self.peek_non_space().pos, self.src)
        while self.peek_non_space().typ != _I.EOF:
            n = self.text_or_action()
            if isinstance(n, _End | _Else):
                return lst, n
            lst.nodes.append(n)
        raise self.errorf("unexpected EOF")

    def text_or_action(self) -> Node:
        token = self.next_non_space()
        if token.typ == _I.TEXT:
            return TextNode(token.pos, self.src, token.val)
        if token.typ == _I.LEFT_DELIM:
            self.action_line = token.line
            try:
                return self.action()
            finally:
                self.action_line = 0
        raise self.unexpected(token, "input")

    def action(self) -> Node:
        token = self.next_non_space()
        typ = token.typ
        if typ == _I.BLOCK:
            return self.block_control()
        if typ in (_I.BREAK, _I.CONTINUE):
            return self.loop_control(token)
        if typ == _I.ELSE:
            return self.else_control()
        if typ == _I.END:
            return _End(self.expect(_I.RIGHT_DELIM, "end").pos, self.src)
        if typ == _I.IF:
            return self.branch_control(IfNode, True, "if")
        if typ == _I.RANGE:
            return self.branch_control(RangeNode, False, "range")
        if typ == _I.TEMPLATE:
            return self.template_control()
        if typ == _I.WITH:
            return self.branch_control(WithNode, False, "with")
        self.backup()
        token = self.peek()
        # Variables declared here persist until the enclosing {{end}}.
        return ActionNode(token.pos, self.src, token.line, self.pipeline("command", _I.RIGHT_DELIM))

    def loop_control(self, keyword: Item) -> Node:
        word = "break" if keyword.typ == _I.BREAK else "continue"
        token = self.next_non_space()
        if token.typ != _I.RIGHT_DELIM:
            raise self.unexpected(token, "{{" + word + "}}")
        if self.range_depth == 0:
            raise self.errorf("{{" + word + "}} outside {{range}}")
        if keyword.typ == _I.BREAK:
            return BreakNode(keyword.pos, self.src)
        return ContinueNode(keyword.pos, self.src)

    def else_control(self) -> Node:
        peek = self.peek_non_space()
        if peek.typ == _I.IF:
            # "{{else if x}}" is read as "{{else}}{{if x}}…{{end}}{{end}}".
            return _Else(peek.pos, self.src)
        token = self.expect(_I.RIGHT_DELIM, "else")
        return _Else(token.pos, self.src)

    def branch_control(
        self, cls: type[IfNode | RangeNode | WithNode], allow_else_if: bool, context: str
    ) -> Node:
        mark = len(self.vars)
        try:
            pipe = self.pipeline(context, _I.RIGHT_DELIM)
            if context == "range":
                self.range_depth += 1
            body, nxt = self.item_list()
            if context == "range":
                self.range_depth -= 1
            else_list: ListNode | None = None
            if isinstance(nxt, _Else):
                if allow_else_if and self.peek().typ == _I.IF:
                    self.next()
                    else_list = ListNode(nxt.pos, self.src)
                    else_list.nodes.append(self.branch_control(IfNode, True, "if"))
                else:
                    else_list, nxt = self.item_list()
                    if not isinstance(nxt, _End):
                        raise self.errorf(f"expected end; found {nxt}")
        finally:
            del self.vars[mark:]
        return cls(pipe.pos, self.src, pipe.line, pipe, body, else_list)

    def template_name(self, token: Item, context: str) -> str:
        if token.typ not in (_I.STRING, _I.RAW_STRING):
            raise self.unexpected(token, context)
        try:
            return unquote(token.val)
        except GoSyntaxError as exc:
            raise self.errorf(str(exc)) from None

    def template_control(self) -> Node:
        context = "template clause"
        token = self.next_non_space()
        name = self.template_name(token, context)
        pipe: PipeNode | None = None
        if self.next_non_space().typ != _I.RIGHT_DELIM:
            self.backup()
            pipe = self.pipeline(context, _I.RIGHT_DELIM)
        return TemplateNode(token.pos, self.src, token.line, name, pipe)

    def block_control(self) -> Node:
        context = "block clause"
        token = self.next_non_space()
        name = self.template_name(token, context)
        pipe = self.pipeline(context, _I.RIGHT_DELIM)
        block = self.sub_parser(name)
        block.root, end = block.item_list()
        if not isinstance(end, _End):
            raise self.errorf(f"unexpected {end} in {context}")
        block.add()
        return TemplateNode(token.pos, self.src, token.line, name, pipe)

    # Pipelines.

    def pipeline(self, context: str, end: ItemType) -> PipeNode:
        token = self.peek_non_space()
        pipe = PipeNode(token.pos, self.src, token.line)
        while True:
            v = self.peek_non_space()
            if v.typ != _I.VARIABLE:
                break
            self.next()
            # Space is a token, so "$x foo" needs three tokens of look-ahead to tell an
            # argument from a declaration.
            after = self.peek()
            nxt = self.peek_non_space()
            if nxt.typ in (_I.ASSIGN, _I.DECLARE):
                pipe.is_assign = nxt.typ == _I.ASSIGN
                self.next_non_space()
                pipe.decl.append(self.new_variable(v.pos, v.val))
                self.vars.append(v.val)
            elif nxt.typ == _I.CHAR and nxt.val == ",":
                self.next_non_space()
                pipe.decl.append(self.new_variable(v.pos, v.val))
                self.vars.append(v.val)
                if context == "range" and len(pipe.decl) < 2:
                    if self.peek_non_space().typ in (
                        _I.VARIABLE,
                        _I.RIGHT_DELIM,
                        _I.RIGHT_PAREN,
                    ):
                        continue
                    raise self.errorf("range can only initialize variables")
                raise self.errorf(f"too many declarations in {context}")
            elif after.typ == _I.SPACE:
                self.backup3(v, after)
            else:
                self.backup2(v)
            break
        while True:
            token = self.next_non_space()
            if token.typ == end:
                self.check_pipeline(pipe, context)
                return pipe
            if token.typ in (
                _I.BOOL,
                _I.CHAR_CONSTANT,
                _I.COMPLEX,
                _I.DOT,
                _I.FIELD,
                _I.IDENTIFIER,
                _I.NUMBER,
                _I.NIL,
                _I.RAW_STRING,
                _I.STRING,
                _I.VARIABLE,
                _I.LEFT_PAREN,
            ):
                self.backup()
                pipe.cmds.append(self.command())
            else:
                raise self.unexpected(token, context)

    def check_pipeline(self, pipe: PipeNode, context: str) -> None:
        if not pipe.cmds:
            raise self.errorf(f"missing value for {context}")
        for i, cmd in enumerate(pipe.cmds[1:]):
            if isinstance(cmd.args[0], BoolNode | DotNode | NilNode | NumberNode | StringNode):
                raise self.errorf(f"non executable command in pipeline stage {i + 2}")

    def command(self) -> CommandNode:
        cmd = CommandNode(self.peek_non_space().pos, self.src)
        while True:
            self.peek_non_space()
            operand = self.operand()
            if operand is not None:
                cmd.args.append(operand)
            token = self.next()
            if token.typ == _I.SPACE:
                continue
            if token.typ in (_I.RIGHT_DELIM, _I.RIGHT_PAREN):
                self.backup()
            elif token.typ != _I.PIPE:
                raise self.unexpected(token, "operand")
            break
        if not cmd.args:
            raise self.errorf("empty command")
        return cmd

    def operand(self) -> Node | None:
        node = self.term()
        if node is None:
            return None
        if self.peek().typ == _I.FIELD:
            chain_pos = self.peek().pos
            fields: list[str] = []
            while self.peek().typ == _I.FIELD:
                fields.append(self.next().val[1:])
            # Fields after a field or variable extend it, as Go does for compatibility.
            if isinstance(node, FieldNode):
                return FieldNode(chain_pos, self.src, [*node.ident, *fields])
            if isinstance(node, VariableNode):
                return VariableNode(chain_pos, self.src, [*node.ident, *fields])
            if isinstance(node, BoolNode | StringNode | NumberNode | NilNode | DotNode):
                raise self.errorf(f"unexpected . after term {go_quote(str(node))}")
            return ChainNode(chain_pos, self.src, node, fields)
        return node

    def term(self) -> Node | None:
        token = self.next_non_space()
        typ = token.typ
        if typ == _I.IDENTIFIER:
            if not self.has_func(token.val):
                raise self.errorf(f"function {go_quote(token.val)} not defined")
            return IdentifierNode(token.pos, self.src, token.val)
        if typ == _I.DOT:
            return DotNode(token.pos, self.src)
        if typ == _I.NIL:
            return NilNode(token.pos, self.src)
        if typ == _I.VARIABLE:
            return self.use_var(token.pos, token.val)
        if typ == _I.FIELD:
            return FieldNode(token.pos, self.src, token.val[1:].split("."))
        if typ == _I.BOOL:
            return BoolNode(token.pos, self.src, token.val == "true")
        if typ in (_I.CHAR_CONSTANT, _I.COMPLEX, _I.NUMBER):
            return self.new_number(token)
        if typ == _I.LEFT_PAREN:
            return self.pipeline("parenthesized pipeline", _I.RIGHT_PAREN)
        if typ in (_I.STRING, _I.RAW_STRING):
            try:
                text = unquote(token.val)
            except GoSyntaxError as exc:
                raise self.errorf(str(exc)) from None
            return StringNode(token.pos, self.src, token.val, text)
        self.backup()
        return None

    def new_variable(self, pos: int, name: str) -> VariableNode:
        return VariableNode(pos, self.src, name.split("."))

    def use_var(self, pos: int, name: str) -> VariableNode:
        v = self.new_variable(pos, name)
        if v.ident[0] not in self.vars:
            raise self.errorf(f"undefined variable {go_quote(v.ident[0])}")
        return v

    def new_number(self, token: Item) -> NumberNode:
        n = NumberNode(token.pos, self.src, token.val)
        try:
            set_number_kinds(n, token.typ == _I.CHAR_CONSTANT, token.typ == _I.COMPLEX)
        except ValueError as exc:
            raise self.errorf(str(exc)) from None
        return n


def parse(
    name: str, text: str, funcs: Container[str], *, parse_name: str | None = None
) -> dict[str, Tree]:
    """Parse ``text`` as template ``name``; return it and every ``define``/``block`` in it.

    ``funcs`` holds the function names the text may call (Go checks them at parse time).
    """
    has_break = "break" not in funcs
    has_continue = "continue" not in funcs
    src = Source(parse_name if parse_name is not None else name, text)
    stream = _Stream(lex(text, break_ok=has_break, continue_ok=has_continue))
    tree_set: dict[str, Tree] = {}
    top = _Parser(name, src, stream, tree_set, funcs.__contains__)
    top.parse()
    top.add()
    return tree_set
