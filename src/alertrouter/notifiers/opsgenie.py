"""Opsgenie Alert API v2: one Opsgenie alert per Alertmanager group, closed when it resolves.

The alert's ``alias`` is sha256 of the webhook's ``groupKey``, exactly Alertmanager's, so
Opsgenie deduplicates repeats into one alert and a cut-over from Alertmanager's own Opsgenie
receiver closes the alerts it opened. A group that resolves is closed by alias; alerts of a
still-firing group that resolve are added to it as a note.
"""

from __future__ import annotations

import functools
import json
import re
import time
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import quote

from pydantic import Field, SecretStr, model_validator
from pydantic_core import PydanticCustomError

from alertrouter.config.integrations import HTTPClientConfig, IntegrationConfig, StrictModel
from alertrouter.config.templating import GoTemplate
from alertrouter.errors import PermanentNotifierError
from alertrouter.notifiers import render
from alertrouter.notifiers.base import Notification, Notifier, Receipt, http_status_error
from alertrouter.notifiers.http import Masker, request, request_options
from alertrouter.notifiers.render import common_pairs
from alertrouter.notifiers.templating import FieldRenderer

__all__ = ["OpsGenieConfig", "OpsGenieNotifier", "OpsGenieResponderConfig"]

DEFAULT_API_URL = "https://api.opsgenie.com/"
DEFAULT_MESSAGE = '{{ template "opsgenie.default.message" . }}'
DEFAULT_DESCRIPTION = '{{ template "opsgenie.default.description" . }}'
DEFAULT_SOURCE = '{{ template "opsgenie.default.source" . }}'
TIMEOUT_SECONDS = 30.0
# Opsgenie's documented field limits (Alert API, "Create alert"), in characters.
MAX_MESSAGE = 130
MAX_DESCRIPTION = 15_000
MAX_SOURCE = 100
MAX_ENTITY = 512
MAX_NOTE = 25_000
MAX_TAGS, MAX_TAG = 20, 50
MAX_ACTIONS, MAX_ACTION = 10, 50
MAX_DETAILS = 8_000  # keys and values together
_RESPONDER_TYPES = re.compile(r"team|teams|user|escalation|schedule")


class OpsGenieResponderConfig(StrictModel):
    """A responder: one of ``id``, ``name``, ``username``, and a ``type`` (all templated)."""

    id: GoTemplate = ""
    name: GoTemplate = ""
    username: GoTemplate = ""
    type: GoTemplate = ""

    @model_validator(mode="after")
    def _checked(self) -> OpsGenieResponderConfig:
        if not (self.id or self.name or self.username):
            raise PydanticCustomError(
                "opsgenie", "responder has to have at least one of id, username or name specified"
            )
        if "{{" not in self.type and not _RESPONDER_TYPES.fullmatch(self.type.lower()):
            raise PydanticCustomError(
                "opsgenie",
                'responder type "{type}" is not one of team, teams, user, escalation, schedule',
                {"type": self.type},
            )
        return self


class OpsGenieConfig(IntegrationConfig):
    """``opsgenie_configs`` entry: Alertmanager's fields, defaults and globals.

    ``api_url`` and ``api_key`` (or ``api_key_file``) come from ``global.opsgenie_api_url`` /
    ``opsgenie_api_key`` when absent. Every text field is a Go template over the group's data.
    """

    api_key: SecretStr | None = None
    api_url: str = DEFAULT_API_URL
    message: GoTemplate = DEFAULT_MESSAGE
    description: GoTemplate = DEFAULT_DESCRIPTION
    source: GoTemplate = DEFAULT_SOURCE
    details: dict[str, GoTemplate] = Field(default_factory=dict)
    entity: GoTemplate = ""
    responders: list[OpsGenieResponderConfig] = Field(default_factory=list)
    actions: GoTemplate = ""
    tags: GoTemplate = ""
    note: GoTemplate = ""
    priority: GoTemplate = ""
    update_alerts: bool = False
    http_config: HTTPClientConfig = HTTPClientConfig()

    default_send_resolved: ClassVar[bool] = True
    global_defaults: ClassVar[dict[str, str]] = {
        "api_url": "opsgenie_api_url",
        "api_key": "opsgenie_api_key",
        "api_key_file": "opsgenie_api_key_file",
    }
    secret_files: ClassVar[dict[str, str]] = {"api_key_file": "api_key"}

    @model_validator(mode="after")
    def _key_required(self) -> OpsGenieConfig:
        if self.api_key is None or not self.api_key.get_secret_value():
            raise PydanticCustomError(
                "opsgenie", "no global OpsGenie API Key set either inline or in a file"
            )
        return self

    @property
    def base_url(self) -> str:
        """``api_url`` ending in a slash, as Alertmanager makes it."""
        return self.api_url if self.api_url.endswith("/") else self.api_url + "/"


