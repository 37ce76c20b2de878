"""The Slack notifier against a fake Slack on 127.0.0.1 (incoming webhooks and chat.postMessage)."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import traceback
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import aiohttp
import pytest
from pydantic import ValidationError

from alertrouter.errors import NotifierError, PermanentNotifierError, RetryableNotifierError
from alertrouter.notifiers.base import Notification
from alertrouter.notifiers.render import digest_lines
from alertrouter.notifiers.slack import (
    COLOR_RESOLVED,
    SEVERITY_COLORS,
    SlackConfig,
    SlackNotifier,
    build_message,
)
from alertrouter.notifiers.templating import FieldRenderer
from fakes.http import ScriptedAnswer
from fakes.slack import FakeSlack

TOKEN = "xoxb-1234-5678-sEcReTtOkEn"
SECRET_SEGMENT = "hUnTeR2sEcReTpAtH"
WEBHOOK_PATH = f"T0SECRET/B0SECRET/{SECRET_SEGMENT}"

MakeNotifier = Callable[..., SlackNotifier]


def make_alert(
    name: str = "HighLatency",
    severity: str = "critical",
    status: str = "firing",
    index: int = 0,
    summary: str | None = None,
    **labels: str,
) -> dict[str, Any]:
    """An Alertmanager v4 alert dict."""
    return {
        "status": status,
        "labels": {"alertname": name, "severity": severity, "instance": f"api-{index}", **labels},
        "annotations": {
            "summary": summary or f"p99 latency above 1s on api-{index}",
            "runbook_url": f"https://runbooks.example.com/{name}",
        },
        "startsAt": f"2024-05-01T10:{index % 60:02d}:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": f"http://prometheus:9090/graph?g0.expr=up{index}",
        "fingerprint": f"{index:016x}",
    }


def make_notification(alerts: list[dict[str, Any]], *, digest: bool = False) -> Notification:
    """A notification for receiver ``slack-warnings`` with Alertmanager-like group data."""
    common = {"alertname": alerts[0]["labels"]["alertname"]} if alerts else {}
    return Notification(
        receiver="slack-warnings",
        integration="slack[0]",
        alerts=tuple(alerts),
        group={
            "receiver": "slack-warnings",
            "status": "firing",
            "groupKey": '{}:{alertname="HighLatency"}',
            "groupLabels": common,
            "commonLabels": common,
            "commonAnnotations": {},
            "externalURL": "http://alertmanager:9093",
            "truncatedAlerts": 0,
        },
        digest=digest,
    )


def all_blocks(message: dict[str, Any]) -> list[dict[str, Any]]:
    """Top-level and attachment blocks of a Slack message."""
    blocks = list(message.get("blocks") or [])
    for attachment in message.get("attachments") or []:
        blocks += attachment.get("blocks") or []
    return blocks


def sections(message: dict[str, Any]) -> list[str]:
    """The mrkdwn text of every section block."""
    return [b["text"]["text"] for b in all_blocks(message) if b["type"] == "section"]


def header(message: dict[str, Any]) -> str:
    """The header block's text."""
    (block,) = [b for b in all_blocks(message) if b["type"] == "header"]
    return str(block["text"]["text"])


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """The shared HTTP session the service would give every notifier."""
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    """A running fake Slack."""
    async with FakeSlack(token=TOKEN) as fake:
        yield fake


@pytest.fixture
def make_notifier(session: aiohttp.ClientSession, slack: FakeSlack) -> MakeNotifier:
    """Build a SlackNotifier: webhook by default, Web API with ``web=True``."""

    def build(web: bool = False, **fields: Any) -> SlackNotifier:
        if web:
            base = {"token": TOKEN, "channel": "#alerts", "api_base_url": slack.api_base_url}
        else:
            base = {"api_url": slack.webhook_url(WEBHOOK_PATH)}
        config = SlackConfig.model_validate({**base, **fields})
        return SlackNotifier(config, session, receiver="slack-warnings", integration="slack[0]")

    return build


