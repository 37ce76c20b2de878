"""Routing throughput: how many routing decisions per second alertrouter makes.

A *decision* is one label set matched against the route tree, giving the matched routes.
Four scenarios, each a fixed number of decisions timed with ``time.perf_counter`` and repeated
5 times (median, min and max decisions/s are reported):

(a) the shipped policy (``config/alertrouter.yml``) through ``Router``, cache warm: a seeded
    pool of 1000 distinct label sets (6–10 labels: alertname, severity, team, service,
    instance, job, namespace, …) cycled, so every decision after the first pass is a cache hit;
(b) the shipped policy uncached: ``Route.match`` on the root directly;
(c) a seeded, generated 200-route tree (nested 3 levels deep, ``=``, ``!=``, ``=~`` and ``!~``
    matchers, some ``continue: true``, regexes that take the Python ``re`` fast path and
    regexes that need RE2) written as YAML and loaded by ``parse_routing_config``, so the
    real compile path is used; uncached, with label sets that end at every depth;
(d) that 200-route tree through ``Router``, cache warm.

For (c) it also breaks the time of one uncached decision down by matcher kind (equality,
``re`` fast path, RE2), to show whether RE2 dominates.

Run it with ``make bench`` or ``.venv/bin/python bench/bench_routing.py``; ``--quick`` does a
tenth of the work (a smoke test, numbers are noisier) and ``--profile`` also prints a cProfile
of scenario (c). The full run takes well under a minute on 2 cores.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import platform
import pstats
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from alertrouter.config.loader import load_routing_config, parse_routing_config
from alertrouter.router import matchers as matchers_module
from alertrouter.router.matchers import Matcher, MatchType
from alertrouter.router.tree import Route, Router, explain
from machine import command_line, cpu_model, load_average

REPO = Path(__file__).resolve().parent.parent
SHIPPED_POLICY = REPO / "config" / "alertrouter.yml"
SEED = 20240601
POOL_SIZE = 1000
REPEATS = 5
GENERATED_ROUTES = 200

# Decisions per timed run (``--quick`` divides them by 10).
CACHED_DECISIONS = 1_000_000
SHIPPED_UNCACHED_DECISIONS = 200_000
TREE_UNCACHED_DECISIONS = 50_000

CACHED_TARGET = 200_000  # decisions/s, shipped policy, warm cache
UNCACHED_TREE_TARGET = 20_000  # decisions/s, 200-route tree, no cache

Labels = dict[str, str]

# --------------------------------------------------------------------------- label vocabulary

TEAMS = (
    "payments", "search", "checkout", "identity", "storage", "network", "infrastructure",
    "data", "ml", "mobile", "web", "billing", "ads", "messaging", "platform", "security",
    "observability", "edge", "db", "frontend",
)  # fmt: skip
UNOWNED_TEAMS = ("legacy", "contractors", "infrastructure-dev")  # no route of their own
COMPONENTS = ("api", "worker", "db", "cache", "gateway", "cron")
ALERTNAMES = (
    "HighErrorRate", "HighLatency", "InstanceDown", "DiskFull", "MemoryPressure",
    "CPUThrottling", "PodCrashLooping", "CertExpiring", "QueueBacklog", "ReplicationLag",
    "TargetMissing", "SLOBurnRate", "Watchdog", "hostOutOfInodes",
)  # fmt: skip
SEVERITIES = ("critical", "warning", "info")
SEVERITY_WEIGHTS = (2, 5, 3)
ENVS = ("prod", "staging", "dev")
REGIONS = ("eu-west-1", "eu-central-1", "us-east-1", "us-west-2", "ap-south-1")
JOBS = ("node", "kubelet", "blackbox", "app", "postgres", "redis")
SYSTEM_NAMESPACES = ("kube-system", "monitoring", "ingress-nginx")


def label_pool(rng: random.Random, size: int, teams: Sequence[str]) -> list[Labels]:
    """``size`` distinct label sets of 6–10 labels, as Prometheus alerts carry them."""
    seen: set[frozenset[tuple[str, str]]] = set()
    pool: list[Labels] = []
    while len(pool) < size:
        team = rng.choice(teams)
        env = rng.choice(ENVS)
        region = rng.choice(REGIONS)
        namespace = rng.choice(SYSTEM_NAMESPACES) if rng.random() < 0.15 else f"{team}-{env}"
        labels: Labels = {
            "alertname": rng.choice(ALERTNAMES),
            "severity": rng.choices(SEVERITIES, SEVERITY_WEIGHTS)[0],
            "team": team,
            "service": f"{team}-{rng.choice(COMPONENTS)}",
            "instance": f"host-{rng.randrange(1, 400)}.{region}:9100",
            "job": rng.choice(JOBS),
        }
        optional = {
            "namespace": namespace,
            "env": env,
            "region": region,
            "cluster": f"{region}-{rng.choice('abc')}",
        }
        for name in rng.sample(sorted(optional), rng.randint(0, 4)):
            labels[name] = optional[name]
        key = frozenset(labels.items())
        if key not in seen:
            seen.add(key)
            pool.append(labels)
    return pool


# ------------------------------------------------------------------- the generated route tree


def _matcher(name: str, op: str, value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{name}{op}"{escaped}"'


def _top_matchers(rng: random.Random, team: str) -> list[str]:
    """The matchers of a first-level route, owned by ``team``."""
    roll = rng.random()
    if roll < 0.6:
        return [_matcher("team", "=", team)]
    if roll < 0.75:
        other = rng.choice(UNOWNED_TEAMS)
        return [_matcher("team", "=~", f"{team}|{other}")]  # fast path
    if roll < 0.85:
        return [_matcher("team", "=", team), _matcher("namespace", "!~", "kube-.*")]
    if roll < 0.93:
        return [_matcher("service", "=~", f"{team}-.*")]
    return [_matcher("team", "=~", f"(?i){team}")]  # RE2: (?i) flag


def _second_matchers(rng: random.Random, team: str) -> list[str]:
    """The matchers of a second-level route under ``team``'s route."""
    a, b = rng.sample(COMPONENTS, 2)
    options = [
        [_matcher("service", "=", f"{team}-{a}")],
        [_matcher("service", "=~", f"{team}-({a}|{b})")],  # fast path
        [_matcher("severity", "!=", "info")],
        [_matcher("alertname", "=~", "(?i)high.*")],  # RE2: (?i)
        [_matcher("alertname", "=~", "[[:upper:]][[:alpha:]]+Down")],  # RE2: [[:class:]]
        [_matcher("instance", "=~", r"host-\d+\.eu-.*")],  # fast path
        [_matcher("job", "!=", "blackbox"), _matcher("severity", "=", "critical")],
        [_matcher("namespace", "!~", "kube-.*|monitoring")],  # fast path
        [_matcher("alertname", "=~", "Instance.*|Target.*|Pod.*")],  # fast path
        [_matcher("cluster", "=~", r"\S+-a")],  # RE2: \S
    ]
    return rng.choice(options)


