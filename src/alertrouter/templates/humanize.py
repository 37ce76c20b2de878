"""Prometheus' humanizing template helpers (``prometheus/common/helpers/templates``).

Alertmanager registers only ``humanizeDuration``; the others follow Prometheus' rule templates so
callers that want them get the same text.
"""

from __future__ import annotations

import math
import re
from typing import Any

from .errors import GoError
from .gofmt import go_type_name, sprintf
from .gotime import GoDuration, GoTime

__all__ = [
    "humanize",
    "humanize_1024",
    "humanize_duration",
    "humanize_percentage",
    "humanize_timestamp",
    "parse_go_float",
    "to_float",
]

# Go's strconv.ParseFloat syntax: decimal or hex mantissa, Inf/NaN; no spaces or bare underscores.
_GO_FLOAT = re.compile(
    r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*"
    r"|\.[0-9a-fA-F]+)[pP][+-]?\d+|inf|infinity|nan)\Z",
    re.IGNORECASE,
)


def parse_go_float(text: str) -> float:
    """Parse like Go's ``strconv.ParseFloat(text, 64)``; raise ``GoError`` with Go's message."""
    if _GO_FLOAT.match(text) is None:
        raise GoError(f"strconv.ParseFloat: parsing {sprintf('%q', text)}: invalid syntax")
    body = text.lstrip("+-")
    if body[:2].lower() == "0x":
        value = float.fromhex(body)
        value = -value if text.startswith("-") else value
    else:
        value = float(text)
    if math.isinf(value) and "inf" not in text.lower():
        raise GoError(f"strconv.ParseFloat: parsing {sprintf('%q', text)}: value out of range")
    return value


def to_float(value: Any) -> float:
    """Convert as Prometheus' ``convertToFloat``: numbers, numeric strings and durations."""
    if isinstance(value, GoDuration):
        return value.Seconds()
    if isinstance(value, bool):
        raise GoError(f"can't convert {go_type_name(value)} to float")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        return parse_go_float(value)
    raise GoError(f"can't convert {go_type_name(value)} to float")


def humanize_duration(value: Any) -> str:
    """Seconds as ``1d 2h 3m 4s``, or with an SI prefix below one second (``100ms``)."""
    v = to_float(value)
    if math.isnan(v) or math.isinf(v):
        return sprintf("%.4g", v)
    if v == 0:
        return sprintf("%.4gs", v)
    if abs(v) >= 1:
        sign = "-" if v < 0 else ""
        v = abs(v)
        duration = int(v)
        seconds = duration % 60
        minutes = duration // 60 % 60
        hours = duration // 3600 % 24
        days = duration // 86400
        if days:
            return f"{sign}{days}d {hours}h {minutes}m {seconds}s"
        if hours:
            return f"{sign}{hours}h {minutes}m {seconds}s"
        if minutes:
            return f"{sign}{minutes}m {seconds}s"
        return sprintf("%s%.4gs", sign, v)
    prefix = ""
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(v) >= 1:
            break
        prefix = p
        v *= 1000
    return sprintf("%.4g%ss", v, prefix)


def humanize(value: Any) -> str:
    """A number with an SI prefix: ``1.234k``, ``5.6m``."""
    v = to_float(value)
    if v == 0 or math.isnan(v) or math.isinf(v):
        return sprintf("%.4g", v)
    prefix = ""
    if abs(v) >= 1:
        for p in ("k", "M", "G", "T", "P", "E", "Z", "Y"):
            if abs(v) < 1000:
                break
            prefix = p
            v /= 1000
        return sprintf("%.4g%s", v, prefix)
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(v) >= 1:
            break
        prefix = p
        v *= 1000
    return sprintf("%.4g%s", v, prefix)


def humanize_1024(value: Any) -> str:
    """A number with a binary prefix: ``1.5Ki``, ``2Mi``."""
    v = to_float(value)
    if abs(v) <= 1 or math.isnan(v) or math.isinf(v):
        return sprintf("%.4g", v)
    prefix = ""
    for p in ("ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"):
        if abs(v) < 1024:
            break
        prefix = p
        v /= 1024
    return sprintf("%.4g%s", v, prefix)


def humanize_percentage(value: Any) -> str:
    """A ratio as a percentage: ``0.1234`` → ``12.34%``."""
    return sprintf("%.4g%%", to_float(value) * 100)


def humanize_timestamp(value: Any) -> str:
    """Unix seconds as a UTC time (``2006-01-02 15:04:05.999999999 +0000 UTC``)."""
    v = to_float(value)
    if math.isnan(v) or math.isinf(v):
        return sprintf("%.4g", v)
    if abs(v * 1e9) >= 2.0**63:
        raise GoError(f"{sprintf('%v', v)} cannot be represented as a nanoseconds timestamp")
    # Prometheus goes through model.Time, which keeps whole milliseconds (truncated like Go).
    nanos = int(v * 1e9)
    millis = abs(nanos) // 1_000_000 * (1 if nanos >= 0 else -1)
    sec = abs(millis) // 1000 * (1 if millis >= 0 else -1)
    return GoTime(sec, (millis - sec * 1000) * 1_000_000).String()
