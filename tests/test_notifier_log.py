"""The log notifier: one structured line per notification, what ``--dry-run`` shows."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from pydantic import ValidationError

from alertrouter.logs import _JSONFormatter
from alertrouter.notifiers.base import Notification
from alertrouter.notifiers.log import LogConfig, LogNotifier

LOGGER = "alertrouter.notifiers.log"


def make_alert(index: int, status: str = "firing", severity: str = "warning") -> dict[str, Any]:
    """An Alertmanager v4 alert dict."""
    return {
        "status": status,
        "labels": {"alertname": "HighLatency", "severity": severity, "instance": f"api-{index}"},
        "annotations": {"summary": f"p99 above 1s on api-{index}"},
        "startsAt": "2024-05-01T10:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "",
        "fingerprint": f"{index:016x}",
    }


def notification(*alerts: dict[str, Any], digest: bool = False) -> Notification:
    """A notification of ``alerts`` for receiver ``ops`` at ``slack[0]``."""
    group = {
        "groupLabels": {"alertname": "HighLatency"},
        "commonLabels": {"alertname": "HighLatency"},
    }
    return Notification("ops", "slack[0]", alerts, group, digest=digest)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """The shared HTTP session (unused by the log notifier, part of the contract)."""
    async with aiohttp.ClientSession() as client:
        yield client


def make_notifier(session: aiohttp.ClientSession, **fields: Any) -> LogNotifier:
    """A LogNotifier from raw config fields."""
    return LogNotifier(
        LogConfig.model_validate(fields), session, receiver="ops", integration="slack[0]"
    )


async def test_one_line_with_the_fields(
    session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """Each notification is exactly one ``notification_logged`` record with its fields."""
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    receipt = await make_notifier(session).send(
        notification(make_alert(1), make_alert(2, severity="critical"), make_alert(3, "resolved"))
    )
    (record,) = [r for r in caplog.records if r.name == LOGGER]
    assert record.getMessage() == "notification_logged"
    assert record.levelno == logging.INFO
    fields = record.fields  # type: ignore[attr-defined]
    assert fields["receiver"] == "ops"
    assert fields["integration"] == "slack[0]"
    assert fields["status"] == "firing"
    assert fields["covered"] == 3
    assert fields["title"] == "[FIRING:2] HighLatency"
    assert fields["digest"] is False
    assert fields["alerts"][0] == {
        "alertname": "HighLatency",
        "severity": "critical",
        "status": "firing",
        "fingerprint": f"{2:016x}",
        "summary": "p99 above 1s on api-2",
    }
    assert [a["fingerprint"] for a in fields["alerts"]] == [f"{i:016x}" for i in (2, 1, 3)]
    assert receipt.provider_status == "logged"


async def test_json_line_is_one_line(
    session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """Formatted as JSON, the record is a single line carrying every field."""
    caplog.set_level(logging.INFO, logger=LOGGER)
    await make_notifier(session).send(notification(make_alert(1)))
    (record,) = [r for r in caplog.records if r.name == LOGGER]
    line = _JSONFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["event"] == "notification_logged"
    assert entry["alerts"][0]["summary"] == "p99 above 1s on api-1"


@pytest.mark.parametrize(
    ("level", "levelno"),
    [("debug", logging.DEBUG), ("warning", logging.WARNING), ("error", logging.ERROR)],
)
async def test_configured_level(
    session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture, level: str, levelno: int
) -> None:
    """The line is written at ``level``."""
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    await make_notifier(session, level=level).send(notification(make_alert(1)))
    (record,) = [r for r in caplog.records if r.name == LOGGER]
    assert record.levelno == levelno


async def test_digest(session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture) -> None:
    """A digest is flagged and lists every alert it covers."""
    caplog.set_level(logging.INFO, logger=LOGGER)
    alerts = [make_alert(i) for i in range(25)]
    await make_notifier(session).send(notification(*alerts, digest=True))
    (record,) = [r for r in caplog.records if r.name == LOGGER]
    fields = record.fields  # type: ignore[attr-defined]
    assert fields["digest"] is True
    assert fields["covered"] == 25
    assert len(fields["alerts"]) == 25
    assert "digest of 25 alerts" in fields["title"]


async def test_below_the_logger_level_still_succeeds(
    session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """A line filtered out by the logger level is not a delivery failure."""
    caplog.set_level(logging.ERROR, logger=LOGGER)
    receipt = await make_notifier(session, level="debug").send(notification(make_alert(1)))
    assert receipt.provider_status == "logged"
    assert [r for r in caplog.records if r.name == LOGGER] == []


def test_unknown_level_is_a_config_error() -> None:
    """Only debug, info, warning and error are levels."""
    with pytest.raises(ValidationError):
        LogConfig.model_validate({"level": "verbose"})


def test_declared_limits() -> None:
    """The plugin declares its type name and generous limits."""
    assert LogNotifier.type_name == "log"
    assert LogNotifier.config_model is LogConfig
    assert (LogNotifier.default_rate_per_second, LogNotifier.default_burst) == (100.0, 100)
    assert LogNotifier.coalesce is True