def split_list(text: str, limit: int, each: int) -> list[str]:
    """A comma-separated list without empty items, at most ``limit`` items of ``each`` chars."""
    items = [item.strip() for item in text.split(",")]
    return [render.truncate(item, each) for item in items if item][:limit]


class OpsGenieNotifier(Notifier[OpsGenieConfig]):
    """Creates, updates, notes and closes Opsgenie alerts over the shared aiohttp session.

    202 is success; 401/403 authError and other 4xx clientError are permanent; 429
    (rateLimited, after ``Retry-After``), 5xx and network failures are retried.
    """

    type_name: ClassVar[str] = "opsgenie"
    config_model: ClassVar[type[IntegrationConfig]] = OpsGenieConfig
    # Opsgenie allows a few hundred Alert API requests a minute per account; stay well below.
    default_rate_per_second: ClassVar[float] = 2.0
    default_burst: ClassVar[int] = 10
    max_message_bytes: ClassVar[int] = 64 * 1024
    coalesce: ClassVar[bool] = False  # an alias per group: a digest would merge groups

    async def send(self, notification: Notification) -> Receipt:
        """Create (and with ``update_alerts`` update) the group's alert, close it when the
        group resolved, or note the resolved alerts of a group that still fires."""
        if not notification.alerts:
            raise PermanentNotifierError("other", "Opsgenie notification has no alerts")
        started = time.monotonic()
        fields = FieldRenderer(self, notification)
        group_key = str(notification.group.get("groupKey") or "")
        alias = render.group_key_hash(
            group_key or f"{self.receiver}:{notification.group.get('groupLabels')}"
        )
        group_status = notification.group.get("status") or notification.status
        source = self._text(fields, "source", self.config.source, DEFAULT_SOURCE, MAX_SOURCE)
        if group_status == "resolved":
            action, answer = "close", await self._post(f"{alias}/close", {"source": source})
        elif notification.status == "resolved":
            note = "Resolved: " + ", ".join(render.alert_summary(a) for a in notification.alerts)
            body = {"note": render.truncate(note, MAX_NOTE), "source": source}
            action, answer = "note", await self._post(f"{alias}/notes", body)
        else:
            create = self._create_body(fields, notification.alerts, alias, source)
            action, answer = "create", await self._post("", create)
            if self.config.update_alerts:
                await self._post(f"{alias}/message", {"message": create["message"]}, "PUT")
                description = {"description": create.get("description", "")}
                await self._post(f"{alias}/description", description, "PUT")
        status, request_id = answer
        return Receipt(
            provider_status=str(status),
            message_id=alias,
            duration=time.monotonic() - started,
            detail={"action": action, "request_id": request_id},
        )

    def _text(
        self, fields: FieldRenderer, field: str, template: str, default: str, limit: int
    ) -> str:
        """A field rendered (Alertmanager's default template when its own fails), cut."""
        text = fields.text(field, template, lambda: fields.text(field, default))
        return render.truncate(text.strip(), limit)

    def _create_body(
        self, fields: FieldRenderer, alerts: tuple[Mapping[str, Any], ...], alias: str, source: str
    ) -> dict[str, Any]:
        config = self.config
        # As Alertmanager's: the labels every alert shares, then the configured details.
        details = {
            str(k): str(v) for k, v in common_pairs(a.get("labels") or {} for a in alerts).items()
        }
        details.update(fields.texts("details", config.details))
        body: dict[str, Any] = {
            "alias": alias,
            "message": self._text(fields, "message", config.message, DEFAULT_MESSAGE, MAX_MESSAGE),
            "description": self._text(
                fields, "description", config.description, DEFAULT_DESCRIPTION, MAX_DESCRIPTION
            ),
            "details": _fit_details(details),
            "source": source,
        }
        responders = self._responders(fields)
        optional = {
            "responders": responders,
            "tags": split_list(fields.text("tags", config.tags), MAX_TAGS, MAX_TAG),
            "note": render.truncate(fields.text("note", config.note), MAX_NOTE),
            "priority": fields.text("priority", config.priority).strip(),
            "entity": render.truncate(fields.text("entity", config.entity), MAX_ENTITY),
            "actions": split_list(fields.text("actions", config.actions), MAX_ACTIONS, MAX_ACTION),
        }
        body.update({key: value for key, value in optional.items() if value})
        if not body["description"]:
            del body["description"]
        return body

    def _responders(self, fields: FieldRenderer) -> list[dict[str, str]]:
        """Rendered responders; an empty one is dropped and ``teams`` is a list of team names,
        as Alertmanager renders them."""
        responders: list[dict[str, str]] = []
        for i, responder in enumerate(self.config.responders):
            rendered = {
                key: fields.text(f"responders[{i}].{key}", getattr(responder, key))
                for key in ("id", "name", "username", "type")
            }
            if not any(rendered.values()):
                continue
            if rendered["type"] == "teams":
                names = [n.strip() for n in rendered["name"].split(",") if n.strip()]
                responders.extend({"name": name, "type": "team"} for name in names)
                continue
            responders.append({k: v for k, v in rendered.items() if v or k == "type"})
        return responders

    # -- sending ---------------------------------------------------------------------------

    async def _post(
        self, path: str, body: Mapping[str, Any], method: str = "POST"
    ) -> tuple[int, str]:
        """One Alert API request; (status, requestId) when accepted, else the classified error."""
        url = f"{self.config.base_url}v2/alerts"
        if path:
            alias, _, action = path.partition("/")
            url += f"/{quote(alias, safe='')}/{action}?identifierType=alias"
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        reply = await request(
            self.session,
            method,
            url,
            provider="Opsgenie",
            timeout=TIMEOUT_SECONDS,
            data=data,
            **self._request_options,
        )
        status, text = reply.status, reply.text
        answer = reply.json_object()
        if 200 <= status < 300:
            return status, str(answer.get("requestId") or "")
        found = answer.get("message") or " ".join(text.split())
        errors = answer.get("errors")
        if isinstance(errors, dict) and errors:
            found = f"{found}: " + "; ".join(f"{k}: {v}" for k, v in errors.items())
        detail = f": {render.truncate(self._mask(str(found)), 500)}" if found else ""
        raise http_status_error(status, f"Opsgenie answered {status}{detail}", reply.retry_after)

    @functools.cached_property
    def _request_options(self) -> dict[str, Any]:
        options = request_options(self.config.http_config)
        assert self.config.api_key is not None  # the config validator guarantees it
        # Opsgenie's own scheme; it replaces any Authorization http_config would set.
        options["headers"]["Authorization"] = f"GenieKey {self.config.api_key.get_secret_value()}"
        return options

    @functools.cached_property
    def _mask(self) -> Masker:
        key = self.config.api_key.get_secret_value() if self.config.api_key else None
        return Masker(values=[key], marker="**********")


def _fit_details(details: dict[str, str]) -> dict[str, str]:
    """Details within Opsgenie's total of ``MAX_DETAILS`` characters: values cut, then keys
    dropped from the end, with a marker."""
    fitted: dict[str, str] = {}
    used = 0
    for key, value in details.items():
        room = MAX_DETAILS - used - len(key)
        if room <= 0:
            fitted["alertrouter"] = "details cut to Opsgenie's limit"
            break
        fitted[key] = render.truncate(value, room)
        used += len(key) + len(fitted[key])
    return fitted
