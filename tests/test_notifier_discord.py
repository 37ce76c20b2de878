"""The Discord notifier against a fake Discord webhook on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pydantic import ValidationError

from alertrouter.errors import NotifierError, PermanentNotifierError, RetryableNotifierError
from alertrouter.notifiers.discord import (
    COLOR_FIRING,
    COLOR_RESOLVED,
    DiscordConfig,
    DiscordNotifier,
)
from chat_factories import firing, make_alert, make_notification, resolved
from fakes.discord import FakeDiscord
from fakes.http import ScriptedAnswer

TOKEN = "dIsCoRdToKeN-sEcReT-0123456789"

Make = Callable[..., DiscordNotifier]


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """The shared HTTP session."""
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
async def discord() -> AsyncIterator[FakeDiscord]:
    """A running fake Discord."""
    async with FakeDiscord(token=TOKEN) as fake:
        yield fake


@pytest.fixture
def make(session: aiohttp.ClientSession, discord: FakeDiscord) -> Make:
    """A DiscordNotifier aimed at the fake; ``failures`` counts template errors."""

    def build(failures: list[int] | None = None, **fields: Any) -> DiscordNotifier:
        config = DiscordConfig.model_validate({"webhook_url": discord.webhook_url(), **fields})
        return DiscordNotifier(
            config,
            session,
            receiver="team-chat",
            integration="discord[0]",
            on_template_error=(lambda: failures.append(1)) if failures is not None else None,
        )

    return build


async def test_firing_group_is_one_red_embed(discord: FakeDiscord, make: Make) -> None:
    """A firing group posts Alertmanager's body: empty content and one red embed."""
    receipt = await make().send(firing(2))

    assert receipt.provider_status == "204 No Content"
    (request,) = discord.requests
    assert request.headers["Content-Type"] == "application/json"
    (message,) = discord.messages
    assert set(message) == {"content", "embeds"}
    assert message["content"] == ""
    (embed,) = message["embeds"]
    assert embed["title"] == "[FIRING:2] HighLatency (critical)"
    assert embed["color"] == COLOR_FIRING
    assert "Alerts Firing:" in embed["description"]
    assert " - instance = api-1" in embed["description"]
    assert "Source: http://prometheus:9090/graph?g0.expr=up0" in embed["description"]


async def test_resolved_group_is_green(discord: FakeDiscord, make: Make) -> None:
    """A resolved group is titled RESOLVED with a green embed."""
    await make().send(resolved(1))

    (embed,) = discord.messages[0]["embeds"]
    assert embed["title"] == "[RESOLVED] HighLatency (api-0 critical)"
    assert embed["color"] == COLOR_RESOLVED
    assert "Alerts Resolved:" in embed["description"]


async def test_templated_fields_and_identity(discord: FakeDiscord, make: Make) -> None:
    """title, message and content are Go templates; username and avatar_url are sent as is."""
    await make(
        title="{{ .CommonLabels.alertname }} for {{ .Receiver }}",
        message="{{ range .Alerts }}{{ .Labels.instance }} {{ end }}",
        content="<@&123> {{ .Status }}",
        username="Alertmanager",
        avatar_url="https://example.com/am.png",
    ).send(firing(2))

    (message,) = discord.messages
    assert message["content"] == "<@&123> firing"
    assert message["username"] == "Alertmanager"
    assert message["avatar_url"] == "https://example.com/am.png"
    assert message["embeds"][0]["title"] == "HighLatency for team-chat"
    assert message["embeds"][0]["description"] == "api-0 api-1 "


async def test_failing_template_falls_back_and_counts(discord: FakeDiscord, make: Make) -> None:
    """A title template failing at send time gets Alertmanager's default title, counted."""
    failures: list[int] = []
    await make(failures, title='{{ template "missing" . }}').send(firing(1))

    assert discord.messages[0]["embeds"][0]["title"] == "[FIRING:1] HighLatency (api-0 critical)"
    assert failures == [1]


async def test_texts_are_cut_to_discord_limits(discord: FakeDiscord, make: Make) -> None:
    """Over-long title, description and content are cut with "…" and Discord accepts them."""
    alerts = [make_alert(index=i, summary="s" * 3000) for i in range(3)]
    await make(title="t" * 300, content="c" * 2500).send(make_notification(alerts))

    (message,) = discord.messages
    (embed,) = message["embeds"]
    assert len(message["content"]) == 2000
    assert message["content"].endswith("…")
    assert len(embed["title"]) == 256
    assert embed["title"].endswith("…")
    assert len(embed["description"]) == 4096
    assert embed["description"].endswith("…")
    assert len(embed["title"]) + len(embed["description"]) <= 6000


