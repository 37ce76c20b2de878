"""The VictorOps notifier against a fake REST endpoint on 127.0.0.1."""

from __future__ import annotations

import hashlib
import textwrap
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pydantic import ValidationError

from alertrouter.config.loader import parse_routing_config
from alertrouter.errors import NotifierError, PermanentNotifierError, RetryableNotifierError
from alertrouter.notifiers.victorops import VictorOpsConfig, VictorOpsNotifier
from fakes.http import ScriptedAnswer
from fakes.victorops import FakeVictorOps
from notifier_kit import GROUP_KEY, alert, notification

API_KEY = "0b1e2c3d-4f5a-6b7c-8d9e-a0b1c2d3e4f5"
ENTITY = hashlib.sha256(GROUP_KEY.encode()).hexdigest()

Make = Callable[..., VictorOpsNotifier]


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """The shared HTTP session."""
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
async def vo() -> AsyncIterator[FakeVictorOps]:
    """A fake VictorOps knowing API_KEY."""
    async with FakeVictorOps(api_key=API_KEY) as fake:
        yield fake


@pytest.fixture
def make(session: aiohttp.ClientSession, vo: FakeVictorOps) -> Make:
    """A VictorOpsNotifier aimed at the fake, with extra config fields."""

    def build(**fields: Any) -> VictorOpsNotifier:
        raw = {"api_key": API_KEY, "routing_key": "ops", "api_url": vo.api_url, **fields}
        config = VictorOpsConfig.model_validate(raw)
        return VictorOpsNotifier(config, session, receiver="oncall", integration="victorops[0]")

    return build


async def test_default_event_is_alertmanagers(vo: FakeVictorOps, make: Make) -> None:
    """Unset fields render Alertmanager's defaults; entity_id is the group key hash."""
    receipt = await make().send(notification())
    (event,) = vo.events
    assert vo.routing_keys == ["ops"]
    assert event["message_type"] == "CRITICAL"
    assert event["entity_id"] == ENTITY == receipt.message_id
    assert event["entity_display_name"].startswith("[FIRING:2] DiskFull")
    assert event["monitoring_tool"] == "Alertmanager"
    assert set(event) == {
        "message_type", "entity_id", "entity_display_name", "state_message", "monitoring_tool",
    }  # fmt: skip


async def test_resolve_recovers_the_same_entity(vo: FakeVictorOps, make: Make) -> None:
    """The group's resolve is a RECOVERY of the entity its trigger opened."""
    notifier = make(message_type="WARNING")
    await notifier.send(notification())
    assert vo.incidents == {ENTITY: "WARNING"}
    receipt = await notifier.send(notification(alert(1, "resolved"), alert(2, "resolved")))
    assert vo.incidents == {ENTITY: "RECOVERY"}
    assert receipt.detail["message_type"] == "RECOVERY"


async def test_templated_fields_and_custom_fields(vo: FakeVictorOps, make: Make) -> None:
    """Routing key, texts and custom fields are templates; an unknown type becomes CRITICAL."""
    await make(
        routing_key="team-{{ .CommonLabels.severity }}",
        message_type="{{ .CommonLabels.severity }}",
        state_message="{{ len .Alerts }} disks",
        entity_display_name="{{ .GroupLabels.alertname }}",
        monitoring_tool="prom",
        custom_fields={"runbook": "http://rb/{{ .CommonLabels.alertname }}"},
    ).send(notification())
    (event,) = vo.events
    assert vo.routing_keys == ["team-critical"]
    assert event["message_type"] == "CRITICAL"  # "critical" is not one VictorOps takes
    assert (event["state_message"], event["entity_display_name"]) == ("2 disks", "DiskFull")
    assert (event["monitoring_tool"], event["runbook"]) == ("prom", "http://rb/DiskFull")


async def test_state_message_is_cut(vo: FakeVictorOps, make: Make) -> None:
    """A state message over 20,480 characters is cut with a marker, as Alertmanager does."""
    await make(state_message="x" * 30000).send(notification())
    message = vo.events[0]["state_message"]
    assert len(message) == 20480
    assert message.endswith("…")


@pytest.mark.parametrize(
    ("answer", "error", "reason", "retry_after"),
    [
        (ScriptedAnswer(400, '{"result":"failure","message":"bad"}'), PermanentNotifierError,
         "clientError", None),
        (ScriptedAnswer(403), PermanentNotifierError, "authError", None),
        (ScriptedAnswer(429, headers={"Retry-After": "4"}), RetryableNotifierError,
         "rateLimited", 4.0),
        (ScriptedAnswer(502), RetryableNotifierError, "serverError", None),
    ],
)  # fmt: skip
async def test_answers_are_classified(
    vo: FakeVictorOps,
    make: Make,
    answer: ScriptedAnswer,
    error: type[NotifierError],
    reason: str,
    retry_after: float | None,
) -> None:
    """4xx permanent (403 authError), 429 retried after Retry-After, 5xx retried."""
    vo.fail_next(answer)
    with pytest.raises(NotifierError) as caught:
        await make().send(notification())
    assert type(caught.value) is error
    assert caught.value.reason == reason
    assert getattr(caught.value, "retry_after", None) == retry_after


async def test_unknown_key_is_permanent_and_masked(make: Make) -> None:
    """The endpoint's 404 for an unknown key is permanent, and the key (echoed) is masked."""
    with pytest.raises(PermanentNotifierError) as caught:
        await make(api_key="wrong-key-0123456789").send(notification())
    assert "wrong-key-0123456789" not in str(caught.value)
    assert "<redacted>" in str(caught.value)


def test_globals_fill_key_and_url(tmp_path: Path) -> None:
    """``victorops_api_key`` and ``victorops_api_url`` fill unset fields; own settings win."""
    (tmp_path / "key").write_text("file-key-1234")
    routing = textwrap.dedent(
        """\
        global:
          victorops_api_key: global-key-5678
          victorops_api_url: http://127.0.0.1:9/vo/
        route: {receiver: r}
        receivers:
          - name: r
            victorops_configs:
              - routing_key: a
              - routing_key: b
                api_key_file: key
                api_url: http://127.0.0.1:9/own/
        """
    )
    config = parse_routing_config(routing, "vo.yml", {}, base_dir=tmp_path)
    first, second = (s.config for s in config.receivers["r"].integrations)
    assert isinstance(first, VictorOpsConfig)
    assert isinstance(second, VictorOpsConfig)
    assert first.api_key is not None
    assert second.api_key is not None
    assert (first.api_key.get_secret_value(), first.api_url) == (
        "global-key-5678", "http://127.0.0.1:9/vo/",
    )  # fmt: skip
    assert (second.api_key.get_secret_value(), second.api_url) == (
        "file-key-1234", "http://127.0.0.1:9/own/",
    )  # fmt: skip
    assert "global-key-5678" not in repr(first)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"api_key": API_KEY}, "routing_key"),
        ({"routing_key": "ops"}, "no global VictorOps API Key set"),
        ({"api_key": API_KEY, "routing_key": "ops", "custom_fields": {"entity_id": "x"}},
         "custom field entity_id"),
    ],
)  # fmt: skip
def test_config_is_checked_as_alertmanager(fields: dict[str, Any], message: str) -> None:
    """A missing routing key or API key and reserved custom fields are refused."""
    with pytest.raises(ValidationError, match=message):
        VictorOpsConfig.model_validate(fields)
