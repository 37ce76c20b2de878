"""What Go would know from a function's type: arity, variadic-ness and parameter types.

Python functions declare them through their parameters and annotations: ``str`` is Go's
``string``, ``int`` is ``int``, ``float`` is ``float64``, ``bool`` is ``bool``; a ``*args``
parameter makes the function variadic; anything else accepts any value (``interface{}``).
"""

from __future__ import annotations

import contextlib
import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["GoParam", "Signature", "signature_of"]


@dataclass(frozen=True, slots=True)
class GoParam:
    """A parameter's Go type: ``name`` as errors print it, ``kind`` for checks."""

    name: str
    kind: str  # "string" | "int" | "float64" | "bool" | "slice" | "any"


ANY = GoParam("interface {}", "any")
_SIMPLE: dict[Any, GoParam] = {
    str: GoParam("string", "string"),
    int: GoParam("int", "int"),
    float: GoParam("float64", "float64"),
    bool: GoParam("bool", "bool"),
}


@dataclass(frozen=True, slots=True)
class Signature:
    """Fixed parameters and, when variadic, the element type of the ``...`` parameter."""

    fixed: tuple[GoParam, ...]
    variadic: GoParam | None

    @property
    def num_in(self) -> int:
        """Go's ``NumIn``: fixed parameters plus the variadic slice."""
        return len(self.fixed) + (1 if self.variadic is not None else 0)


def _param_type(hint: Any) -> GoParam:
    simple = _SIMPLE.get(hint)
    if simple is not None:
        return simple
    origin = typing.get_origin(hint)
    if origin is not None:
        args = typing.get_args(hint)
        try:
            is_seq = issubclass(origin, list | tuple) or origin.__name__ in ("Sequence", "Iterable")
        except TypeError:
            is_seq = False
        if is_seq:
            elem = _SIMPLE.get(args[0]) if args else None
            return GoParam("[]" + (elem.name if elem else "interface {}"), "slice")
    return ANY


_CACHE: dict[Any, Signature] = {}


def signature_of(fn: Callable[..., Any]) -> Signature:
    """The Go signature of ``fn``; cached per underlying function."""
    key = getattr(fn, "__func__", fn)
    try:
        cached = _CACHE.get(key)
    except TypeError:  # unhashable callable
        cached = None
    if cached is not None:
        return cached
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return Signature((), ANY)
    try:
        hints = typing.get_type_hints(key)
    except Exception:  # annotations that do not resolve: treat every parameter as interface{}
        hints = {}
    fixed: list[GoParam] = []
    variadic: GoParam | None = None
    for p in sig.parameters.values():
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            if p.default is not p.empty:
                continue
            fixed.append(_param_type(hints.get(p.name)))
        elif p.kind == p.VAR_POSITIONAL:
            variadic = _param_type(hints.get(p.name))
    result = Signature(tuple(fixed), variadic)
    with contextlib.suppress(TypeError):  # unhashable callables are not cached
        _CACHE[key] = result
    return result