def _third_matchers(rng: random.Random) -> list[str]:
    """The matchers of a third-level route."""
    options = [
        [_matcher("severity", "=", "critical")],
        [_matcher("env", "=", "prod")],
        [_matcher("env", "=~", "prod|staging")],  # fast path
        [_matcher("region", "=~", "eu-.*")],  # fast path
        [_matcher("region", "!~", "(?i)US-.*")],  # RE2: (?i)
        [_matcher("severity", "!=", "info"), _matcher("env", "!=", "dev")],
        [_matcher("alertname", "!~", "Watchdog|.*Expiring$")],  # RE2: $
        [_matcher("instance", "=~", r"host-[0-9]{1,2}\..*")],  # fast path
    ]
    return rng.choice(options)


def generated_tree_yaml(rng: random.Random, size: int = GENERATED_ROUTES) -> str:
    """A routing file whose tree has ``size`` routes under the root, at depths 1 to 3."""
    receivers = [f"team-{i}" for i in range(12)]
    top: list[dict[str, Any]] = []
    second: list[tuple[dict[str, Any], str]] = []
    count = 0

    def node(matchers: list[str]) -> dict[str, Any]:
        nonlocal count
        count += 1
        route: dict[str, Any] = {"matchers": matchers, "receiver": rng.choice(receivers)}
        if rng.random() < 0.15:
            route["continue"] = True
        return route

    # A catch-all "critical pages too" route first, as in the shipped policy.
    page = node([_matcher("severity", "=", "critical")])
    page["continue"] = True
    top.append(page)
    for team in TEAMS:
        parent = node(_top_matchers(rng, team))
        top.append(parent)
        parent["routes"] = [node(_second_matchers(rng, team)) for _ in range(rng.randint(3, 4))]
        second.extend((child, team) for child in parent["routes"])
    while count < size:
        child, _team = rng.choice(second)
        child.setdefault("routes", []).append(node(_third_matchers(rng)))
    document = {
        "route": {"receiver": "default", "routes": top},
        "receivers": [{"name": name} for name in ["default", *receivers]],
    }
    return yaml.safe_dump(document, sort_keys=False, width=200)


