"""Slack: incoming webhooks, or the Web API's chat.postMessage with a bot token."""

from __future__ import annotations

from typing import ClassVar

from pydantic import SecretStr, model_validator
from pydantic_core import PydanticCustomError

from alertrouter.notifiers.config import HTTPClientConfig, IntegrationConfig

__all__ = ["SlackConfig"]


class SlackConfig(IntegrationConfig):
    """``slack_configs`` entry: Alertmanager's fields plus ``token`` for the Web API."""

    api_url: SecretStr | None = None
    token: SecretStr | None = None
    channel: str | None = None
    username: str | None = None
    icon_emoji: str | None = None
    icon_url: str | None = None
    title: str | None = None
    title_link: str | None = None
    text: str | None = None
    color: str | None = None
    http_config: HTTPClientConfig = HTTPClientConfig()

    default_send_resolved: ClassVar[bool] = False
    ignored_fields: ClassVar[frozenset[str]] = frozenset(
        {
            "pretext", "footer", "fallback", "callback_id", "short_fields", "fields",
            "link_names", "mrkdwn_in", "actions", "image_url", "thumb_url",
        }
    )  # fmt: skip
    global_defaults: ClassVar[dict[str, str]] = {"api_url": "slack_api_url"}
    secret_files: ClassVar[dict[str, str]] = {
        "api_url_file": "api_url",
        "token_file": "token",
    }

    @model_validator(mode="after")
    def _endpoint_required(self) -> SlackConfig:
        if self.token is not None:
            if not self.channel:
                raise PydanticCustomError("slack", "channel is required with token (Web API)")
        elif self.api_url is None or not self.api_url.get_secret_value():
            raise PydanticCustomError(
                "slack", "api_url (or api_url_file, or global slack_api_url) is required"
            )
        return self
