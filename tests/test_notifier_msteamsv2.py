"""The Teams Workflows notifier (Adaptive Card) against a fake Power Automate trigger."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from pydantic import ValidationError

from alertrouter.errors import NotifierError, PermanentNotifierError, RetryableNotifierError
from alertrouter.notifiers.msteams import MAX_MESSAGE_BYTES
from alertrouter.notifiers.msteamsv2 import MSTeamsV2Config, MSTeamsV2Notifier
from chat_factories import firing, make_alert, make_notification, resolved
from fakes.http import ScriptedAnswer
from fakes.msteamsv2 import FakeTeamsWorkflow

SIG = "wOrKfLoWsIgNaTuRe-sEcReT-5678"

Make = Callable[..., MSTeamsV2Notifier]


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """The shared HTTP session."""
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
async def flow() -> AsyncIterator[FakeTeamsWorkflow]:
    """A running fake Workflows trigger."""
    async with FakeTeamsWorkflow(sig=SIG) as fake:
        yield fake


@pytest.fixture
def make(session: aiohttp.ClientSession, flow: FakeTeamsWorkflow) -> Make:
    """An MSTeamsV2Notifier aimed at the fake."""

    def build(**fields: Any) -> MSTeamsV2Notifier:
        config = MSTeamsV2Config.model_validate({"webhook_url": flow.webhook_url(), **fields})
        return MSTeamsV2Notifier(config, session, receiver="team-chat", integration="msteamsv2[0]")

    return build


def card(message: dict[str, Any]) -> dict[str, Any]:
    """The Adaptive Card of a message."""
    (attachment,) = message["attachments"]
    content: dict[str, Any] = attachment["content"]
    return content


async def test_firing_group_is_alertmanagers_adaptive_card(
    flow: FakeTeamsWorkflow, make: Make
) -> None:
    """A firing group posts Alertmanager's message: one Adaptive Card, heading in Attention."""
    receipt = await make().send(firing(2))

    assert receipt.provider_status == "202 Accepted"
    (message,) = flow.messages
    assert message["type"] == "message"
    assert message["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert message["attachments"][0]["contentUrl"] is None
    content = card(message)
    assert (content["type"], content["version"]) == ("AdaptiveCard", "1.2")
    assert content["msteams"] == {"width": "full"}
    heading, text = content["body"]
    assert heading == {
        "type": "TextBlock",
        "text": "[FIRING:2] HighLatency (critical)",
        "weight": "Bolder",
        "size": "Medium",
        "wrap": True,
        "style": "heading",
        "color": "Attention",
    }
    assert text["type"] == "TextBlock"
    assert text["wrap"] is True
    assert "# Alerts Firing:" in text["text"]


async def test_resolved_group_is_good(flow: FakeTeamsWorkflow, make: Make) -> None:
    """A resolved group's heading is coloured Good."""
    await make().send(resolved(1))

    heading = card(flow.messages[0])["body"][0]
    assert heading["color"] == "Good"
    assert heading["text"].startswith("[RESOLVED]")


async def test_templated_fields(flow: FakeTeamsWorkflow, make: Make) -> None:
    """title and text are Go templates."""
    await make(title="{{ .GroupLabels.alertname }}", text="{{ .Alerts.Firing | len }} firing").send(
        firing(3)
    )

    heading, text = card(flow.messages[0])["body"]
    assert (heading["text"], text["text"]) == ("HighLatency", "3 firing")


async def test_big_group_is_cut_to_fit(flow: FakeTeamsWorkflow, make: Make) -> None:
    """A group too big for Teams is cut to 28 KB with "…"."""
    alerts = [make_alert(index=i, summary="x" * 500) for i in range(100)]
    await make().send(make_notification(alerts))

    assert len(flow.requests[0].body) <= MAX_MESSAGE_BYTES
    assert card(flow.messages[0])["body"][1]["text"].endswith("…")


async def test_wrong_signature_is_auth_error_and_masked(
    flow: FakeTeamsWorkflow, session: aiohttp.ClientSession
) -> None:
    """A wrong ``sig`` is a permanent authError; the URL and its signature never show."""
    config = MSTeamsV2Config.model_validate({"webhook_url": flow.webhook_url("bad-signature-77")})
    notifier = MSTeamsV2Notifier(config, session, receiver="r", integration="msteamsv2[0]")
    with pytest.raises(PermanentNotifierError) as caught:
        await notifier.send(firing(1))

    assert caught.value.reason == "authError"
    assert "bad-signature-77" not in str(caught.value)


@pytest.mark.parametrize(
    ("answer", "error", "reason", "retry_after"),
    [
        (FakeTeamsWorkflow.error(400, "TriggerInputSchemaMismatch"), PermanentNotifierError,
         "clientError", None),
        (FakeTeamsWorkflow.error(404, "WorkflowNotFound"), PermanentNotifierError,
         "clientError", None),
        (FakeTeamsWorkflow.error(429, "WorkflowTriggeredTooFrequently", retry_after=3),
         RetryableNotifierError, "rateLimited", 3.0),
        (ScriptedAnswer(502), RetryableNotifierError, "serverError", None),
    ],
)  # fmt: skip
async def test_answers_are_classified(
    flow: FakeTeamsWorkflow,
    make: Make,
    answer: ScriptedAnswer,
    error: type[NotifierError],
    reason: str,
    retry_after: float | None,
) -> None:
    """4xx permanent, 429 waits Retry-After, 5xx retried."""
    flow.fail_next(answer)
    with pytest.raises(NotifierError) as caught:
        await make().send(firing(1))

    assert type(caught.value) is error
    assert caught.value.reason == reason
    assert getattr(caught.value, "retry_after", None) == retry_after


def test_config_follows_alertmanager() -> None:
    """webhook_url is required and secret; resolves are sent by default."""
    config = MSTeamsV2Config.model_validate({"webhook_url": f"https://x.example/w?sig={SIG}"})
    assert config.resolved_wanted is True
    assert SIG not in repr(config)
    with pytest.raises(ValidationError, match="webhook_url"):
        MSTeamsV2Config.model_validate({})