async def test_firing_group_posts_block_kit_message(
    slack: FakeSlack, make_notifier: MakeNotifier
) -> None:
    """A firing group becomes one message: header with status and count, a section per alert."""
    alerts = [make_alert(index=i) for i in range(2)] + [make_alert(severity="warning", index=2)]
    receipt = await make_notifier(username="alertrouter", icon_emoji=":fire:").send(
        make_notification(alerts)
    )

    assert receipt.provider_status == "200 ok"
    assert receipt.message_id is None
    (message,) = slack.messages
    assert header(message).startswith("🔥 [FIRING:3] HighLatency")
    assert message["text"].startswith("[FIRING:3] HighLatency")
    assert message["username"] == "alertrouter"
    assert message["icon_emoji"] == ":fire:"
    assert message["attachments"][0]["color"] == SEVERITY_COLORS["critical"]
    texts = sections(message)
    assert len(texts) == 3
    assert "critical" in texts[0]
    assert "warning" in texts[2]  # most severe first
    assert "p99 latency above 1s on api-0" in texts[0]
    assert "<https://runbooks.example.com/HighLatency|Runbook>" in texts[0]
    assert "<http://prometheus:9090/graph?g0.expr=up0|Source>" in texts[0]
    assert "instance=api-0" in texts[0]
    assert "http://alertmanager:9093/#/alerts?receiver=slack-warnings" in json.dumps(message)


async def test_warning_group_is_yellow(slack: FakeSlack, make_notifier: MakeNotifier) -> None:
    """A group whose worst firing alert is a warning gets the warning colour."""
    await make_notifier().send(make_notification([make_alert(severity="warning")]))

    assert slack.messages[0]["attachments"][0]["color"] == SEVERITY_COLORS["warning"]


async def test_resolved_group_is_green(slack: FakeSlack, make_notifier: MakeNotifier) -> None:
    """A resolved group says RESOLVED with a check mark and a green attachment."""
    alerts = [make_alert(status="resolved", index=i) for i in range(2)]
    await make_notifier().send(make_notification(alerts))

    (message,) = slack.messages
    assert header(message).startswith("✅ [RESOLVED] HighLatency")
    assert message["attachments"][0]["color"] == COLOR_RESOLVED
    assert all("resolved" in text for text in sections(message))


async def test_200_alerts_fit_slack_limits(slack: FakeSlack, make_notifier: MakeNotifier) -> None:
    """200 alerts give one accepted message within Slack's limits, ending "+N more (200 total)"."""
    alerts = [make_alert(index=i, summary="x" * 400) for i in range(200)]
    await make_notifier().send(make_notification(alerts))

    (message,) = slack.messages
    blocks = all_blocks(message)
    texts = sections(message)
    listed = [t for t in texts if "instance=api-" in t]
    assert len(blocks) <= 50
    assert all(len(t) <= 3000 for t in texts)
    assert len(header(message)) <= 150
    assert len(json.dumps(message)) <= SlackNotifier.max_message_bytes
    assert texts[-1] == f"*+{200 - len(listed)} more alerts* (200 in total)"
    assert 0 < len(listed) < 200


async def test_huge_annotations_are_cut_to_section_limit(
    slack: FakeSlack, make_notifier: MakeNotifier
) -> None:
    """Annotations and labels far over 3000 characters are cut so each section fits."""
    alerts = [make_alert(index=i, summary="s" * 10_000, team="t" * 5000) for i in range(5)]
    await make_notifier().send(make_notification(alerts))

    (message,) = slack.messages
    assert all(len(t) <= 3000 for t in sections(message))
    assert len(json.dumps(message)) <= SlackNotifier.max_message_bytes


async def test_digest_states_covered_count(slack: FakeSlack, make_notifier: MakeNotifier) -> None:
    """A storm digest's header states the alerts covered, then counts, then the worst alerts."""
    alerts = [make_alert("DiskFull", "warning", index=i) for i in range(20)]
    alerts += [make_alert("NodeDown", "critical", index=i) for i in range(10)]
    notification = make_notification(alerts, digest=True)
    await make_notifier().send(notification)

    (message,) = slack.messages
    assert header(message).endswith("digest of 30 alerts")
    texts = sections(message)
    assert texts[0].startswith("*Storm digest: 30 alerts*")
    for line in digest_lines(alerts):
        assert line in texts[0]
    assert "NodeDown" in texts[1]  # the most severe alerts come first


async def test_a_storm_digest_names_what_fits_then_counts_the_rest(
    slack: FakeSlack, make_notifier: MakeNotifier
) -> None:
    """A 980-alert digest names hundreds of alerts, one line each with what tells them apart
    (most severe first), within Slack's limits; a last line counts the rest."""
    alerts = [make_alert("DiskFull", "warning", index=i) for i in range(900)]
    alerts += [make_alert("NodeDown", "critical", index=i) for i in range(80)]
    await make_notifier().send(make_notification(alerts, digest=True))

    (message,) = slack.messages
    texts = sections(message)
    named = [line for text in texts[1:] for line in text.splitlines() if " *" in line[:4]]
    more = re.fullmatch(r"\*\+(\d+) more alerts\* \(980 in total\)", texts[-1])
    assert more is not None, texts[-1]
    assert len(named) + int(more[1]) == 980
    assert len(named) >= 300
    assert named[0].startswith("🔴 *NodeDown* · critical · `instance=api-")
    assert len(json.dumps(message)) <= SlackNotifier.max_message_bytes
    assert len(all_blocks(message)) <= 50


