"""Alertmanager 0.25's time intervals: parse their YAML strings, and test whether an instant lies
inside one. Messages and matching follow Alertmanager's ``timeinterval`` package to the letter.
"""

from __future__ import annotations

import os
import posixpath
import re
import zoneinfo
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "InclusiveRange",
    "TimeInterval",
    "TimeRange",
    "any_contains",
    "load_location",
    "parse_day_of_month_range",
    "parse_month_range",
    "parse_time_range",
    "parse_weekday_range",
    "parse_year_range",
]

_WEEKDAYS = {
    "sunday": 0, "monday": 1, "tuesday": 2, "wednesday": 3,
    "thursday": 4, "friday": 5, "saturday": 6,
}  # fmt: skip
_MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6,
    "july": 7, "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
}  # fmt: skip
_MONTH_NAMES = {number: name for name, number in _MONTHS.items()}
_TIME_RE = re.compile(r"(?:[01][0-9]|2[0-3]):[0-5][0-9]|24:00")
_ATOI_RE = re.compile(r"[+-]?[0-9]+")
_DAY = timedelta(days=1)
_GO_ESCAPES = {
    "\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
    "\v": "\\v", "\\": "\\\\", '"': '\\"',
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class TimeRange:
    """Minutes since midnight: ``start_minute`` inclusive, ``end_minute`` exclusive (<= 1440)."""

    start_minute: int
    end_minute: int


@dataclass(frozen=True, slots=True)
class InclusiveRange:
    """A closed range ``[begin, end]`` of weekdays (sunday=0), days of month, months or years."""

    begin: int
    end: int


@dataclass(frozen=True, slots=True)
class TimeInterval:
    """Alertmanager's ``time_interval``: every non-empty field must match; ``None`` zone is UTC."""

    times: tuple[TimeRange, ...] = ()
    weekdays: tuple[InclusiveRange, ...] = ()
    days_of_month: tuple[InclusiveRange, ...] = ()
    months: tuple[InclusiveRange, ...] = ()
    years: tuple[InclusiveRange, ...] = ()
    location: tzinfo | None = None

    def contains(self, t: datetime) -> bool:
        """Whether the aware instant ``t``, read in ``location``, lies inside this interval."""
        if t.utcoffset() is None:
            raise ValueError("time intervals need a timezone-aware datetime")
        zone = UTC if self.location is None else self.location
        local = t.astimezone(zone)
        minute = local.hour * 60 + local.minute
        if self.times and not any(r.start_minute <= minute < r.end_minute for r in self.times):
            return False
        if self.days_of_month and not _day_of_month_matches(self.days_of_month, local, zone):
            return False
        if self.months and not any(r.begin <= local.month <= r.end for r in self.months):
            return False
        weekday = local.isoweekday() % 7  # Go's time.Weekday: sunday is 0
        if self.weekdays and not any(r.begin <= weekday <= r.end for r in self.weekdays):
            return False
        return not self.years or any(r.begin <= local.year <= r.end for r in self.years)


def any_contains(intervals: Sequence[TimeInterval], t: datetime) -> bool:
    """Whether any of ``intervals`` contains ``t``: how a named interval list matches."""
    return any(interval.contains(t) for interval in intervals)


def parse_time_range(start: str, end: str) -> TimeRange:
    """``"HH:MM"`` to ``"HH:MM"`` (end may be ``"24:00"``), start strictly before end."""
    if not start or not end:
        raise ValueError("both start and end times must be provided")
    start_minute, end_minute = _parse_time(start), _parse_time(end)
    if start_minute >= end_minute:
        raise ValueError("start time cannot be equal or greater than end time")
    return TimeRange(start_minute, end_minute)


def parse_weekday_range(s: str) -> InclusiveRange:
    """``"monday"`` or ``"monday:friday"``, any case; numbers are not weekdays."""
    r = _parse_range(s, _weekday)
    if r.begin > r.end:
        raise ValueError("start day cannot be before end day")
    return r


def parse_day_of_month_range(s: str) -> InclusiveRange:
    """``"1"``, ``"1:5"``, ``"-1"`` or ``"-3:-1"``, negative days counting back from month end."""
    r = _parse_range(s, _atoi)
    for day in (r.begin, r.end):
        if day == 0 or not -31 <= day <= 31:
            raise ValueError(f"{day} is not a valid day of the month: out of range")
    if r.begin < 0 < r.end:
        raise ValueError("end day must be negative if start day is negative")
    # Only ranges empty in every month are refused, judged on the shortest (28-day) month.
    if (28 + r.begin if r.begin < 0 else r.begin) > (28 + r.end if r.end < 0 else r.end):
        raise ValueError(f"end day {r.end} is always before start day {r.begin}")
    return r


def parse_month_range(s: str) -> InclusiveRange:
    """``"january:march"`` or ``"1:3"``; like Alertmanager, numbers are not checked to be 1-12."""
    r = _parse_range(s, _month)
    if r.begin > r.end:
        begin, end = _MONTH_NAMES.get(r.begin, ""), _MONTH_NAMES.get(r.end, "")
        raise ValueError(f"end month {end} is before start month {begin}")
    return r


def parse_year_range(s: str) -> InclusiveRange:
    """``"2020"`` or ``"2020:2025"``."""
    r = _parse_range(s, _atoi)
    if r.begin > r.end:
        raise ValueError(f"end year {r.end} is before start year {r.begin}")
    return r


def load_location(name: str) -> ZoneInfo:
    """Go's ``time.LoadLocation``: ``""`` and ``"UTC"`` are UTC, ``"Local"`` follows ``$TZ``."""
    if name in ("", "UTC"):
        return ZoneInfo("UTC")
    if name == "Local":
        return _local_zone()
    if ".." in name or name.startswith(("/", "\\")):
        raise ValueError("time: invalid location name")
    # Go hands the name to the OS, which reads "a//b" and "./a" as "a/b" and "a", but fails on
    # a trailing "/" or "/."; ZoneInfo wants the normalized key.
    key = posixpath.normpath(name)
    if key == "." or name.endswith(("/", "/.")):
        raise ValueError(_zone_open_error(name))
    try:
        return ZoneInfo(key)
    except ZoneInfoNotFoundError:
        raise ValueError(_zone_open_error(name)) from None
    except ValueError:  # the file exists but is not TZif data (zone.tab, say)
        raise ValueError("malformed time zone information") from None


def _zone_open_error(name: str) -> str:
    """Go's error for a zone it cannot open: the OS's ("is a directory"), else unknown."""
    for directory in zoneinfo.TZPATH:
        try:
            with open(os.path.join(directory, name), "rb"):
                pass
        except FileNotFoundError:
            continue
        except OSError as exc:
            reason = exc.strerror or str(exc)
            return reason[:1].lower() + reason[1:]  # Go spells errno texts in lower case
    return f"unknown time zone {name}"


@cache  # like Go, which settles time.Local once per process
def _local_zone() -> ZoneInfo:
    """Go's ``time.Local``: ``$TZ`` unset reads /etc/localtime; empty or unreadable is UTC."""
    tz = os.environ.get("TZ")
    try:
        if tz is None:
            tz = "/etc/localtime"
        tz = tz.removeprefix(":")
        if tz.startswith("/"):
            with open(tz, "rb") as file:
                return ZoneInfo.from_file(file, key="Local")
        if tz not in ("", "UTC"):
            return ZoneInfo(tz)
    except (OSError, ValueError, ZoneInfoNotFoundError):
        pass
    return ZoneInfo("UTC")


def _parse_time(s: str) -> int:
    if not _TIME_RE.fullmatch(s):
        raise ValueError(f"couldn't parse timestamp {s}, invalid format")
    hours, minutes = s.split(":")
    return int(hours) * 60 + int(minutes)


def _parse_range(s: str, member: Callable[[str], int]) -> InclusiveRange:
    # Go's strings.ToLower maps U+0130 to a plain "i", where Python adds a combining dot.
    s = s.replace("\u0130", "i").lower()
    if ":" not in s:
        n = member(s)
        return InclusiveRange(n, n)
    parts = s.split(":")
    if len(parts) != 2:
        raise ValueError(f"couldn't parse range {s}, invalid format")
    return InclusiveRange(member(parts[0]), member(parts[1]))


def _atoi(s: str) -> int:
    """Go's ``strconv.Atoi``: an optional sign and ASCII digits only, within int64."""
    if not _ATOI_RE.fullmatch(s):
        raise ValueError(f"strconv.Atoi: parsing {_go_quote(s)}: invalid syntax")
    n = int(s)
    if not -(2**63) <= n < 2**63:
        raise ValueError(f"strconv.Atoi: parsing {_go_quote(s)}: value out of range")
    return n


def _go_quote(s: str) -> str:
    """Go's ``strconv.Quote``, as its error messages show a value."""
    return '"' + "".join(_go_escape(c) for c in s) + '"'


def _go_escape(c: str) -> str:
    if c in _GO_ESCAPES:
        return _GO_ESCAPES[c]
    if c.isprintable():
        return c
    code = ord(c)
    if code < 0x80:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _weekday(s: str) -> int:
    if s not in _WEEKDAYS:
        raise ValueError(f"{s} is not a valid weekday")
    return _WEEKDAYS[s]


def _month(s: str) -> int:
    if s in _MONTHS:
        return _MONTHS[s]
    try:
        return _atoi(s)
    except ValueError:
        raise ValueError(f"{s} is not a valid month") from None


def _day_of_month_matches(ranges: Sequence[InclusiveRange], local: datetime, zone: tzinfo) -> bool:
    days = _days_in_month(local, zone)
    for r in ranges:
        begin = days + r.begin + 1 if r.begin < 0 else r.begin
        end = days + r.end + 1 if r.end < 0 else r.end
        if begin > days:  # e.g. "30:31" in February: no day, rather than clamping to the 28th
            continue
        # Clamped to [-days, days], as Alertmanager does: a begin at or below 0 means the 1st.
        begin, end = min(max(begin, -days), days), min(max(end, -days), days)
        if begin <= local.day <= end:
            return True
    return False


def _days_in_month(local: datetime, zone: tzinfo) -> int:
    """Alertmanager's count: hours from this month's first midnight to the next one's, over 24,
    truncated; so a 31-day month that loses an hour to daylight saving counts 30 days."""
    start = _go_date(local.year, local.month, 1, time(), zone)
    wall = start.astimezone(zone)  # not midnight when the zone skipped midnight
    end = _go_date(wall.year, wall.month + 1, wall.day, wall.time(), zone)
    return (end - start) // _DAY


def _go_date(year: int, month: int, day: int, clock: time, zone: tzinfo) -> datetime:
    """Go's ``time.Date`` as a UTC instant: months and days past the end roll over, and a wall
    time that a transition skips or repeats takes the offset Go picks, not Python's ``fold=0``."""
    year, month_index = divmod(year * 12 + month - 1, 12)
    wall = datetime.combine(date(year, month_index + 1, 1), clock, UTC)
    wall += (day - 1) * _DAY
    return wall - _utc_offset(wall - _utc_offset(wall, zone), zone)


def _utc_offset(instant: datetime, zone: tzinfo) -> timedelta:
    return instant.astimezone(zone).utcoffset() or timedelta()
