"""Service settings from the environment (design.md §2), overridable by ``serve`` flags."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from alertrouter.errors import ConfigError, ConfigProblem

__all__ = ["DEFAULT_CONFIG", "DEFAULT_LISTEN", "DEFAULT_STATE_URL", "Settings", "parse_listen"]

DEFAULT_CONFIG = "config/alertrouter.yml"
DEFAULT_LISTEN = "127.0.0.1:8080"
DEFAULT_STATE_URL = "sqlite:///data/alertrouter.db"
DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything ``serve`` needs besides the routing file's content."""

    config_path: str = DEFAULT_CONFIG
    listen: str = DEFAULT_LISTEN
    state_url: str = DEFAULT_STATE_URL
    webhook_token: str | None = dataclasses.field(default=None, repr=False)
    webhook_user: str | None = None
    webhook_password: str | None = dataclasses.field(default=None, repr=False)
    admin_token: str | None = dataclasses.field(default=None, repr=False)
    log_format: str = "console"
    log_level: str = "info"
    sentry_dsn: str | None = dataclasses.field(default=None, repr=False)
    environment: str = "production"
    enable_metrics: bool = True
    dry_run: bool = False
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    tls_cert_file: str | None = None
    tls_key_file: str | None = None
    shutdown_timeout: float = 10.0
    lease_seconds: float = 120.0
    queue_hold_seconds: float = 60.0
    header_timeout: float = 10.0
    ui: bool = True  # the operator console under /ui/

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Read ``ALERTROUTER_*``, ``SENTRY_DSN``, ``ENVIRONMENT`` and ``ENABLE_METRICS``."""
        problems: list[ConfigProblem] = []

        def get(name: str) -> str | None:
            value = environ.get(name)
            return value if value else None

        def flag(name: str, default: bool) -> bool:
            value = get(name)
            if value is None:
                return default
            if value.lower() in _TRUE:
                return True
            if value.lower() in _FALSE:
                return False
            problems.append(ConfigProblem("environment", None, name, "want true or false"))
            return default

        def number(name: str, default: int, minimum: int = 1) -> int:
            value = get(name)
            if value is None:
                return default
            if not value.isdigit() or int(value) < minimum:
                want = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
                problems.append(ConfigProblem("environment", None, name, f"want {want}"))
                return default
            return int(value)

        def seconds(name: str, default: float) -> float:
            value = get(name)
            if value is None:
                return default
            try:
                parsed = float(value)
            except ValueError:
                parsed = -1.0
            if parsed <= 0:
                problems.append(ConfigProblem("environment", None, name, "want seconds > 0"))
                return default
            return parsed

        log_format = get("ALERTROUTER_LOG_FORMAT") or "console"
        if log_format not in ("json", "console"):
            problems.append(
                ConfigProblem("environment", None, "ALERTROUTER_LOG_FORMAT", "want json or console")
            )
        token = get("ALERTROUTER_WEBHOOK_TOKEN")
        token_file = get("ALERTROUTER_WEBHOOK_TOKEN_FILE")
        if token_file and not token:
            try:
                token = Path(token_file).read_text(encoding="utf-8").strip() or None
            except OSError as exc:
                problems.append(
                    ConfigProblem(
                        "environment", None, "ALERTROUTER_WEBHOOK_TOKEN_FILE",
                        f"cannot read {token_file}: {exc.strerror or exc}",
                    )
                )  # fmt: skip
        settings = cls(
            config_path=get("ALERTROUTER_CONFIG") or DEFAULT_CONFIG,
            listen=get("ALERTROUTER_LISTEN") or DEFAULT_LISTEN,
            state_url=get("ALERTROUTER_STATE_URL") or DEFAULT_STATE_URL,
            webhook_token=token,
            webhook_user=get("ALERTROUTER_WEBHOOK_USER"),
            webhook_password=get("ALERTROUTER_WEBHOOK_PASSWORD"),
            admin_token=get("ALERTROUTER_ADMIN_TOKEN"),
            log_format=log_format,
            log_level=(get("ALERTROUTER_LOG_LEVEL") or "info").lower(),
            sentry_dsn=get("SENTRY_DSN"),
            environment=get("ENVIRONMENT") or "production",
            enable_metrics=flag("ENABLE_METRICS", True),
            dry_run=flag("ALERTROUTER_DRY_RUN", False),
            max_body_bytes=number("ALERTROUTER_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES),
            shutdown_timeout=seconds("ALERTROUTER_SHUTDOWN_TIMEOUT", 10.0),
            lease_seconds=seconds("ALERTROUTER_LEASE_SECONDS", 120.0),
            queue_hold_seconds=seconds("ALERTROUTER_QUEUE_HOLD_SECONDS", 60.0),
            header_timeout=seconds("ALERTROUTER_HEADER_TIMEOUT", 10.0),
            ui=flag("ALERTROUTER_UI", True),
        )
        if problems:
            raise ConfigError(problems)
        return settings

    def with_overrides(self, **changes: object) -> Settings:
        """A copy with the flags that were given (None means not given)."""
        given = {k: v for k, v in changes.items() if v is not None}
        return dataclasses.replace(self, **given)  # type: ignore[arg-type]


def parse_listen(listen: str) -> tuple[str, int]:
    """``host:port`` (``[::1]:8080`` for IPv6) -> (host, port); ValueError when malformed."""
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f'listen address "{listen}": want host:port')
    return host.strip("[]") or "0.0.0.0", int(port)
