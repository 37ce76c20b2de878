"""The import graph of src/alertrouter points down the layers only, and has no cycles.

The layers, lowest first, follow a webhook's data flow (README, "How it works"): a module may
import its own package and any lower layer, never a higher one. ``templates`` is standalone.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = "alertrouter"

# Each top-level module or subpackage of alertrouter, by layer (0 is the bottom).
LAYERS: dict[str, int] = {
    "": 0,  # alertrouter/__init__.py: the version
    "errors": 0,
    "constants": 0,
    "durations": 0,
    "logs": 0,
    "ratelimit": 0,
    "templates": 0,
    "payload": 1,
    "metrics": 1,
    "sentry": 1,
    "router": 2,
    "config": 3,
    "notifiers": 4,
    "store": 5,
    "drafts": 6,
    "delivery": 7,
    "service": 8,
    "api": 9,
    "ui": 10,  # the console: HTTP like api, one step up because it renders api's facts
    "app": 11,
    "serve": 12,
    "cli": 13,
}


def _modules() -> dict[str, Path]:
    found = {}
    for path in (SRC / PACKAGE).rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imports(module: str, path: Path) -> Iterator[str]:
    """Every alertrouter module ``module`` imports, at any depth of its code."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        yield from (n for n in names if n == PACKAGE or n.startswith(PACKAGE + "."))


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {
        module: {name for name in _imports(module, path) if name in modules and name != module}
        for module, path in modules.items()
    }


def _unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_every_unit_has_a_layer() -> None:
    """A new top-level module or subpackage must be placed in LAYERS."""
    unplaced = {_unit(m) for m in _modules()} - set(LAYERS)
    assert not unplaced, f"add to LAYERS in tests/test_layering.py: {sorted(unplaced)}"


def test_imports_point_down_the_layers() -> None:
    """No module imports a unit of a higher layer, or another unit of its own layer."""
    wrong = []
    for module, imported in sorted(_graph().items()):
        unit = _unit(module)
        for name in sorted(imported):
            other = _unit(name)
            if other == unit or other == "":
                continue
            if LAYERS[other] >= LAYERS[unit]:
                wrong.append(
                    f"{module} -> {name} ({unit}:{LAYERS[unit]} -> {other}:{LAYERS[other]})"
                )
    assert not wrong, "imports against the layering:\n" + "\n".join(wrong)


def test_templates_import_nothing_else_of_ours() -> None:
    """The Go template engine stands alone: it imports only its own package."""
    outside = [
        f"{m} -> {n}"
        for m, imported in _graph().items()
        if _unit(m) == "templates"
        for n in imported
        if _unit(n) != "templates"
    ]
    assert not outside


def test_no_import_cycles() -> None:
    """The module graph is acyclic (a package's __init__ counts as a module)."""
    graph = _graph()
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        stack.append(module)
        for name in sorted(graph[module]):
            if state.get(name) == 1:
                cycles.append(" -> ".join([*stack[stack.index(name) :], name]))
            elif name not in state:
                visit(name)
        stack.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)
    assert not cycles, "import cycles:\n" + "\n".join(cycles)
