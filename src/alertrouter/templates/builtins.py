"""text/template's predefined functions, over protocol values (see ``goreflect``)."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

from .errors import GoError
from .gofmt import format_value, sprint, sprintf, sprintln
from .goreflect import MISSING, basic_kind, is_true, kind, type_name
from .signature import ANY, GoParam, Signature

__all__ = ["BUILTINS", "html_escape", "js_escape", "url_query_escape"]

VALUE = GoParam("reflect.Value", "value")


class Byte(int):
    """A byte of a string (Go's ``uint8``), as ``index`` returns it."""

    __slots__ = ()
    go_type = "uint8"


def _int_index(index: Any, cap: int) -> int:
    k = kind(index)
    if k == "invalid":
        raise GoError("cannot index slice/array with nil")
    if k != "int":
        raise GoError(f"cannot index slice/array with type {type_name(index)}")
    if index < 0 or index > cap:
        raise GoError(f"index out of range: {index}")
    return int(index)


def _map_get(item: Mapping[Any, Any], key: Any) -> Any:
    if key is MISSING or key is None:
        raise GoError("value is nil; should be of type string")
    if not isinstance(key, str):
        raise GoError(f"value has type {type_name(key)}; should be string")
    if key in item:
        return item[key]
    # A missing key yields the zero value of the element type.
    return getattr(type(item), "go_zero_value", None)


def index(item: Any, *indexes: Any) -> Any:
    """``index x 1 2``: x[1][2] for slices, strings (a byte) and maps (zero value if absent)."""
    if item is MISSING or item is None:
        raise GoError("index of untyped nil")
    for idx in indexes:
        k = kind(item)
        if k in ("slice", "string"):
            seq: Any = item.encode("utf-8", "surrogatepass") if k == "string" else item
            x = _int_index(idx, len(seq))
            if x == len(seq):
                raise GoError(f"reflect: {k} index out of range")
            item = Byte(seq[x]) if k == "string" else seq[x]
        elif k == "map":
            item = _map_get(item, idx)
        elif item is MISSING or item is None:
            raise GoError("index of nil pointer")
        else:
            raise GoError(f"can't index item of type {type_name(item)}")
    return item


def slice_(item: Any, *indexes: Any) -> Any:
    """``slice x 1 2``: x[1:2] for slices and strings (by bytes, as Go)."""
    if item is MISSING or item is None:
        raise GoError("slice of untyped nil")
    if len(indexes) > 3:
        raise GoError(f"too many slice indexes: {len(indexes)}")
    k = kind(item)
    if k == "string":
        if len(indexes) == 3:
            raise GoError("cannot 3-index slice a string")
        data: Any = item.encode("utf-8", "surrogatepass")
    elif k == "slice":
        data = item
    else:
        raise GoError(f"can't slice item of type {type_name(item)}")
    cap = len(data)
    idx = [0, len(data), 0]
    for i, x in enumerate(indexes):
        idx[i] = _int_index(x, cap)
    if idx[0] > idx[1]:
        raise GoError(f"invalid slice index: {idx[0]} > {idx[1]}")
    if len(indexes) == 3 and idx[1] > idx[2]:
        raise GoError(f"invalid slice index: {idx[1]} > {idx[2]}")
    part = data[idx[0] : idx[1]]
    if k == "string":
        return part.decode("utf-8", "replace")
    # Slicing keeps the named slice type (template.Alerts keeps .Firing).
    try:
        return type(item)(part)
    except TypeError:
        return list(part)


def length(item: Any) -> int:
    """``len x``: bytes of a string, elements of a slice or map."""
    k = kind(item)
    if k == "string":
        return len(item.encode("utf-8", "surrogatepass"))
    if k in ("slice", "map"):
        return len(item)
    if item is MISSING or item is None:
        raise GoError("reflect: call of reflect.Value.Type on zero Value")
    raise GoError(f"len of type {type_name(item)}")


def not_(arg: Any) -> bool:
    """``not x``: the negation of x's truth."""
    return not is_true(arg)


def call(fn: Any, *args: Any) -> Any:
    """``call f a b``: call a function value."""
    if fn is MISSING or fn is None:
        raise GoError("call of nil")
    if not callable(fn):
        raise GoError(f"non-function of type {type_name(fn)}")
    return fn(*(None if a is MISSING else a for a in args))


_BAD_TYPE = "invalid type for comparison"
_BAD_CMP = "incompatible types for comparison"


def _nil(v: Any) -> bool:
    return v is MISSING or v is None


def _comparable(v: Any) -> bool:
    """Go's ``Type.Comparable``: no slices, maps or funcs, also inside struct fields."""
    if kind(v) in ("slice", "map", "func"):
        return False
    fields = getattr(type(v), "go_fields", None)
    if isinstance(fields, tuple):
        return all(_comparable(getattr(v, f, None)) for f in fields)
    return True


def eq(arg1: Any, *arg2: Any) -> bool:
    """``eq a b c``: a == b || a == c, with Go's basic-kind rules."""
    if not arg2:
        raise GoError("missing argument for comparison")
    k1 = basic_kind(arg1)
    for arg in arg2:
        k2 = basic_kind(arg)
        if k1 != k2:
            if not _nil(arg1) and not _nil(arg):
                raise GoError(_BAD_CMP)
            truth = False
        elif k1 is not None:
            truth = arg1 == arg
        elif _nil(arg1) or _nil(arg):
            truth = _nil(arg1) == _nil(arg)
        else:
            if not _comparable(arg):
                raise GoError(f"non-comparable type {format_value(arg)}: {type_name(arg)}")
            truth = type(arg1) is type(arg) and bool(arg1 == arg)
        if truth:
            return True
    return False


def ne(arg1: Any, arg2: Any) -> bool:
    """``ne a b``: not eq."""
    return not eq(arg1, arg2)


def lt(arg1: Any, arg2: Any) -> bool:
    """``lt a b``: a < b for ints, floats and strings of the same kind."""
    k1 = basic_kind(arg1)
    if k1 is None:
        raise GoError(_BAD_TYPE)
    k2 = basic_kind(arg2)
    if k2 is None:
        raise GoError(_BAD_TYPE)
    if k1 != k2:
        raise GoError(_BAD_CMP)
    if k1 in ("bool", "complex"):
        raise GoError(_BAD_TYPE)
    return bool(arg1 < arg2)


def le(arg1: Any, arg2: Any) -> bool:
    """``le a b``: lt or eq."""
    return lt(arg1, arg2) or eq(arg1, arg2)


def gt(arg1: Any, arg2: Any) -> bool:
    """``gt a b``: not le."""
    return not le(arg1, arg2)


def ge(arg1: Any, arg2: Any) -> bool:
    """``ge a b``: not lt."""
    return not lt(arg1, arg2)


def _eval_args(args: tuple[Any, ...]) -> str:
    """text/template's ``evalArgs``: one string as is, else Sprint with ``<no value>``."""
    if len(args) == 1 and type(args[0]) is str:
        return str(args[0])
    return sprint(*("<no value>" if a is MISSING or a is None else a for a in args))


_HTML_ESCAPES = {'"': "&#34;", "'": "&#39;", "&": "&amp;", "<": "&lt;", ">": "&gt;", "\0": "\ufffd"}


def html_escape(s: str) -> str:
    """Go's ``template.HTMLEscapeString``."""
    if not any(c in s for c in "\"'&<>\0"):
        return s
    return "".join(_HTML_ESCAPES.get(c, c) for c in s)


_JS_ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "<": "\\u003C",
    ">": "\\u003E",
    "&": "\\u0026",
    "=": "\\u003D",
}


