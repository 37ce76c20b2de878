"""Differential test: random route trees and label sets, routed by us and by the real amtool 0.25.

Each run draws a fresh seed (or takes ``AMTOOL_DIFF_SEED``) and reports it with every
disagreement, so ``AMTOOL_DIFF_SEED=<seed> pytest tests/test_amtool_differential.py`` replays it.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from alertrouter.cli.main import main
from alertrouter.config.loader import parse_routing_config
from alertrouter.errors import ConfigError
from alertrouter.router.tree import Router


def _find_amtool() -> str | None:
    found = shutil.which("amtool")
    if found is None and os.access("/usr/bin/amtool", os.X_OK):
        found = "/usr/bin/amtool"
    return found


AMTOOL = _find_amtool()

pytestmark = [
    pytest.mark.amtool,
    pytest.mark.skipif(
        AMTOOL is None,
        reason="amtool not installed (Debian prometheus-alertmanager; .ci/run installs it)",
    ),
]

TREES = 50
LABEL_SETS_PER_TREE = 12
CLI_CHECKS_PER_TREE = 1  # also routed through `alertrouter routes test` in-process
WORKERS = 3
DATA = Path(__file__).parent / "data" / "routing"

# A small label universe, so that generated matchers and label sets actually meet.
VALUES: dict[str, list[str]] = {
    "env": ["prod", "staging", "dev", "prod-eu", "test"],
    "severity": ["critical", "warning", "info", "page"],
    "team": ["db", "web", "infra", "web_1", "a"],
    "service": ["api", "api.v2", "x-1", "db", "web"],
    "region": ["eu", "us", "eu-1", "1", "22"],
}
NAMES = list(VALUES)
RECEIVERS = ["default", "r1", "r2", "r3", "r4", "r5", "r6"]


# --- generating trees ----------------------------------------------------------------------------


def random_regex(rng: random.Random, name: str) -> str:
    """A Go/RE2 regex over ``name``'s values: literals, alternations, wildcards, classes."""
    pool = VALUES[name]
    value = rng.choice(pool)
    kind = rng.randrange(14)
    if kind == 0:
        return value
    if kind == 1:
        return "|".join(rng.sample(pool, rng.randint(2, 3)))
    if kind == 2:
        return value[: rng.randint(1, len(value))] + ".*"
    if kind == 3:
        return ".*" + value[rng.randrange(len(value)) :]
    if kind == 4:
        return rng.choice([".*", ".+", "", ".", ".*.*"])
    if kind == 5:
        return rng.choice(["[a-z]+", "[a-z0-9_-]*", "[^0-9]*", "[0-9]+", "[a-z]{2,4}", "[0-9]"])
    if kind == 6:
        first, second = rng.sample(pool, 2)
        return f"({first}|{second})(-eu|_1)?"
    if kind == 7:
        return f"[{value[0]}{rng.choice(pool)[0]}][a-z0-9._-]*"
    if kind == 8:
        return value.replace(".", "\\.") if "." in value else value + "|a\\.b"
    if kind == 9:
        return f"{value[0]}.*{value[-1]}"
    if kind == 10:
        return f"{value}|"  # an empty alternative: also matches a missing label
    if kind == 11:
        return "(" + "|".join(f"{v}.*" for v in rng.sample(pool, 2)) + ")"
    if kind == 12:
        return f"{value[0]}{{1,2}}[a-z]*"
    return value.upper() + "|" + value


def random_value(rng: random.Random, name: str) -> str:
    """A label or matcher value: usually one of the pool, sometimes a near miss or empty."""
    roll = rng.random()
    value = rng.choice(VALUES[name])
    if roll < 0.75:
        return value
    if roll < 0.85:
        return value + rng.choice(["x", "-2", "_b", ".0"])
    if roll < 0.93:
        return value[:-1]
    return ""


def quote_matcher_value(rng: random.Random, value: str) -> str:
    """The value as a matcher writes it: double-quoted (escaped) or, when safe, bare."""
    bare_ok = bool(value) and "," not in value and not value.endswith("}") and '"' not in value
    if bare_ok and rng.random() < 0.4:
        return value
    escaped = value.replace("\\", "\\\\") if rng.random() < 0.5 else value
    return '"' + escaped + '"'


