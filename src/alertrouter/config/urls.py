"""Every endpoint URL of an integration config is http(s) with a host (``check-config``).

A Slack ``api_url`` without a scheme loads, and then fails every send; found at load time it
is one problem with file:line. Fields that are templates (``{{ ... }}``) are checked when
rendered, not here. The message never quotes the value: URLs often carry a token.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

from pydantic import BaseModel, SecretStr

__all__ = ["url_problems"]

_URL_FIELDS = frozenset({"url", "api_url", "api_base_url", "proxy_url"})
Path = tuple[str | int, ...]


def url_problems(config: BaseModel) -> Iterator[tuple[Path, str]]:
    """(path under the integration, message) for each URL field that is not http(s)://host."""
    yield from _walk(config, ())


def _walk(model: BaseModel, path: Path) -> Iterator[tuple[Path, str]]:
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        key = field.alias or name
        if isinstance(value, BaseModel):
            yield from _walk(value, (*path, key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, BaseModel):
                    yield from _walk(item, (*path, key, index))
        elif name in _URL_FIELDS or name.endswith("_url"):
            text = value.get_secret_value() if isinstance(value, SecretStr) else value
            if isinstance(text, str) and text and "{{" not in text and not _is_http_url(text):
                yield (*path, key), "must be an http:// or https:// URL with a host"


def _is_http_url(text: str) -> bool:
    try:
        parts = urlsplit(text)
        return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
    except ValueError:  # an unclosed IPv6 literal
        return False
