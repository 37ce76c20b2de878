"""Jira: one issue per alert group, found again by a label, as Alertmanager's ``jira_configs``.

Each notification searches the project for the issue labelled ``ALERT{sha256(groupKey)}`` (the
label Alertmanager gives it, so a cut-over keeps its issues), then creates it (firing only) or
updates it, and finally transitions it: ``resolve_transition`` once the group resolves,
``reopen_transition`` when a done issue fires again within ``reopen_duration`` (older done
issues are left closed and a new one is opened). ``wont_fix_resolution`` keeps issues closed
with that resolution out of the search. The search uses Jira Cloud's ``/rest/api/3/search/jql``
for ``api_type: cloud`` (or ``auto`` on atlassian.net), the v2 ``/search`` otherwise.

A group is per webhook: digests would mix groups, so this notifier never coalesces.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import urlsplit

import aiohttp
import yaml
from pydantic import BeforeValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from alertrouter.config.integrations import Duration, IntegrationConfig, StrictModel
from alertrouter.config.templating import GoTemplate
from alertrouter.errors import PermanentNotifierError
from alertrouter.notifiers.base import Notification, Receipt
from alertrouter.notifiers.default_texts import MARKDOWN_ALERTS, jira_priority
from alertrouter.notifiers.http import Answer, Masker, answer_error, request
from alertrouter.notifiers.posting import (
    HTTPIntegrationConfig,
    HTTPNotifier,
    Renderer,
)
from alertrouter.notifiers.render import common_pairs, group_key_hash, truncate
from alertrouter.notifiers.templating import FieldRenderer
from alertrouter.notifiers.webhook import encode_go_json

__all__ = ["JiraConfig", "JiraNotifier", "group_label"]

MAX_SUMMARY_CHARS = 255  # Jira's summary limit
MAX_DESCRIPTION_CHARS = 32767  # Jira's text-field limit
SUBJECT = '{{ template "__subject" . }}'  # what jira.default.summary renders
_FAILED = "\x00failed"  # a custom field whose template failed is left out


def _field_form(value: Any) -> Any:
    # Alertmanager accepts ``summary: "text"`` or ``summary: {template: ..., enable_update: ...}``.
    return {"template": value} if isinstance(value, str) else value


class JiraFieldConfig(StrictModel):
    """A templated field that may be left alone when an existing issue is updated."""

    template: GoTemplate | None = None
    enable_update: bool = True


FieldConfig = Annotated[JiraFieldConfig, BeforeValidator(_field_form)]


class JiraConfig(HTTPIntegrationConfig):
    """``jira_configs`` entry: Alertmanager's fields and defaults (``send_resolved`` true).

    Authenticate with ``http_config``: ``basic_auth`` (user and API token) or a bearer
    personal access token. ``fields`` are custom fields (``customfield_10001: ...``); their
    string values are templates, and a value rendering to YAML structure is sent structured.
    """

    api_url: str | None = None
    api_type: Literal["auto", "cloud", "datacenter"] = "auto"
    project: GoTemplate
    issue_type: GoTemplate
    summary: FieldConfig = JiraFieldConfig()
    description: FieldConfig = JiraFieldConfig()
    labels: list[GoTemplate] = Field(default_factory=list)
    priority: GoTemplate | None = None
    reopen_transition: str = ""
    resolve_transition: str = ""
    wont_fix_resolution: str = ""
    reopen_duration: Duration = timedelta(0)
    fields: dict[str, Any] = Field(default_factory=dict)

    default_send_resolved: ClassVar[bool] = True
    global_defaults: ClassVar[dict[str, str]] = {"api_url": "jira_api_url"}

    @model_validator(mode="after")
    def _api_url(self) -> JiraConfig:
        if not self.api_url:
            raise PydanticCustomError("jira", "no api_url (nor global jira_api_url) set")
        if self.api_url.partition("://")[0].lower() not in ("http", "https"):
            raise PydanticCustomError("jira", "api_url must be an http:// or https:// URL")
        return self

    def url(self, path: str) -> str:
        """``api_url`` joined with ``path``."""
        assert self.api_url is not None
        return self.api_url.rstrip("/") + "/" + path.lstrip("/")

    @property
    def api_v3(self) -> bool:
        """Whether ``api_url`` is REST API v3 (descriptions are then ADF documents)."""
        assert self.api_url is not None
        return urlsplit(self.api_url).path.rstrip("/").endswith("/3")

    @property
    def search_url(self) -> str:
        """Jira Cloud's ``/rest/api/3/search/jql``, or the v2/Data Center ``/search``."""
        assert self.api_url is not None
        cloud = self.api_type == "cloud" or (
            self.api_type == "auto"
            and (urlsplit(self.api_url).hostname or "").endswith("atlassian.net")
        )
        if self.api_type != "datacenter" and cloud:
            return self.url("search/jql").replace("/rest/api/2/", "/rest/api/3/", 1)
        return self.url("search")