async def test_digest_header_keeps_count_when_title_is_long(
    slack: FakeSlack, make_notifier: MakeNotifier
) -> None:
    """Cutting a long digest title to 150 characters keeps the covered count."""
    alerts = [make_alert(index=i) for i in range(12)]
    await make_notifier(title="{{ .Status }} very long title " * 20).send(
        make_notification(alerts, digest=True)
    )

    text = header(slack.messages[0])
    assert len(text) <= 150
    assert text.endswith(" — digest of 12 alerts")


async def test_title_and_text_overrides_render(
    slack: FakeSlack, make_notifier: MakeNotifier
) -> None:
    """``title``, ``text`` and ``color`` templates render with the notification's context."""
    notifier = make_notifier(
        title="{{ .Status | toUpper }}: {{ .Alerts | len }} in {{ .CommonLabels.alertname }}",
        text="{{ range .Alerts }}• {{ .Labels.instance }}\n{{ end }}",
        color='{{ if eq .Status "firing" }}danger{{ else }}good{{ end }}',
    )
    await notifier.send(make_notification([make_alert(index=i) for i in range(2)]))

    (message,) = slack.messages
    assert message["text"] == "FIRING: 2 in HighLatency"
    assert header(message) == "🔥 FIRING: 2 in HighLatency"
    assert sections(message) == ["• api-0\n• api-1"]
    assert message["attachments"][0]["color"] == "danger"


def test_invalid_template_is_rejected_at_config_load() -> None:
    """A title template with a syntax error fails config validation, naming the field."""
    with pytest.raises(ValidationError, match="title") as info:
        SlackConfig.model_validate({"api_url": "https://hooks.slack.com/x", "title": "{{ a"})
    assert "invalid template" in str(info.value)


async def test_web_api_posts_with_token(slack: FakeSlack, make_notifier: MakeNotifier) -> None:
    """With a bot token the message goes to chat.postMessage and the receipt carries its ts."""
    receipt = await make_notifier(web=True).send(make_notification([make_alert()]))

    assert receipt.provider_status == "200 ok"
    assert receipt.message_id == "1700000000.000100"
    assert receipt.detail["channel"] == "C123"
    (request,) = slack.requests
    assert request.path == "/api/chat.postMessage"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    (message,) = slack.messages
    assert message["channel"] == "#alerts"
    assert header(message).startswith("🔥 [FIRING:1]")


async def test_web_api_invalid_token_is_permanent_auth_error(
    session: aiohttp.ClientSession, slack: FakeSlack
) -> None:
    """A token the workspace does not know is a permanent authError."""
    config = SlackConfig.model_validate(
        {"token": "xoxb-wrong", "channel": "#alerts", "api_base_url": slack.api_base_url}
    )
    notifier = SlackNotifier(config, session, receiver="r", integration="slack[0]")

    with pytest.raises(PermanentNotifierError) as info:
        await notifier.send(make_notification([make_alert()]))
    assert info.value.reason == "authError"
    assert "invalid_auth" in str(info.value)
    assert slack.messages == []


@pytest.mark.parametrize(
    ("status", "code", "retryable", "reason"),
    [
        (400, "invalid_payload", False, "clientError"),
        (400, "no_text", False, "clientError"),
        (403, "action_prohibited", False, "authError"),
        (404, "no_service", False, "clientError"),
        (404, "channel_not_found", False, "clientError"),
        (410, "channel_is_archived", False, "clientError"),
        (429, "rate_limited", True, "rateLimited"),
        (500, "rollup_error", True, "serverError"),
        (502, "bad gateway", True, "serverError"),
        (503, "service unavailable", True, "serverError"),
    ],
)
async def test_webhook_status_classification(
    slack: FakeSlack,
    make_notifier: MakeNotifier,
    status: int,
    code: str,
    retryable: bool,
    reason: str,
) -> None:
    """Each webhook answer maps to retryable or permanent with Alertmanager's reason."""
    slack.fail_next(FakeSlack.webhook_error(status, code))

    with pytest.raises(NotifierError) as info:
        await make_notifier().send(make_notification([make_alert()]))
    expected = RetryableNotifierError if retryable else PermanentNotifierError
    assert type(info.value) is expected
    assert info.value.reason == reason
    assert f"{status} {code}" in str(info.value)
    assert len(slack.requests) == 1  # slack_sdk's own retries are off


