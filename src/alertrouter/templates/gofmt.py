"""Go's ``fmt`` printing (``Sprintf``, ``Sprint``, ``Sprintln``) for template values.

Values follow the engine's value protocol: ``None`` is nil, ``bool``/``int``/``float``/``str``
are Go's bool/int/float64/string, lists and tuples are slices, dicts are maps (printed in sorted
key order); any other object is a struct or named type. An object with a callable ``String`` is a
Stringer, one with ``Error`` an error, and a struct prints the fields named by ``go_fields``.
"""

from __future__ import annotations

import math
import struct
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "can_backquote",
    "format_float",
    "format_value",
    "go_type_name",
    "is_print",
    "quote",
    "quote_rune",
    "sprint",
    "sprintf",
    "sprintln",
]

_MAX_RUNE = 0x10FFFF
_RUNE_ERROR = 0xFFFD
# Go refuses widths and precisions beyond this as "crazy" (fmt.tooLarge).
_TOO_LARGE = 1_000_000
_U64 = 1 << 64
_BASIC_TYPES = (type(None), bool, int, float, str, list, tuple, dict)


# --- strconv helpers -------------------------------------------------------------------------


def is_print(ch: str) -> bool:
    """Report whether ``ch`` is printable as Go's ``strconv.IsPrint`` defines it."""
    if ch == " ":
        return True
    return unicodedata.category(ch)[0] in "LMNPS"


def _escape_rune(ch: str, quote_char: str, ascii_only: bool) -> str:
    code = ord(ch)
    if ch in (quote_char, "\\"):
        return "\\" + ch
    if ascii_only:
        if code < 0x80 and is_print(ch):
            return ch
    elif is_print(ch):
        return ch
    simple = {7: "\\a", 8: "\\b", 12: "\\f", 10: "\\n", 13: "\\r", 9: "\\t", 11: "\\v"}
    if code in simple:
        return simple[code]
    if code < 0x20 or code == 0x7F:
        return f"\\x{code:02x}"
    if 0xD800 <= code <= 0xDFFF:
        # A lone surrogate is not valid UTF-8; Go would see the replacement character.
        return "\\ufffd" if ascii_only else "\ufffd"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def quote(s: str, ascii_only: bool = False) -> str:
    """Return ``s`` as a double-quoted Go string literal (``strconv.Quote``/``QuoteToASCII``)."""
    return '"' + "".join(_escape_rune(ch, '"', ascii_only) for ch in s) + '"'


def quote_rune(code: int, ascii_only: bool = False) -> str:
    """Return a single-quoted Go character literal (``strconv.QuoteRune``)."""
    if code > _MAX_RUNE or code < 0 or 0xD800 <= code <= 0xDFFF:
        code = _RUNE_ERROR
    return "'" + _escape_rune(chr(code), "'", ascii_only) + "'"


def can_backquote(s: str) -> bool:
    """Report whether ``s`` can be written as a Go raw string literal unchanged."""
    for ch in s:
        code = ord(ch)
        if ch == "`" or code == 0xFEFF or 0xD800 <= code <= 0xDFFF:
            return False
        if (code < 0x20 and ch != "\t") or code == 0x7F:
            return False
    return True


def _shortest_digits(v: float) -> tuple[str, int]:
    """Shortest round-tripping decimal digits of ``abs(v)`` and the decimal point position.

    The value is ``0.DIGITS × 10**dp``; Python's ``repr`` and Go's ``strconv`` both produce the
    shortest string that round-trips, so the digits agree.
    """
    text = repr(abs(v))
    mantissa, _, exp_text = text.partition("e")
    exp = int(exp_text) if exp_text else 0
    whole, _, frac = mantissa.partition(".")
    digits = (whole + frac).lstrip("0")
    dp = len(whole) + exp
    if not digits:
        return "0", 1
    # Leading zeros stripped from "0.000123" move the decimal point left.
    dp -= len(whole + frac) - len((whole + frac).lstrip("0"))
    return digits.rstrip("0") or "0", dp