def js_escape(s: str) -> str:
    """Go's ``template.JSEscapeString``."""
    out: list[str] = []
    for c in s:
        esc = _JS_ESCAPES.get(c)
        if esc is not None:
            out.append(esc)
        elif c < " ":
            out.append(f"\\u00{ord(c):02X}")
        elif c < "\x80" or c.isprintable():
            out.append(c)
        else:
            out.append(f"\\u{ord(c):04X}")
    return "".join(out)


def url_query_escape(s: str) -> str:
    """Go's ``url.QueryEscape``."""
    return urllib.parse.quote_plus(s, safe="", encoding="utf-8", errors="surrogatepass")


def html(*args: Any) -> str:
    """``html``: HTML-escape the printed arguments."""
    return html_escape(_eval_args(args))


def js(*args: Any) -> str:
    """``js``: JavaScript-escape the printed arguments."""
    return js_escape(_eval_args(args))


def urlquery(*args: Any) -> str:
    """``urlquery``: query-escape the printed arguments."""
    return url_query_escape(_eval_args(args))


def _printf(fmt: str, *args: Any) -> str:
    return sprintf(fmt, *args)


def _print(*args: Any) -> str:
    return sprint(*args)


def _println(*args: Any) -> str:
    return sprintln(*args)


def _and(*args: Any) -> Any:  # pragma: no cover - evaluated lazily by the interpreter
    raise AssertionError


_STR = GoParam("string", "string")

# name -> (function, Go signature). "and"/"or" short-circuit in the interpreter.
BUILTINS: dict[str, tuple[Callable[..., Any], Signature]] = {
    "and": (_and, Signature((VALUE,), VALUE)),
    "or": (_and, Signature((VALUE,), VALUE)),
    "call": (call, Signature((VALUE,), VALUE)),
    "html": (html, Signature((), ANY)),
    "index": (index, Signature((VALUE,), VALUE)),
    "slice": (slice_, Signature((VALUE,), VALUE)),
    "js": (js, Signature((), ANY)),
    "len": (length, Signature((VALUE,), None)),
    "not": (not_, Signature((VALUE,), None)),
    "print": (_print, Signature((), ANY)),
    "printf": (_printf, Signature((_STR,), ANY)),
    "println": (_println, Signature((), ANY)),
    "urlquery": (urlquery, Signature((), ANY)),
    "eq": (eq, Signature((VALUE,), VALUE)),
    "ge": (ge, Signature((VALUE, VALUE), None)),
    "gt": (gt, Signature((VALUE, VALUE), None)),
    "le": (le, Signature((VALUE, VALUE), None)),
    "lt": (lt, Signature((VALUE, VALUE), None)),
    "ne": (ne, Signature((VALUE, VALUE), None)),
}
