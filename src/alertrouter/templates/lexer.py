"""Tokens of a Go template, scanned as Go 1.19's text/template/parse lexer scans them."""

from __future__ import annotations

import bisect
import unicodedata
from dataclasses import dataclass
from enum import IntEnum

__all__ = ["Item", "ItemType", "lex"]


class ItemType(IntEnum):
    """Kinds of token; keywords sort after ``KEYWORD`` as in Go."""

    ERROR = 0
    BOOL = 1
    CHAR = 2
    CHAR_CONSTANT = 3
    COMMENT = 4
    COMPLEX = 5
    ASSIGN = 6
    DECLARE = 7
    EOF = 8
    FIELD = 9
    IDENTIFIER = 10
    LEFT_DELIM = 11
    LEFT_PAREN = 12
    NUMBER = 13
    PIPE = 14
    RAW_STRING = 15
    RIGHT_DELIM = 16
    RIGHT_PAREN = 17
    SPACE = 18
    STRING = 19
    TEXT = 20
    VARIABLE = 21
    KEYWORD = 22
    BLOCK = 23
    BREAK = 24
    CONTINUE = 25
    DOT = 26
    DEFINE = 27
    ELSE = 28
    END = 29
    IF = 30
    NIL = 31
    RANGE = 32
    TEMPLATE = 33
    WITH = 34


_KEYWORDS = {
    ".": ItemType.DOT,
    "block": ItemType.BLOCK,
    "break": ItemType.BREAK,
    "continue": ItemType.CONTINUE,
    "define": ItemType.DEFINE,
    "else": ItemType.ELSE,
    "end": ItemType.END,
    "if": ItemType.IF,
    "range": ItemType.RANGE,
    "nil": ItemType.NIL,
    "template": ItemType.TEMPLATE,
    "with": ItemType.WITH,
}

_SPACE = " \t\r\n"
_LEFT = "{{"
_RIGHT = "}}"


@dataclass(frozen=True, slots=True)
class Item:
    """One token: its kind, byte-free character offset, text and line."""

    typ: ItemType
    pos: int
    val: str
    line: int

    def __str__(self) -> str:
        from .strconv import go_quote

        if self.typ == ItemType.EOF:
            return "EOF"
        if self.typ == ItemType.ERROR:
            return self.val
        if self.typ > ItemType.KEYWORD:
            return f"<{self.val}>"
        if len(self.val) > 10:
            return go_quote(self.val[:10]) + "..."
        return go_quote(self.val)


def _is_alnum(ch: str) -> bool:
    """Go's isAlphaNumeric: underscore, letter or decimal digit (False at end of input)."""
    return ch != "" and (ch == "_" or ch.isalpha() or unicodedata.category(ch) == "Nd")


def format_rune(ch: str) -> str:
    """Go's ``%#U``: ``U+0029 ')'``."""
    code = f"U+{ord(ch):04X}"
    if ch.isprintable():
        return f"{code} '{ch}'"
    return code


def _has_left_trim(s: str, i: int) -> bool:
    return i + 1 < len(s) and s[i] == "-" and s[i + 1] in _SPACE


def _has_right_trim(s: str, i: int) -> bool:
    return i + 1 < len(s) and s[i] in _SPACE and s[i + 1] == "-"