def _rounded_digits(v: float, significant: int) -> tuple[str, int]:
    """Decimal digits of ``abs(v)`` rounded to ``significant`` digits, trailing zeros trimmed."""
    text = f"{abs(v):.{significant - 1}e}"
    mantissa, _, exp_text = text.partition("e")
    digits = mantissa.replace(".", "").rstrip("0") or "0"
    if abs(v) == 0:
        return "0", 1
    return digits, int(exp_text) + 1


def _fmt_e(digits: str, dp: int, prec: int, letter: str) -> str:
    """Format ``0.digits × 10**dp`` as ``d.ddde±XX`` with ``prec`` fraction digits."""
    first = digits[0]
    rest = digits[1:]
    if prec >= 0:
        rest = rest.ljust(prec, "0")[:prec]
    exp = 0 if digits == "0" else dp - 1
    sign = "-" if exp < 0 else "+"
    body = first + ("." + rest if rest else "")
    return f"{body}{letter}{sign}{abs(exp):02d}"


def _fmt_f(digits: str, dp: int, prec: int) -> str:
    """Format ``0.digits × 10**dp`` in plain decimal with ``prec`` fraction digits."""
    if dp > 0:
        whole = digits[:dp].ljust(dp, "0")
        frac = digits[dp:]
    else:
        whole = "0"
        frac = "0" * (-dp) + digits
    frac = frac.ljust(prec, "0")[:prec]
    return whole + ("." + frac if prec > 0 else "")


def _float_bits(v: float) -> tuple[int, int, int]:
    """Return (sign, mantissa, binary exponent) with ``|v| = mantissa × 2**exp``."""
    bits = struct.unpack(">Q", struct.pack(">d", v))[0]
    sign = bits >> 63
    exp_bits = (bits >> 52) & 0x7FF
    mant = bits & ((1 << 52) - 1)
    if exp_bits == 0:
        return sign, mant, -1074
    return sign, mant | (1 << 52), exp_bits - 1075


def _fmt_hex(v: float, prec: int, upper: bool) -> str:
    """Format like Go's ``%x`` on floats: ``-0x1.8p+01``."""
    _, mant, exp = _float_bits(v)
    if mant == 0:
        exp = 0
    else:
        # Normalise so the leading 1 sits at bit 60 (shifted left by 8 over 52), like Go.
        while mant < (1 << 52):
            mant <<= 1
            exp -= 1
        exp += 52
        mant <<= 8
    # mant now holds 1.xxx with 60 fraction bits (15 hex digits).
    if 0 <= prec < 15:
        shift = 60 - 4 * prec
        extra = mant & ((1 << shift) - 1)
        mant >>= shift
        half = 1 << (shift - 1)
        if extra > half or (extra == half and mant & 1):
            mant += 1
        mant <<= shift
        if mant >> 61:
            mant >>= 1
            exp += 1
    hex_digits = "0123456789ABCDEF" if upper else "0123456789abcdef"
    lead = str(mant >> 60)
    frac_bits = mant & ((1 << 60) - 1)
    frac = "".join(hex_digits[(frac_bits >> (56 - 4 * i)) & 0xF] for i in range(15))
    frac = frac.rstrip("0") if prec < 0 else frac[:prec].ljust(prec, "0")
    sign = "-" if exp < 0 else "+"
    body = lead + ("." + frac if frac else "")
    return f"0{'X' if upper else 'x'}{body}{'P' if upper else 'p'}{sign}{abs(exp):02d}"