# ------------------------------------------------------------------------------- measurement


@dataclass(frozen=True, slots=True)
class Result:
    """The timed runs of one scenario."""

    name: str
    routes: int
    decisions: int
    seconds: tuple[float, ...]

    @property
    def rates(self) -> list[float]:
        return sorted(self.decisions / s for s in self.seconds)

    @property
    def median(self) -> float:
        return statistics.median(self.rates)


def run_scenario(
    name: str,
    routes: int,
    decide: Callable[[Mapping[str, str]], object],
    pool: Sequence[Labels],
    decisions: int,
    repeats: int = REPEATS,
) -> Result:
    """Time ``decisions`` calls of ``decide``, cycling through ``pool``, ``repeats`` times."""
    work = [pool[i % len(pool)] for i in range(decisions)]
    for labels in pool:  # warm-up: fills a cache, and the interpreter's caches
        decide(labels)
    seconds: list[float] = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        for labels in work:
            decide(labels)
        seconds.append(time.perf_counter() - start)
    return Result(name, routes, decisions, tuple(seconds))


def route_count(root: Route) -> int:
    """Routes under the root (the root itself not counted)."""
    return len(root.walk()) - 1


def depth(route: Route) -> int:
    return route.id.count(".routes[")


def outcome_summary(root: Route, pool: Sequence[Labels]) -> str:
    """How deep the walk ends for the pool, and how many routes a decision matches."""
    depths: Counter[int] = Counter()
    matched = 0
    for labels in pool:
        found = root.match(labels)
        matched += len(found)
        depths[max(depth(r) for r in found)] += 1
    spread = ", ".join(f"depth {d}: {depths[d]}" for d in sorted(depths))
    return f"deepest match per label set — {spread}; {matched / len(pool):.2f} routes/decision"


def _engine(matcher: Matcher) -> str:
    if matcher.type in (MatchType.EQUAL, MatchType.NOT_EQUAL):
        return "= / !="
    # The same test compile_anchored() makes; private, so only used for this breakdown.
    fast_path = getattr(matchers_module, "_compile_fast_path", None)
    if fast_path is None:
        return "regex (engine unknown)"
    return "re fast path" if fast_path(matcher.value) is not None else "RE2"


def matcher_breakdown(root: Route, pool: Sequence[Labels], repeats: int) -> list[str]:
    """Matcher evaluations per decision and their time, by kind, from the walk ``explain`` sees."""
    calls: dict[str, list[tuple[Matcher, str]]] = {}
    for labels in pool:
        for step in explain(root, labels):
            if step.outcome == "not visited":
                continue
            evaluated = step.route.matchers
            if step.failed_matcher is not None:
                evaluated = evaluated[: evaluated.index(step.failed_matcher) + 1]
            for m in evaluated:
                calls.setdefault(_engine(m), []).append((m, labels.get(m.name, "")))
    kinds_in_tree = Counter(_engine(m) for r in root.walk() for m in r.matchers)
    lines = [
        "| Matcher kind | In tree | Calls/decision | ns/call | µs/decision |",
        "|---|--:|--:|--:|--:|",
    ]
    for kind in sorted(calls):
        pairs = calls[kind]
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            for m, value in pairs:
                m.matches(value)
            best = min(best, time.perf_counter() - start)
        per_decision = best / len(pool) * 1e6
        lines.append(
            f"| {kind} | {kinds_in_tree[kind]} | {len(pairs) / len(pool):.1f} "
            f"| {best / len(pairs) * 1e9:.0f} | {per_decision:.1f} |"
        )
    return lines


