"""The locks in requirements/ agree with pyproject.toml, and the venv holds exactly the lock."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "requirements"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^ \\;]+)", re.MULTILINE)
# Installed by `python -m venv` itself, before any lock can apply; never imported by us.
_VENV_SEED = {"pip"}


def _pins(name: str) -> dict[str, str]:
    text = (REQUIREMENTS / name).read_text()
    return {canonicalize_name(m[1]): m[2] for m in _PIN.finditer(text)}


def _declared() -> tuple[list[Requirement], list[Requirement]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = [Requirement(r) for r in project["dependencies"]]
    dev = [Requirement(r) for r in project["optional-dependencies"]["dev"]]
    return runtime, dev


@pytest.mark.parametrize(("lock", "with_dev"), [("runtime.txt", False), ("dev.txt", True)])
def test_every_declared_dependency_is_locked_within_its_range(lock: str, with_dev: bool) -> None:
    """Each dependency in pyproject.toml is pinned in the lock at a version its range allows."""
    pins = _pins(lock)
    runtime, dev = _declared()
    for requirement in runtime + (dev if with_dev else []):
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement} is not in requirements/{lock}: run `make lock`"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"requirements/{lock} pins {name}=={pins[name]}, outside {requirement}: run `make lock`"
        )


def test_every_line_of_the_locks_carries_hashes() -> None:
    """Every pin has at least one hash, so pip and uv install with --require-hashes."""
    for lock in ("runtime.txt", "dev.txt", "tools.txt"):
        text = (REQUIREMENTS / lock).read_text()
        blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
        for block in filter(None, (b.strip() for b in blocks)):
            assert "--hash=sha256:" in block, f"requirements/{lock}: no hash for {block.split()[0]}"


def test_the_runtime_lock_is_the_dev_lock_without_the_dev_tools() -> None:
    """runtime.txt and dev.txt resolve the shared packages to the same versions."""
    runtime, dev = _pins("runtime.txt"), _pins("dev.txt")
    differing = {n: (v, dev.get(n)) for n, v in runtime.items() if dev.get(n) != v}
    assert not differing, f"runtime.txt and dev.txt disagree: {differing}: run `make lock`"


def test_the_venv_holds_exactly_the_locked_versions() -> None:
    """Every installed distribution is locked at the installed version (nothing unlocked)."""
    locked = _pins("dev.txt") | _pins("tools.txt")
    unlocked, drifted = [], []
    for dist in metadata.distributions():
        name = canonicalize_name(dist.metadata["Name"])
        if name == "alertrouter" or name in _VENV_SEED:
            continue
        if name not in locked:
            unlocked.append(f"{name}=={dist.version}")
        elif locked[name] != dist.version:
            drifted.append(f"{name}: installed {dist.version}, locked {locked[name]}")
    assert not unlocked, f"installed but not in the lock: {unlocked}"
    assert not drifted, f"installed versions differ from the lock: {drifted}"
