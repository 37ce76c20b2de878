"""Golden routing cases: ``tests: [{labels: {...}, expect: [receiver, ...]}]`` run in one go."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from alertrouter.config.yaml_source import parse_yaml
from alertrouter.errors import ConfigError, ConfigProblem, format_path
from alertrouter.router.tree import Router

__all__ = ["CaseResult", "RoutingCase", "load_cases", "run_cases"]


@dataclass(frozen=True, slots=True)
class RoutingCase:
    """One golden case: a label set and the receivers it must reach, in order."""

    name: str
    line: int | None
    labels: Mapping[str, str]
    expect: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CaseResult:
    """A case and the receivers the route tree actually gave."""

    case: RoutingCase
    got: tuple[str, ...]

    @property
    def passed(self) -> bool:
        """Whether the receivers are exactly the expected ones, in the same order."""
        return self.got == self.case.expect


def load_cases(text: str, file: str) -> list[RoutingCase]:
    """Parse a cases file; ConfigError with file:line for every malformed case."""
    document = parse_yaml(text, file, {})
    problems = [ConfigProblem(file, line, path, msg) for line, path, msg in document.syntax_errors]
    cases: list[RoutingCase] = []
    data = document.data
    entries = data.get("tests") if isinstance(data, dict) else None
    if not problems and not isinstance(entries, list):
        problems.append(ConfigProblem(file, 1, "tests", "want a list of {labels, expect} cases"))
        entries = []
    for i, entry in enumerate(entries or []):
        path = ("tests", i)
        line = document.line_of(path)

        def bad(message: str, where: tuple[str | int, ...] = path, at: int | None = line) -> None:
            problems.append(ConfigProblem(file, at, format_path(where), message))

        if not isinstance(entry, dict):
            bad("want a mapping with labels and expect")
            continue
        unknown = set(entry) - {"name", "labels", "expect"}
        for key in sorted(unknown):
            bad(f'unknown key "{key}"', (*path, key), document.line_of((*path, key)))
        labels = entry.get("labels", {})
        expect = entry.get("expect")
        if not isinstance(labels, dict):
            bad("labels: want a mapping of label names to values")
            continue
        if isinstance(expect, str):
            expect = expect.split(",") if expect else []
        if not isinstance(expect, list) or not all(isinstance(r, str) for r in expect):
            bad("expect: want a list of receiver names")
            continue
        name = str(entry.get("name") or f"case {i + 1}")
        pairs = {str(k): _label_text(v) for k, v in labels.items()}
        cases.append(RoutingCase(name, line, pairs, tuple(expect)))
    if problems:
        raise ConfigError(problems)
    return cases


def run_cases(router: Router, cases: list[RoutingCase]) -> list[CaseResult]:
    """Route every case's labels and pair them with the receivers they reached."""
    return [
        CaseResult(case, tuple(route.receiver for route in router.match(case.labels)))
        for case in cases
    ]


def _label_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)
