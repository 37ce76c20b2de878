"""Config models shared by every notifier: the alertrouter extensions and HTTP client settings.

Field names follow Alertmanager's receiver configs so an existing file moves over unchanged.
Secrets are SecretStr and may come from a ``*_file`` sibling, read relative to the config file.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    model_validator,
)
from pydantic_core import PydanticCustomError

from alertrouter.durations import parse_duration

__all__ = [
    "MISSING_FILE_PLACEHOLDER",
    "BasicAuthConfig",
    "Duration",
    "HTTPClientConfig",
    "IntegrationConfig",
    "RateLimit",
    "RetryConfig",
    "SecretFilesModel",
    "StormConfig",
    "StrictModel",
    "TLSConfig",
    "read_secret_files",
]


# What a secret read from a missing ``*_file`` holds under ``--allow-missing-files``.
MISSING_FILE_PLACEHOLDER = "https://missing-file.invalid/"


def _to_duration(value: Any) -> Any:
    if isinstance(value, str | int) and not isinstance(value, bool):
        try:
            return parse_duration(str(value))
        except ValueError as exc:
            raise PydanticCustomError("duration", str(exc)) from None
    return value


Duration = Annotated[timedelta, BeforeValidator(_to_duration)]

_RATE_RE = re.compile(r"(\d+(?:\.\d+)?)\s*/\s*(s|m|h)")
_PER_SECONDS = {"s": 1.0, "m": 60.0, "h": 3600.0}


class StrictModel(BaseModel):
    """Frozen, and unknown keys are errors. A key given as null (``routes:`` with nothing
    under it, a ``global:`` of comments) is as if absent: Go's YAML decoder leaves the field
    at its default."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _nulls_are_absent(cls, data: Any) -> Any:
        if data is None:
            return {}
        if isinstance(data, dict) and None in data.values():
            return {k: v for k, v in data.items() if v is not None}
        return data


class RateLimit(StrictModel):
    """A sustained rate in messages per second, parsed from ``N/s``, ``N/m`` or ``N/h``."""

    per_second: float

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        if isinstance(value, str):
            found = _RATE_RE.fullmatch(value.strip())
            if found is None or float(found.group(1)) <= 0:
                raise PydanticCustomError(
                    "rate_limit",
                    'invalid rate "{value}": want "N/s", "N/m" or "N/h" with N > 0',
                    {"value": value},
                )
            return {"per_second": float(found.group(1)) / _PER_SECONDS[found.group(2)]}
        return value


class RetryConfig(StrictModel):
    """Backoff for retryable failures; a job older than ``max_age`` is dead-lettered."""

    initial: Duration = timedelta(seconds=1)
    max_interval: Duration = timedelta(minutes=5)
    max_age: Duration = timedelta(hours=24)


class StormConfig(StrictModel):
    """Backlog size at which pending messages of an integration are sent as one digest."""

    threshold: int = Field(10, ge=1)


class SecretFilesModel(StrictModel):
    """A model whose secrets may come from files: ``secret_files`` maps ``x_file`` to ``x``."""

    secret_files: ClassVar[dict[str, str]] = {}

    @model_validator(mode="before")
    @classmethod
    def _files(cls, data: Any, info: ValidationInfo) -> Any:
        return read_secret_files(data, cls.secret_files, info)


class BasicAuthConfig(SecretFilesModel):
    """HTTP basic auth, as in Prometheus' http_config."""

    username: str = ""
    password: SecretStr | None = None
    password_file: str | None = None

    secret_files: ClassVar[dict[str, str]] = {"password_file": "password"}


class AuthorizationConfig(SecretFilesModel):
    """The Authorization header: ``type`` (default Bearer) and its credentials."""

    type: str = "Bearer"
    credentials: SecretStr | None = None
    credentials_file: str | None = None

    secret_files: ClassVar[dict[str, str]] = {"credentials_file": "credentials"}


