"""Acceptance: real-world Alertmanager configs (``tests/data/amconfigs``) load and route here.

Every ``*/alertmanager.yml`` that amtool 0.25's ``check-config`` accepts must pass
``alertrouter check-config --allow-missing-env`` and route each generated label set (values
drawn from the file's own matchers, plus random ones) to the line ``amtool config routes
test`` prints. A config using a receiver type still being built elsewhere (``PENDING_TYPES``)
is an expected failure of the load check naming that type; its routing is still compared.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import zlib
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from alertrouter.cli.main import main
from alertrouter.config.loader import load_routing_config
from alertrouter.config.plugins import notifier_types
from alertrouter.config.yaml_source import parse_yaml
from alertrouter.router.matchers import MatchType
from alertrouter.router.tree import Route, Router

CORPUS = Path(__file__).parent / "data" / "amconfigs"
AMTOOL = shutil.which("amtool") or (
    "/usr/bin/amtool" if os.access("/usr/bin/amtool", os.X_OK) else None
)
# Receiver types not built yet (every one of Alertmanager 0.34's is, today).
PENDING_TYPES: frozenset[str] = frozenset()
LABEL_SETS = 40
CLI_CHECKS = 2  # of them also through `alertrouter routes test`, in-process
_SAFE_VALUE = re.compile(r"[A-Za-z0-9 _.:/-]*")
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)")

pytestmark = [
    pytest.mark.amtool,
    pytest.mark.skipif(AMTOOL is None, reason="amtool not installed (prometheus-alertmanager)"),
    pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no config corpus at {CORPUS}"),
]


def corpus() -> list[Path]:
    return sorted(CORPUS.glob("*/alertmanager.yml")) if CORPUS.is_dir() else []


def amtool(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    assert AMTOOL is not None
    return subprocess.run(
        [AMTOOL, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "HOME": str(home)},  # no user's ~/.config/amtool
    )


@cache
def amtool_verdict(file: Path) -> str | None:
    """None when amtool 0.25 accepts ``file``, else its complaint."""
    proc = amtool("check-config", str(file), home=file.parent)
    if proc.returncode == 0:
        return None
    output = (proc.stdout + proc.stderr).split("FAILED:", 1)[-1]
    return " ".join(output.split())[:300]


def accepted(file: Path) -> None:
    verdict = amtool_verdict(file)
    if verdict is not None:
        pytest.skip(f"amtool 0.25 rejects it: {verdict}")


def used_types(file: Path) -> set[str]:
    """The ``<type>`` of every ``<type>_configs`` its receivers use."""
    data = parse_yaml(file.read_text(encoding="utf-8"), str(file), {}, keep_missing=True).data
    receivers = data.get("receivers") if isinstance(data, dict) else None
    return {
        key.removesuffix("_configs")
        for receiver in receivers or []
        if isinstance(receiver, dict)
        for key in receiver
        if key.endswith("_configs")
    }


def dummy_environment(file: Path) -> dict[str, str]:
    """A dummy value for every ``${VAR}`` the file uses."""
    return {name: f"dummy-{name.lower()}" for name in _VARIABLE.findall(file.read_text())}


def ids(files: list[Path]) -> list[str]:
    return [file.parent.name for file in files]


@pytest.mark.parametrize("file", corpus(), ids=ids(corpus()))
def test_config_loads(
    file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``alertrouter check-config --allow-missing-env`` accepts what amtool accepts."""
    accepted(file)
    pending = sorted((used_types(file) & PENDING_TYPES) - set(notifier_types()))
    if pending:
        pytest.xfail(f"receiver type(s) not built yet: {', '.join(pending)}")
    for name, value in dummy_environment(file).items():
        monkeypatch.setenv(name, value)
    code = main(["check-config", "--allow-missing-env", str(file)])
    assert code == 0, capsys.readouterr().err


# --- routing ----------------------------------------------------------------------------------


def walk(route: Route) -> Iterator[Route]:
    yield route
    for child in route.routes:
        yield from walk(child)


def regex_samples(pattern: str) -> list[str]:
    """Strings a simple regex probably matches: its alternatives with the syntax dropped."""
    samples = []
    for alternative in re.split(r"\|", pattern.strip("^$")):
        text = re.sub(
            r"\.\*|\.\+|\\.|[()^$?+*\[\]{}]", lambda m: m.group(0)[1:2] or "", alternative
        )
        samples.append(text.replace(".*", "").replace(".+", "x"))
    return samples


def value_pool(root: Route) -> dict[str, list[str]]:
    """For each label name the file matches on: the values its matchers name or suggest."""
    pool: dict[str, list[str]] = {}
    for route in walk(root):
        for matcher in route.matchers:
            values = pool.setdefault(matcher.name, ["", "other"])
            if matcher.type in (MatchType.REGEX, MatchType.NOT_REGEX):
                values.extend(regex_samples(matcher.value))
            else:
                values.append(matcher.value)
    return {
        name: sorted({v for v in values if _SAFE_VALUE.fullmatch(v)})
        for name, values in pool.items()
    }


def label_sets(root: Route, seed: int) -> list[dict[str, str]]:
    """``LABEL_SETS`` label sets that reach into the tree: the file's own values, mixed with
    random values and random extra labels; the empty set first."""
    rng = random.Random(seed)
    pool = value_pool(root)
    sets: list[dict[str, str]] = [{}]
    while len(sets) < LABEL_SETS:
        labels: dict[str, str] = {}
        for name, values in pool.items():
            if rng.random() < 0.6:
                random_value = "".join(rng.choices("abcxyz019-", k=rng.randint(1, 6)))
                labels[name] = rng.choice(values) if rng.random() < 0.8 else random_value
        if rng.random() < 0.3:
            labels[f"extra_{rng.randint(0, 9)}"] = rng.choice(["1", "yes", "prod"])
        labels = {k: v for k, v in labels.items() if v != ""}  # amtool: a label, not ""
        sets.append(labels)
    return sets


def amtool_route(file: Path, labels: dict[str, str]) -> str:
    args = [f'{name}="{value}"' for name, value in labels.items()]
    proc = amtool("config", "routes", "test", f"--config.file={file}", *args, home=file.parent)
    if proc.returncode != 0:
        return f"<amtool exit {proc.returncode}: {proc.stderr.strip()}>"
    return proc.stdout.split("\n", 1)[0]


@pytest.mark.parametrize("file", corpus(), ids=ids(corpus()))
def test_config_routes_like_amtool(file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Every generated label set reaches the receivers amtool names, through the library and
    (for the first few) through ``alertrouter routes test``."""
    accepted(file)
    config = load_routing_config(
        file, dummy_environment(file), allow_missing_env=True, routing_only=True
    )
    router = Router(config.root)
    disagreements = []
    sets = label_sets(config.root, zlib.crc32(file.parent.name.encode()))
    for index, labels in enumerate(sets):
        ours = ",".join(route.receiver for route in router.match(labels))
        theirs = amtool_route(file, labels)
        if ours != theirs:
            disagreements.append(f"{labels}: ours {ours!r}, amtool {theirs!r}")
        if index < CLI_CHECKS:
            capsys.readouterr()
            args = [f"{name}={value}" for name, value in labels.items()]
            assert main(["routes", "test", "--config", str(file), *args]) == 0
            assert capsys.readouterr().out.split("\n", 1)[0] == ours
    assert not disagreements, "\n".join(disagreements)
    assert len(sets) == LABEL_SETS
