"""Amazon SNS ``Publish`` (query API), signed with botocore's SigV4 signer.

Needs the ``alertrouter[sns]`` extra (botocore): its signer and its credential chain
(environment, profiles, instance roles, AssumeRole) rather than hand-made crypto. Credentials
that botocore must look up or refresh are fetched in a thread, never on the event loop. The
request is what Alertmanager's SDK call sends: ``Action=Publish`` with the topic, target or
phone number, message attributes, and for a FIFO topic the group key hash as both
MessageGroupId and MessageDeduplicationId.
"""

from __future__ import annotations

import asyncio
import functools
import time
import xml.etree.ElementTree as ET
from datetime import timedelta
from typing import Any, ClassVar
from urllib.parse import quote, urlencode

import aiohttp

try:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import (
        AssumeRoleCredentialFetcher,
        Credentials,
        DeferredRefreshableCredentials,
    )
    from botocore.session import Session as BotocoreSession
except ImportError as exc:  # say which extra brings it, where the config names the type
    raise ImportError(f"sns_configs need the alertrouter[sns] extra (botocore): {exc}") from exc
from pydantic import Field, SecretStr, model_validator
from pydantic_core import PydanticCustomError

from alertrouter.config.integrations import (
    Duration,
    HTTPClientConfig,
    IntegrationConfig,
    StrictModel,
)
from alertrouter.config.templating import GoTemplate
from alertrouter.errors import NotifierError, PermanentNotifierError, RetryableNotifierError
from alertrouter.notifiers.base import Notification, Notifier, Receipt
from alertrouter.notifiers.http import (
    USER_AGENT,
    Answer,
    Masker,
    answer_error,
    request,
    request_options,
)
from alertrouter.notifiers.render import group_key_hash, truncate, truncate_bytes
from alertrouter.notifiers.templating import FieldRenderer

__all__ = ["SNSConfig", "SNSNotifier", "SigV4Config"]

MAX_MESSAGE_BYTES = 256 * 1024  # SNS's limit for a topic or target message
MAX_SMS_BYTES = 1600  # Alertmanager's limit for a message to a phone number
MAX_SUBJECT = 100  # SNS refuses a longer subject, or one with a line break
API_VERSION = "2010-03-31"
THROTTLED = frozenset({"Throttling", "ThrottledException", "RequestLimitExceeded"})
AUTH_CODES = frozenset(
    {"InvalidClientTokenId", "SignatureDoesNotMatch", "AuthorizationError",
     "AccessDenied", "ExpiredToken", "IncompleteSignature", "MissingAuthenticationToken"}
)  # fmt: skip

DEFAULT_SUBJECT = '{{ template "sns.default.subject" . }}'
DEFAULT_MESSAGE = '{{ template "sns.default.message" . }}'


class SigV4Config(StrictModel):
    """Prometheus' ``sigv4`` block: region and where the credentials come from."""

    region: str = ""
    access_key: str = ""
    secret_key: SecretStr | None = None
    profile: str = ""
    role_arn: str = ""
    external_id: str = ""
    use_fips_sts_endpoint: bool = False

    @model_validator(mode="after")
    def _pair(self) -> SigV4Config:
        if bool(self.access_key) != bool(self.secret_key and self.secret_key.get_secret_value()):
            raise PydanticCustomError(
                "sigv4", "must provide a AWS SigV4 Access key and Secret Key if credentials set"
            )
        return self


class SNSConfig(IntegrationConfig):
    """``sns_configs`` entry: Alertmanager's fields; exactly one of ``topic_arn``,
    ``target_arn`` and ``phone_number``. ``sts_api_url`` (ours) aims AssumeRole elsewhere."""

    api_url: GoTemplate = ""
    sigv4: SigV4Config = SigV4Config()
    topic_arn: GoTemplate = ""
    phone_number: GoTemplate = ""
    target_arn: GoTemplate = ""
    subject: GoTemplate | None = None
    message: GoTemplate | None = None
    attributes: dict[str, GoTemplate] = Field(default_factory=dict)
    use_aws_http_client: bool = False  # accepted; requests always go through aiohttp here
    sts_api_url: str | None = None
    http_config: HTTPClientConfig = HTTPClientConfig()
    timeout: Duration = timedelta(seconds=10)

    default_send_resolved: ClassVar[bool] = True

    @model_validator(mode="after")
    def _one_destination(self) -> SNSConfig:
        given = [n for n in ("topic_arn", "target_arn", "phone_number") if getattr(self, n)]
        if len(given) != 1:
            raise PydanticCustomError(
                "sns", "must provide either a Target ARN, Topic ARN, or Phone Number for SNS config"
            )
        if self.timeout <= timedelta(0):
            raise PydanticCustomError("sns", "timeout must be greater than 0")
        return self


