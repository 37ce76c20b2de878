"""Go's strconv rules the parser needs: quoting, unquoting and number literals."""

from __future__ import annotations

import math
import re

__all__ = ["go_quote", "parse_float", "parse_int", "parse_uint", "unquote", "unquote_char"]

_SIMPLE_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
    "\\": "\\\\",
    '"': '\\"',
}


def go_quote(s: str) -> str:
    """Return ``s`` as a double-quoted Go string literal (``strconv.Quote``)."""
    out = ['"']
    for ch in s:
        esc = _SIMPLE_ESCAPES.get(ch)
        if esc is not None:
            out.append(esc)
        elif ch == " " or ch.isprintable():
            out.append(ch)
        else:
            code = ord(ch)
            if code < 0x80:
                out.append(f"\\x{code:02x}")
            elif 0xD800 <= code <= 0xDFFF:
                # A lone surrogate stands for an invalid UTF-8 byte sequence.
                out.append("\\ufffd")
            elif code <= 0xFFFF:
                out.append(f"\\u{code:04x}")
            else:
                out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


_SIMPLE_UNESCAPES = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
}


class GoSyntaxError(ValueError):
    """strconv's ``invalid syntax``."""

    def __init__(self) -> None:
        super().__init__("invalid syntax")


def unquote_char(s: str, quote: str) -> tuple[str, str]:
    """Decode the first character or escape of ``s``; return it and the tail."""
    if not s:
        raise GoSyntaxError
    c = s[0]
    if c == quote and quote in "'\"":
        raise GoSyntaxError
    if c != "\\":
        return c, s[1:]
    if len(s) <= 1:
        raise GoSyntaxError
    c = s[1]
    tail = s[2:]
    if c in _SIMPLE_UNESCAPES:
        return _SIMPLE_UNESCAPES[c], tail
    if c in "xuU":
        n = {"x": 2, "u": 4, "U": 8}[c]
        digits = tail[:n]
        if len(digits) < n or not all(d in "0123456789abcdefABCDEF" for d in digits):
            raise GoSyntaxError
        value = int(digits, 16)
        if c != "x" and (value > 0x10FFFF or 0xD800 <= value <= 0xDFFF):
            raise GoSyntaxError
        # \xNN is a byte; bytes >= 0x80 alone are invalid UTF-8 in a Go string, which we
        # approximate by the code point (templates rarely use them).
        return chr(value), tail[n:]
    if c in "01234567":
        digits = s[1:4]
        if len(digits) < 3 or not all(d in "01234567" for d in digits):
            raise GoSyntaxError
        value = int(digits, 8)
        if value > 255:
            raise GoSyntaxError
        return chr(value), s[4:]
    if c in "'\"":
        if c != quote:
            raise GoSyntaxError
        return c, tail
    raise GoSyntaxError


def unquote(s: str) -> str:
    """Interpret a Go string, raw string or char literal (``strconv.Unquote``)."""
    if len(s) < 2 or s[0] != s[-1] or s[0] not in "\"'`":
        raise GoSyntaxError
    quote = s[0]
    body = s[1:-1]
    if quote == "`":
        if "`" in body:
            raise GoSyntaxError
        return body.replace("\r", "")
    if "\n" in body:
        raise GoSyntaxError
    out: list[str] = []
    while body:
        ch, body = unquote_char(body, quote)
        out.append(ch)
    if quote == "'" and len(out) != 1:
        raise GoSyntaxError
    return "".join(out)


_DEC = r"[0-9](?:_?[0-9])*"
_INT_RE = re.compile(
    r"[+-]?(?:0[xX](?:_?[0-9a-fA-F])+|0[bB](?:_?[01])+|0[oO](?:_?[0-7])+|0(?:_?[0-7])*|[1-9](?:_?[0-9])*)"
)
_DEC_FLOAT_RE = re.compile(
    rf"[+-]?(?:{_DEC}\.(?:{_DEC})?(?:[eE][+-]?{_DEC})?|{_DEC}[eE][+-]?{_DEC}|\.{_DEC}(?:[eE][+-]?{_DEC})?|{_DEC})"
)
_HEX = r"[0-9a-fA-F](?:_?[0-9a-fA-F])*"
_HEX_FLOAT_RE = re.compile(rf"([+-]?)0[xX]_?((?:{_HEX})?(?:\.(?:{_HEX})?)?)[pP]([+-]?{_DEC})")

_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1
_UINT64_MAX = (1 << 64) - 1


def _int_value(text: str) -> int | None:
    if not _INT_RE.fullmatch(text):
        return None
    sign = -1 if text.startswith("-") else 1
    body = text.lstrip("+-").replace("_", "")
    if len(body) > 1 and body[0] == "0" and body[1] in "0123456789":
        return sign * int(body, 8)
    return sign * int(body, 0)


def parse_int(text: str) -> int | None:
    """``strconv.ParseInt(text, 0, 64)``; None when it fails."""
    value = _int_value(text)
    if value is None or not _INT64_MIN <= value <= _INT64_MAX:
        return None
    return value


def parse_uint(text: str) -> int | None:
    """``strconv.ParseUint(text, 0, 64)``; None when it fails."""
    if text[:1] in "+-":
        return None
    value = _int_value(text)
    if value is None or value > _UINT64_MAX:
        return None
    return value


def parse_float(text: str) -> float | None:
    """``strconv.ParseFloat(text, 64)`` for Go literal syntax; None when it fails."""
    if _DEC_FLOAT_RE.fullmatch(text):
        try:
            value = float(text.replace("_", ""))
        except (ValueError, OverflowError):
            return None
        # Go reports out-of-range as an error, not as an infinity.
        return None if math.isinf(value) else value
    m = _HEX_FLOAT_RE.fullmatch(text)
    if m:
        mantissa = m.group(2).replace("_", "")
        if mantissa in ("", "."):
            return None
        try:
            value = float.fromhex(f"0x{mantissa}p{m.group(3).replace('_', '')}")
        except (ValueError, OverflowError):
            return None
        return -value if m.group(1) == "-" else value
    if _INT_RE.fullmatch(text):
        whole = _int_value(text)
        return float(whole) if whole is not None else None
    return None
