"""The one exception hierarchy of alertrouter.

AlertRouterError
├── ConfigError                 the routing file or settings are invalid (carries every problem)
├── MatcherSyntaxError          a matcher or label set Alertmanager would reject (a ValueError)
├── UnknownNotifierError        no plugin has this integration type (a LookupError)
├── PayloadError                a webhook body that is not a valid Alertmanager payload
├── NotifierError               a notification could not be sent
│   ├── RetryableNotifierError  try again later (never before ``retry_after``)
│   └── PermanentNotifierError  will never succeed as is: dead-letter it
├── StoreError                  the state backend failed
├── ServeError                  the service cannot start as configured (listen address, TLS)
└── ClientError                 the CLI could not reach a running service, or it refused

The Go template engine (``alertrouter.templates``) stands alone and has its own errors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "FAILURE_REASONS",
    "AlertRouterError",
    "ClientError",
    "ConfigError",
    "ConfigProblem",
    "MatcherSyntaxError",
    "NotifierError",
    "PayloadError",
    "PermanentNotifierError",
    "RetryableNotifierError",
    "ServeError",
    "StoreError",
    "UnknownNotifierError",
    "format_path",
]

# Alertmanager's names for why a notification failed (its notifications_failed_total reasons).
FAILURE_REASONS = ("clientError", "serverError", "rateLimited", "authError", "timeout", "other")


class AlertRouterError(Exception):
    """Base of every error alertrouter raises on purpose."""


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One thing wrong with a config file: where (file:line, dotted path) and what."""

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ConfigError(AlertRouterError):
    """The configuration is invalid; ``problems`` lists every problem found, in file order,
    and ``unset_variables`` the ``${VAR}`` names among them that are not set."""

    def __init__(
        self, problems: list[ConfigProblem], unset_variables: tuple[str, ...] = ()
    ) -> None:
        self.problems = problems
        self.unset_variables = unset_variables
        super().__init__("\n".join(str(p) for p in problems))


class NotifierError(AlertRouterError):
    """A notification failed; ``reason`` is Alertmanager's vocabulary (clientError, ...)."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


class RetryableNotifierError(NotifierError):
    """A transient failure: retry, but not before ``retry_after`` seconds when given."""

    def __init__(self, reason: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(reason, message)
        self.retry_after = retry_after


class PermanentNotifierError(NotifierError):
    """A failure that retrying cannot fix: the job goes to the dead-letter list."""


class StoreError(AlertRouterError):
    """The state backend failed or is unreachable."""


class MatcherSyntaxError(AlertRouterError, ValueError):
    """A matcher string Alertmanager would reject; the message says why.

    A ValueError too, so pydantic validators that raise it report a validation error.
    """


class UnknownNotifierError(AlertRouterError, LookupError):
    """No built-in or installed plugin has this integration type name."""


class PayloadError(AlertRouterError):
    """A webhook body that is not a valid Alertmanager payload; ``problems`` name each field."""

    def __init__(self, problems: list[dict[str, Any]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p['field']}: {p['message']}" for p in problems))


class ServeError(AlertRouterError):
    """The service cannot start as configured (bad listen address, TLS files, ...)."""


class ClientError(AlertRouterError):
    """The service could not be reached or refused the request; the message says which."""


def format_path(path: Sequence[str | int]) -> str:
    """``("route", "routes", 1, "matchers", 0)`` -> ``route.routes[1].matchers[0]``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out
