"""Email over SMTP (aiosmtplib): multipart text and HTML, Alertmanager-style subjects."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_core import PydanticCustomError

from alertrouter.notifiers.config import IntegrationConfig, TLSConfig

__all__ = ["EmailConfig"]


class EmailConfig(IntegrationConfig):
    """``email_configs`` entry, with Alertmanager's field names and global SMTP defaults."""

    to: str = ""
    from_: str = Field("", alias="from")
    smarthost: str = ""
    hello: str = "localhost"
    auth_username: str | None = None
    auth_password: SecretStr | None = None
    auth_secret: SecretStr | None = None
    auth_identity: str | None = None
    require_tls: bool = True
    tls_config: TLSConfig | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    html: str | None = None
    text: str | None = None

    default_send_resolved: ClassVar[bool] = False
    global_defaults: ClassVar[dict[str, str]] = {
        "from": "smtp_from",
        "smarthost": "smtp_smarthost",
        "hello": "smtp_hello",
        "auth_username": "smtp_auth_username",
        "auth_password": "smtp_auth_password",
        "auth_password_file": "smtp_auth_password_file",
        "auth_identity": "smtp_auth_identity",
        "require_tls": "smtp_require_tls",
    }
    secret_files: ClassVar[dict[str, str]] = {"auth_password_file": "auth_password"}

    @field_validator("smarthost")
    @classmethod
    def _host_port(cls, value: str) -> str:
        if value:
            host, sep, port = value.rpartition(":")
            if not sep or not port.isdigit() or not host:
                raise PydanticCustomError(
                    "smarthost", 'address "{value}": want host:port', {"value": value}
                )
        return value

    @model_validator(mode="after")
    def _required(self) -> EmailConfig:
        if not self.to:
            raise PydanticCustomError("email", "missing to address in email config")
        if not self.smarthost:
            raise PydanticCustomError("email", "no smarthost set (nor global smtp_smarthost)")
        if not self.from_:
            raise PydanticCustomError("email", "no from address set (nor global smtp_from)")
        return self

    @property
    def host_port(self) -> tuple[str, int]:
        """The smarthost split into host and port."""
        host, _, port = self.smarthost.rpartition(":")
        return host.strip("[]"), int(port)
