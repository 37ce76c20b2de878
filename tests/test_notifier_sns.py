"""The SNS notifier against a fake SNS query API on 127.0.0.1 that checks SigV4 signatures."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pydantic import ValidationError

from alertrouter.errors import NotifierError, PermanentNotifierError, RetryableNotifierError
from alertrouter.notifiers.sns import SNSConfig, SNSNotifier
from fakes.http import ScriptedAnswer
from fakes.sns import TEMPORARY, FakeSNS, sns_error
from notifier_kit import GROUP_KEY, alert, notification

ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOPIC = "arn:aws:sns:us-east-1:123456789012:alerts"

Make = Callable[..., SNSNotifier]


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """The shared HTTP session."""
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
async def sns() -> AsyncIterator[FakeSNS]:
    """A fake SNS knowing the example credentials."""
    async with FakeSNS(access_key=ACCESS_KEY, secret_key=SECRET_KEY) as fake:
        yield fake


@pytest.fixture
def make(session: aiohttp.ClientSession, sns: FakeSNS) -> Make:
    """An SNSNotifier aimed at the fake with static credentials, plus extra fields."""

    def build(**fields: Any) -> SNSNotifier:
        raw: dict[str, Any] = {
            "api_url": f"{sns.url}/",
            "sigv4": {"region": "us-east-1", "access_key": ACCESS_KEY, "secret_key": SECRET_KEY},
        }
        if not {"target_arn", "phone_number"} & set(fields):
            raw["topic_arn"] = TOPIC
        config = SNSConfig.model_validate(raw | fields)
        return SNSNotifier(config, session, receiver="oncall", integration="sns[0]")

    return build


async def test_signed_publish_with_alertmanager_defaults(sns: FakeSNS, make: Make) -> None:
    """A SigV4-signed Action=Publish with Alertmanager's default subject and message."""
    receipt = await make().send(notification())
    (form,) = sns.published
    assert (
        sns.requests[0]
        .headers["Authorization"]
        .startswith(f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/")
    )
    assert (form["TopicArn"], form["Version"]) == (TOPIC, "2010-03-31")
    assert form["Subject"].startswith("[FIRING:2] DiskFull")
    assert "disk on db-1 is full" in form["Message"]
    assert "disk on db-2 is full" in form["Message"]
    assert "MessageGroupId" not in form
    assert receipt.message_id
    assert receipt.detail == {"truncated": False}


async def test_fifo_topic_gets_the_group_hash(sns: FakeSNS, make: Make) -> None:
    """A .fifo topic gets the group key hash as MessageGroupId and MessageDeduplicationId."""
    await make(topic_arn=TOPIC + ".fifo").send(notification())
    (form,) = sns.published
    digest = hashlib.sha256(GROUP_KEY.encode()).hexdigest()
    assert form["MessageGroupId"] == form["MessageDeduplicationId"] == digest


async def test_templated_fields_and_attributes(sns: FakeSNS, make: Make) -> None:
    """Subject, message and attribute names and values are templates over the group."""
    await make(
        subject="{{ .Status }}: {{ .GroupLabels.alertname }}",
        message="{{ range .Alerts }}{{ .Labels.instance }};{{ end }}",
        attributes={"severity": "{{ .CommonLabels.severity }}", "team": "db"},
    ).send(notification(alert(1, "resolved")))
    (form,) = sns.published
    assert (form["Subject"], form["Message"]) == ("resolved: DiskFull", "db-1;")
    attributes = {
        form[f"MessageAttributes.entry.{i}.Name"]: form[
            f"MessageAttributes.entry.{i}.Value.StringValue"
        ]
        for i in (1, 2)
    }
    assert attributes == {"severity": "critical", "team": "db"}
    assert form["MessageAttributes.entry.1.Value.DataType"] == "String"


async def test_oversized_message_is_cut_and_marked(sns: FakeSNS, make: Make) -> None:
    """A message over 256 KB (1,600 bytes to a phone) is cut and marked truncated=true."""
    receipt = await make(message="é" * 200_000).send(notification())
    form = sns.published[0]
    assert len(form["Message"].encode()) <= 256 * 1024
    assert form["MessageAttributes.entry.1.Name"] == "truncated"
    assert receipt.detail == {"truncated": True}
    await make(phone_number="+15555550100", message="x" * 5000).send(notification())
    assert len(sns.published[1]["Message"].encode()) == 1600


async def test_subject_fits_sns_rules(sns: FakeSNS, make: Make) -> None:
    """A long or multi-line subject is folded to one line of at most 100 characters."""
    await make(subject="line one\nline two " + "y" * 200).send(notification())
    subject = sns.published[0]["Subject"]
    assert len(subject) == 100
    assert "\n" not in subject


@pytest.mark.parametrize(
    ("answer", "error", "reason", "retry_after"),
    [
        (ScriptedAnswer(400, sns_error(400, "InvalidParameter", "bad"), content_type="text/xml"),
         PermanentNotifierError, "clientError", None),
        (ScriptedAnswer(400, sns_error(400, "Throttling", "slow"), content_type="text/xml"),
         RetryableNotifierError, "rateLimited", None),
        (ScriptedAnswer(429, sns_error(429, "ThrottledException", "slow"), {"Retry-After": "2"},
                        "text/xml"), RetryableNotifierError, "rateLimited", 2.0),
        (ScriptedAnswer(500, sns_error(500, "InternalError", "oops", "Receiver"),
                        content_type="text/xml"), RetryableNotifierError, "serverError", None),
    ],
)  # fmt: skip
async def test_answers_are_classified(
    sns: FakeSNS,
    make: Make,
    answer: ScriptedAnswer,
    error: type[NotifierError],
    reason: str,
    retry_after: float | None,
) -> None:
    """SNS's error codes and statuses become Alertmanager's reasons."""
    sns.fail_next(answer)
    with pytest.raises(NotifierError) as caught:
        await make().send(notification())
    assert type(caught.value) is error
    assert caught.value.reason == reason
    assert getattr(caught.value, "retry_after", None) == retry_after


async def test_wrong_secret_is_an_auth_error(make: Make) -> None:
    """A signature SNS cannot verify is a permanent authError that never shows the secret."""
    notifier = make(
        sigv4={"region": "us-east-1", "access_key": ACCESS_KEY, "secret_key": "not-the-secret"}
    )
    with pytest.raises(PermanentNotifierError) as caught:
        await notifier.send(notification())
    assert caught.value.reason == "authError"
    assert "SignatureDoesNotMatch" in str(caught.value)
    assert "not-the-secret" not in repr(notifier.config)


async def test_role_arn_assumes_the_role(sns: FakeSNS, make: Make) -> None:
    """With ``role_arn`` the base credentials assume the role (through botocore's STS client)
    and the publish is signed with the temporary ones."""
    notifier = make(
        sigv4={
            "region": "us-east-1", "access_key": ACCESS_KEY, "secret_key": SECRET_KEY,
            "role_arn": "arn:aws:iam::123456789012:role/alerts", "external_id": "ext-1",
        },
        sts_api_url=sns.sts_url,
    )  # fmt: skip
    await notifier.send(notification())
    await notifier.send(notification())
    (assumed,) = sns.assumed  # cached until it expires
    assert (assumed["RoleArn"], assumed["ExternalId"]) == (
        "arn:aws:iam::123456789012:role/alerts", "ext-1",
    )  # fmt: skip
    assert len(sns.published) == 2
    auth = sns.requests[-1].headers["Authorization"]
    assert f"Credential={TEMPORARY[0]}/" in auth
    assert sns.requests[-1].headers["X-Amz-Security-Token"] == TEMPORARY[2]


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"topic_arn": TOPIC, "phone_number": "+15555550100"},
        {"topic_arn": TOPIC, "sigv4": {"access_key": ACCESS_KEY}},
    ],
)
def test_config_is_checked_as_alertmanager(fields: dict[str, Any]) -> None:
    """Exactly one destination, and an access key only with its secret key."""
    with pytest.raises(ValidationError):
        SNSConfig.model_validate(fields)