def group_label(notification: Notification) -> str:
    """``ALERT{sha256 of the group key}``, Alertmanager's label for the group's issue."""
    key = str(notification.group.get("groupKey") or "")
    if not key:  # no webhook group: the receiver and the labels every alert shares
        common = common_pairs(a.get("labels") or {} for a in notification.alerts)
        key = f"{notification.receiver}:{sorted(common.items())}"
    return "ALERT{" + group_key_hash(key) + "}"


def _group_firing(notification: Notification) -> bool:
    # Alertmanager sees every alert of the group; our notification may carry only the news
    # (the rest was deduplicated), so the webhook's own group status decides when given.
    status = notification.group.get("status")
    if status in ("firing", "resolved"):
        return str(status) == "firing"
    return notification.status == "firing"


def search_jql(config: JiraConfig, project: str, label: str, firing: bool) -> str:
    """Alertmanager's JQL for the group's issue."""
    clauses = []
    if config.wont_fix_resolution:
        # A plain "resolution != X" would drop unresolved issues too (Alertmanager #4295).
        clauses.append(
            f"(resolution is EMPTY or resolution != {json.dumps(config.wont_fix_resolution)})"
        )
    minutes = int(config.reopen_duration.total_seconds() // 60)
    if firing and config.reopen_transition and minutes > 0:
        clauses.append(f"(resolutiondate is EMPTY OR resolutiondate >= -{minutes}m)")
    else:
        clauses.append("statusCategory != Done")
    clauses.append(f"project={json.dumps(project)}")
    clauses.append(f"labels={json.dumps(label)}")
    return " and ".join(clauses) + " order by status ASC,resolutiondate DESC"


class JiraNotifier(HTTPNotifier[JiraConfig]):
    """Creates, updates, resolves and reopens one Jira issue per alert group."""

    type_name: ClassVar[str] = "jira"
    config_model: ClassVar[type[IntegrationConfig]] = JiraConfig
    # Up to four API calls a notification; Jira Cloud's rate limits are cost-based.
    default_rate_per_second: ClassVar[float] = 0.5
    default_burst: ClassVar[int] = 5
    coalesce: ClassVar[bool] = False

    def __init__(self, config: JiraConfig, session: aiohttp.ClientSession, **options: Any) -> None:
        super().__init__(config, session, **options)
        self._scrub = Masker.for_http([], config.http_config)

    async def send(self, notification: Notification) -> Receipt:
        """Search, create or update, then transition the group's issue."""
        started = time.monotonic()
        fields = Renderer(self, notification)
        firing = _group_firing(notification)
        label = group_label(notification)
        project = fields.text("project", self.config.project)
        found = await self._api("POST", self.config.search_url, {
            "jql": search_jql(self.config, project, label, firing),
            "maxResults": 2,
            "fields": ["status"],
        })  # fmt: skip
        issues = found.get("issues") if isinstance(found, dict) else None
        existing: dict[str, Any] | None = issues[0] if issues else None
        if existing is None and not firing:
            return Receipt("no open issue", None, time.monotonic() - started, {"label": label})
        body = {"fields": self._issue_fields(notification, fields, project, label)}
        if existing is None:
            created = await self._api("POST", self.config.url("issue"), body)
            key = str(created.get("key")) if isinstance(created, dict) else None
            return Receipt("created", key, time.monotonic() - started, {"label": label})
        key = str(existing.get("key"))
        if not self.config.summary.enable_update:
            body["fields"].pop("summary", None)
        if not self.config.description.enable_update:
            body["fields"].pop("description", None)
        await self._api("PUT", self.config.url(f"issue/{key}"), body)
        done = (
            ((existing.get("fields") or {}).get("status") or {}).get("statusCategory") or {}
        ).get("key") == "done"
        transition = ""
        if firing and done:
            transition = self.config.reopen_transition
        elif not firing and not done:
            transition = self.config.resolve_transition
        if transition:
            await self._transition(key, transition)
        return Receipt(transition or "updated", key, time.monotonic() - started, {"label": label})

    def _issue_fields(
        self, notification: Notification, fields: Renderer, project: str, label: str
    ) -> dict[str, Any]:
        config = self.config
        summary = fields.with_default(
            "summary", config.summary.template, "jira.default.summary", SUBJECT
        )
        description = fields.with_default(
            "description", config.description.template, "jira.default.description",
            MARKDOWN_ALERTS,
        )  # fmt: skip
        labels = sorted([*fields.each("labels", config.labels), label])
        out: dict[str, Any] = {
            "project": {"key": project},
            "issuetype": {"name": fields.text("issue_type", config.issue_type)},
            "summary": truncate(summary, MAX_SUMMARY_CHARS),
            "labels": labels,
        }
        described = self._description(truncate(description, MAX_DESCRIPTION_CHARS))
        if described is not None:
            out["description"] = described
        # Ours is computed (no template), unless the routing file defines the name.
        ours = fields.named("jira.default.priority", "")
        priority = fields.text(
            "priority",
            config.priority if config.priority is not None else (ours or None),
            lambda: fields.text("priority", ours) if ours else _default_priority(notification),
        )
        if priority:
            out["priority"] = {"name": priority}
        for name, value in config.fields.items():
            rendered = _render_value(fields, f"fields.{name}", value)
            if rendered is not _FAILED:
                out[name] = rendered
        return out

    def _description(self, text: str) -> Any:
        """The description as the API wants it: a string for v2, an ADF document for v3."""
        if not text.strip():
            return None
        if not self.config.api_v3:
            return text
        try:
            return json.loads(text)  # an ADF template, as Alertmanager requires for v3
        except ValueError:
            # Alertmanager fails the send here; plain text in one paragraph loses nothing.
            paragraph = {"type": "paragraph", "content": [{"type": "text", "text": text}]}
            return {"type": "doc", "version": 1, "content": [paragraph]}

    async def _transition(self, key: str, name: str) -> None:
        found = await self._api("GET", self.config.url(f"issue/{key}/transitions"), None)
        transitions = found.get("transitions") if isinstance(found, dict) else None
        for transition in transitions or []:
            if transition.get("name") == name:
                body = {"transition": {"id": str(transition.get("id"))}}
                await self._api("POST", self.config.url(f"issue/{key}/transitions"), body)
                return
        raise PermanentNotifierError("clientError", f"jira: no transition {name!r} for {key}")

    async def _api(self, method: str, url: str, body: Any) -> Any:
        """One API call; its JSON answer (None when empty), or a classified error."""
        options = dict(self.request_options)
        options["headers"] = {**options["headers"], "Accept-Language": "en"}
        data = None if body is None else encode_go_json(body)
        answer: Answer = await request(
            self.session, method, url, provider="jira", data=data, **options
        )
        if not answer.ok:
            raise answer_error("jira", answer, self._scrub)
        if not answer.text.strip():
            return None
        found = answer.json()
        if found is None:
            raise PermanentNotifierError("other", f"jira: {method} answer is not JSON")
        return found


def _default_priority(notification: Notification) -> str:
    def severities(alerts: list[Any]) -> list[str]:
        return [str((a.get("labels") or {}).get("severity", "")) for a in alerts]

    return jira_priority(severities(notification.firing), severities(notification.resolved))


def _render_value(fields: FieldRenderer, where: str, value: Any) -> Any:
    """A custom field's value with every string templated, as Alertmanager's DeepCopy."""
    if isinstance(value, str):
        rendered = fields.text(where, value, _FAILED)
        if rendered is _FAILED or "{{" not in value:
            return rendered
        try:
            structured = yaml.safe_load(rendered)
        except yaml.YAMLError:
            return rendered
        return rendered if structured is None or isinstance(structured, str) else structured
    if isinstance(value, list):
        items = [_render_value(fields, f"{where}[{i}]", v) for i, v in enumerate(value)]
        return [item for item in items if item is not _FAILED]
    if isinstance(value, dict):
        pairs = {str(k): _render_value(fields, f"{where}.{k}", v) for k, v in value.items()}
        return {k: v for k, v in pairs.items() if v is not _FAILED}
    return value
