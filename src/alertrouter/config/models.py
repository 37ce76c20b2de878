"""Pydantic models of the routing file: Alertmanager's ``route:`` tree, ``global:`` and the rest.

Receivers are validated per integration type by the loader (each plugin owns its model).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, Field, SecretStr, field_validator
from pydantic_core import PydanticCustomError

from alertrouter.config.integrations import Duration, HTTPClientConfig, StrictModel, TLSConfig
from alertrouter.config.time_intervals import NamedTimeIntervalConfig
from alertrouter.errors import MatcherSyntaxError
from alertrouter.router.matchers import compile_anchored, parse_matchers

__all__ = [
    "ALERTMANAGER_GLOBAL_FIELDS_IGNORED",
    "ALERTMANAGER_TOP_LEVEL_IGNORED",
    "ROUTE_FIELDS_IGNORED",
    "GlobalConfig",
    "RouteConfig",
    "RoutingFileModel",
]

DEFAULT_REPEAT_INTERVAL = timedelta(hours=4)
_LABEL_NAME_RE = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")

# Alertmanager keys that make sense only inside Alertmanager (grouping is its job, upstream of
# us): accepted so a file moves over unchanged, and listed as ignored by check-config.
ROUTE_FIELDS_IGNORED = ("group_by", "group_wait", "group_interval")
# resolve_timeout: Alertmanager sets endsAt from it; the webhooks we get already carry endsAt.
ALERTMANAGER_GLOBAL_FIELDS_IGNORED = frozenset({"resolve_timeout"})
# Top-level keys of newer Alertmanager releases that mean nothing here.
ALERTMANAGER_TOP_LEVEL_IGNORED = frozenset({"tracing"})


def _check_matchers(text: str) -> str:
    try:
        parse_matchers(text)
    except MatcherSyntaxError as exc:
        raise PydanticCustomError("matcher", str(exc)) from None
    return text


def _check_regex(text: str) -> str:
    try:
        compile_anchored(text)
    except MatcherSyntaxError as exc:
        raise PydanticCustomError("regex", str(exc)) from None
    return text


def _check_label_names(value: dict[str, str]) -> dict[str, str]:
    for name in value:
        if not _LABEL_NAME_RE.fullmatch(name):
            raise PydanticCustomError("label_name", 'invalid label name "{name}"', {"name": name})
    return value


MatchersEntry = Annotated[str, AfterValidator(_check_matchers)]
RegexValue = Annotated[str, AfterValidator(_check_regex)]


class RouteConfig(StrictModel):
    """One node of the ``route:`` tree, exactly Alertmanager's keys."""

    receiver: str | None = None
    matchers: list[MatchersEntry] = Field(default_factory=list)
    match: Annotated[dict[str, str], AfterValidator(_check_label_names)] = Field(
        default_factory=dict
    )
    match_re: Annotated[dict[str, RegexValue], AfterValidator(_check_label_names)] = Field(
        default_factory=dict
    )
    continue_: bool = Field(False, alias="continue")
    routes: list[RouteConfig] = Field(default_factory=list)
    repeat_interval: Duration | None = None
    mute_time_intervals: list[str] = Field(default_factory=list)
    active_time_intervals: list[str] = Field(default_factory=list)
    # alertrouter's: a resolve for an alert we notified is sent while the route is muted
    # (or outside its active times), so a page opened before a maintenance window can close.
    # Inherited; default true. Alertmanager drops it (prometheus/alertmanager#3664).
    resolve_when_muted: bool | None = None
    group_by: list[str] | None = None
    group_wait: Duration | None = None
    group_interval: Duration | None = None

    @field_validator("repeat_interval", "group_interval")
    @classmethod
    def _not_zero(cls, value: timedelta | None, info: Any) -> timedelta | None:
        if value is not None and value <= timedelta(0):
            raise PydanticCustomError(
                "duration", "{field} cannot be zero", {"field": info.field_name}
            )
        return value


class GlobalConfig(StrictModel):
    """Alertmanager's ``global:`` keys, every one: integrations that lack a field inherit it.

    Which field takes which key is each config model's ``global_defaults`` (plus ``http_config``
    for every model that has one). ``*_file`` paths stay paths: the integration reads them.
    """

    http_config: HTTPClientConfig | None = None
    jira_api_url: str | None = None
    mattermost_webhook_url: SecretStr | None = None
    mattermost_webhook_url_file: str | None = None
    opsgenie_api_key: SecretStr | None = None
    opsgenie_api_key_file: str | None = None
    opsgenie_api_url: str | None = None
    pagerduty_url: str | None = None
    resolve_timeout: Duration | None = None
    rocketchat_api_url: str | None = None
    rocketchat_token: SecretStr | None = None
    rocketchat_token_file: str | None = None
    rocketchat_token_id: SecretStr | None = None
    rocketchat_token_id_file: str | None = None
    slack_api_url: SecretStr | None = None
    slack_api_url_file: str | None = None
    slack_app_token: SecretStr | None = None
    slack_app_token_file: str | None = None
    slack_app_url: str | None = None
    smtp_auth_identity: str | None = None
    smtp_auth_password: SecretStr | None = None
    smtp_auth_password_file: str | None = None
    smtp_auth_secret: SecretStr | None = None
    smtp_auth_secret_file: str | None = None
    smtp_auth_username: str | None = None
    smtp_force_implicit_tls: bool | None = None
    smtp_from: str | None = None
    smtp_hello: str | None = None
    smtp_require_tls: bool | None = None
    smtp_smarthost: str | None = None
    smtp_tls_config: TLSConfig | None = None
    telegram_api_url: str | None = None
    telegram_bot_token: SecretStr | None = None
    telegram_bot_token_file: str | None = None
    victorops_api_key: SecretStr | None = None
    victorops_api_key_file: str | None = None
    victorops_api_url: str | None = None
    webex_api_url: str | None = None
    wechat_api_corp_id: str | None = None
    wechat_api_secret: SecretStr | None = None
    wechat_api_secret_file: str | None = None
    wechat_api_url: str | None = None

    def defaults(self) -> dict[str, Any]:
        """The globals that are set, by their ``global:`` key (secrets still wrapped)."""
        return {k: v for k, v in self.__dict__.items() if v is not None}


class RoutingFileModel(StrictModel):
    """The top level of the routing file. ``receivers`` is checked by the loader, per type."""

    global_: GlobalConfig = Field(default_factory=GlobalConfig, alias="global")
    route: RouteConfig
    receivers: list[dict[str, Any]] = Field(default_factory=list)
    time_intervals: list[NamedTimeIntervalConfig] = Field(default_factory=list)
    mute_time_intervals: list[NamedTimeIntervalConfig] = Field(default_factory=list)
    inhibit_rules: list[Any] = Field(default_factory=list)
    templates: list[str] = Field(default_factory=list)
