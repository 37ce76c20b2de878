"""The compiled route tree and its walk, with Alertmanager's semantics exactly.

A node that matches visits its children in order; the first matching child ends the walk
unless it has ``continue``; a node none of whose children match is itself the match.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from alertrouter.router.matchers import Matcher
from alertrouter.router.time_intervals import TimeInterval, any_contains

__all__ = ["ExplainStep", "Route", "Router", "explain", "suppression_reason"]


@dataclass(frozen=True, slots=True)
class Route:
    """One node, with its inherited options resolved. ``id`` is its path in the file."""

    id: str
    receiver: str
    repeat_interval: timedelta
    matchers: tuple[Matcher, ...]
    continue_: bool
    routes: tuple[Route, ...]
    mute_time_intervals: tuple[str, ...] = ()
    active_time_intervals: tuple[str, ...] = ()
    resolve_when_muted: bool = True  # resolves of notified alerts pass a mute (see config)

    def match(self, labels: Mapping[str, str]) -> list[Route]:
        """The matching nodes for ``labels`` in tree order; empty when this node doesn't match."""
        # The hot path of every uncached decision: a plain loop, no generator per node.
        for matcher in self.matchers:
            if not matcher.matches(labels.get(matcher.name, "")):
                return []
        if not self.routes:
            return [self]
        found: list[Route] = []
        for child in self.routes:
            matched = child.match(labels)
            if matched:
                found.extend(matched)
                if not child.continue_:
                    break
        return found or [self]

    def walk(self) -> list[Route]:
        """Every node, depth first."""
        nodes = [self]
        for child in self.routes:
            nodes.extend(child.walk())
        return nodes


class Router:
    """Matches label sets against a route tree, caching the result per label set."""

    def __init__(self, root: Route, cache_size: int = 8192) -> None:
        self.root = root
        self.cache_size = cache_size
        self._cache: OrderedDict[frozenset[tuple[str, str]], tuple[Route, ...]] = OrderedDict()

    def match(self, labels: Mapping[str, str]) -> tuple[Route, ...]:
        """The matched routes for ``labels``, in tree order (the root when nothing else)."""
        key = frozenset(labels.items())
        found = self._cache.get(key)
        if found is None:
            # A miss walks the labels as given; the oldest entry makes room (FIFO is enough:
            # alert label sets repeat while they fire).
            found = tuple(self.root.match(labels))
            if len(self._cache) >= self.cache_size:
                self._cache.popitem(last=False)
            self._cache[key] = found
        return found


@dataclass(frozen=True, slots=True)
class ExplainStep:
    """One node the walk looked at: whether it matched, and why the walk went on or stopped."""

    route: Route
    depth: int
    matched: bool
    failed_matcher: Matcher | None
    outcome: str  # "matched", "no match", "descended", "continue", "not visited"


def explain(root: Route, labels: Mapping[str, str]) -> list[ExplainStep]:
    """The walk of ``root`` for ``labels``, node by node, for ``routes test --explain``."""
    steps: list[ExplainStep] = []
    _explain(root, labels, 0, steps)
    return steps


def _explain(route: Route, labels: Mapping[str, str], depth: int, steps: list[ExplainStep]) -> bool:
    failed = next((m for m in route.matchers if not m.matches(labels.get(m.name, ""))), None)
    if failed is not None:
        steps.append(ExplainStep(route, depth, False, failed, "no match"))
        return False
    index = len(steps)
    steps.append(ExplainStep(route, depth, True, None, "matched"))
    any_child = False
    stopped = False
    for child in route.routes:
        if stopped:
            steps.append(ExplainStep(child, depth + 1, False, None, "not visited"))
            continue
        if _explain(child, labels, depth + 1, steps):
            any_child = True
            stopped = not child.continue_
    if any_child:
        steps[index] = ExplainStep(route, depth, True, None, "descended")
    return True


def suppression_reason(
    route: Route, intervals: Mapping[str, Sequence[TimeInterval]], now: datetime
) -> str | None:
    """``"muted"`` inside a mute interval, ``"inactive"`` outside every active one, else None."""
    for name in route.mute_time_intervals:
        if any_contains(intervals.get(name, ()), now):
            return "muted"
    if route.active_time_intervals and not any(
        any_contains(intervals.get(name, ()), now) for name in route.active_time_intervals
    ):
        return "inactive"
    return None