class SNSNotifier(Notifier[SNSConfig]):
    """Publishes one message per notification; the Receipt carries SNS's MessageId.

    Throttling codes (and 429) are retried as rateLimited, 5xx as serverError; credential and
    signature errors are permanent authErrors, other 4xx permanent clientErrors.
    """

    type_name: ClassVar[str] = "sns"
    config_model: ClassVar[type[IntegrationConfig]] = SNSConfig
    default_rate_per_second: ClassVar[float] = 10.0  # far below SNS's per-account Publish TPS
    default_burst: ClassVar[int] = 20
    max_message_bytes: ClassVar[int] = MAX_MESSAGE_BYTES
    coalesce: ClassVar[bool] = True

    def __init__(self, config: SNSConfig, session: aiohttp.ClientSession, **options: Any):
        super().__init__(config, session, **options)
        secret = config.sigv4.secret_key
        secrets = [secret.get_secret_value()] if secret is not None else []
        self._mask = Masker(values=secrets)
        self._timeout = config.timeout.total_seconds()
        self._credentials: Any = None  # botocore credentials, made at the first send

    async def send(self, notification: Notification) -> Receipt:
        """Sign and post ``Action=Publish``; 2xx delivered, anything else classified."""
        started = time.monotonic()
        fields = FieldRenderer(self, notification)
        form, truncated = self.publish_form(notification, fields)
        region = await self._region()
        url = fields.text("api_url", self.config.api_url) or f"https://sns.{region}.amazonaws.com/"
        credentials = await self._frozen_credentials()
        # One encoding of the body, signed and sent as is.
        body = urlencode(form, quote_via=quote).encode("utf-8")
        options = request_options(self.config.http_config)
        options["headers"] = self._signed_headers(url, body, region, credentials)
        answer = await request(
            self.session, "POST", url, provider="SNS", timeout=self._timeout, data=body, **options
        )
        if not answer.ok:
            raise self._failure(answer)
        return Receipt(
            provider_status=f"{answer.status} {answer.reason}".strip(),
            message_id=_xml_text(answer.text, "MessageId"),
            duration=time.monotonic() - started,
            detail={"truncated": truncated},
        )

    def publish_form(
        self, notification: Notification, fields: FieldRenderer
    ) -> tuple[dict[str, str], bool]:
        """The Publish parameters, and whether the message had to be cut."""
        config = self.config

        def text(name: str, template: str | None, default: str) -> str:
            return fields.text(name, template, lambda: fields.text(name, default))

        form = {"Action": "Publish", "Version": API_VERSION}
        limit = MAX_MESSAGE_BYTES
        if config.topic_arn:
            form["TopicArn"] = fields.text("topic_arn", config.topic_arn)
            if form["TopicArn"].endswith(".fifo"):
                key = group_key_hash(str(notification.group.get("groupKey") or ""))
                form["MessageGroupId"] = form["MessageDeduplicationId"] = key
        if config.phone_number:
            form["PhoneNumber"] = fields.text("phone_number", config.phone_number)
            limit = MAX_SMS_BYTES
        if config.target_arn:
            form["TargetArn"] = fields.text("target_arn", config.target_arn)
        message, truncated = truncate_bytes(text("message", config.message, DEFAULT_MESSAGE), limit)
        form["Message"] = message
        subject = text("subject", config.subject, DEFAULT_SUBJECT)
        if subject:
            form["Subject"] = truncate(" ".join(subject.split()), MAX_SUBJECT)
        attributes = {
            fields.text(f"attributes.{k}", k): fields.text(f"attributes.{k}", v)
            for k, v in config.attributes.items()
        }
        if truncated:
            attributes["truncated"] = "true"  # as Alertmanager marks it
        for index, (name, value) in enumerate(sorted(attributes.items()), start=1):
            prefix = f"MessageAttributes.entry.{index}"
            form[f"{prefix}.Name"] = name
            form[f"{prefix}.Value.DataType"] = "String"
            form[f"{prefix}.Value.StringValue"] = value
        return form, truncated

    # -- signing -------------------------------------------------------------------------

    async def _region(self) -> str:
        if self.config.sigv4.region:
            return self.config.sigv4.region
        for arn in (self.config.topic_arn, self.config.target_arn):
            parts = arn.split(":")
            if arn.startswith("arn:") and len(parts) > 3 and parts[3]:
                return parts[3]
        region = await asyncio.to_thread(lambda: BotocoreSession().get_config_variable("region"))
        if not region:
            raise PermanentNotifierError(
                "other",
                "SNS: region not configured in sns.sigv4.region or in default credentials chain",
            )
        return str(region)

    async def _frozen_credentials(self) -> Any:
        """The current access key, secret and token (botocore may refresh them: a thread)."""
        if self._credentials is None:
            self._credentials = await asyncio.to_thread(self._resolve_credentials)
        frozen = await asyncio.to_thread(self._credentials.get_frozen_credentials)
        if not frozen.access_key:
            raise PermanentNotifierError("authError", "SNS: no AWS credentials found")
        return frozen

    def _resolve_credentials(self) -> Any:
        sigv4 = self.config.sigv4
        if sigv4.access_key and sigv4.secret_key is not None:
            base: Any = Credentials(sigv4.access_key, sigv4.secret_key.get_secret_value())
            boto = BotocoreSession()
        else:
            boto = BotocoreSession(profile=sigv4.profile or None)
            base = boto.get_credentials()
        if base is None:
            raise PermanentNotifierError("authError", "SNS: no AWS credentials found")
        if not sigv4.role_arn:
            return base
        extra = {"ExternalId": sigv4.external_id} if sigv4.external_id else {}
        client_options: dict[str, Any] = {"region_name": sigv4.region or None}
        if self.config.sts_api_url:
            client_options["endpoint_url"] = self.config.sts_api_url
        elif sigv4.use_fips_sts_endpoint and sigv4.region:
            client_options["endpoint_url"] = f"https://sts-fips.{sigv4.region}.amazonaws.com"
        fetcher = AssumeRoleCredentialFetcher(
            client_creator=functools.partial(boto.create_client, **client_options),
            source_credentials=base,
            role_arn=sigv4.role_arn,
            extra_args=extra,
        )
        return DeferredRefreshableCredentials(
            method="assume-role", refresh_using=fetcher.fetch_credentials
        )

    def _signed_headers(
        self, url: str, body: bytes, region: str, credentials: Any
    ) -> dict[str, str]:
        request = AWSRequest(
            method="POST",
            url=url,
            data=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                "User-Agent": USER_AGENT,
            },
        )
        SigV4Auth(credentials, "sns", region).add_auth(request)
        return {k: str(v) for k, v in request.headers.items()}

    def _failure(self, answer: Answer) -> NotifierError:
        code = _xml_text(answer.text, "Code") or ""
        message = _xml_text(answer.text, "Message") or ""
        detail = f"{code}: {message}" if code else ""
        if code in THROTTLED:
            return RetryableNotifierError(
                "rateLimited",
                str(answer_error("SNS", answer, self._mask, detail=detail)),
                answer.retry_after,
            )
        if code in AUTH_CODES and 400 <= answer.status < 500:
            return PermanentNotifierError(
                "authError", str(answer_error("SNS", answer, self._mask, detail=detail))
            )
        return answer_error("SNS", answer, self._mask, detail=detail)


def _xml_text(text: str, tag: str) -> str | None:
    """The text of the first ``tag`` element (any namespace) of an XML answer, if any."""
    try:
        root = ET.fromstring(text)  # the configured endpoint's answer: small, no DTDs
    except ET.ParseError:
        return None
    for element in root.iter():
        if element.tag == tag or element.tag.endswith("}" + tag):
            return element.text
    return None
