"""Prometheus duration strings (``1h30m``, ``7d``, ``0``), as Alertmanager's config reads them."""

from __future__ import annotations

import re
from datetime import timedelta

__all__ = ["format_duration", "parse_duration"]

_DURATION_RE = re.compile(
    r"(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?"
)
_UNIT_MS = (
    365 * 24 * 3600_000,
    7 * 24 * 3600_000,
    24 * 3600_000,
    3600_000,
    60_000,
    1000,
    1,
)
_FORMAT_UNITS = (
    ("y", _UNIT_MS[0]),
    ("w", _UNIT_MS[1]),
    ("d", _UNIT_MS[2]),
    ("h", _UNIT_MS[3]),
    ("m", _UNIT_MS[4]),
    ("s", _UNIT_MS[5]),
    ("ms", 1),
)


def parse_duration(text: str) -> timedelta:
    """Parse a Prometheus duration; ValueError naming the text when it is not one."""
    if text == "0":
        return timedelta(0)
    found = _DURATION_RE.fullmatch(text) if text else None
    if found is None or not any(found.groups()):
        raise ValueError(f'not a valid duration string: "{text}"')
    millis = sum(int(g) * unit for g, unit in zip(found.groups(), _UNIT_MS, strict=True) if g)
    return timedelta(milliseconds=millis)


def format_duration(value: timedelta) -> str:
    """Format a duration the way Prometheus prints it (``1h``, ``4h30m``, ``0s``)."""
    millis = round(value.total_seconds() * 1000)
    if millis == 0:
        return "0s"
    parts: list[str] = []
    for suffix, unit in _FORMAT_UNITS:
        count, millis = divmod(millis, unit)
        if count:
            parts.append(f"{count}{suffix}")
    return "".join(parts)