class TLSConfig(StrictModel):
    """Client TLS settings (files are paths on this machine)."""

    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    server_name: str | None = None
    insecure_skip_verify: bool = False
    min_version: str | None = None


class HTTPClientConfig(SecretFilesModel):
    """The subset of Prometheus' http_config that a notifier's HTTP client honours."""

    authorization: AuthorizationConfig | None = None
    basic_auth: BasicAuthConfig | None = None
    bearer_token: SecretStr | None = None
    bearer_token_file: str | None = None
    tls_config: TLSConfig | None = None
    proxy_url: str | None = None
    follow_redirects: bool = True
    enable_http2: bool = True

    secret_files: ClassVar[dict[str, str]] = {"bearer_token_file": "bearer_token"}

    @model_validator(mode="after")
    def _one_auth(self) -> HTTPClientConfig:
        given = [
            name
            for name in ("authorization", "basic_auth", "bearer_token")
            if getattr(self, name) is not None
        ]
        if len(given) > 1:
            raise PydanticCustomError(
                "http_config",
                "at most one of {names} must be configured",
                {"names": " & ".join(given)},
            )
        return self


class IntegrationConfig(SecretFilesModel):
    """Fields every ``<type>_configs`` entry accepts: Alertmanager's and alertrouter's own.

    Subclasses set ``default_send_resolved`` (Alertmanager's default for that type),
    ``per_alert_jobs`` (one notification per alert, as PagerDuty incidents need),
    ``ignored_fields`` (Alertmanager fields accepted but unused here), ``global_defaults``
    (field -> the ``global:`` key that fills it when absent) and ``secret_files``.
    """

    send_resolved: bool | None = None
    rate_limit: RateLimit | None = None
    rate_burst: int | None = Field(None, ge=1)
    retry: RetryConfig = RetryConfig()
    storm: StormConfig = StormConfig()

    default_send_resolved: ClassVar[bool] = True
    per_alert_jobs: ClassVar[bool] = False  # one notification per alert instead of per group
    ignored_fields: ClassVar[frozenset[str]] = frozenset()
    global_defaults: ClassVar[dict[str, str]] = {}

    @property
    def resolved_wanted(self) -> bool:
        """Whether resolves are sent: ``send_resolved`` or the type's Alertmanager default."""
        if self.send_resolved is None:
            return self.default_send_resolved
        return self.send_resolved

    def jobs_per_alert(self) -> bool:
        """One notification per alert (``per_alert_jobs``); a type may decide per entry."""
        return self.per_alert_jobs


def read_secret_files(data: Any, pairs: dict[str, str], info: ValidationInfo) -> Any:
    """Replace each ``<field>_file`` given in ``data`` by the file's content under ``<field>``.

    Relative paths are read from the config file's folder (``base_dir`` in the context).
    """
    if not isinstance(data, dict) or not pairs:
        return data
    base_dir = Path((info.context or {}).get("base_dir", "."))
    out = dict(data)
    for file_field, field_name in pairs.items():
        file_name = out.pop(file_field, None)
        if file_name is None:
            continue
        if out.get(field_name) is not None:
            raise PydanticCustomError(
                "secret_file",
                "at most one of {a} & {b} must be configured",
                {"a": field_name, "b": file_field},
            )
        path = base_dir / str(file_name)
        try:
            out[field_name] = path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            missing = (info.context or {}).get("missing_files")
            if missing is None:
                raise PydanticCustomError(
                    "secret_file",
                    "{field}: cannot read {path}: {reason}",
                    {"field": file_field, "path": str(path), "reason": "No such file or directory"},
                ) from None
            # Checking a file for production on another machine: note it, stand a value in.
            missing.append(str(path))
            out[field_name] = MISSING_FILE_PLACEHOLDER
        except OSError as exc:
            raise PydanticCustomError(
                "secret_file",
                "{field}: cannot read {path}: {reason}",
                {"field": file_field, "path": str(path), "reason": exc.strerror or str(exc)},
            ) from None
    return out