def yaml_single(text: str) -> str:
    """``text`` as a single-quoted YAML scalar."""
    return "'" + text.replace("'", "''") + "'"


def yaml_key_value(rng: random.Random, text: str) -> str:
    """A value under ``match``/``match_re``: single-, double-quoted or plain when YAML allows."""
    if text.isdigit() and (text == "0" or text[0] != "0") and rng.random() < 0.5:
        return text  # YAML reads a plain decimal as an int; both sides print it back the same
    plain_ok = (
        text[:1].isalpha()
        and text.lower() not in {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}
        and not any(c in text for c in ":#{}[],&*!|>'\"%@`\\")
    )
    roll = rng.random()
    if plain_ok and roll < 0.4:
        return text
    if roll < 0.7 or "\\" in text:
        return yaml_single(text)
    return '"' + text + '"'


@dataclass
class Node:
    """One generated route node, rendered to YAML by ``render``."""

    receiver: str | None = None
    matchers: list[str] | None = None
    match: dict[str, str] | None = None
    match_re: dict[str, str] | None = None
    continue_: bool = False
    repeat_interval: str | None = None
    group_by: list[str] | None = None
    routes: list[Node] | None = None


def random_matcher(rng: random.Random) -> tuple[str, str, str]:
    """``(name, op, value)`` with each of the four operators."""
    name = rng.choice(NAMES)
    op = rng.choice(["=", "!=", "=~", "!~"])
    value = random_regex(rng, name) if "~" in op else random_value(rng, name)
    return name, op, value


