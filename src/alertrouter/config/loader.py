"""Load and validate the routing file into a RoutingConfig, reporting every problem at once.

Each problem carries file:line and the dotted path of what is wrong; nothing is raised but
ConfigError, which lists them all.
"""

from __future__ import annotations

import difflib
import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path as FilePath
from typing import Any

from pydantic import BaseModel, ValidationError

from alertrouter.config.integrations import IntegrationConfig
from alertrouter.config.models import (
    ALERTMANAGER_GLOBAL_FIELDS_IGNORED,
    ALERTMANAGER_TOP_LEVEL_IGNORED,
    DEFAULT_REPEAT_INTERVAL,
    ROUTE_FIELDS_IGNORED,
    GlobalConfig,
    RouteConfig,
    RoutingFileModel,
)
from alertrouter.config.plugins import config_model, notifier_types
from alertrouter.config.templating import default_templates, load_templates
from alertrouter.config.time_intervals import NamedTimeIntervalConfig
from alertrouter.config.urls import url_problems
from alertrouter.config.yaml_source import Path, SourceDocument, parse_yaml
from alertrouter.errors import ConfigError, ConfigProblem, UnknownNotifierError, format_path
from alertrouter.router.matchers import Matcher, MatchType, parse_matchers
from alertrouter.router.time_intervals import TimeInterval
from alertrouter.router.tree import Route
from alertrouter.templates import AlertmanagerTemplates

__all__ = [
    "IntegrationSpec",
    "ReceiverConfig",
    "RoutingConfig",
    "load_routing_config",
    "parse_routing_config",
]


@dataclass(frozen=True, slots=True)
class IntegrationSpec:
    """One entry of a receiver's ``<type>_configs`` list; ``key`` is ``<type>[<index>]``, the
    integration's name within its receiver, as Alertmanager names it."""

    type: str
    index: int
    config: IntegrationConfig
    key: str = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", f"{self.type}[{self.index}]")


@dataclass(frozen=True, slots=True)
class ReceiverConfig:
    """A named receiver; no integrations means a blackhole, as in Alertmanager."""

    name: str
    integrations: tuple[IntegrationSpec, ...]


@dataclass(frozen=True, slots=True)
class RoutingConfig:
    """A validated routing file, compiled: the route tree, receivers and time intervals."""

    file: str
    sha256: str
    root: Route
    receivers: Mapping[str, ReceiverConfig]
    time_intervals: Mapping[str, tuple[TimeInterval, ...]]
    ignored: tuple[ConfigProblem, ...] = ()
    # Valid for Alertmanager but doomed at send time (a field template that does not parse).
    warnings: tuple[ConfigProblem, ...] = ()
    missing_variables: tuple[str, ...] = ()
    # ``*_file`` paths that did not exist (allowed with ``allow_missing_files``).
    missing_files: tuple[str, ...] = ()
    repeat_intervals: tuple[timedelta, ...] = field(default=())
    # Alertmanager's default templates plus the file's ``templates:``; compared by identity.
    templates: AlertmanagerTemplates = field(default_factory=default_templates, compare=False)