async def test_bad_avatar_url_is_left_out(discord: FakeDiscord, make: Make) -> None:
    """An avatar_url that is not an http(s) URL is dropped, as Alertmanager drops it."""
    await make(avatar_url="not a url").send(firing(1))

    assert "avatar_url" not in discord.messages[0]


async def test_429_waits_the_body_retry_after(discord: FakeDiscord, make: Make) -> None:
    """Discord's 429 is retryable after the body's float ``retry_after``, not the rounded header."""
    discord.fail_next(FakeDiscord.rate_limited(2.5))
    with pytest.raises(RetryableNotifierError) as caught:
        await make().send(firing(1))

    assert caught.value.reason == "rateLimited"
    assert caught.value.retry_after == 2.5


async def test_429_without_body_uses_the_header(discord: FakeDiscord, make: Make) -> None:
    """A 429 whose body has no retry_after waits the Retry-After header."""
    discord.fail_next(ScriptedAnswer(429, '{"message": "slow down"}', {"Retry-After": "7"}))
    with pytest.raises(RetryableNotifierError) as caught:
        await make().send(firing(1))

    assert caught.value.retry_after == 7.0


@pytest.mark.parametrize(
    ("status", "code", "error", "reason"),
    [
        (400, 50035, PermanentNotifierError, "clientError"),
        (403, 50013, PermanentNotifierError, "authError"),
        (404, 10015, PermanentNotifierError, "clientError"),
        (500, 0, RetryableNotifierError, "serverError"),
        (502, 0, RetryableNotifierError, "serverError"),
    ],
)
async def test_answers_are_classified(
    discord: FakeDiscord,
    make: Make,
    status: int,
    code: int,
    error: type[NotifierError],
    reason: str,
) -> None:
    """4xx answers are permanent (403 an authError), 5xx retryable, as Alertmanager."""
    discord.fail_next(FakeDiscord.error(status, "Unknown Webhook", code))
    with pytest.raises(NotifierError) as caught:
        await make().send(firing(1))

    assert type(caught.value) is error
    assert caught.value.reason == reason


async def test_wrong_token_is_an_auth_error(
    discord: FakeDiscord, session: aiohttp.ClientSession
) -> None:
    """The fake's own 401 for another webhook token is a permanent authError, token masked."""
    config = DiscordConfig.model_validate({"webhook_url": discord.webhook_url("wrong-token-1234")})
    notifier = DiscordNotifier(config, session, receiver="r", integration="discord[0]")
    with pytest.raises(PermanentNotifierError) as caught:
        await notifier.send(firing(1))

    assert caught.value.reason == "authError"
    assert "Invalid Webhook Token" in str(caught.value)
    assert "wrong-token-1234" not in str(caught.value)


def test_config_follows_alertmanager(tmp_path: Path) -> None:
    """webhook_url is required and secret, may come from a file, and resolves are sent."""
    secret = tmp_path / "discord-url"
    secret.write_text("https://discord.com/api/webhooks/1/" + TOKEN + "\n")
    config = DiscordConfig.model_validate(
        {"webhook_url_file": secret.name}, context={"base_dir": tmp_path}
    )
    assert config.url.endswith(TOKEN)
    assert config.resolved_wanted is True
    assert TOKEN not in repr(config)
    with pytest.raises(ValidationError, match="webhook_url"):
        DiscordConfig.model_validate({})
    with pytest.raises(ValidationError, match="at most one"):
        DiscordConfig.model_validate(
            {"webhook_url": "https://x.example/1", "webhook_url_file": secret.name},
            context={"base_dir": tmp_path},
        )
    with pytest.raises(ValidationError, match="http"):
        DiscordConfig.model_validate({"webhook_url": "ftp://x.example/" + TOKEN})


def test_declared_limits() -> None:
    """The plugin declares Discord's webhook rate (30 a minute)."""
    assert DiscordNotifier.type_name == "discord"
    assert DiscordNotifier.default_rate_per_second == 0.5