class _Lexer:
    """Scans the whole input into a list; an ERROR item ends the list, as Go's lexer stops."""

    def __init__(self, text: str, break_ok: bool, continue_ok: bool) -> None:
        self.s = text
        self.pos = 0
        self.start = 0
        self.inside = False
        self.newlines = [i for i, ch in enumerate(text) if ch == "\n"]
        self.paren_depth = 0
        self.items: list[Item] = []
        self.break_ok = break_ok
        self.continue_ok = continue_ok

    def line_at(self, pos: int) -> int:
        return 1 + bisect.bisect_left(self.newlines, pos)

    def add(self, typ: ItemType, pos: int, val: str) -> None:
        self.items.append(Item(typ, pos, val, self.line_at(pos)))

    def emit(self, typ: ItemType) -> None:
        self.add(typ, self.start, self.s[self.start : self.pos])
        self.start = self.pos

    def ignore(self) -> None:
        self.start = self.pos

    def error(self, message: str) -> bool:
        self.add(ItemType.ERROR, self.start, message)
        return False

    def next(self) -> str:
        if self.pos >= len(self.s):
            self.pos += 1  # so backup() works uniformly at EOF
            return ""
        ch = self.s[self.pos]
        self.pos += 1
        return ch

    def backup(self) -> None:
        self.pos -= 1

    def peek(self) -> str:
        return self.s[self.pos] if self.pos < len(self.s) else ""

    def run(self) -> list[Item]:
        while True:
            ok = self.lex_inside() if self.inside else self.lex_text()
            if not ok or (self.items and self.items[-1].typ == ItemType.EOF):
                return self.items

    # Text and delimiters.

    def lex_text(self) -> bool:
        """Scan text up to ``{{``, then the delimiter or a comment; False ends the scan."""
        while True:
            x = self.s.find(_LEFT, self.pos)
            if x < 0:
                self.pos = len(self.s)
                if self.pos > self.start:
                    self.emit(ItemType.TEXT)
                self.emit(ItemType.EOF)
                return True
            self.pos = x
            text_end = x
            if _has_left_trim(self.s, x + len(_LEFT)):
                text_end = len(self.s[self.start : x].rstrip(_SPACE)) + self.start
            if text_end > self.start:
                self.add(ItemType.TEXT, self.start, self.s[self.start : text_end])
            self.start = x
            if not self.lex_left_delim():
                return False
            if self.inside:
                return True
            # A comment was skipped: keep scanning text.

    def lex_left_delim(self) -> bool:
        self.pos += len(_LEFT)
        trim = _has_left_trim(self.s, self.pos)
        after = 2 if trim else 0
        if self.s.startswith("/*", self.pos + after):
            self.pos += after
            self.ignore()
            return self.lex_comment()
        self.add(ItemType.LEFT_DELIM, self.start, _LEFT)
        self.inside = True
        self.pos += after
        self.ignore()
        self.paren_depth = 0
        return True

    def at_right_delim(self) -> tuple[bool, bool]:
        if _has_right_trim(self.s, self.pos) and self.s.startswith(_RIGHT, self.pos + 2):
            return True, True
        if self.s.startswith(_RIGHT, self.pos):
            return True, False
        return False, False

    def lex_comment(self) -> bool:
        self.pos += 2
        x = self.s.find("*/", self.pos)
        if x < 0:
            return self.error("unclosed comment")
        self.pos = x + 2
        delim, trim = self.at_right_delim()
        if not delim:
            return self.error("comment ends before closing delimiter")
        if trim:
            self.pos += 2
        self.pos += len(_RIGHT)
        if trim:
            self.pos = len(self.s) - len(self.s[self.pos :].lstrip(_SPACE))
        self.ignore()
        return True

    def lex_right_delim(self) -> None:
        _, trim = self.at_right_delim()
        if trim:
            self.pos += 2
            self.ignore()
        self.pos += len(_RIGHT)
        self.emit(ItemType.RIGHT_DELIM)
        self.inside = False
        if trim:
            self.pos = len(self.s) - len(self.s[self.pos :].lstrip(_SPACE))
            self.ignore()

    # Inside an action.

    def lex_inside(self) -> bool:
        """Scan one token inside an action; False ends the scan."""
        delim, _ = self.at_right_delim()
        if delim:
            if self.paren_depth == 0:
                self.lex_right_delim()
                return True
            return self.error("unclosed left paren")
        r = self.next()
        if r == "":
            return self.error("unclosed action")
        if r in _SPACE:
            self.backup()
            return self.lex_space()
        if r == "=":
            self.emit(ItemType.ASSIGN)
        elif r == ":":
            if self.next() != "=":
                return self.error("expected :=")
            self.emit(ItemType.DECLARE)
        elif r == "|":
            self.emit(ItemType.PIPE)
        elif r == '"':
            return self.lex_quote()
        elif r == "`":
            return self.lex_raw_quote()
        elif r == "$":
            return self.lex_variable()
        elif r == "'":
            return self.lex_char()
        elif r == "." and self.pos < len(self.s) and not "0" <= self.s[self.pos] <= "9":
            return self.lex_field_or_variable(ItemType.FIELD)
        elif r in "+-." or "0" <= r <= "9":
            self.backup()
            return self.lex_number()
        elif _is_alnum(r):
            self.backup()
            return self.lex_identifier()
        elif r == "(":
            self.emit(ItemType.LEFT_PAREN)
            self.paren_depth += 1
        elif r == ")":
            self.paren_depth -= 1
            if self.paren_depth < 0:
                return self.error(f"unexpected right paren {format_rune(r)}")
            self.emit(ItemType.RIGHT_PAREN)
        elif ord(r) < 0x80 and r.isprintable():
            self.emit(ItemType.CHAR)
        else:
            return self.error(f"unrecognized character in action: {format_rune(r)}")
        return True

    def lex_space(self) -> bool:
        spaces = 0
        while self.peek() != "" and self.peek() in _SPACE:
            self.next()
            spaces += 1
        # A space followed by "-}}" belongs to the trim marker.
        if _has_right_trim(self.s, self.pos - 1) and self.s.startswith(_RIGHT, self.pos + 1):
            self.backup()
            if spaces == 1:
                return True
        self.emit(ItemType.SPACE)
        return True

    def at_terminator(self) -> bool:
        r = self.peek()
        return r == "" or r in _SPACE or r in ".,|:)(" or r == _RIGHT[0]

    def lex_identifier(self) -> bool:
        while _is_alnum(self.peek()):
            self.next()
        if not self.at_terminator():
            return self.error(f"bad character {format_rune(self.peek())}")
        word = self.s[self.start : self.pos]
        typ = _KEYWORDS.get(word)
        if typ is not None and typ > ItemType.KEYWORD:
            if (typ == ItemType.BREAK and not self.break_ok) or (
                typ == ItemType.CONTINUE and not self.continue_ok
            ):
                typ = ItemType.IDENTIFIER
            self.emit(typ)
        elif word in ("true", "false"):
            self.emit(ItemType.BOOL)
        else:
            self.emit(ItemType.IDENTIFIER)
        return True

    def lex_variable(self) -> bool:
        if self.at_terminator():
            self.emit(ItemType.VARIABLE)
            return True
        return self.lex_field_or_variable(ItemType.VARIABLE)

    def lex_field_or_variable(self, typ: ItemType) -> bool:
        if self.at_terminator():
            self.emit(ItemType.VARIABLE if typ == ItemType.VARIABLE else ItemType.DOT)
            return True
        while _is_alnum(self.peek()):
            self.next()
        if not self.at_terminator():
            return self.error(f"bad character {format_rune(self.peek())}")
        self.emit(typ)
        return True

    def lex_char(self) -> bool:
        return self._lex_escaped("'", ItemType.CHAR_CONSTANT, "unterminated character constant")

    def lex_quote(self) -> bool:
        return self._lex_escaped('"', ItemType.STRING, "unterminated quoted string")

    def _lex_escaped(self, closing: str, item: ItemType, unterminated: str) -> bool:
        """A '…' or "…" literal up to ``closing``: backslash escapes, no newline inside."""
        while True:
            r = self.next()
            if r == "\\":
                r = self.next()
                if r not in ("", "\n"):
                    continue
                return self.error(unterminated)
            if r in ("", "\n"):
                return self.error(unterminated)
            if r == closing:
                break
        self.emit(item)
        return True

    def lex_raw_quote(self) -> bool:
        while True:
            r = self.next()
            if r == "":
                return self.error("unterminated raw quoted string")
            if r == "`":
                break
        self.emit(ItemType.RAW_STRING)
        return True

    def accept(self, valid: str) -> bool:
        r = self.next()
        if r != "" and r in valid:
            return True
        self.backup()
        return False

    def accept_run(self, valid: str) -> None:
        while True:
            r = self.next()
            if r == "" or r not in valid:
                self.backup()
                return

    def scan_number(self) -> bool:
        self.accept("+-")
        digits = "0123456789_"
        if self.accept("0"):
            if self.accept("xX"):
                digits = "0123456789abcdefABCDEF_"
            elif self.accept("oO"):
                digits = "01234567_"
            elif self.accept("bB"):
                digits = "01_"
        self.accept_run(digits)
        if self.accept("."):
            self.accept_run(digits)
        if len(digits) == 11 and self.accept("eE"):
            self.accept("+-")
            self.accept_run("0123456789_")
        if len(digits) == 23 and self.accept("pP"):
            self.accept("+-")
            self.accept_run("0123456789_")
        self.accept("i")
        if _is_alnum(self.peek()):
            self.next()
            return False
        return True

    def lex_number(self) -> bool:
        from .strconv import go_quote

        if not self.scan_number():
            return self.error(f"bad number syntax: {go_quote(self.s[self.start : self.pos])}")
        if self.peek() in ("+", "-"):
            if not self.scan_number() or self.s[self.pos - 1] != "i":
                return self.error(f"bad number syntax: {go_quote(self.s[self.start : self.pos])}")
            self.emit(ItemType.COMPLEX)
        else:
            self.emit(ItemType.NUMBER)
        return True


def lex(text: str, *, break_ok: bool = True, continue_ok: bool = True) -> list[Item]:
    """Scan ``text``; the list ends with an EOF item or with the first ERROR item."""
    return _Lexer(text, break_ok, continue_ok).run()
