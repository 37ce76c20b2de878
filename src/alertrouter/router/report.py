"""Text renderings of the route tree and of one walk, for ``routes test --tree/--explain``."""

from __future__ import annotations

from collections.abc import Mapping

from alertrouter.durations import format_duration
from alertrouter.router.tree import Route, explain

__all__ = ["render_explain", "render_tree"]


def _describe(route: Route) -> str:
    matchers = ", ".join(str(m) for m in route.matchers) or "(matches everything)"
    flags = " continue" if route.continue_ else ""
    return (
        f"{route.id} {{{matchers}}} → {route.receiver} "
        f"(repeat {format_duration(route.repeat_interval)}){flags}"
    )


def render_tree(root: Route, labels: Mapping[str, str] | None = None) -> str:
    """The whole tree, one node a line; with ``labels``, final matches are starred."""
    matched = {r.id for r in root.match(labels)} if labels is not None else set()
    lines: list[str] = []

    def visit(route: Route, depth: int) -> None:
        mark = "* " if route.id in matched else "  "
        lines.append(f"{mark}{'    ' * depth}{_describe(route)}")
        for child in route.routes:
            visit(child, depth + 1)

    visit(root, 0)
    return "\n".join(lines)


def render_explain(root: Route, labels: Mapping[str, str]) -> str:
    """The walk for ``labels``: each node tried, why it matched or not, and each continue hop."""
    lines: list[str] = []
    for step in explain(root, labels):
        indent = "    " * step.depth
        route = step.route
        if step.outcome == "no match":
            assert step.failed_matcher is not None
            name = step.failed_matcher.name
            value = labels.get(name)
            shown = f'"{value}"' if value is not None else "missing"
            lines.append(f"{indent}✗ {route.id}: {step.failed_matcher} fails ({name} is {shown})")
        elif step.outcome == "not visited":
            lines.append(f"{indent}- {route.id}: not visited (an earlier sibling matched)")
        elif step.outcome == "descended":
            lines.append(f"{indent}↳ {route.id}: matches, trying its children")
        else:
            hop = "; continue: true, so the walk goes on" if route.continue_ else ""
            lines.append(
                f"{indent}✓ {route.id}: receiver {route.receiver}, "
                f"repeat_interval {format_duration(route.repeat_interval)}{hop}"
            )
    return "\n".join(lines)