@pytest.mark.parametrize(
    ("answer", "retryable", "reason"),
    [
        (FakeSlack.api_error("ratelimited"), True, "rateLimited"),
        (FakeSlack.api_error("ratelimited", status=429), True, "rateLimited"),
        (FakeSlack.api_error("invalid_auth"), False, "authError"),
        (FakeSlack.api_error("not_authed"), False, "authError"),
        (FakeSlack.api_error("account_inactive"), False, "authError"),
        (FakeSlack.api_error("token_revoked"), False, "authError"),
        (FakeSlack.api_error("channel_not_found"), False, "clientError"),
        (FakeSlack.api_error("not_in_channel"), False, "clientError"),
        (FakeSlack.api_error("is_archived"), False, "clientError"),
        (FakeSlack.api_error("msg_too_long"), False, "clientError"),
        (FakeSlack.api_error("no_text"), False, "clientError"),
        (FakeSlack.api_error("invalid_blocks"), False, "clientError"),
        (FakeSlack.api_error("internal_error"), True, "serverError"),
        (ScriptedAnswer(500, "<html>oops</html>", content_type="text/html"), True, "serverError"),
        (ScriptedAnswer(503, "", content_type="text/plain"), True, "serverError"),
        (ScriptedAnswer(404, "<html>nope</html>", content_type="text/html"), False, "clientError"),
    ],
)
async def test_web_api_error_classification(
    slack: FakeSlack,
    make_notifier: MakeNotifier,
    answer: ScriptedAnswer,
    retryable: bool,
    reason: str,
) -> None:
    """Each chat.postMessage error (HTTP status or Slack's ``error``) maps to the right outcome."""
    slack.fail_next(answer)

    with pytest.raises(NotifierError) as info:
        await make_notifier(web=True).send(make_notification([make_alert()]))
    expected = RetryableNotifierError if retryable else PermanentNotifierError
    assert type(info.value) is expected
    assert info.value.reason == reason
    assert len(slack.requests) == 1


@pytest.mark.parametrize("web", [False, True])
async def test_retry_after_seconds_is_surfaced(
    slack: FakeSlack, make_notifier: MakeNotifier, web: bool
) -> None:
    """A 429 with ``Retry-After: 3`` is retryable with retry_after=3, on both APIs."""
    if web:
        slack.fail_next(FakeSlack.api_error("ratelimited", status=429, retry_after=3))
    else:
        slack.fail_next(FakeSlack.webhook_error(429, "rate_limited", retry_after=3))

    with pytest.raises(RetryableNotifierError) as info:
        await make_notifier(web=web).send(make_notification([make_alert()]))
    assert info.value.reason == "rateLimited"
    assert info.value.retry_after == 3


async def test_retry_after_http_date_is_surfaced(
    slack: FakeSlack, make_notifier: MakeNotifier
) -> None:
    """A ``Retry-After`` HTTP date becomes the seconds until then."""
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    slack.fail_next(ScriptedAnswer(503, "unavailable", {"Retry-After": when}, "text/html"))

    with pytest.raises(RetryableNotifierError) as info:
        await make_notifier().send(make_notification([make_alert()]))
    assert info.value.reason == "serverError"
    assert info.value.retry_after is not None
    assert 100 < info.value.retry_after <= 120


@pytest.mark.parametrize("web", [False, True])
async def test_connection_refused_is_retryable(session: aiohttp.ClientSession, web: bool) -> None:
    """Nothing listening at the URL is a retryable failure with reason ``other``."""
    async with FakeSlack(token=TOKEN) as gone:
        fields = (
            {"token": TOKEN, "channel": "#a", "api_base_url": gone.api_base_url}
            if web
            else {"api_url": gone.webhook_url(WEBHOOK_PATH)}
        )
    notifier = SlackNotifier(
        SlackConfig.model_validate(fields), session, receiver="r", integration="slack[0]"
    )

    with pytest.raises(RetryableNotifierError) as info:
        await notifier.send(make_notification([make_alert()]))
    assert info.value.reason == "other"


@pytest.fixture
async def silent_server() -> AsyncIterator[str]:
    """A loopback TCP server that accepts requests and never answers; yields its base URL."""
    release = asyncio.Event()
    handlers: list[asyncio.Task[Any]] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handlers.append(asyncio.current_task())  # type: ignore[arg-type]
        await reader.read(1)
        await release.wait()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    release.set()
    await asyncio.gather(*handlers, return_exceptions=True)
    server.close()
    await server.wait_closed()


