"""Number and character constants: every Go kind (int, uint, float, complex) a literal fits."""

from __future__ import annotations

import math

from .nodes import NumberNode
from .strconv import GoSyntaxError, go_quote, parse_float, parse_int, parse_uint, unquote_char

__all__ = ["set_number_kinds"]


def set_number_kinds(n: NumberNode, is_char: bool, is_complex: bool) -> None:
    """Fill ``n``'s int/uint/float/complex values from its text, as Go's ``newNumber``.

    Raises ValueError with Go's message for a literal no kind accepts.
    """
    text = n.text
    if is_char:
        try:
            ch, tail = unquote_char(text[1:], text[0])
        except GoSyntaxError as exc:
            raise ValueError(str(exc)) from None
        if tail != "'":
            raise ValueError(f"malformed character constant: {text}")
        n.as_int = n.as_uint = ord(ch)
        n.as_float = float(ord(ch))
        return
    if is_complex:
        try:
            value = complex(text.replace("_", "")[:-1] + "j")
        except ValueError:
            raise ValueError(f"illegal number syntax: {go_quote(text)}") from None
        n.as_complex = value
        if value.imag == 0:
            n.as_float = value.real
            if value.real.is_integer():
                n.as_int = n.as_uint = int(value.real)
        return
    if text.endswith("i"):
        f = parse_float(text[:-1])
        if f is not None:
            n.as_complex = complex(0, f)
            if f == 0:
                n.as_int = n.as_uint = 0
                n.as_float = 0.0
            return
    u = parse_uint(text)
    i = parse_int(text)
    if u is not None:
        n.as_uint = u
    if i is not None:
        n.as_int = i
        if i == 0:
            n.as_uint = 0
    if n.as_int is not None:
        n.as_float = float(n.as_int)
    elif n.as_uint is not None:
        n.as_float = float(n.as_uint)
    else:
        f = parse_float(text)
        if f is not None:
            if not any(c in text for c in ".eEpP"):
                raise ValueError(f"integer overflow: {go_quote(text)}")
            n.as_float = f
            if math.isfinite(f) and f == int(f):
                if -(1 << 63) <= int(f) < (1 << 63):
                    n.as_int = int(f)
                if 0 <= int(f) < (1 << 64):
                    n.as_uint = int(f)
    if n.as_int is None and n.as_uint is None and n.as_float is None:
        raise ValueError(f"illegal number syntax: {go_quote(text)}")