def test_missing_extra_names_it() -> None:
    """Without botocore, loading the sns plugin fails naming the alertrouter[sns] extra."""
    code = (
        "import sys; sys.modules['botocore'] = None\n"
        "try:\n    import alertrouter.notifiers.sns\n"
        "except ImportError as exc:\n    print(exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert "alertrouter[sns] extra" in done.stdout


@pytest.fixture
def aws_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An AWS credentials file with profile ``alerts``; no other AWS setting, no metadata."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_REGION", "AWS_DEFAULT_REGION"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # nothing leaves 127.0.0.1
    credentials = tmp_path / "credentials"
    credentials.write_text(
        f"[alerts]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n"
    )
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    return tmp_path


@pytest.mark.usefixtures("aws_files")
async def test_profile_credentials(sns: FakeSNS, make: Make) -> None:
    """``sigv4.profile`` takes the keys from the shared credentials file (botocore's chain)."""
    await make(sigv4={"region": "us-east-1", "profile": "alerts"}).send(notification())
    assert len(sns.published) == 1
    assert f"Credential={ACCESS_KEY}/" in sns.requests[0].headers["Authorization"]


async def test_region_from_the_environment(
    sns: FakeSNS, make: Make, aws_files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A phone number has no ARN to take a region from: botocore's chain gives it."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    sns.region = "eu-west-1"
    notifier = make(
        phone_number="+15555550100", sigv4={"access_key": ACCESS_KEY, "secret_key": SECRET_KEY}
    )
    await notifier.send(notification())
    assert "/eu-west-1/sns/aws4_request" in sns.requests[0].headers["Authorization"]


@pytest.mark.usefixtures("aws_files")
async def test_no_region_anywhere_is_permanent(make: Make) -> None:
    """Without a region in sigv4, the ARN or the environment, the send fails permanently."""
    notifier = make(
        phone_number="+15555550100", sigv4={"access_key": ACCESS_KEY, "secret_key": SECRET_KEY}
    )
    with pytest.raises(PermanentNotifierError, match="region not configured"):
        await notifier.send(notification())


async def test_region_from_the_topic_arn(sns: FakeSNS, make: Make) -> None:
    """Without ``sigv4.region`` the topic ARN's region scopes the signature."""
    notifier = make(
        topic_arn="arn:aws:sns:eu-central-1:123456789012:alerts",
        sigv4={"access_key": ACCESS_KEY, "secret_key": SECRET_KEY},
    )
    await notifier.send(notification())
    assert "/eu-central-1/sns/aws4_request" in sns.requests[0].headers["Authorization"]
