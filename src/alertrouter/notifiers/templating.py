"""Receiver fields as Alertmanager templates them: Go templates over Alertmanager's data.

``notification_data`` is the ``.`` a field template sees (Alertmanager's ``template.Data`` for
the alerts of one notification); ``FieldRenderer`` renders a notification's fields and, when a
template fails at send time, falls back to the notifier's own default for that field, logging
and counting the failure: a broken template never loses a notification.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from functools import cached_property
from typing import Any

from alertrouter.notifiers.base import Notification, Notifier
from alertrouter.notifiers.render import common_pairs
from alertrouter.templates import TemplateError
from alertrouter.templates.data import Data, data_from_webhook

__all__ = ["FieldRenderer", "notification_data", "quote_meta"]

_GO_REGEXP_SPECIAL = re.compile(r"([\\.+*?()|\[\]{}^$])")


def quote_meta(text: str) -> str:
    """Go's ``regexp.QuoteMeta``: Alertmanager quotes the receiver name in ``.Receiver``."""
    return _GO_REGEXP_SPECIAL.sub(r"\\\1", text)


def notification_data(notification: Notification) -> Data:
    """Alertmanager's template data for ``notification``'s alerts.

    As Alertmanager builds it per notification: ``Status`` is firing while any alert fires,
    ``CommonLabels`` and ``CommonAnnotations`` are shared by every alert sent, ``GroupLabels``
    are the webhook group's (in a digest spanning groups, the pairs every alert carries).
    """
    alerts = list(notification.alerts)
    group = notification.group
    common_labels = common_pairs(a.get("labels") or {} for a in alerts)
    group_labels = {
        k: v for k, v in (group.get("groupLabels") or {}).items() if common_labels.get(k) == v
    }
    payload = {
        "receiver": quote_meta(notification.receiver),
        "status": notification.status,
        "alerts": alerts,
        "groupLabels": group_labels,
        "commonLabels": common_labels,
        "commonAnnotations": common_pairs(a.get("annotations") or {} for a in alerts),
        "externalURL": group.get("externalURL") or "",
    }
    return data_from_webhook(payload)


Default = str | Callable[[], str]


class FieldRenderer:
    """Renders the templated fields of one notification for one notifier.

    ``text`` and ``html`` return the rendered template, or the default (a string, or a
    callable computed only when needed) when the field is unset or its template fails.
    """

    def __init__(self, notifier: Notifier[Any], notification: Notification) -> None:
        self._notifier = notifier
        self._notification = notification

    @cached_property
    def data(self) -> Data:
        """The template data, built on first use."""
        return notification_data(self._notification)

    def text(self, field: str, template: str | None, default: Default = "") -> str:
        """``template`` rendered as text/template, else ``default``."""
        return self._render(field, template, default, html=False)

    def html(self, field: str, template: str | None, default: Default = "") -> str:
        """``template`` rendered as html/template (contextual escaping), else ``default``."""
        return self._render(field, template, default, html=True)

    def texts(self, field: str, templates: Mapping[str, str]) -> dict[str, str]:
        """Each value of ``templates`` rendered as text (a failed one renders as "")."""
        return {key: self.text(f"{field}.{key}", value) for key, value in templates.items()}

    def each(self, field: str, templates: Iterable[str | None]) -> list[str]:
        """Each of ``templates`` rendered as text, in order."""
        return [self.text(f"{field}[{i}]", value) for i, value in enumerate(templates)]

    def _render(self, field: str, template: str | None, default: Default, *, html: bool) -> str:
        if template is None:
            return default() if callable(default) else default
        if "{{" not in template:
            return template
        templates = self._notifier.templates
        try:
            if html:
                return templates.execute_html_string(template, self.data)
            return templates.execute_text_string(template, self.data)
        except TemplateError as exc:
            self._notifier.template_failed(field, exc)
            return default() if callable(default) else default
