"""Go's view of Python values: kinds, truth, type names and assignability to parameter types.

Values follow the value protocol (``None`` is nil, ``list``/``tuple`` slices, ``Mapping`` maps,
other objects structs). ``MISSING`` is Go's invalid ``reflect.Value`` (a missing map key, an
absent template argument), printed ``<no value>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from .gofmt import go_type_name

__all__ = [
    "MISSING",
    "basic_kind",
    "is_true",
    "kind",
    "type_name",
]


class _Missing:
    """Go's invalid ``reflect.Value``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()


_EXACT_KINDS = {
    bool: "bool",
    int: "int",
    float: "float64",
    complex: "complex128",
    str: "string",
    list: "slice",
    tuple: "slice",
    dict: "map",
}


def kind(v: Any) -> str:
    """Go's ``reflect.Kind`` name for ``v`` (``struct`` for any other object)."""
    exact = _EXACT_KINDS.get(type(v))
    if exact is not None:
        return exact
    if v is MISSING or v is None:
        return "invalid"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float64"
    if isinstance(v, complex):
        return "complex128"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list | tuple):
        return "slice"
    if isinstance(v, Mapping):
        return "map"
    if callable(v) and not hasattr(v, "go_fields"):
        return "func"
    return "struct"


_BASIC = {
    "bool": "bool",
    "int": "int",
    "float64": "float",
    "complex128": "complex",
    "string": "string",
}


def basic_kind(v: Any) -> str | None:
    """The comparison class of ``v`` (Go's ``basicKind``), or None when not a basic kind."""
    return _BASIC.get(kind(v))


def is_true(v: Any) -> bool:
    """Go's template truth: false, 0, nil, and empty strings, slices and maps are false."""
    if v is MISSING or v is None:
        return False
    if isinstance(v, bool | int | float | complex):
        return bool(v)
    if isinstance(v, str | list | tuple | Mapping):
        return len(v) > 0
    return True


def type_name(v: Any) -> str:
    """The Go type name errors print for ``v``."""
    if v is MISSING:
        return "<nil>"
    return go_type_name(v)