@pytest.mark.parametrize("web", [False, True])
async def test_timeout_is_retryable(
    session: aiohttp.ClientSession, silent_server: str, web: bool
) -> None:
    """A Slack that does not answer within ``timeout`` is a retryable ``timeout``."""
    fields: dict[str, Any] = (
        {"token": TOKEN, "channel": "#a", "api_base_url": f"{silent_server}/api/"}
        if web
        else {"api_url": f"{silent_server}/services/{WEBHOOK_PATH}"}
    )
    config = SlackConfig.model_validate({**fields, "timeout": "200ms"})
    notifier = SlackNotifier(config, session, receiver="r", integration="slack[0]")

    with pytest.raises(RetryableNotifierError) as info:
        await notifier.send(make_notification([make_alert()]))
    assert info.value.reason == "timeout"


async def test_secrets_never_leak(
    slack: FakeSlack,
    session: aiohttp.ClientSession,
    silent_server: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The webhook URL and token appear in no repr, receipt, error or log line."""
    caplog.set_level(logging.DEBUG)
    webhook_url = slack.webhook_url(WEBHOOK_PATH)
    secrets = [WEBHOOK_PATH, SECRET_SEGMENT, TOKEN, "sEcReTtOkEn"]
    fake_configs = [
        SlackConfig.model_validate({"api_url": webhook_url}),
        SlackConfig.model_validate(
            {"token": TOKEN, "channel": "#a", "api_base_url": slack.api_base_url}
        ),
    ]
    silent = SlackConfig.model_validate(
        {"api_url": f"{silent_server}/services/{WEBHOOK_PATH}", "timeout": "100ms"}
    )
    seen: list[str] = []
    notification = make_notification([make_alert()])
    for config in [*fake_configs, silent]:
        notifier = SlackNotifier(config, session, receiver="r", integration="slack[0]")
        seen += [repr(notifier), repr(config), str(config)]
        if config in fake_configs:
            seen.append(repr(await notifier.send(notification)))
            # A provider echoing the URL or token in its answer is scrubbed too.
            slack.fail_next(
                FakeSlack.api_error(f"invalid_auth {TOKEN}")
                if config.token
                else FakeSlack.webhook_error(
                    403,
                    f"action_prohibited {webhook_url} /services/{WEBHOOK_PATH} {SECRET_SEGMENT}",
                )
            )
        with pytest.raises(NotifierError) as info:
            await notifier.send(notification)
        seen += [str(info.value), repr(info.value), "".join(traceback.format_exception(info.value))]
    seen.append(caplog.text)

    assert len(seen) == 21
    for text in seen:
        for secret in secrets:
            assert secret not in text


def test_declared_limits() -> None:
    """The plugin declares Slack's webhook rate (1/s, burst 3), coalescing and ~40 KB bodies."""
    assert SlackNotifier.type_name == "slack"
    assert SlackNotifier.config_model is SlackConfig
    assert SlackNotifier.default_rate_per_second == 1.0
    assert SlackNotifier.default_burst == 3
    assert SlackNotifier.coalesce is True
    assert 30_000 <= SlackNotifier.max_message_bytes <= 40_960


def test_build_message_without_external_url_has_no_link_block() -> None:
    """Without an externalURL or ``title_link`` there is no "Open in Alertmanager" block."""
    notification = Notification("r", "slack[0]", (make_alert(),), {})
    config = SlackConfig.model_validate({"api_url": "https://hooks.slack.com/x"})

    notifier = SlackNotifier(config, None, receiver="r", integration="slack[0]")  # type: ignore[arg-type]
    message = build_message(notification, config, FieldRenderer(notifier, notification))
    assert [b["type"] for b in message["blocks"]] == ["header"]


async def test_fake_rejects_what_slack_rejects(
    slack: FakeSlack, session: aiohttp.ClientSession
) -> None:
    """The fake answers like Slack: no_text, invalid_blocks (51 blocks, long sections), ok."""
    url = slack.webhook_url()
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "x"}}
    long_section = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}
    cases = [
        ({}, 400, "no_text"),
        ({"blocks": [section] * 51}, 400, "invalid_blocks"),
        ({"attachments": [{"blocks": [section] * 51}]}, 400, "invalid_blocks"),
        ({"blocks": [long_section]}, 400, "invalid_blocks"),
        ({"text": "hi", "blocks": [section] * 50}, 200, "ok"),
    ]
    for body, status, answer in cases:
        async with session.post(url, json=body) as response:
            assert (response.status, await response.text()) == (status, answer)
    json_type = {"Content-Type": "application/json"}
    async with session.post(url, data=b"{not json", headers=json_type) as response:
        assert (response.status, await response.text()) == (400, "invalid_payload")
    assert len(slack.messages) == 1
