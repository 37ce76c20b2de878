"""Structured logging: events as snake_case facts with fields, as JSON or logfmt lines.

Context (the request id) is bound per task through a ContextVar and added to every record.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
from typing import Any, TextIO

__all__ = [
    "LogfmtFormatter",
    "bind_request_id",
    "configure_logging",
    "current_request_id",
    "get_logger",
    "log_event",
    "logfmt_value",
]

_REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
_RESERVED = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


def bind_request_id(request_id: str | None) -> contextvars.Token[str | None]:
    """Bind ``request_id`` to everything logged in the current task from now on."""
    return _REQUEST_ID.set(request_id)


def current_request_id() -> str | None:
    """The request id bound in the current task, if any."""
    return _REQUEST_ID.get()


def get_logger(name: str) -> logging.Logger:
    """The logger for a module."""
    return logging.getLogger(name)


def log_event(logger: logging.Logger, level: int, event: str, **fields: Any) -> None:
    """Log ``event`` (a snake_case fact) with structured ``fields``."""
    if logger.isEnabledFor(level):
        logger.log(level, event, extra={"fields": fields})


def _timestamp(record: logging.LogRecord) -> str:
    """RFC 3339 in UTC with milliseconds: ``2026-12-05T19:00:00.123Z``."""
    return (
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        + f".{int(record.msecs):03d}Z"
    )


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    request_id = _REQUEST_ID.get()
    if request_id:
        fields["request_id"] = request_id
    fields.update(getattr(record, "fields", {}))
    return fields


class _JSONFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, event, then the event's fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        entry.update(_fields(record))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class LogfmtFormatter(logging.Formatter):
    """logfmt, one line per event: ``ts=… level=info msg=webhook_accepted key=value …``.

    The console format: as readable in a terminal as it is for Loki's or Vector's logfmt
    parsers. A traceback is one quoted ``exception`` value, so an event never spans lines.
    """

    def format(self, record: logging.LogRecord) -> str:
        pairs = [
            ("ts", _timestamp(record)),
            ("level", record.levelname.lower()),
            ("msg", record.getMessage()),
            *_fields(record).items(),
        ]
        if record.exc_info:
            pairs.append(("exception", self.formatException(record.exc_info)))
        return " ".join(f"{key}={logfmt_value(value)}" for key, value in pairs)


_BARE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:/,@+[]*#%()")


def logfmt_value(value: Any) -> str:
    """``value`` as a logfmt value: bare when it can be, else a quoted string with escapes.

    A list of plain values is comma-separated (``variables=A,B``); other non-strings are their
    JSON text (dicts stay readable); ``None`` is ``null``.
    """
    if isinstance(value, list | tuple) and all(isinstance(v, str | int) for v in value):
        text = ",".join(str(v) for v in value)
    else:
        text = value if isinstance(value, str) else json.dumps(value, default=str)
    if text and all(char in _BARE for char in text):
        return text
    # JSON's string escapes are logfmt's quoting (\" \\ \n), and they also neutralise
    # control characters that attacker-supplied label values could carry into a terminal.
    return json.dumps(text, ensure_ascii=False)


def configure_logging(
    log_format: str = "console", level: str = "info", stream: TextIO | None = None
) -> None:
    """Send every log line to ``stream`` (stderr) in ``log_format``: json, or console (logfmt)."""
    handler = logging.StreamHandler(sys.stderr if stream is None else stream)
    handler.setFormatter(_JSONFormatter() if log_format == "json" else LogfmtFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
