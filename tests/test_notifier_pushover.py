"""The Pushover notifier against a fake Pushover API on 127.0.0.1."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pydantic import ValidationError

from alertrouter.config.integrations import RetryConfig
from alertrouter.errors import NotifierError, PermanentNotifierError, RetryableNotifierError
from alertrouter.notifiers.pushover import PushoverConfig, PushoverNotifier
from fakes.http import ScriptedAnswer
from fakes.pushover import FakePushover
from notifier_kit import GROUP_KEY, alert, notification

TOKEN = "azGDORePK8gMaC0QOYAMyEEuzJnyUi"
USER = "uQiRzpo4DXghDmr9QzzfQu27cmVRsG"
TAG = hashlib.sha256(GROUP_KEY.encode()).hexdigest()[:32]

Make = Callable[..., PushoverNotifier]


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """The shared HTTP session."""
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
async def po() -> AsyncIterator[FakePushover]:
    """A fake Pushover knowing TOKEN and USER."""
    async with FakePushover(token=TOKEN, user=USER) as fake:
        yield fake


@pytest.fixture
def make(session: aiohttp.ClientSession, po: FakePushover) -> Make:
    """A PushoverNotifier aimed at the fake, with extra config fields."""

    def build(**fields: Any) -> PushoverNotifier:
        raw = {"token": TOKEN, "user_key": USER, "api_url": po.messages_url, **fields}
        config = PushoverConfig.model_validate(raw)
        return PushoverNotifier(config, session, receiver="oncall", integration="pushover[0]")

    return build


async def test_default_message_is_alertmanagers(po: FakePushover, make: Make) -> None:
    """Unset fields render Alertmanager's defaults; firing is an emergency tagged by group."""
    receipt = await make().send(notification())
    (form,) = po.messages
    assert form["token"] == TOKEN
    assert form["user"] == USER
    assert form["title"].startswith("[FIRING:2] DiskFull")
    assert form["priority"] == "2"
    assert (form["retry"], form["expire"]) == ("60", "3600")
    assert form["tags"] == TAG
    assert form["url"] == "http://alertmanager:9093/#/alerts?receiver=oncall"
    assert "ttl" not in form
    assert receipt.message_id
    assert receipt.detail["receipt"] in po.emergencies


async def test_templated_fields(po: FakePushover, make: Make) -> None:
    """Every templated field renders with Alertmanager's data; durations become seconds."""
    await make(
        title="{{ .CommonLabels.alertname }} on {{ len .Alerts }}",
        message="{{ range .Alerts }}{{ .Labels.instance }} {{ end }}",
        url_title="see {{ .GroupLabels.alertname }}",
        priority='{{ if eq .Status "firing" }}1{{ else }}0{{ end }}',
        sound="siren",
        device="phone",
        retry="45s",
        expire="2h",
        ttl="1h",
        monospace=True,
    ).send(notification())
    (form,) = po.messages
    assert form["title"] == "DiskFull on 2"
    assert form["message"] == "db-1 db-2"
    assert form["url_title"] == "see DiskFull"
    assert (form["priority"], form["sound"], form["device"]) == ("1", "siren", "phone")
    assert (form["retry"], form["expire"], form["ttl"], form["monospace"]) == (
        "45", "7200", "3600", "1",
    )  # fmt: skip
    assert "tags" not in form  # only emergencies are tagged


async def test_html_message_is_escaped(po: FakePushover, make: Make) -> None:
    """With ``html: true`` the message renders as html/template and ``html=1`` is sent."""
    await make(html=True, message="<b>{{ .CommonLabels.alertname }}</b> {{ `a<b` }}").send(
        notification()
    )
    (form,) = po.messages
    assert form["html"] == "1"
    assert form["message"] == "<b>DiskFull</b> a&lt;b"


async def test_fields_are_cut_to_pushovers_limits(po: FakePushover, make: Make) -> None:
    """Title, message and URL longer than Pushover's limits are cut, ending with a marker."""
    await make(title="t" * 300, message="m" * 2000, url="http://x/" + "u" * 600).send(
        notification()
    )
    (form,) = po.messages
    assert (len(form["title"]), len(form["message"]), len(form["url"])) == (250, 1024, 512)
    assert form["message"].endswith("…")


async def test_empty_message_is_no_details(po: FakePushover, make: Make) -> None:
    """A message that renders empty is sent as ``(no details)``: Pushover rejects blanks."""
    await make(message="{{ if false }}x{{ end }}").send(notification())
    assert po.messages[0]["message"] == "(no details)"