def load_routing_config(
    path: str | os.PathLike[str],
    environ: Mapping[str, str] | None = None,
    *,
    allow_missing_env: bool = False,
    allow_missing_files: bool = False,
    routing_only: bool = False,
) -> RoutingConfig:
    """Read and validate the routing file at ``path``; ConfigError lists every problem.

    With ``allow_missing_env`` unset variables are no error (routing never depends on them);
    they are listed in ``missing_variables``. With ``allow_missing_files`` a ``*_file`` that
    does not exist is none either (``missing_files``). With ``routing_only`` (testing routes)
    an integration that cannot be built, or a template file that does not parse, is a
    warning, and its receiver is kept without it: only the route tree must be valid.
    """
    file = os.fspath(path)
    try:
        text = FilePath(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError([ConfigProblem(file, None, "", f"cannot read: {reason}")]) from None
    return parse_routing_config(
        text,
        file,
        os.environ if environ is None else environ,
        base_dir=FilePath(file).parent,
        allow_missing_env=allow_missing_env,
        allow_missing_files=allow_missing_files,
        routing_only=routing_only,
    )


def parse_routing_config(
    text: str,
    file: str,
    environ: Mapping[str, str],
    *,
    base_dir: FilePath | None = None,
    allow_missing_env: bool = False,
    allow_missing_files: bool = False,
    routing_only: bool = False,
) -> RoutingConfig:
    """Validate routing-file ``text`` (named ``file`` in messages); ConfigError when invalid.

    The flags are ``load_routing_config``'s.
    """
    # Unset variables stay as written, so only the "not set" problem is reported for them,
    # not whatever their empty value would break further on.
    document = parse_yaml(text, file, environ, keep_missing=True)
    checker = _Checker(document, base_dir or FilePath("."), allow_missing_env)
    checker.missing_files = [] if allow_missing_files or routing_only else None
    checker.routing_only = routing_only
    config = checker.check(hashlib.sha256(text.encode("utf-8")).hexdigest())
    if checker.problems:
        unset = () if allow_missing_env else document.unset_variable_names()
        raise ConfigError(sorted(checker.problems, key=lambda p: (p.line or 0, p.path)), unset)
    assert config is not None
    return config


class _Checker:
    def __init__(self, document: SourceDocument, base_dir: FilePath, lenient_env: bool) -> None:
        self.document = document
        self.base_dir = base_dir
        self.lenient_env = lenient_env
        self.problems: list[ConfigProblem] = []
        self.ignored: list[ConfigProblem] = []
        self.warnings: list[ConfigProblem] = []
        self.missing_files: list[str] | None = None  # a list: missing *_file paths allowed
        self.routing_only = False

    def add(self, path: Path, message: str, *, about_variable: bool = False) -> None:
        if not about_variable and self._under_missing_variable(path):
            return
        if self.routing_only and _is_integration_path(path):
            self._warn(path, f"{message} (integration left out)")
            return
        line = self.document.line_of(path)
        self.problems.append(ConfigProblem(self.document.file, line, format_path(path), message))

    def _under_missing_variable(self, path: Path) -> bool:
        return any(
            missing[: len(path)] == path or path[: len(missing)] == missing
            for missing in self.document.missing_variables
        )

    def check(self, sha256: str) -> RoutingConfig | None:
        doc = self.document
        for line, path_text, message in doc.syntax_errors:
            self.problems.append(ConfigProblem(doc.file, line, path_text, message))
        if doc.syntax_errors:
            return None
        if not self.lenient_env:
            for path, names in doc.missing_variables.items():
                for name in names:
                    self.add(path, f"environment variable {name} is not set", about_variable=True)
        data = doc.data
        if not isinstance(data, dict):
            self.add((), "the routing file must be a mapping with route: and receivers:")
            return None
        data = self._strip_ignored(data)
        model = self._validate_model(data)
        receivers = self._check_receivers(data.get("receivers"), model)
        # Cross-references are checked on the raw tree, so they are reported even when
        # another part of the file failed validation.
        route = data.get("route")
        if isinstance(route, dict):
            self._check_root(route)
            receiver_names = set(receivers or ()) | _raw_names(data.get("receivers"))
            interval_names = _raw_names(data.get("time_intervals")) | _raw_names(
                data.get("mute_time_intervals")
            )
            self._check_references(route, ("route",), receiver_names, interval_names)
        if model is None or receivers is None:
            return None
        compiled_intervals = self._check_time_intervals(model)
        templates, problems = load_templates(model.templates, self.base_dir, doc.file)
        (self.warnings if self.routing_only else self.problems).extend(problems)
        if self.problems:
            return None
        root = _build_route(model.route, "route")
        return RoutingConfig(
            file=doc.file,
            sha256=sha256,
            root=root,
            receivers=receivers,
            time_intervals=compiled_intervals,
            ignored=tuple(self.ignored),
            warnings=tuple(self.warnings),
            missing_variables=doc.unset_variable_names(),
            missing_files=tuple(sorted(set(self.missing_files or ()))),
            repeat_intervals=tuple(sorted({r.repeat_interval for r in root.walk()})),
            templates=templates,
        )

    def _warn(self, path: Path, message: str) -> None:
        line = self.document.line_of(path)
        self.warnings.append(ConfigProblem(self.document.file, line, format_path(path), message))

    def _ignore(self, path: Path, why: str) -> None:
        line = self.document.line_of(path)
        self.ignored.append(ConfigProblem(self.document.file, line, format_path(path), why))

    def _strip_ignored(self, data: dict[str, Any]) -> dict[str, Any]:
        data = dict(data)
        for key in ("inhibit_rules",):
            if data.get(key):
                self._ignore((key,), "Alertmanager-only, ignored")
        for key in [k for k in data if k not in _TOP_LEVEL_KEYS]:
            # A key we do not know must not cost the rest of the file (its globals above
            # all); only an evident misspelling of one of ours is an error.
            if key in ALERTMANAGER_TOP_LEVEL_IGNORED:
                self._ignore((key,), "Alertmanager-only, ignored")
            elif difflib.get_close_matches(key, _TOP_LEVEL_KEYS, n=1, cutoff=0.75):
                continue  # left in: the model reports it with its "did you mean"
            else:
                self._ignore((key,), "unknown top-level key, ignored")
            del data[key]
        glob = data.get("global")
        if isinstance(glob, dict):
            for key in glob:
                if key in ALERTMANAGER_GLOBAL_FIELDS_IGNORED:
                    self._ignore(("global", key), "Alertmanager-only, ignored")
        self._note_route_ignored(data.get("route"), ("route",))
        if isinstance(data.get("route"), dict):
            data["route"] = self._label_values_as_written(data["route"], ("route",))
        return data

    def _label_values_as_written(self, route: dict[str, Any], path: Path) -> dict[str, Any]:
        """A null ``match`` value is the empty string, as Go's YAML decoder reads it."""
        route = dict(route)
        values = route.get("match")  # (a null match_re value is an error, as Alertmanager's)
        if isinstance(values, dict):
            route["match"] = {k: "" if v is None else v for k, v in values.items()}
        children = route.get("routes")
        if isinstance(children, list):
            route["routes"] = [
                self._label_values_as_written(child, (*path, "routes", i))
                if isinstance(child, dict)
                else child
                for i, child in enumerate(children)
            ]
        return route

    def _note_route_ignored(self, route: Any, path: Path) -> None:
        if not isinstance(route, dict):
            return
        for key in ROUTE_FIELDS_IGNORED:
            if key in route:
                self._ignore((*path, key), "grouping is Alertmanager's job upstream, ignored")
        children = route.get("routes")
        if isinstance(children, list):
            for i, child in enumerate(children):
                self._note_route_ignored(child, (*path, "routes", i))

    def _globals(self) -> GlobalConfig:
        """``global:`` alone, when another part of the file failed: integrations still
        inherit from it, so the failure elsewhere causes no false "not set" errors here."""
        raw = self.document.data.get("global") if isinstance(self.document.data, dict) else None
        try:
            return GlobalConfig.model_validate(
                raw if isinstance(raw, dict) else {}, context={"base_dir": self.base_dir}
            )
        except ValidationError:
            return GlobalConfig()  # its own problems are reported by the whole model

    def _validate_model(self, data: dict[str, Any]) -> RoutingFileModel | None:
        try:
            return RoutingFileModel.model_validate(data, context={"base_dir": self.base_dir})
        except ValidationError as exc:
            self._add_validation_errors(exc, ())
            return None

    def _add_validation_errors(self, exc: ValidationError, prefix: Path) -> None:
        for error in exc.errors(include_url=False):
            loc = tuple("continue" if p == "continue_" else p for p in error["loc"])
            path = (*prefix, *loc)
            kind = error["type"]
            if kind == "extra_forbidden":
                self.add(path, _unknown_key_message(str(path[-1]), _KNOWN_KEYS))
            elif kind == "missing":
                self.add(path, "field required")
            else:
                self.add(path, error["msg"])

    def _check_receivers(
        self, raw: Any, model: RoutingFileModel | None
    ) -> dict[str, ReceiverConfig] | None:
        if raw is None:
            return {}
        if not isinstance(raw, list):
            return None  # the model reported it
        defaults = (model.global_ if model is not None else self._globals()).defaults()
        receivers: dict[str, ReceiverConfig] = {}
        for i, entry in enumerate(raw):
            path: Path = ("receivers", i)
            if not isinstance(entry, dict):
                continue  # the model reported it
            name = entry.get("name")
            if not isinstance(name, str) or not name:
                self.add(path, "missing name in receiver")
                name = None
            elif name in receivers:
                self.add((*path, "name"), f'notification config name "{name}" is not unique')
            integrations: list[IntegrationSpec] = []
            for key, value in entry.items():
                if key == "name":
                    continue
                integrations.extend(self._check_integrations(path, key, value, defaults))
            if name is not None and name not in receivers:
                receivers[name] = ReceiverConfig(name, tuple(integrations))
        return receivers

    def _check_integrations(
        self, receiver_path: Path, key: str, value: Any, defaults: dict[str, Any]
    ) -> list[IntegrationSpec]:
        path = (*receiver_path, key)
        if not key.endswith("_configs"):
            self.add(path, _unknown_key_message(key, ("name", *notifier_config_keys())))
            return []
        type_name = key.removesuffix("_configs")
        try:
            model = config_model(type_name)
        except UnknownNotifierError:
            known = ", ".join(notifier_types())
            self.add(path, f'unknown notifier type "{type_name}" (known: {known})')
            return []
        except ImportError as exc:
            self.add(path, f'notifier type "{type_name}" cannot be loaded: {exc}')
            return []
        if value is None:
            return []
        if not isinstance(value, list):
            self.add(path, "must be a list of integration configs")
            return []
        specs = []
        for index, item in enumerate(value):
            item_path = (*path, index)
            if not isinstance(item, dict):
                self.add(item_path, "must be a mapping")
                continue
            item = self._prepare_integration(item_path, item, model, defaults)
            template_warnings: list[tuple[str, str]] = []
            context = {
                "base_dir": self.base_dir,
                "template_warnings": template_warnings,
                "missing_files": self.missing_files,
            }
            try:
                config = model.model_validate(item, context=context)
            except ValidationError as exc:
                self._add_validation_errors(exc, item_path)
                continue
            for field_name, message in template_warnings:
                self._warn((*item_path, field_name) if field_name in item else item_path, message)
            bad_urls = list(url_problems(config))
            for field_path, message in bad_urls:
                self.add((*item_path, *field_path), message)
            if not bad_urls:
                specs.append(IntegrationSpec(type_name, index, config))
        return specs

    def _prepare_integration(
        self, path: Path, item: dict[str, Any], model: type[IntegrationConfig],
        defaults: dict[str, Any],
    ) -> dict[str, Any]:  # fmt: skip
        prepared = {}
        for key, value in item.items():
            if key in model.ignored_fields:
                self._ignore((*path, key), "not used by alertrouter's notifier, ignored")
            else:
                prepared[key] = value
        siblings = {**model.secret_files, **{v: k for k, v in model.secret_files.items()}}
        inherited = dict(model.global_defaults)
        if "http_config" in model.model_fields:
            inherited.setdefault("http_config", "http_config")  # as Alertmanager, every type
        for field_name, global_key in inherited.items():
            # A secret given either way (``api_key`` or ``api_key_file``) takes neither global
            # form; of a global given both ways, the inline one (first) wins.
            if global_key not in defaults or {field_name, siblings.get(field_name)} & set(prepared):
                continue
            value = defaults[global_key]
            prepared[field_name] = (
                value.get_secret_value() if hasattr(value, "get_secret_value") else value
            )
        return prepared

    def _check_time_intervals(self, model: RoutingFileModel) -> dict[str, tuple[TimeInterval, ...]]:
        intervals: dict[str, tuple[TimeInterval, ...]] = {}
        for key in ("mute_time_intervals", "time_intervals"):
            for i, named in enumerate(getattr(model, key)):
                if named.name in intervals:
                    self.add((key, i, "name"), f'time interval "{named.name}" is not unique')
                intervals[named.name] = named.compile()
        return intervals

    def _check_root(self, root: dict[str, Any]) -> None:
        if not root.get("receiver"):
            self.add(("route",), "root route must specify a default receiver")
        if root.get("matchers") or root.get("match") or root.get("match_re"):
            self.add(("route",), "root route must not have any matchers")
        if _yaml_true(root.get("continue")):
            self.add(("route", "continue"), "cannot have continue in root route")
        if root.get("mute_time_intervals"):
            self.add(("route",), "root route must not have any mute time intervals")
        if root.get("active_time_intervals"):
            self.add(("route",), "root route must not have any active time intervals")

    def _check_references(
        self, route: dict[str, Any], path: Path, receivers: set[str], intervals: set[str]
    ) -> None:
        receiver = route.get("receiver")
        if isinstance(receiver, str) and receiver and receiver not in receivers:
            self.add((*path, "receiver"), f'undefined receiver "{receiver}" used in route')
        for key in ("mute_time_intervals", "active_time_intervals"):
            names = route.get(key)
            for i, name in enumerate(names if isinstance(names, list) else []):
                if isinstance(name, str) and name not in intervals:
                    self.add((*path, key, i), f'undefined time interval "{name}" used in route')
        children = route.get("routes")
        for i, child in enumerate(children if isinstance(children, list) else []):
            if isinstance(child, dict):
                self._check_references(child, (*path, "routes", i), receivers, intervals)


_YAML_TRUE = frozenset({"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"})


def _yaml_true(value: Any) -> bool:
    """Whether a scalar as written is true to Go's YAML 1.1 decoder (``false`` is not)."""
    return value is True or (isinstance(value, str) and value in _YAML_TRUE)


def _is_integration_path(path: Path) -> bool:
    """Whether ``path`` is inside a receiver's ``<type>_configs``."""
    return len(path) >= 3 and path[0] == "receivers" and str(path[2]).endswith("_configs")


def _raw_names(entries: Any) -> set[str]:
    if not isinstance(entries, list):
        return set()
    return {e["name"] for e in entries if isinstance(e, dict) and isinstance(e.get("name"), str)}


def _build_route(
    config: RouteConfig,
    route_id: str,
    inherited_receiver: str = "",
    inherited_repeat: timedelta = DEFAULT_REPEAT_INTERVAL,
    inherited_resolve_when_muted: bool = True,
) -> Route:
    matchers: list[Matcher] = [
        Matcher.create(name, MatchType.EQUAL, value) for name, value in config.match.items()
    ]
    # Alertmanager anchors a match_re regex when it reads the file, then again as a matcher;
    # the double wrap matters for a regex that closes the group itself (`a)|(b`).
    matchers += [
        Matcher.create(name, MatchType.REGEX, f"^(?:{value})$")
        for name, value in config.match_re.items()
    ]
    for entry in config.matchers:
        matchers.extend(parse_matchers(entry))
    receiver = config.receiver or inherited_receiver
    repeat = config.repeat_interval or inherited_repeat
    resolve_when_muted = (
        inherited_resolve_when_muted
        if config.resolve_when_muted is None
        else config.resolve_when_muted
    )
    children = [
        _build_route(child, f"{route_id}.routes[{i}]", receiver, repeat, resolve_when_muted)
        for i, child in enumerate(config.routes)
    ]
    return Route(
        id=route_id,
        receiver=receiver,
        repeat_interval=repeat,
        matchers=tuple(matchers),
        continue_=config.continue_,
        routes=tuple(children),
        mute_time_intervals=tuple(config.mute_time_intervals),
        active_time_intervals=tuple(config.active_time_intervals),
        resolve_when_muted=resolve_when_muted,
    )


def notifier_config_keys() -> list[str]:
    """``<type>_configs`` for every known notifier type."""
    return [f"{name}_configs" for name in notifier_types()]


def _model_keys(*models: type[BaseModel]) -> tuple[str, ...]:
    keys: set[str] = set()
    for model in models:
        for name, info in model.model_fields.items():
            keys.add(info.alias or name)
    return tuple(sorted(keys))


_KNOWN_KEYS = _model_keys(RoutingFileModel, RouteConfig, GlobalConfig, NamedTimeIntervalConfig)
_TOP_LEVEL_KEYS = _model_keys(RoutingFileModel)


def _unknown_key_message(key: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.75)
    hint = f' (did you mean "{close[0]}"?)' if close else ""
    return f'unknown key "{key}"{hint}'
