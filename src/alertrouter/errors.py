"""The one exception hierarchy of alertrouter.

AlertRouterError
├── ConfigError                 the routing file or settings are invalid (carries every problem)
├── NotifierError               a notification could not be sent
│   ├── RetryableNotifierError  try again later (never before ``retry_after``)
│   └── PermanentNotifierError  will never succeed as is: dead-letter it
└── StoreError                  the state backend failed
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AlertRouterError",
    "ConfigError",
    "ConfigProblem",
    "NotifierError",
    "PermanentNotifierError",
    "RetryableNotifierError",
    "StoreError",
]


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