async def test_failed_template_falls_back_to_default(po: FakePushover, make: Make) -> None:
    """A title whose template fails at send time is sent as the default title."""
    await make(title='{{ template "no.such" . }}').send(notification())
    assert po.messages[0]["title"].startswith("[FIRING:2]")


async def test_resolve_cancels_the_emergency(po: FakePushover, make: Make) -> None:
    """The group's resolve cancels its emergency retries by tag, then says it is resolved."""
    notifier = make()
    await notifier.send(notification())
    assert po.emergencies
    receipt = await notifier.send(notification(alert(1, "resolved"), alert(2, "resolved")))
    assert po.cancelled == [TAG]
    assert not po.emergencies
    assert receipt.detail["cancelled"] == 1
    assert po.messages[-1]["priority"] == "0"
    assert po.messages[-1]["title"].startswith("[RESOLVED]")


@pytest.mark.parametrize(
    ("fields", "reason"),
    [({"token": "wrong" * 6}, "authError"), ({"user_key": "wrong" * 6}, "authError")],
)
async def test_invalid_credentials_are_auth_errors(
    make: Make, fields: dict[str, str], reason: str
) -> None:
    """Pushover's 400 flagging the token or user key as invalid is a permanent authError."""
    with pytest.raises(PermanentNotifierError) as caught:
        await make(**fields).send(notification())
    assert caught.value.reason == reason
    assert "not a valid" in str(caught.value) or "is invalid" in str(caught.value)


@pytest.mark.parametrize(
    ("answer", "error", "reason", "retry_after"),
    [
        (ScriptedAnswer(400, '{"errors":["bad"],"status":0}'), PermanentNotifierError,
         "clientError", None),
        (ScriptedAnswer(429, "{}", {"Retry-After": "7"}), RetryableNotifierError,
         "rateLimited", 7.0),
        (ScriptedAnswer(500), RetryableNotifierError, "serverError", None),
    ],
)  # fmt: skip
async def test_answers_are_classified(
    po: FakePushover,
    make: Make,
    answer: ScriptedAnswer,
    error: type[NotifierError],
    reason: str,
    retry_after: float | None,
) -> None:
    """400 is permanent, 429 (monthly quota) retried after Retry-After, 5xx retried."""
    po.fail_next(answer)
    with pytest.raises(NotifierError) as caught:
        await make().send(notification())
    assert type(caught.value) is error
    assert caught.value.reason == reason
    assert getattr(caught.value, "retry_after", None) == retry_after


def test_secret_files_are_read(tmp_path: Path) -> None:
    """``token_file`` and ``user_key_file`` are read relative to the config file's folder."""
    (tmp_path / "token").write_text(TOKEN + "\n")
    (tmp_path / "user").write_text(USER)
    config = PushoverConfig.model_validate(
        {"token_file": "token", "user_key_file": "user"}, context={"base_dir": tmp_path}
    )
    assert config.token is not None
    assert config.user_key is not None
    assert (config.token.get_secret_value(), config.user_key.get_secret_value()) == (TOKEN, USER)
    assert TOKEN not in repr(config)
    assert USER not in str(config)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"token": TOKEN}, "user_key or user_key_file"),
        ({"user_key": USER}, "token or token_file"),
        ({"token": TOKEN, "user_key": USER, "html": True, "monospace": True}, "monospace & html"),
    ],
)
def test_config_is_checked_as_alertmanager(fields: dict[str, Any], message: str) -> None:
    """Missing credentials and html with monospace are refused as Alertmanager refuses them."""
    with pytest.raises(ValidationError, match=message):
        PushoverConfig.model_validate(fields)


def test_retry_is_pushovers_or_ours() -> None:
    """A duration ``retry`` is Pushover's emergency retry; a mapping is alertrouter's backoff."""
    base = {"token": TOKEN, "user_key": USER}
    pushover = PushoverConfig.model_validate({**base, "retry": "2m"})
    assert pushover.emergency_retry.total_seconds() == 120
    ours = PushoverConfig.model_validate({**base, "retry": {"initial": "5s"}})
    assert ours.retry == RetryConfig.model_validate({"initial": "5s"})
    assert ours.emergency_retry.total_seconds() == 60
    assert PushoverConfig.model_validate(base).resolved_wanted  # Alertmanager: send_resolved