def random_node(rng: random.Random, depth: int, max_depth: int) -> Node:
    """A non-root node with 0-3 matchers in a random form and, above ``max_depth``, children."""
    node = Node()
    if rng.random() < 0.6:
        node.receiver = rng.choice(RECEIVERS)
    count = rng.choices([0, 1, 2, 3], weights=[1, 6, 4, 1])[0]
    form = rng.random()
    for _ in range(count):
        name, op, value = random_matcher(rng)
        legacy = op in ("=", "=~") and form < 0.3
        if legacy and op == "=":
            node.match = (node.match or {}) | {name: value}
        elif legacy:
            node.match_re = (node.match_re or {}) | {name: value}
        else:
            node.matchers = [*(node.matchers or []), f"{name}{op}{quote_matcher_value(rng, value)}"]
    if node.matchers and len(node.matchers) > 1 and rng.random() < 0.3:
        joined = ", ".join(node.matchers)
        node.matchers = ["{" + joined + "}" if rng.random() < 0.7 else joined]
    elif node.matchers and rng.random() < 0.2:
        node.matchers = ["{" + node.matchers[0] + "}", *node.matchers[1:]]
    node.continue_ = rng.random() < 0.3
    if rng.random() < 0.1:
        node.repeat_interval = rng.choice(["1h", "30m", "2d"])
    if rng.random() < 0.1:
        node.group_by = ["alertname"]
    if depth < max_depth and rng.random() < 0.6:
        node.routes = [
            random_node(rng, depth + 1, max_depth) for _ in range(rng.randint(1, 4 - depth // 2))
        ]
    return node


def random_tree(rng: random.Random) -> Node:
    """A root (receiver, no matchers) with 1-5 children, nested up to depth 3 or 4."""
    max_depth = rng.choice([3, 3, 4])
    return Node(
        receiver=rng.choice(RECEIVERS),
        repeat_interval=rng.choice([None, "12h"]),
        routes=[random_node(rng, 1, max_depth) for _ in range(rng.randint(1, 5))],
    )


def render(node: Node, rng: random.Random, indent: str = "  ") -> list[str]:
    """The node's YAML lines (block style, quoting drawn from ``rng``), indented by ``indent``."""
    lines: list[str] = []
    if node.receiver is not None:
        lines.append(f"receiver: {yaml_key_value(rng, node.receiver)}")
    if node.match:
        lines.append("match:")
        lines += [f"  {k}: {yaml_key_value(rng, v)}" for k, v in node.match.items()]
    if node.match_re:
        lines.append("match_re:")
        lines += [f"  {k}: {yaml_key_value(rng, v)}" for k, v in node.match_re.items()]
    if node.matchers:
        if rng.random() < 0.5:
            lines.append("matchers: [" + ", ".join(map(yaml_single, node.matchers)) + "]")
        else:
            lines.append("matchers:")
            lines += [f"  - {yaml_single(m)}" for m in node.matchers]
    if node.continue_:
        lines.append("continue: true")
    if node.repeat_interval:
        lines.append(f"repeat_interval: {node.repeat_interval}")
    if node.group_by:
        lines.append(f"group_by: [{', '.join(node.group_by)}]")
    if node.routes:
        lines.append("routes:")
        for child in node.routes:
            child_lines = render(child, rng, "")
            lines.append(f"  - {child_lines[0]}" if child_lines else "  - {}")
            lines += [f"    {line}" for line in child_lines[1:]]
    return [indent + line for line in lines]


def routing_file(root: Node, rng: random.Random) -> str:
    """A whole routing file: the tree plus every receiver declared, without integrations."""
    lines = ["route:", *render(root, rng), "receivers:", *(f"  - name: {r}" for r in RECEIVERS)]
    return "\n".join(lines) + "\n"


def random_labels(rng: random.Random) -> dict[str, str]:
    """A label set over the universe: each label present or not, values mostly from the pool."""
    labels = {name: random_value(rng, name) for name in NAMES if rng.random() < 0.55}
    if rng.random() < 0.1:
        labels["alertname"] = "Watchdog"
    return labels


def label_args(rng: random.Random, labels: dict[str, str]) -> list[str]:
    """The labels as ``name=value`` command-line arguments, quoted at random."""
    return [f'{k}="{v}"' if rng.random() < 0.3 else f"{k}={v}" for k, v in labels.items()]


# --- running both --------------------------------------------------------------------------------


@dataclass
class Case:
    """One (tree, label set) pair and what each side said."""

    tree_index: int
    file: Path
    text: str
    labels: dict[str, str]
    args: list[str]
    ours: str = ""
    theirs: str = ""


def run_amtool(file: Path, args: Sequence[str]) -> str:
    """amtool's first stdout line for ``args``, or its failure (exit code and stderr)."""
    assert AMTOOL is not None
    proc = subprocess.run(
        [AMTOOL, "config", "routes", "test", f"--config.file={file}", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "HOME": str(file.parent)},  # no user's ~/.config/amtool
    )
    if proc.returncode != 0:
        return f"<amtool exit {proc.returncode}: {proc.stderr.strip()}>"
    return proc.stdout.split("\n", 1)[0]


def load_router(text: str, file: Path) -> Router | str:
    """Our router for the routing file ``text``, or the config error as a string."""
    try:
        return Router(parse_routing_config(text, str(file), {}).root)
    except ConfigError as exc:
        return f"<ConfigError: {exc}>"


def route_ours(router: Router | str, labels: dict[str, str]) -> str:
    """Our receivers line for ``labels``, computed in-process (or the config error)."""
    if isinstance(router, str):
        return router
    return ",".join(route.receiver for route in router.match(labels))


def route_cli(file: Path, args: Sequence[str], capsys: pytest.CaptureFixture[str]) -> str:
    """The first stdout line of ``alertrouter routes test``, run in-process."""
    capsys.readouterr()
    code = main(["routes", "test", "--config", str(file), *args])
    out, err = capsys.readouterr()
    if code != 0:
        return f"<alertrouter exit {code}: {err.strip()}>"
    return out.split("\n", 1)[0]


def disagreement_report(seed: int, bad: list[Case], total: int) -> str:
    """Every disagreement, grouped by tree, with the file text and how to replay the run."""
    parts = [
        f"{len(bad)} of {total} cases disagree with amtool "
        f"(replay: AMTOOL_DIFF_SEED={seed} pytest {__file__})"
    ]
    by_tree: dict[int, list[Case]] = {}
    for case in bad:
        by_tree.setdefault(case.tree_index, []).append(case)
    for index, cases in by_tree.items():
        parts.append(f"\n--- tree {index} (seed {seed}) ---\n{cases[0].text}")
        for case in cases:
            parts.append(f"labels {' '.join(case.args) or '(none)'}")
            parts.append(f"  ours:   {case.ours!r}\n  amtool: {case.theirs!r}")
    return "\n".join(parts)


def compare(cases: list[Case]) -> None:
    """Fill in amtool's answer for every case, a few amtool processes at a time."""
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        answers = pool.map(lambda c: run_amtool(c.file, c.args), cases)
        for case, answer in zip(cases, answers, strict=True):
            case.theirs = answer


@pytest.mark.slow
def test_random_trees_route_like_amtool(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Random trees and label sets get amtool's receivers line, in-process and via our CLI."""
    seed = int(os.environ.get("AMTOOL_DIFF_SEED") or random.SystemRandom().randrange(2**32))
    rng = random.Random(seed)
    cases: list[Case] = []
    for index in range(TREES):
        text = routing_file(random_tree(rng), rng)
        file = tmp_path / f"tree{index:03}.yml"
        file.write_text(text, encoding="utf-8")
        router = load_router(text, file)
        for n in range(LABEL_SETS_PER_TREE):
            labels = random_labels(rng)
            case = Case(index, file, text, labels, label_args(rng, labels))
            case.ours = route_ours(router, labels)
            if n < CLI_CHECKS_PER_TREE:
                cli = route_cli(file, case.args, capsys)
                assert cli == case.ours, f"seed {seed}: CLI and library differ on\n{text}{labels}"
            cases.append(case)
    compare(cases)
    bad = [c for c in cases if c.ours != c.theirs]
    assert not bad, disagreement_report(seed, bad, len(cases))
    assert len(cases) >= 500


@pytest.mark.parametrize(
    ("config_file", "args"),
    [
        ("conf.routing.yml", ["test=1"]),
        ("conf.routing.yml", ["test=2"]),
        ("conf.routing.yml", ['test="12"']),
        ("conf.routing.yml", ["test=volovina"]),
        ("conf.routing.yml", []),
        ("conf.routing-reverted.yml", ["test=2"]),
        ("conf.routing-reverted.yml", ["test=1"]),
    ],
)
def test_amtool_test_configs_route_like_amtool(
    config_file: str, args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """amtool's own TestRoutingTest configs give its line through our CLI too."""
    file = DATA / config_file
    assert route_cli(file, args, capsys) == run_amtool(file, args)


@pytest.mark.parametrize(
    ("node", "args"),
    [
        ("match: {code: 500}", ["code=500"]),
        ("match: {x: 1.0}", ["x=1.0"]),
        pytest.param("match: {x: yes}", ["x=yes"]),
        pytest.param("match: {x: 010}", ["x=010"]),
        pytest.param("match_re: {x: 1.50}", ["x=1.50"]),
        pytest.param("match: {x: ~}", ["x="]),
        ("matchers: ['x=~\"\\\\B\"']", ["x=--"]),
        pytest.param("matchers: ['x=~\"\\\\B\"']", []),
        ("match_re: {x: 'a)|(b'}", ["x=xb"]),  # match_re is wrapped twice: anchored after all
        pytest.param("matchers: ['x=~\"a)|(b\"']", ["x=xb"]),
        pytest.param("match_re: {x: '(?<n>a)'}", ["x=a"]),
        pytest.param("match_re: {x: '\\C'}", ["x=a"]),
        pytest.param("match_re: {x: '\\p{Kawi}'}", ["x=a"]),
        ("match_re: {x: '\\p{Greek}+'}", ["x=αβ"]),
    ],
)
def test_edge_cases_route_like_amtool(
    node: str, args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Hand-picked edges (YAML scalars, \\B, escaping regexes, regex syntax) agree with amtool."""
    file = tmp_path / "edge.yml"
    file.write_text(
        f"route:\n  receiver: root\n  routes:\n    - {node}\n      receiver: hit\n"
        "receivers: [{name: root}, {name: hit}]\n",
        encoding="utf-8",
    )
    ours, theirs = route_cli(file, args, capsys), run_amtool(file, args)
    assert (ours.startswith("<"), ours if ours[:1] != "<" else "") == (
        theirs.startswith("<"),
        theirs if theirs[:1] != "<" else "",
    ), f"ours {ours!r}, amtool {theirs!r}"