# ------------------------------------------------------------------------------------ report


def fmt_rate(rate: float) -> str:
    return f"{rate:,.0f}"


def table(results: Sequence[Result]) -> list[str]:
    lines = [
        "| Scenario | Routes | Decisions/run | Median decisions/s | Min–max decisions/s "
        "| µs/decision (median) |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    for r in results:
        lines.append(
            f"| {r.name} | {r.routes} | {r.decisions:,} | {fmt_rate(r.median)} "
            f"| {fmt_rate(r.rates[0])}–{fmt_rate(r.rates[-1])} | {1e6 / r.median:.2f} |"
        )
    return lines


def verdict(result: Result, target: float) -> str:
    met = "met" if result.median >= target else "NOT met"
    return (
        f"- {result.name}: target ≥ {fmt_rate(target)}/s — **{met}** "
        f"(median {fmt_rate(result.median)}/s, worst run {fmt_rate(result.rates[0])}/s)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a tenth of the work (smoke test)")
    parser.add_argument("--profile", action="store_true", help="also cProfile scenario (c)")
    args = parser.parse_args(argv)
    scale = 10 if args.quick else 1
    began = time.perf_counter()

    print(f"Command: `{command_line()}`")
    print(f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    print(f"Machine: {os.cpu_count()} CPUs (nproc {affinity}), {cpu_model()}")
    print(f"Python: {platform.python_implementation()} {platform.python_version()}")
    print(f"Load average at start (1/5/15 min): {load_average()}")
    if args.quick:
        print("Mode: --quick (a tenth of the decisions; for smoke tests, not for the record)")
    print()

    shipped = load_routing_config(SHIPPED_POLICY, environ={}, allow_missing_env=True).root
    shipped_pool = label_pool(random.Random(SEED), POOL_SIZE, (*TEAMS, *UNOWNED_TEAMS))
    tree_text = generated_tree_yaml(random.Random(SEED + 1))
    generated = parse_routing_config(tree_text, "<generated 200-route tree>", {}).root
    assert route_count(generated) == GENERATED_ROUTES, route_count(generated)
    tree_pool = label_pool(random.Random(SEED + 2), POOL_SIZE, (*TEAMS, *UNOWNED_TEAMS))

    results = [
        run_scenario(
            "(a) shipped policy, Router, warm cache",
            route_count(shipped),
            Router(shipped).match,
            shipped_pool,
            CACHED_DECISIONS // scale,
        ),
        run_scenario(
            "(b) shipped policy, uncached Route.match",
            route_count(shipped),
            shipped.match,
            shipped_pool,
            SHIPPED_UNCACHED_DECISIONS // scale,
        ),
        run_scenario(
            "(c) generated tree, uncached Route.match",
            route_count(generated),
            generated.match,
            tree_pool,
            TREE_UNCACHED_DECISIONS // scale,
        ),
        run_scenario(
            "(d) generated tree, Router, warm cache",
            route_count(generated),
            Router(generated).match,
            tree_pool,
            CACHED_DECISIONS // scale,
        ),
    ]

    print(f"## Routing ({REPEATS} runs per scenario; label pools of {POOL_SIZE} distinct sets)")
    print()
    print("\n".join(table(results)))
    print()
    print("Targets:")
    print(verdict(results[0], CACHED_TARGET))
    print(verdict(results[2], UNCACHED_TREE_TARGET))
    print()
    print(f"Shipped policy: {outcome_summary(shipped, shipped_pool)}")
    print(f"Generated tree: {outcome_summary(generated, tree_pool)}")
    print()
    print("Where an uncached decision on the generated tree spends its matcher time:")
    print()
    print("\n".join(matcher_breakdown(generated, tree_pool, REPEATS)))
    print(f"\n(c) total: {1e6 / results[2].median:.1f} µs/decision")

    if args.profile:
        print("\ncProfile of (c), top 15 by own time:")
        profiler = cProfile.Profile()
        work = [tree_pool[i % len(tree_pool)] for i in range(TREE_UNCACHED_DECISIONS // scale)]
        profiler.enable()
        for labels in work:
            generated.match(labels)
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(15)

    print(f"\nLoad average at end (1/5/15 min): {load_average()}")
    print(f"Total wall time: {time.perf_counter() - began:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
