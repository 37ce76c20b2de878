"""Log lines as operators read them: logfmt on the console, one JSON object per line."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest

from alertrouter.logs import bind_request_id, configure_logging, get_logger, log_event

LOGFMT_LINE = r"^ts=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=info msg=webhook_accepted "


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """A stream to log to; the root logger restored after."""
    stream = io.StringIO()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield stream
    root.handlers[:] = handlers
    root.setLevel(level)


def test_console_format_is_logfmt_with_a_full_utc_timestamp(captured: io.StringIO) -> None:
    """A console line starts ts=<RFC 3339 UTC, ms> level= msg=, then the fields as key=value."""
    configure_logging("console", "info", captured)
    log_event(get_logger("t"), logging.INFO, "webhook_accepted", alerts=2, group_key='{}:{a="b"}')
    line = captured.getvalue().rstrip("\n")
    assert "\n" not in line

    assert re.match(LOGFMT_LINE, line), line
    assert line.endswith(r' alerts=2 group_key="{}:{a=\"b\"}"')


def test_logfmt_quotes_spaces_empty_values_and_control_characters(captured: io.StringIO) -> None:
    """Values that would break a logfmt parser are quoted and escaped; plain ones stay bare."""
    configure_logging("console", "info", captured)
    log_event(
        get_logger("t"),
        logging.INFO,
        "e",
        plain="pagerduty[0]",
        spaced="a b",
        empty="",
        newline="x\ny",
        escape="\x1b[31mred",
        none=None,
        listed=["a", "b c"],
        nested=[{"a": 1}],
    )
    line = captured.getvalue().rstrip("\n")
    assert "\n" not in line
    assert "\x1b" not in line
    assert " plain=pagerduty[0] " in line
    assert ' spaced="a b" ' in line
    assert ' empty="" ' in line
    assert r' newline="x\ny" ' in line
    assert r' escape="\u001b[31mred" ' in line
    assert " none=null " in line
    assert ' listed="a,b c" ' in line
    assert line.endswith(r' nested="[{\"a\": 1}]"')


def test_a_traceback_stays_on_the_event_line(captured: io.StringIO) -> None:
    """An exception is one quoted exception= value, not lines of its own."""
    configure_logging("console", "info", captured)
    try:
        raise ValueError("boom")
    except ValueError:
        get_logger("t").exception("request_failed", extra={"fields": {"path": "/x"}})
    line = captured.getvalue().rstrip("\n")
    assert "\n" not in line
    assert " path=/x exception=" in line
    assert "ValueError: boom" in line


def test_json_format_is_one_object_per_line_with_the_request_id(captured: io.StringIO) -> None:
    """The JSON format writes one object per event, with ts, level, event and bound context."""
    configure_logging("json", "info", captured)
    token = bind_request_id("req-1")
    try:
        log_event(get_logger("t"), logging.WARNING, "webhook_rejected", field="alerts[0]")
    finally:
        token.var.reset(token)
    (line,) = captured.getvalue().splitlines()
    entry = json.loads(line)
    assert entry["level"] == "warning"
    assert entry["event"] == "webhook_rejected"
    assert entry["request_id"] == "req-1"
    assert entry["field"] == "alerts[0]"
    assert entry["ts"].endswith("Z")