def format_float(v: float, verb: str, prec: int) -> str:
    """Return Go's ``strconv.FormatFloat(v, verb, prec, 64)``."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    neg = "-" if math.copysign(1.0, v) < 0 else ""
    if verb == "b":
        sign, mant, exp = _float_bits(v)
        return f"{'-' if sign else ''}{mant}p{'-' if exp < 0 else '+'}{abs(exp)}"
    if verb in "xX":
        return neg + _fmt_hex(v, prec, verb == "X")
    shortest = prec < 0
    if verb in "eE":
        digits, dp = _shortest_digits(v) if shortest else _rounded_digits(v, prec + 1)
        return neg + _fmt_e(digits, dp, -1 if shortest else prec, verb)
    if verb == "f":
        if shortest:
            digits, dp = _shortest_digits(v)
            return neg + _fmt_f(digits, dp, max(len(digits) - dp, 0))
        text = f"{abs(v):.{prec}f}"
        return neg + text
    # 'g' / 'G'
    if shortest:
        digits, dp = _shortest_digits(v)
        eprec = 6
    else:
        prec = max(prec, 1)
        digits, dp = _rounded_digits(v, prec)
        eprec = prec
        if eprec > len(digits) and len(digits) >= dp:
            eprec = len(digits)
    exp = dp - 1
    letter = "e" if verb == "g" else "E"
    if digits == "0":
        exp = 0
    if exp < -4 or exp >= eprec:
        return neg + _fmt_e(digits, dp, -1, letter)
    return neg + _fmt_f(digits, dp, max(len(digits) - dp, 0))


# --- type names --------------------------------------------------------------------------------


def go_type_name(v: Any) -> str:
    """Return the Go type name ``reflect.TypeOf(v).String()`` would print for ``v``."""
    declared = getattr(type(v), "go_type", None)
    if isinstance(declared, str):
        return declared
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float64"
    if type(v) is str:
        return "string"
    if isinstance(v, str):
        # Named string types we meet are html/template's typed content (template.HTML, …).
        return "template." + type(v).__name__
    # Plain containers come from list, append and dict, whose Go types hold interface{} values;
    # typed ones (KV, Strings, Alerts) declare go_type.
    if isinstance(v, Mapping):
        return "map[string]interface {}"
    if isinstance(v, list | tuple):
        return "[]interface {}"
    return type(v).__name__


# --- the printer -------------------------------------------------------------------------------


@dataclass
class _Flags:
    plus: bool = False
    minus: bool = False
    sharp: bool = False
    space: bool = False
    zero: bool = False
    plus_v: bool = False
    sharp_v: bool = False
    wid: int = 0
    wid_present: bool = False
    prec: int = 0
    prec_present: bool = False


class _Printer:
    """One formatting run; mirrors the state machine of Go's ``fmt.pp``."""

    def __init__(self) -> None:
        self.buf: list[str] = []
        self.f = _Flags()
        self.erroring = False
        # The operand being printed, as given: error annotations name its Go type.
        self.operand: Any = None

    # -- padding

    def _padding(self, n: int) -> str:
        if n <= 0:
            return ""
        return ("0" if self.f.zero else " ") * n

    def pad(self, s: str) -> None:
        f = self.f
        if not f.wid_present or f.wid == 0:
            self.buf.append(s)
            return
        fill = self._padding(f.wid - len(s))
        self.buf.append(s + fill if f.minus else fill + s)

    # -- basic kinds

    def fmt_bool(self, v: bool, verb: str) -> None:
        if verb in "tv":
            self.pad("true" if v else "false")
        else:
            self.bad_verb(verb, self.operand)

    def fmt_integer(self, v: int, verb: str) -> None:
        if verb in "vd":
            self._integer(v, 10, verb, upper=False)
        elif verb == "b":
            self._integer(v, 2, verb, upper=False)
        elif verb in "oO":
            self._integer(v, 8, verb, upper=False)
        elif verb == "x":
            self._integer(v, 16, verb, upper=False)
        elif verb == "X":
            self._integer(v, 16, verb, upper=True)
        elif verb == "c":
            code = v % _U64
            self.pad(chr(_RUNE_ERROR if code > _MAX_RUNE or 0xD800 <= code <= 0xDFFF else code))
        elif verb == "q":
            self.pad(quote_rune(v % _U64 if v < 0 else v, ascii_only=self.f.plus))
        elif verb == "U":
            self._unicode(v % _U64)
        else:
            self.bad_verb(verb, self.operand)

    def _integer(self, v: int, base: int, verb: str, upper: bool) -> None:
        f = self.f
        negative = v < 0
        u = -v if negative else v
        if f.prec_present and f.prec == 0 and u == 0:
            old = f.zero
            f.zero = False
            self.buf.append(self._padding(f.wid) if f.wid_present else "")
            f.zero = old
            return
        prec = 0
        if f.prec_present:
            prec = f.prec
        elif f.zero and f.wid_present:
            prec = f.wid
            if negative or f.plus or f.space:
                prec -= 1
        if base == 10:
            digits = str(u)
        elif base == 16:
            digits = f"{u:X}" if upper else f"{u:x}"
        elif base == 8:
            digits = f"{u:o}"
        else:
            digits = f"{u:b}"
        digits = digits.rjust(prec, "0")
        if f.sharp:
            if base == 2:
                digits = "0b" + digits
            elif base == 8 and digits[0] != "0":
                digits = "0" + digits
            elif base == 16:
                digits = ("0X" if upper else "0x") + digits
        if verb == "O":
            digits = "0o" + digits
        if negative:
            digits = "-" + digits
        elif f.plus:
            digits = "+" + digits
        elif f.space:
            digits = " " + digits
        old = f.zero
        f.zero = False
        self.pad(digits)
        f.zero = old

    def _unicode(self, u: int) -> None:
        f = self.f
        prec = f.prec if f.prec_present and f.prec > 4 else 4
        text = "U+" + f"{u:X}".rjust(prec, "0")
        if f.sharp and u <= _MAX_RUNE and not 0xD800 <= u <= 0xDFFF and is_print(chr(u)):
            text += " '" + chr(u) + "'"
        old = f.zero
        f.zero = False
        self.pad(text)
        f.zero = old

    def fmt_float(self, v: float, verb: str) -> None:
        if verb == "v":
            self._float(v, "g", -1)
        elif verb in "bgGxX":
            self._float(v, verb, -1)
        elif verb in "feE":
            self._float(v, verb, 6)
        elif verb == "F":
            self._float(v, "f", 6)
        else:
            self.bad_verb(verb, self.operand)

    def _float(self, v: float, verb: str, prec: int) -> None:
        f = self.f
        if f.prec_present:
            prec = f.prec
        num = format_float(v, verb, prec)
        num = num if num[0] in "+-" else "+" + num
        if f.space and num[0] == "+" and not f.plus:
            num = " " + num[1:]
        if num[1] in "IN":
            old = f.zero
            f.zero = False
            if num[1] == "N" and not f.space and not f.plus:
                num = num[1:]
            self.pad(num)
            f.zero = old
            return
        if f.sharp and verb != "b":
            num = self._sharp_float(num, verb, prec)
        if f.plus or num[0] != "+":
            if f.zero and f.wid_present and f.wid > len(num):
                self.buf.append(num[0] + self._padding(f.wid - len(num)) + num[1:])
                return
            self.pad(num)
            return
        self.pad(num[1:])

    @staticmethod
    def _sharp_float(num: str, verb: str, prec: int) -> str:
        """Apply the ``#`` flag: always a decimal point, and %g keeps its trailing zeros."""
        digits = 0
        if verb in "vgGxX":
            digits = 6 if prec == -1 else prec
        tail = ""
        head = num
        has_point = False
        saw_nonzero = False
        for i in range(1, len(num)):
            c = num[i]
            if c == ".":
                has_point = True
            elif c in "pP" or (c in "eE" and verb not in "xX"):
                tail = num[i:]
                head = num[:i]
                break
            else:
                if c != "0":
                    saw_nonzero = True
                if saw_nonzero:
                    digits -= 1
        if not has_point:
            if len(head) == 2 and head[1] == "0":
                digits -= 1
            head += "."
        if digits > 0:
            head += "0" * digits
        return head + tail

    def _truncate(self, s: str) -> str:
        if self.f.prec_present:
            return s[: self.f.prec]
        return s

    def fmt_string(self, s: str, verb: str) -> None:
        f = self.f
        if verb == "v":
            if f.sharp_v:
                self._fmt_q(s)
            else:
                self.pad(self._truncate(s))
        elif verb == "s":
            self.pad(self._truncate(s))
        elif verb in "xX":
            self._fmt_sx(s, upper=verb == "X")
        elif verb == "q":
            self._fmt_q(s)
        else:
            self.bad_verb(verb, self.operand)

    def _fmt_q(self, s: str) -> None:
        s = self._truncate(s)
        if self.f.sharp and can_backquote(s):
            self.pad("`" + s + "`")
        else:
            self.pad(quote(s, ascii_only=self.f.plus))

    def _fmt_sx(self, s: str, upper: bool) -> None:
        f = self.f
        data = s.encode("utf-8", "surrogatepass")
        if f.prec_present and f.prec < len(data):
            data = data[: f.prec]
        if not data:
            if f.wid_present:
                self.buf.append(self._padding(f.wid))
            return
        prefix = ("0X" if upper else "0x") if f.sharp else ""
        pieces = [f"{b:02X}" if upper else f"{b:02x}" for b in data]
        text = " ".join(prefix + p for p in pieces) if f.space else prefix + "".join(pieces)
        width = len(text)
        if f.wid_present and f.wid > width:
            fill = self._padding(f.wid - width)
            text = text + fill if f.minus else fill + text
        self.buf.append(text)

    # -- errors

    def bad_verb(self, verb: str, arg: Any) -> None:
        self.erroring = True
        self.buf.append("%!" + verb + "(")
        if arg is None:
            self.buf.append("<nil>")
        else:
            self.buf.append(go_type_name(arg) + "=")
            self.print_arg(arg, "v")
        self.buf.append(")")
        self.erroring = False

    # -- composite values

    def _handle_methods(self, arg: Any, verb: str) -> bool:
        if self.erroring or type(arg) in _BASIC_TYPES:
            return False
        if self.f.sharp_v:
            go_string = getattr(arg, "GoString", None)
            if callable(go_string):
                self.pad(str(go_string()))
                return True
            return False
        if verb not in "vsxXq":
            return False
        error = getattr(arg, "Error", None)
        if callable(error):
            self.fmt_string(str(error()), verb)
            return True
        stringer = getattr(arg, "String", None)
        if callable(stringer):
            self.fmt_string(str(stringer()), verb)
            return True
        return False

    def print_arg(self, arg: Any, verb: str) -> None:
        if arg is None:
            if verb in "Tv":
                self.pad("<nil>")
            else:
                self.bad_verb(verb, None)
            return
        if verb == "T":
            self.pad(self._truncate(go_type_name(arg)))
            return
        self.operand = arg
        # Exact types only: a subclass is a Go named type and may have a String method.
        kind = type(arg)
        if kind is bool:
            self.fmt_bool(arg, verb)
        elif kind is int:
            self.fmt_integer(arg, verb)
        elif kind is float:
            self.fmt_float(arg, verb)
        elif kind is str:
            self.fmt_string(arg, verb)
        elif not self._handle_methods(arg, verb):
            self.print_value(arg, verb, 0)

    def print_value(self, value: Any, verb: str, depth: int) -> None:
        if depth > 0 and self._handle_methods(value, verb):
            return
        self.operand = value
        if value is None:
            if depth == 0:
                self.buf.append("<invalid reflect.Value>")
            elif self.f.sharp_v:
                self.buf.append("interface {}(nil)")
            elif verb == "v":
                self.buf.append("<nil>")
            else:
                self.bad_verb(verb, None)
        elif isinstance(value, bool):
            self.fmt_bool(value, verb)
        elif isinstance(value, int):
            self.fmt_integer(int(value), verb)
        elif isinstance(value, float):
            self.fmt_float(float(value), verb)
        elif isinstance(value, str):
            self.fmt_string(str(value), verb)
        elif isinstance(value, Mapping):
            self._print_map(value, verb, depth)
        elif isinstance(value, list | tuple):
            self._print_slice(value, verb, depth)
        else:
            self._print_struct(value, verb, depth)

    def _print_map(self, value: Mapping[Any, Any], verb: str, depth: int) -> None:
        sharp_v = self.f.sharp_v
        if sharp_v and getattr(value, "go_nil", False):
            self.buf.append(go_type_name(value) + "(nil)")
            return
        self.buf.append(go_type_name(value) + "{" if sharp_v else "map[")
        for i, key in enumerate(sorted(value, key=_sort_key)):
            if i:
                self.buf.append(", " if sharp_v else " ")
            self.print_value(key, verb, depth + 1)
            self.buf.append(":")
            self.print_value(value[key], verb, depth + 1)
        self.buf.append("}" if sharp_v else "]")

    def _print_slice(self, value: Sequence[Any], verb: str, depth: int) -> None:
        if self.f.sharp_v:
            if getattr(value, "go_nil", False):
                self.buf.append(go_type_name(value) + "(nil)")
                return
            self.buf.append(go_type_name(value) + "{")
            for i, item in enumerate(value):
                if i:
                    self.buf.append(", ")
                self.print_value(item, verb, depth + 1)
            self.buf.append("}")
            return
        self.buf.append("[")
        for i, item in enumerate(value):
            if i:
                self.buf.append(" ")
            self.print_value(item, verb, depth + 1)
        self.buf.append("]")

    def _print_struct(self, value: Any, verb: str, depth: int) -> None:
        fields = getattr(type(value), "go_fields", None)
        if not isinstance(fields, tuple):
            # Not a Go struct we know: print what Python knows of it rather than failing.
            self.fmt_string(str(value), verb)
            return
        sharp_v = self.f.sharp_v
        if sharp_v:
            self.buf.append(go_type_name(value))
        self.buf.append("{")
        for i, name in enumerate(fields):
            if i:
                self.buf.append(", " if sharp_v else " ")
            if self.f.plus_v or sharp_v:
                self.buf.append(name + ":")
            self.print_value(getattr(value, name), verb, depth + 1)
        self.buf.append("}")

    # -- Printf

    def do_printf(self, fmt: str, args: Sequence[Any]) -> None:
        end = len(fmt)
        arg_num = 0
        after_index = False
        reordered = False
        i = 0
        while i < end:
            good_arg_num = True
            start = i
            i = fmt.find("%", i)
            if i < 0:
                i = end
            if i > start:
                self.buf.append(fmt[start:i])
            if i >= end:
                break
            i += 1
            # Fast path for the commonest verbs: "%s"/"%v" of a string, "%d"/"%v" of an int.
            if i < end and arg_num < len(args):
                c = fmt[i]
                arg = args[arg_num]
                kind = type(arg)
                if (kind is str and c in "sv") or (kind is int and c in "dv"):
                    self.buf.append(arg if kind is str else str(arg))
                    arg_num += 1
                    i += 1
                    continue
            f = self.f = _Flags()
            while i < end:
                c = fmt[i]
                if c == "#":
                    f.sharp = True
                elif c == "0":
                    f.zero = not f.minus
                elif c == "+":
                    f.plus = True
                elif c == "-":
                    f.minus = True
                    f.zero = False
                elif c == " ":
                    f.space = True
                else:
                    break
                i += 1

            arg_num, i, after_index, ok, found = _arg_number(arg_num, fmt, i, len(args))
            reordered = reordered or found
            good_arg_num = good_arg_num and ok

            if i < end and fmt[i] == "*":
                i += 1
                f.wid, f.wid_present, arg_num = _int_from_arg(args, arg_num)
                if not f.wid_present:
                    self.buf.append("%!(BADWIDTH)")
                if f.wid < 0:
                    f.wid = -f.wid
                    f.minus = True
                    f.zero = False
                after_index = False
            else:
                f.wid, f.wid_present, i = _parse_num(fmt, i, end)
                if after_index and f.wid_present:
                    good_arg_num = False

            if i + 1 < end and fmt[i] == ".":
                i += 1
                if after_index:
                    good_arg_num = False
                arg_num, i, after_index, ok, found = _arg_number(arg_num, fmt, i, len(args))
                reordered = reordered or found
                good_arg_num = good_arg_num and ok
                if i < end and fmt[i] == "*":
                    i += 1
                    f.prec, f.prec_present, arg_num = _int_from_arg(args, arg_num)
                    if f.prec < 0:
                        f.prec = 0
                        f.prec_present = False
                    if not f.prec_present:
                        self.buf.append("%!(BADPREC)")
                    after_index = False
                else:
                    f.prec, f.prec_present, i = _parse_num(fmt, i, end)
                    if not f.prec_present:
                        f.prec = 0
                        f.prec_present = True

            if not after_index:
                arg_num, i, after_index, ok, found = _arg_number(arg_num, fmt, i, len(args))
                reordered = reordered or found
                good_arg_num = good_arg_num and ok

            if i >= end:
                self.buf.append("%!(NOVERB)")
                break

            verb = fmt[i]
            i += 1
            if verb == "%":
                self.buf.append("%")
            elif not good_arg_num:
                self.buf.append("%!" + verb + "(BADINDEX)")
            elif arg_num >= len(args):
                self.buf.append("%!" + verb + "(MISSING)")
            else:
                if verb == "v":
                    f.sharp_v, f.sharp = f.sharp, False
                    f.plus_v, f.plus = f.plus, False
                self.print_arg(args[arg_num], verb)
                arg_num += 1

        if not reordered and arg_num < len(args):
            self.f = _Flags()
            self.buf.append("%!(EXTRA ")
            for n, arg in enumerate(args[arg_num:]):
                if n:
                    self.buf.append(", ")
                if arg is None:
                    self.buf.append("<nil>")
                else:
                    self.buf.append(go_type_name(arg) + "=")
                    self.print_arg(arg, "v")
            self.buf.append(")")


