"""What the chat and ticket notifiers share: a secret webhook URL, ``http_config``, their
default texts and their JSON size budget.

Discord, Teams, Mattermost, Rocket.Chat and Jira all send JSON over HTTP with Alertmanager's
``http_config``; their URLs or tokens are secrets (``notifiers.http`` sends and masks).
"""

from __future__ import annotations

import functools
from typing import Any, ClassVar, TypeVar

from pydantic import SecretStr, model_validator
from pydantic_core import PydanticCustomError

from alertrouter.config.integrations import HTTPClientConfig, IntegrationConfig
from alertrouter.notifiers.base import Notification, Notifier
from alertrouter.notifiers.http import request_options
from alertrouter.notifiers.templating import FieldRenderer
from alertrouter.notifiers.webhook import encode_go_json

__all__ = [
    "HTTPIntegrationConfig",
    "HTTPNotifier",
    "Renderer",
    "WebhookURLConfig",
    "fit_json_text",
    "json_size",
    "require_http_url",
]


def require_http_url(value: SecretStr | None, name: str, provider: str) -> None:
    """A config error unless ``value`` is an http(s) URL; the message never echoes it."""
    if value is None or not value.get_secret_value():
        raise PydanticCustomError(provider, "{name} (or {name}_file) is required", {"name": name})
    scheme = value.get_secret_value().partition("://")[0].lower()
    if scheme not in ("http", "https"):
        raise PydanticCustomError(
            provider, "{name} must be an http:// or https:// URL", {"name": name}
        )


class HTTPIntegrationConfig(IntegrationConfig):
    """An integration with Alertmanager's ``http_config``."""

    http_config: HTTPClientConfig = HTTPClientConfig()


HTTPConfigT = TypeVar("HTTPConfigT", bound=HTTPIntegrationConfig)


class HTTPNotifier(Notifier[HTTPConfigT]):
    """A notifier whose requests honour its config's ``http_config``."""

    @functools.cached_property
    def request_options(self) -> dict[str, Any]:
        """aiohttp options (headers, TLS, proxy), built at the first send: an unusable
        ``tls_config`` fails that send, permanently."""
        return request_options(self.config.http_config)


class Renderer(FieldRenderer):
    """A FieldRenderer that knows Alertmanager's default template names.

    Alertmanager 0.26+ names defaults (``msteams.default.text``, ``jira.default.summary``,
    ...) that our template files, which mirror 0.25's names, do not define. A routing file's
    ``templates:`` may define them (an override, as in Alertmanager): then that definition is
    the default; otherwise the notifier's own text, equal to Alertmanager's.
    """

    def __init__(self, notifier: Notifier[Any], notification: Notification) -> None:
        super().__init__(notifier, notification)
        self._templates = notifier.templates

    def named(self, name: str, ours: str) -> str:
        """The default template: ``{{ template "name" . }}`` when defined, else ``ours``."""
        if self._templates.text.lookup(name) is not None:
            return f'{{{{ template "{name}" . }}}}'
        return ours

    def with_default(self, field: str, template: str | None, name: str, ours: str) -> str:
        """``template`` rendered; Alertmanager's default when it is unset or fails."""
        default = self.named(name, ours)
        if template is None:
            return self.text(field, default)
        return self.text(field, template, lambda: self.text(field, default))


class WebhookURLConfig(HTTPIntegrationConfig):
    """Fields of every integration that posts to one secret ``webhook_url`` (or its file)."""

    webhook_url: SecretStr | None = None

    secret_files: ClassVar[dict[str, str]] = {"webhook_url_file": "webhook_url"}
    provider: ClassVar[str] = "webhook"

    @model_validator(mode="after")
    def _url_required(self) -> WebhookURLConfig:
        require_http_url(self.webhook_url, "webhook_url", self.provider)
        return self

    @property
    def url(self) -> str:
        """The webhook URL (validated present)."""
        assert self.webhook_url is not None
        return self.webhook_url.get_secret_value()


def json_size(value: Any) -> int:
    """Bytes of ``value`` as ``request`` sends it (Go's JSON: ``<>&`` take six bytes each)."""
    return len(encode_go_json(value))


def fit_json_text(text: str, budget: int) -> str:
    """``text`` cut with "…" so that its JSON-encoded UTF-8 takes at most ``budget`` bytes."""
    if json_size(text) <= budget:
        return text
    low, high = 0, len(text)
    while low < high:  # the longest prefix that fits, found by bisection
        middle = (low + high + 1) // 2
        if json_size(text[:middle] + "…") <= budget:
            low = middle
        else:
            high = middle - 1
    return text[:low] + "…"
