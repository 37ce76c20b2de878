"""PagerDuty Events API v2 (``routing_key``) or v1 (``service_key``): one event per alert.

Each alert becomes a ``trigger`` or ``resolve`` event whose ``dedup_key`` (v1:
``incident_key``) is derived from (receiver, fingerprint), so a resolve closes exactly the
incident its trigger opened. v1's request shape lives in ``pagerduty_v1``.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_core import PydanticCustomError

from alertrouter.config.integrations import (
    Duration,
    HTTPClientConfig,
    IntegrationConfig,
    StrictModel,
)
from alertrouter.config.templating import GoTemplate
from alertrouter.errors import PermanentNotifierError
from alertrouter.logs import get_logger, log_event
from alertrouter.notifiers import render
from alertrouter.notifiers.base import Notification, Notifier, Receipt, http_status_error
from alertrouter.notifiers.http import Masker, request, request_options
from alertrouter.notifiers.pagerduty_v1 import events_v1_url, fit_v1, v1_answer_error, v1_event
from alertrouter.notifiers.templating import FieldRenderer

__all__ = [
    "PagerDutyConfig",
    "PagerDutyImageConfig",
    "PagerDutyLinkConfig",
    "PagerDutyNotifier",
    "dedup_key",
]

DEFAULT_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
SEVERITIES = ("critical", "error", "warning", "info")
MAX_SUMMARY = 1024  # PagerDuty rejects a longer payload.summary
MAX_FIELD = 1024  # what source/component/group/class are cut to when an event is too big
MAX_URL = 2048  # longer link and image URLs are dropped when an event is too big

_logger = get_logger(__name__)


class PagerDutyLinkConfig(StrictModel):
    """A link attached to every event; both fields are templated."""

    href: GoTemplate
    text: GoTemplate = ""


class PagerDutyImageConfig(StrictModel):
    """An image attached to every event."""

    src: GoTemplate
    alt: GoTemplate = ""
    href: GoTemplate = ""


class PagerDutyConfig(IntegrationConfig):
    """``pagerduty_configs`` entry (Alertmanager's fields). ``routing_key`` speaks Events API
    v2; ``service_key`` Events API v1 (and wins when both are given, as in Alertmanager).

    Every field Alertmanager templates (``description``, ``client``, ``client_url``,
    ``details`` values, ``severity``, ``source``, ``component``, ``group``, ``class``, links and
    images) is a Go template over Alertmanager's data for the one alert an event carries.
    """

    routing_key: SecretStr | None = None
    service_key: SecretStr | None = None
    url: str = DEFAULT_EVENTS_URL
    client: GoTemplate = "alertrouter"
    client_url: GoTemplate = ""
    description: GoTemplate | None = None
    severity: GoTemplate = "error"
    severity_map: dict[str, str] = Field(
        default_factory=lambda: {s: s for s in SEVERITIES},
    )
    details: dict[str, GoTemplate] = Field(default_factory=dict)
    links: list[PagerDutyLinkConfig] = Field(default_factory=list)
    images: list[PagerDutyImageConfig] = Field(default_factory=list)
    source: GoTemplate | None = None
    component: GoTemplate | None = None
    group: GoTemplate | None = None
    class_: GoTemplate | None = Field(None, alias="class")
    timeout: Duration = timedelta(seconds=10)
    http_config: HTTPClientConfig = HTTPClientConfig()
    # alertrouter's: one incident per alert (dedup_key from receiver and fingerprint), or per
    # Alertmanager group (dedup_key = sha256 of the group key, exactly Alertmanager's).
    incident_per: Literal["alert", "group"] = "alert"

    default_send_resolved: ClassVar[bool] = True
    per_alert_jobs: ClassVar[bool] = True  # each alert is its own incident (by default)
    global_defaults: ClassVar[dict[str, str]] = {"url": "pagerduty_url"}
    secret_files: ClassVar[dict[str, str]] = {
        "routing_key_file": "routing_key",
        "service_key_file": "service_key",
    }

    def jobs_per_alert(self) -> bool:
        """One notification per alert, unless incidents are per group."""
        return self.incident_per == "alert"

    @property
    def events_v1(self) -> bool:
        """Whether events go to Events API v1 (a ``service_key`` is set)."""
        return self.service_key is not None and bool(self.service_key.get_secret_value())

    @field_validator("timeout")
    @classmethod
    def _timeout_positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise PydanticCustomError("pagerduty", "timeout must be greater than 0")
        return value

    @model_validator(mode="after")
    def _key_required(self) -> PagerDutyConfig:
        if not self.events_v1 and (
            self.routing_key is None or not self.routing_key.get_secret_value()
        ):
            raise PydanticCustomError(
                "pagerduty", "missing service or routing key in PagerDuty config"
            )
        if "{{" not in self.severity and self.severity not in SEVERITIES:
            raise PydanticCustomError(
                "pagerduty", "severity must be one of critical, error, warning, info"
            )
        bad = sorted(k for k, v in self.severity_map.items() if v not in SEVERITIES)
        if bad:
            raise PydanticCustomError(
                "pagerduty",
                "severity_map values must be critical, error, warning or info (bad: {keys})",
                {"keys": ", ".join(bad)},
            )
        return self


def dedup_key(receiver: str, fingerprint: str) -> str:
    """The incident key of an alert at a receiver: stable, 64 hex characters."""
    return hashlib.sha256(f"{receiver}\x00{fingerprint}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class _Incident:
    """One event's subject: its key and state, the data its templates see, the alert whose
    labels fill the fields the config leaves unset."""

    key: str
    firing: bool
    seen: Notification
    lead: Mapping[str, Any]
    whole_group: bool


class PagerDutyNotifier(Notifier[PagerDutyConfig]):
    """Posts one Events API v2 event per alert over the shared aiohttp session.

    202 is success; 400/413 clientError and 401/403 authError are permanent; 429
    (rateLimited), 5xx (serverError) and network failures are retried, after ``Retry-After``.
    """

    type_name: ClassVar[str] = "pagerduty"
    config_model: ClassVar[type[IntegrationConfig]] = PagerDutyConfig
    default_rate_per_second: ClassVar[float] = 2.0  # PagerDuty: 120 events/min per routing key
    default_burst: ClassVar[int] = 10
    max_message_bytes: ClassVar[int] = 512 * 1024
    coalesce: ClassVar[bool] = False  # incidents are never folded into a digest

    async def send(self, notification: Notification) -> Receipt:
        """Send one event per alert, in order; raise on the first that fails."""
        if not notification.alerts:
            raise PermanentNotifierError("other", "PagerDuty notification has no alerts")
        started = time.monotonic()
        keys: list[str] = []
        status = 0
        for incident in self._incidents(notification):
            if self.config.events_v1:
                event = self._event_v1(incident)
                body = fit_v1(event, self.max_message_bytes, _dumps)
                status = await self._post(body, event, events_v1_url(self.config.url))
                keys.append(str(event["incident_key"]))
                continue
            event = self._event(incident)
            status = await self._post(self._fit(event), event, self.config.url)
            keys.append(str(event["dedup_key"]))
        return Receipt(
            provider_status=str(status),
            message_id=",".join(keys),
            duration=time.monotonic() - started,
            detail={"dedup_keys": keys, "events": len(keys)},
        )

    # -- building the event ----------------------------------------------------------------

    def _incidents(self, notification: Notification) -> list[_Incident]:
        """What each event is about: every alert, or (``incident_per: group``) the group."""
        if self.config.incident_per == "group":
            group = notification.group
            status = str(group.get("status") or notification.status)
            return [
                _Incident(
                    key=render.group_key_hash(str(group.get("groupKey") or "")),
                    firing=status == "firing",  # the group's: a part resolving keeps it open
                    seen=notification,
                    lead=render.sort_alerts(notification.alerts)[0],
                    whole_group=True,
                )
            ]
        incidents = []
        for alert in notification.alerts:
            labels: Mapping[str, Any] = alert.get("labels") or {}
            fingerprint = str(alert.get("fingerprint") or "") or _label_fingerprint(labels)
            incidents.append(
                _Incident(
                    key=dedup_key(self.receiver, fingerprint),
                    firing=alert.get("status") == "firing",
                    # Templates see the one alert this event carries.
                    seen=dataclasses.replace(notification, alerts=(alert,), digest=False),
                    lead=alert,
                    whole_group=False,
                )
            )
        return incidents

    def _summary(self, incident: _Incident, fields: FieldRenderer) -> str:
        summary = fields.text("description", self.config.description).strip()
        if summary:
            return summary
        if incident.whole_group:
            return render.notification_title(incident.seen)
        return render.alert_summary(incident.lead)

    def _details(self, incident: _Incident, fields: FieldRenderer) -> dict[str, Any]:
        lead = incident.lead
        details: dict[str, Any] = {
            "labels": dict(lead.get("labels") or {}),
            "annotations": dict(lead.get("annotations") or {}),
        }
        if incident.whole_group:
            details["num_firing"] = len(incident.seen.firing)
            details["num_resolved"] = len(incident.seen.resolved)
        details.update(fields.texts("details", self.config.details))
        return details

    def _event_v1(self, incident: _Incident) -> dict[str, Any]:
        config = self.config
        assert config.service_key is not None  # events_v1 guarantees it
        fields = FieldRenderer(self, incident.seen)
        return v1_event(
            service_key=config.service_key.get_secret_value(),
            incident_key=incident.key,
            firing=incident.firing,
            description=self._summary(incident, fields),
            details=self._details(incident, fields),
            client=fields.text("client", config.client),
            client_url=fields.text("client_url", config.client_url)
            or str(incident.seen.group.get("externalURL") or ""),
        )

    def _event(self, incident: _Incident) -> dict[str, Any]:
        config = self.config
        assert config.routing_key is not None  # the config validator guarantees it
        alert = incident.lead
        labels: Mapping[str, Any] = alert.get("labels") or {}
        firing = incident.firing
        event: dict[str, Any] = {
            "routing_key": config.routing_key.get_secret_value(),
            "event_action": "trigger" if firing else "resolve",
            "dedup_key": incident.key,
        }
        fields = FieldRenderer(self, incident.seen)
        external_url = str(incident.seen.group.get("externalURL") or "")
        client = fields.text("client", config.client)
        if client:
            event["client"] = client
        client_url = fields.text("client_url", config.client_url) or external_url
        if client_url:
            event["client_url"] = client_url
        if not firing:
            return event  # PagerDuty needs only the key to resolve
        event["payload"] = self._payload(incident, labels, external_url, fields)
        links = self._links(alert, fields)
        if links:
            event["links"] = links
        if config.images:
            event["images"] = self._images(fields)
        return event

    def _images(self, fields: FieldRenderer) -> list[dict[str, str]]:
        """The configured images, rendered, without empty fields."""
        images = []
        for i, image in enumerate(self.config.images):
            rendered = {
                key: fields.text(f"images[{i}].{key}", getattr(image, key))
                for key in ("src", "alt", "href")
            }
            if rendered["src"]:
                images.append({k: v for k, v in rendered.items() if v})
        return images

    def _severity(self, labels: Mapping[str, Any], fields: FieldRenderer) -> str:
        """The severity: a templated ``severity`` when it renders to a valid one; else the
        alert's ``severity`` label through ``severity_map``; else the configured default."""
        config = self.config
        label = str(labels.get("severity", "")).strip()
        by_label = config.severity_map.get(label) or config.severity_map.get(label.lower())
        if "{{" in config.severity:
            rendered = fields.text("severity", config.severity).strip().lower()
            return rendered if rendered in SEVERITIES else by_label or "error"
        return by_label or config.severity

    def _payload(
        self,
        incident: _Incident,
        labels: Mapping[str, Any],
        external_url: str,
        fields: FieldRenderer,
    ) -> dict[str, Any]:
        config = self.config
        alert = incident.lead
        payload: dict[str, Any] = {
            "summary": render.truncate(self._summary(incident, fields), MAX_SUMMARY),
            "source": fields.text("source", config.source)
            or str(labels.get("instance") or "")
            or urlsplit(external_url).hostname
            or "alertrouter",
            "severity": self._severity(labels, fields),
        }
        timestamp = _timestamp(alert.get("startsAt"))
        if timestamp:
            payload["timestamp"] = timestamp
        for field, configured in (
            ("component", config.component),
            ("group", config.group),
            ("class", config.class_),
        ):
            value = fields.text(field, configured) or str(labels.get(field) or "")
            if value:
                payload[field] = value
        payload["custom_details"] = self._details(incident, fields)
        return payload

    def _links(self, alert: Mapping[str, Any], fields: FieldRenderer) -> list[dict[str, str]]:
        annotations: Mapping[str, Any] = alert.get("annotations") or {}
        candidates = [
            (alert.get("generatorURL"), "Source"),
            (annotations.get("runbook_url"), "Runbook"),
            (annotations.get("dashboard"), "Dashboard"),
            (annotations.get("dashboard_url"), "Dashboard"),
            *(
                (
                    fields.text(f"links[{i}].href", link.href),
                    fields.text(f"links[{i}].text", link.text),
                )
                for i, link in enumerate(self.config.links)
            ),
        ]
        links: list[dict[str, str]] = []
        seen: set[str] = set()
        for href, text in candidates:
            if href and str(href) not in seen:
                seen.add(str(href))
                links.append({"href": str(href), "text": text} if text else {"href": str(href)})
        return links

    def _fit(self, event: dict[str, Any]) -> bytes:
        """The JSON body, within ``max_message_bytes``: drop custom_details, then truncate."""
        body = _dumps(event)
        if len(body) <= self.max_message_bytes:
            return body
        original = len(body)
        payload: dict[str, Any] = event.get("payload", {})
        if "custom_details" in payload:
            payload["custom_details"] = {
                "alertrouter": f"custom_details dropped: the event was {original} bytes, "
                f"over PagerDuty's limit of {self.max_message_bytes}"
            }
            body = _dumps(event)
            if len(body) <= self.max_message_bytes:
                return body
        for key in ("source", "component", "group", "class"):
            if key in payload:
                payload[key] = render.truncate(str(payload[key]), MAX_FIELD)
        if "client" in event:
            event["client"] = render.truncate(str(event["client"]), MAX_FIELD)
        if len(event.get("client_url", "")) > MAX_URL:
            del event["client_url"]
        for name in ("links", "images"):
            # A cut URL is a broken one: drop items with long URLs, cut their texts.
            kept = [
                {k: v if k in ("href", "src") else render.truncate(v, MAX_FIELD)
                 for k, v in item.items()}
                for item in event.pop(name, ())
                if all(len(item.get(k, "")) <= MAX_URL for k in ("href", "src"))
            ]  # fmt: skip
            if kept:
                event[name] = kept
        body = _dumps(event)
        if len(body) > self.max_message_bytes:
            event.pop("links", None)
            event.pop("images", None)
            body = _dumps(event)
        return body

    # -- sending ---------------------------------------------------------------------------

    async def _post(self, body: bytes, event: Mapping[str, Any], url: str) -> int:
        """POST one event; its HTTP status when accepted, else raise the classified error."""
        answer = await request(
            self.session,
            "POST",
            url,
            provider="PagerDuty",
            timeout=self.config.timeout.total_seconds(),
            data=body,
            **self._request_options,
        )
        status = answer.status
        log_event(
            _logger,
            logging.DEBUG,
            "pagerduty_event_answered",
            receiver=self.receiver,
            integration=self.integration,
            event_action=event.get("event_action") or event.get("event_type"),
            dedup_key=event.get("dedup_key") or event.get("incident_key"),
            status=status,
        )
        if 200 <= status < 300:
            return status
        classify = v1_answer_error if self.config.events_v1 else http_status_error
        detail = self._describe(answer.text)
        raise classify(status, f"PagerDuty answered {status}{detail}", answer.retry_after)

    @functools.cached_property
    def _request_options(self) -> dict[str, Any]:
        # Built at the first send, so an unusable tls_config fails that send, permanently.
        return request_options(self.config.http_config)

    def _describe(self, text: str) -> str:
        """PagerDuty's message and ``errors`` from an error body, masked and bounded."""
        try:
            answer = json.loads(text)
        except ValueError:
            answer = None
        if isinstance(answer, dict):
            parts = [str(answer.get("message") or answer.get("status") or "")]
            errors = answer.get("errors")
            if isinstance(errors, list) and errors:
                parts.append("; ".join(str(e) for e in errors))
            found = ": ".join(p for p in parts if p)
        else:
            found = " ".join(text.split())
        return f": {render.truncate(self._mask(found), 500)}" if found else ""

    @functools.cached_property
    def _mask(self) -> Masker:
        keys = (self.config.routing_key, self.config.service_key)
        return Masker(values=[k.get_secret_value() for k in keys if k], marker="**********")


def _dumps(event: Mapping[str, Any]) -> bytes:
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def _label_fingerprint(labels: Mapping[str, Any]) -> str:
    # Alertmanager always sends a fingerprint; this keeps a hand-made payload deterministic.
    return hashlib.sha256(_dumps(dict(sorted(labels.items())))).hexdigest()[:16]


_FRACTION = re.compile(r"(\.\d{6})\d+")


def _timestamp(value: Any) -> str | None:
    """``startsAt`` as ISO 8601 in UTC with milliseconds; None when absent or Go's zero time."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(_FRACTION.sub(r"\1", str(value)))
    except ValueError:
        return None
    if when.year <= 1:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