def _sort_key(key: Any) -> tuple[int, Any]:
    # Go's fmtsort orders keys of one kind; mixed kinds only arise from odd data, keep it stable.
    if isinstance(key, bool):
        return (0, key)
    if isinstance(key, int | float):
        return (1, key)
    return (2, str(key))


def _parse_num(s: str, start: int, end: int) -> tuple[int, bool, int]:
    if start >= end:
        return 0, False, end
    num = 0
    is_num = False
    i = start
    while i < end and "0" <= s[i] <= "9":
        if num > _TOO_LARGE or num < -_TOO_LARGE:
            return 0, False, end
        num = num * 10 + ord(s[i]) - 48
        is_num = True
        i += 1
    return num, is_num, i


def _arg_number(arg_num: int, fmt: str, i: int, num_args: int) -> tuple[int, int, bool, bool, bool]:
    """Parse ``[n]``: (arg index, new position, found an index, index is good, bracket seen)."""
    if i >= len(fmt) or fmt[i] != "[":
        return arg_num, i, False, True, False
    rest = fmt[i:]
    index, width, ok = 0, 1, False
    if len(rest) >= 3:
        close = rest.find("]", 1)
        if close > 0:
            num, is_num, newi = _parse_num(rest, 1, close)
            width = close + 1
            if is_num and newi == close:
                index, ok = num - 1, True
    if ok and 0 <= index < num_args:
        return index, i + width, True, True, True
    return arg_num, i + width, ok, False, True


