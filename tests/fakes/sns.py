"""A fake Amazon SNS query API that checks SigV4 signatures with botocore's signer.

    async with FakeSNS(access_key="AKIA...", secret_key="...") as sns:
        config = {"api_url": sns.url + "/", "topic_arn": ..., "sigv4": {...}}
        sns.published[0]["Message"]

It accepts what SNS documents for ``Action=Publish``: a form body, an ``Authorization``
header ``AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/sns/aws4_request, ...`` whose
signature it recomputes (403 ``SignatureDoesNotMatch`` / ``InvalidClientTokenId`` otherwise),
exactly one of TopicArn, TargetArn and PhoneNumber, a Message within 256 KB, MessageGroupId for a
``.fifo`` topic, and a Subject of at most 100 characters without line breaks. Answers are SNS's
XML.
"""

from __future__ import annotations

import re
import uuid
from urllib.parse import parse_qsl

from aiohttp import web
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from fakes.http import FakeHTTPServer, RecordedRequest

__all__ = ["TEMPORARY", "FakeSNS", "sns_error"]

_AUTH = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/sns/"
    r"aws4_request, SignedHeaders=(?P<signed>[^,]+), Signature=(?P<signature>[0-9a-f]{64})"
)
_NS = "http://sns.amazonaws.com/doc/2010-03-31/"
TEMPORARY = ("ASIATEMPORARYKEY0001", "temporary/secret/key/0123456789abcdefghij", "session-token")


def sns_error(status: int, code: str, message: str, kind: str = "Sender") -> str:
    """SNS's XML error body."""
    return (
        f'<ErrorResponse xmlns="{_NS}"><Error><Type>{kind}</Type><Code>{code}</Code>'
        f"<Message>{message}</Message></Error><RequestId>{uuid.uuid4()}</RequestId>"
        "</ErrorResponse>"
    )


class FakeSNS(FakeHTTPServer):
    """Records each accepted Publish's parameters in ``published``."""

    def __init__(self, *, access_key: str, secret_key: str, region: str = "us-east-1") -> None:
        self.access_key = access_key
        self.secret_key = secret_key
        self.region = region
        self.published: list[dict[str, str]] = []
        self.assumed: list[dict[str, str]] = []
        super().__init__()

    def setup(self, app: web.Application) -> None:
        """The query API answers on ``/``."""
        app.router.add_post("/", self.route(self._query))
        app.router.add_post("/sts/", self.route(self._assume_role))

    @property
    def sts_url(self) -> str:
        """An STS endpoint whose AssumeRole hands out ``TEMPORARY`` credentials."""
        return f"{self.url}/sts/"

    @staticmethod
    def _error(status: int, code: str, message: str) -> web.Response:
        return web.Response(
            status=status, text=sns_error(status, code, message), content_type="text/xml"
        )

    def _signature_problem(self, request: RecordedRequest) -> tuple[str, str] | None:
        found = _AUTH.fullmatch(request.headers.get("Authorization", ""))
        if found is None:
            return "MissingAuthenticationToken", "Request is missing Authentication Token"
        secret = self.secret_key
        if found["key"] == TEMPORARY[0] and request.headers.get("X-Amz-Security-Token"):
            secret = TEMPORARY[1]
        elif found["key"] != self.access_key:
            return "InvalidClientTokenId", "The security token included in the request is invalid"
        signed = found["signed"].split(";")
        headers = {k: v for k, v in request.headers.items() if k.lower() in signed}
        remade = AWSRequest(
            method=request.method, url=f"{self.url}{request.path}", data=request.body,
            headers={k: v for k, v in headers.items() if k.lower() != "host"},
        )  # fmt: skip
        remade.context["timestamp"] = request.headers.get("X-Amz-Date", "")
        auth = SigV4Auth(Credentials(found["key"], secret), "sns", found["region"])
        canonical = auth.canonical_request(remade)
        expected = auth.signature(auth.string_to_sign(remade, canonical), remade)
        if expected != found["signature"]:
            return "SignatureDoesNotMatch", "The request signature we calculated does not match"
        return None

    async def _assume_role(self, request: RecordedRequest) -> web.StreamResponse:
        form = dict(parse_qsl(request.body.decode()))
        if form.get("Action") != "AssumeRole" or not form.get("RoleArn"):
            return self._error(400, "InvalidAction", "only AssumeRole is faked")
        self.assumed.append(form)
        key, secret, token = TEMPORARY
        return web.Response(
            text='<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
            f"<AssumeRoleResult><Credentials><AccessKeyId>{key}</AccessKeyId>"
            f"<SecretAccessKey>{secret}</SecretAccessKey><SessionToken>{token}</SessionToken>"
            "<Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>"
            f"<AssumedRoleUser><Arn>{form['RoleArn']}/s</Arn><AssumedRoleId>AROA:s"
            "</AssumedRoleId></AssumedRoleUser></AssumeRoleResult></AssumeRoleResponse>",
            content_type="text/xml",
        )

    async def _query(self, request: RecordedRequest) -> web.StreamResponse:
        problem = self._signature_problem(request)
        if problem is not None:
            return self._error(403, *problem)
        form = dict(parse_qsl(request.body.decode(), keep_blank_values=True))
        if form.get("Action") != "Publish":
            return self._error(400, "InvalidAction", "only Publish is faked")
        targets = [k for k in ("TopicArn", "TargetArn", "PhoneNumber") if form.get(k)]
        if len(targets) != 1:
            return self._error(400, "InvalidParameter", "one of TopicArn, TargetArn, PhoneNumber")
        if len(form.get("Message", "").encode()) > 256 * 1024 or not form.get("Message"):
            return self._error(400, "InvalidParameter", "Message too long or empty")
        subject = form.get("Subject", "")
        if len(subject) > 100 or "\n" in subject:
            return self._error(400, "InvalidParameter", "Subject")
        if form.get("TopicArn", "").endswith(".fifo") and not form.get("MessageGroupId"):
            return self._error(400, "InvalidParameter", "MessageGroupId required for FIFO")
        self.published.append(form)
        message_id = str(uuid.uuid4())
        return web.Response(
            text=f'<PublishResponse xmlns="{_NS}"><PublishResult><MessageId>{message_id}'
            "</MessageId></PublishResult></PublishResponse>",
            content_type="text/xml",
        )
