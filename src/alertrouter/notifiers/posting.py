"""What the chat and ticket notifiers share: a secret webhook URL, one request, its answer.

Discord, Teams, Mattermost, Rocket.Chat and Jira all send JSON over HTTP with Alertmanager's
``http_config``; their URLs or tokens are secrets. ``request`` turns transport failures into
classified NotifierErrors without ever quoting the URL (aiohttp puts it in many messages), and
``Scrubber`` removes every secret from a provider's answer before it reaches an error text.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

import aiohttp
from pydantic import SecretStr, model_validator
from pydantic_core import PydanticCustomError

from alertrouter.config.integrations import HTTPClientConfig, IntegrationConfig
from alertrouter.errors import NotifierError, PermanentNotifierError, RetryableNotifierError
from alertrouter.notifiers.base import Notification, Notifier, http_status_error
from alertrouter.notifiers.http import authorization_header, parse_retry_after, request_options
from alertrouter.notifiers.templating import FieldRenderer
from alertrouter.notifiers.webhook import encode_go_json

__all__ = [
    "Answer",
    "HTTPIntegrationConfig",
    "HTTPNotifier",
    "Renderer",
    "Scrubber",
    "WebhookURLConfig",
    "answer_error",
    "fit_json_text",
    "json_size",
    "request",
    "require_http_url",
]

SNIPPET = 200  # characters of a failed answer kept in the error message
_READ_LIMIT = 64 * 1024  # never read a huge error page whole
DEFAULT_TIMEOUT = 10.0


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


class Scrubber:
    """Replaces every secret string (URLs, their path segments, credentials) by ``<redacted>``."""

    def __init__(self, urls: Iterable[str] = (), values: Iterable[str | None] = ()) -> None:
        secrets: set[str] = set()
        for url in urls:
            secrets.add(url)
            rest = url.partition("://")[2]
            path = rest[rest.find("/") :] if "/" in rest else ""
            if len(path) > 1:
                secrets.add(path)
                # A provider may echo any piece of a secret path (tokens are URL segments).
                secrets.update(s for s in path.split("/") if len(s) >= 8)
        for value in values:
            if value:
                secrets.add(value)
                if " " in value:  # "Bearer x": the credential alone too
                    secrets.add(value.partition(" ")[2])
        self._secrets = sorted((s for s in secrets if len(s) > 1), key=len, reverse=True)

    @classmethod
    def for_http(cls, urls: Iterable[str], http: HTTPClientConfig, *values: str | None) -> Scrubber:
        """The scrubber of ``urls``, ``http_config``'s credentials and ``values``."""
        password = None
        if http.basic_auth is not None and http.basic_auth.password is not None:
            password = http.basic_auth.password.get_secret_value()
        return cls(urls, (authorization_header(http), password, *values))

    def __call__(self, text: str) -> str:
        """``text`` without any secret."""
        for secret in self._secrets:
            text = text.replace(secret, "<redacted>")
        return text


@dataclass(frozen=True, slots=True)
class Answer:
    """A provider's answer: status, the start of its body, Retry-After, and the time taken."""

    status: int
    reason: str
    text: str
    retry_after: float | None
    duration: float
    headers: Mapping[str, str] = field(default_factory=dict)  # names lower-cased

    @property
    def ok(self) -> bool:
        """A 2xx answer."""
        return 200 <= self.status < 300

    @property
    def line(self) -> str:
        """``429 Too Many Requests``."""
        return f"{self.status} {self.reason}".strip()

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.text)
        except ValueError:
            return None


async def request(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    provider: str,
    options: Mapping[str, Any],
    body: Any = None,
    timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 -- aiohttp's own per-request timeout
) -> Answer:
    """Send one request (``body`` as Go-style JSON) and read the answer's start.

    Transport failures raise: a timeout or refused connection is retryable, a bad certificate
    or URL permanent. No message quotes the URL.
    """
    started = time.monotonic()
    data = None if body is None else encode_go_json(body)
    try:
        async with session.request(
            method, url, data=data, timeout=aiohttp.ClientTimeout(total=timeout), **options
        ) as response:
            head = await response.content.read(_READ_LIMIT)
            return Answer(
                status=response.status,
                reason=response.reason or "",
                text=head.decode(response.charset or "utf-8", errors="replace"),
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
                duration=time.monotonic() - started,
                headers={k.lower(): v for k, v in response.headers.items()},
            )
    except TimeoutError:
        raise RetryableNotifierError(
            "timeout", f"{provider}: no answer within {timeout:g}s"
        ) from None
    except aiohttp.ClientConnectorCertificateError as exc:
        detail = getattr(exc.certificate_error, "verify_message", "verification failed")
        raise PermanentNotifierError("other", f"{provider}: TLS certificate: {detail}") from None
    except aiohttp.ClientConnectorError as exc:
        raise RetryableNotifierError(
            "other", f"{provider}: cannot connect: {exc.os_error.strerror or 'failed'}"
        ) from None
    except aiohttp.InvalidURL:
        raise PermanentNotifierError("other", f"{provider}: invalid url") from None
    except aiohttp.ClientError as exc:
        raise RetryableNotifierError("other", f"{provider}: {type(exc).__name__}") from None


def answer_error(
    provider: str, answer: Answer, scrub: Scrubber, retry_after: float | None = None
) -> NotifierError:
    """The classified error of a non-2xx answer, quoting the start of its body, scrubbed."""
    message = f"{provider} answered {answer.line}"
    snippet = scrub(answer.text.strip())[:SNIPPET]  # scrubbed whole: no secret cut in two
    if snippet:
        message += f": {snippet}"
    wait = retry_after if retry_after is not None else answer.retry_after
    return http_status_error(answer.status, message, wait)


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