def _int_from_arg(args: Sequence[Any], arg_num: int) -> tuple[int, bool, int]:
    if arg_num >= len(args):
        return 0, False, arg_num
    value = args[arg_num]
    num, is_int = 0, False
    if isinstance(value, int) and not isinstance(value, bool):
        num, is_int = value, True
    if num > _TOO_LARGE or num < -_TOO_LARGE:
        num, is_int = 0, False
    return num, is_int, arg_num + 1


def sprintf(fmt: str, *args: Any) -> str:
    """Go's ``fmt.Sprintf``."""
    p = _Printer()
    p.do_printf(fmt, args)
    return "".join(p.buf)


def sprint(*args: Any) -> str:
    """Go's ``fmt.Sprint``: a space between operands only when neither is a string."""
    p = _Printer()
    prev_string = False
    for n, arg in enumerate(args):
        is_string = isinstance(arg, str)  # Go: reflect.Kind String
        if n > 0 and not is_string and not prev_string:
            p.buf.append(" ")
        p.print_arg(arg, "v")
        prev_string = is_string
    return "".join(p.buf)


def sprintln(*args: Any) -> str:
    """Go's ``fmt.Sprintln``: spaces between all operands and a final newline."""
    p = _Printer()
    for n, arg in enumerate(args):
        if n:
            p.buf.append(" ")
        p.print_arg(arg, "v")
    p.buf.append("\n")
    return "".join(p.buf)


def format_value(v: Any) -> str:
    """Return ``v`` as ``%v`` prints it (what ``{{ v }}`` writes in a text template)."""
    if type(v) is str:
        return v
    p = _Printer()
    p.print_arg(v, "v")
    return "".join(p.buf)
