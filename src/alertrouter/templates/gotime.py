# Method names are Go's (templates call .Format, .Unix …), so they are not snake_case.
# ruff: noqa: N802
"""Go's ``time.Time``, ``time.Duration`` and ``time.Location`` as templates see them.

Times keep Unix seconds, nanoseconds and a location, so every Go method templates call gives
Go's answer (nine fractional digits, years outside Python's ``datetime`` range). Go's ``Local``
location is the host's zone; we treat it as UTC so renders do not depend on the machine (and the
Alertmanager we mirror runs with UTC in its container images).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "UTC_LOCATION",
    "GoDuration",
    "GoMonth",
    "GoTime",
    "GoWeekday",
    "Location",
    "load_location",
    "parse_rfc3339",
]

_NS = 1_000_000_000
_MIN_DURATION = -(1 << 63)
_MAX_DURATION = (1 << 63) - 1
# Seconds from 0001-01-01 (Go's zero time) to the Unix epoch.
_ZERO_UNIX = -62135596800

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")


class Location:
    """A Go ``*time.Location``: fixed offset or an IANA zone."""

    go_type = "*time.Location"

    def __init__(self, name: str, offset: int = 0, abbrev: str = "", zone: ZoneInfo | None = None):
        self._name = name
        self._offset = offset
        self._abbrev = abbrev
        self._zone = zone

    def _lookup(self, unix: int) -> tuple[str, int]:
        """Return (abbreviation, offset seconds) in effect at ``unix``."""
        if self._zone is None:
            return self._abbrev, self._offset
        clamped = min(max(unix, -62135596800 + 86400), 253402300799 - 86400)
        local = datetime.fromtimestamp(clamped, tz=self._zone)
        delta = local.utcoffset()
        offset = int(delta.total_seconds()) if delta is not None else 0
        abbrev = local.tzname() or ""
        # zoneinfo gives "+03" style names where the tz database has no abbreviation; Go too.
        return abbrev, offset

    def String(self) -> str:
        """Return the location's name, as Go's ``Location.String``."""
        return self._name


UTC_LOCATION = Location("UTC", 0, "UTC")
# Go's Local is the host zone; fixed to UTC here for deterministic renders (see module doc).
LOCAL_LOCATION = Location("Local", 0, "UTC")


def fixed_zone(name: str, offset: int) -> Location:
    """Return Go's ``time.FixedZone(name, offset)``."""
    return Location(name, offset, name)


@lru_cache(maxsize=64)
def load_location(name: str) -> Location:
    """Return Go's ``time.LoadLocation(name)``; raise ``ValueError`` for unknown zones."""
    if name in ("", "UTC"):
        return UTC_LOCATION
    if name == "Local":
        return LOCAL_LOCATION
    if ".." in name or name.startswith(("/", "\\")):
        raise ValueError("time: invalid location name")
    try:
        zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValueError(f"unknown time zone {name}") from exc
    return Location(name, zone=zone)


def _days_to_civil(days: int) -> tuple[int, int, int]:
    """Convert days since 1970-01-01 into (year, month, day) in the proleptic Gregorian calendar."""
    days += 719468
    era = days // 146097
    doe = days - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    year = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    return (year + 1 if month <= 2 else year), month, day


def _civil_to_days(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date."""
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    mp = month - 3 if month > 2 else month + 9
    doy = (153 * mp + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


class GoMonth(int):
    """Go's ``time.Month``: an int that prints as the month's English name."""

    go_type = "time.Month"

    def String(self) -> str:
        """Return the English month name."""
        if 1 <= self <= 12:
            return _MONTHS[self - 1]
        return f"%!Month({int(self)})"


class GoWeekday(int):
    """Go's ``time.Weekday``: an int (Sunday = 0) that prints as the day's English name."""

    go_type = "time.Weekday"

    def String(self) -> str:
        """Return the English weekday name."""
        if 0 <= self <= 6:
            return _DAYS[self]
        return f"%!Weekday({int(self)})"


def _fmt_frac(v: int, prec: int) -> tuple[str, int]:
    """Fraction digits of ``v / 10**prec`` without trailing zeros, and the integer part."""
    digits = ""
    printed = False
    for _ in range(prec):
        digit = v % 10
        printed = printed or digit != 0
        if printed:
            digits = str(digit) + digits
        v //= 10
    return ("." + digits if printed else ""), v


class GoDuration(int):
    """Go's ``time.Duration``: nanoseconds, printed like ``1h2m3.5s``."""

    go_type = "time.Duration"

    def String(self) -> str:
        """Return the duration as Go's ``Duration.String`` does."""
        u = abs(int(self))
        sign = "-" if self < 0 else ""
        if u < _NS:
            if u == 0:
                return "0s"
            if u < 1000:
                return f"{sign}{u}ns"
            if u < 1_000_000:
                frac, whole = _fmt_frac(u, 3)
                return f"{sign}{whole}{frac}µs"
            frac, whole = _fmt_frac(u, 6)
            return f"{sign}{whole}{frac}ms"
        frac, secs = _fmt_frac(u, 9)
        text = f"{secs % 60}{frac}s"
        minutes = secs // 60
        if minutes:
            text = f"{minutes % 60}m{text}"
            hours = minutes // 60
            if hours:
                text = f"{hours}h{text}"
        return sign + text

    def Nanoseconds(self) -> int:
        """Return the duration as an integer nanosecond count."""
        return int(self)

    def Microseconds(self) -> int:
        """Return the duration as an integer microsecond count (truncated)."""
        return _trunc_div(int(self), 1000)

    def Milliseconds(self) -> int:
        """Return the duration as an integer millisecond count (truncated)."""
        return _trunc_div(int(self), 1_000_000)

    def Seconds(self) -> float:
        """Return the duration as floating-point seconds."""
        whole = _trunc_div(int(self), _NS)
        return whole + (int(self) - whole * _NS) / 1e9

    def Minutes(self) -> float:
        """Return the duration as floating-point minutes."""
        whole = _trunc_div(int(self), 60 * _NS)
        return whole + (int(self) - whole * 60 * _NS) / (60e9)

    def Hours(self) -> float:
        """Return the duration as floating-point hours."""
        whole = _trunc_div(int(self), 3600 * _NS)
        return whole + (int(self) - whole * 3600 * _NS) / (3600e9)

    def Round(self, m: int) -> GoDuration:
        """Round to the nearest multiple of ``m`` (halfway away from zero)."""
        d, m = int(self), int(m)
        if m <= 0:
            return self
        r = abs(d) % m
        if d < 0:
            r = -r
            return GoDuration(d - r if -(r + r) < m else d - r - m)
        return GoDuration(d - r if r + r < m else d + m - r)

    def Truncate(self, m: int) -> GoDuration:
        """Round toward zero to a multiple of ``m``."""
        d, m = int(self), int(m)
        if m <= 0:
            return self
        return GoDuration(d - int(_trunc_rem(d, m)))

    def Abs(self) -> GoDuration:
        """Return the absolute value."""
        return GoDuration(abs(int(self)))


def _trunc_div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def _trunc_rem(a: int, b: int) -> int:
    return a - _trunc_div(a, b) * b


# --- layouts -----------------------------------------------------------------------------------

# Chunk kinds of Go's reference layout (time/format.go's std* constants, by name).
_LAYOUT_TOKENS = (
    ("January", "long_month"),
    ("Jan", "month"),
    ("Monday", "long_weekday"),
    ("Mon", "weekday"),
    ("MST", "tz"),
    ("2006", "long_year"),
    ("-07:00:00", "num_colon_seconds_tz"),
    ("-070000", "num_seconds_tz"),
    ("-07:00", "num_colon_tz"),
    ("-0700", "num_tz"),
    ("-07", "num_short_tz"),
    ("Z07:00:00", "iso_colon_seconds_tz"),
    ("Z070000", "iso_seconds_tz"),
    ("Z07:00", "iso_colon_tz"),
    ("Z0700", "iso_tz"),
    ("Z07", "iso_short_tz"),
    ("002", "zero_year_day"),
    ("__2", "under_year_day"),
    ("_2", "under_day"),
    ("01", "zero_month"),
    ("02", "zero_day"),
    ("03", "zero_hour12"),
    ("04", "zero_minute"),
    ("05", "zero_second"),
    ("06", "year"),
    ("15", "hour"),
    ("PM", "PM"),
    ("pm", "pm"),
)
_FRAC = re.compile(r"[.,](0+|9+)(?![0-9])")
_SINGLE = {"1": "num_month", "2": "day", "3": "hour12", "4": "minute", "5": "second"}


def _starts_lower(s: str) -> bool:
    return bool(s) and "a" <= s[0] <= "z"


@lru_cache(maxsize=256)
def _parse_layout(layout: str) -> tuple[tuple[str, str], ...]:
    """Split a layout into (kind, text) chunks; kind "" is literal text."""
    chunks: list[tuple[str, str]] = []
    literal: list[str] = []
    i = 0
    n = len(layout)
    while i < n:
        kind = ""
        token = ""
        frac = _FRAC.match(layout, i) if layout[i] in ".," else None
        if frac is not None:
            kind = ("frac0:" if frac.group(1)[0] == "0" else "frac9:") + layout[i]
            token = frac.group(0)
        elif layout.startswith("_2006", i):
            # "_2006" is a literal underscore followed by the long year (Go's rule).
            literal.append("_")
            i += 1
            continue
        else:
            for text, name in _LAYOUT_TOKENS:
                if layout.startswith(text, i):
                    if name in ("month", "weekday") and _starts_lower(layout[i + 3 :]):
                        continue
                    kind, token = name, text
                    break
            if not kind and layout[i] in _SINGLE:
                kind, token = _SINGLE[layout[i]], layout[i]
        if kind:
            if literal:
                chunks.append(("", "".join(literal)))
                literal = []
            chunks.append((kind, token))
            i += len(token)
        else:
            literal.append(layout[i])
            i += 1
    if literal:
        chunks.append(("", "".join(literal)))
    return tuple(chunks)


def _pad(value: int, width: int) -> str:
    if value < 0:
        return "-" + str(-value).rjust(width, "0")
    return str(value).rjust(width, "0")


class GoTime:
    """Go's ``time.Time``: an instant (Unix seconds + nanoseconds) shown in a location."""

    go_type = "time.Time"

    __slots__ = ("_loc", "_nsec", "_sec")

    def __init__(self, sec: int, nsec: int = 0, loc: Location = UTC_LOCATION) -> None:
        sec += nsec // _NS
        self._sec = sec
        self._nsec = nsec % _NS
        self._loc = loc

    @classmethod
    def zero(cls) -> GoTime:
        """Return Go's zero time, 0001-01-01 00:00:00 UTC."""
        return cls(_ZERO_UNIX, 0, UTC_LOCATION)

    @classmethod
    def from_datetime(cls, value: datetime, nsec: int | None = None) -> GoTime:
        """Build from an aware datetime; ``nsec`` overrides its microseconds."""
        if value.tzinfo is None:
            raise ValueError("naive datetime: Go times always have a location")
        off = value.utcoffset()
        offset = int(off.total_seconds()) if off is not None else 0
        days = _civil_to_days(value.year, value.month, value.day)
        sec = days * 86400 + value.hour * 3600 + value.minute * 60 + value.second - offset
        ns = value.microsecond * 1000 if nsec is None else nsec
        loc = UTC_LOCATION if offset == 0 else fixed_zone("", offset)
        return cls(sec, ns, loc)

    @classmethod
    def now(cls) -> GoTime:
        """Return the current time in UTC (Go's Local, see the module doc)."""
        ns = time.time_ns()
        return cls(ns // _NS, ns % _NS, LOCAL_LOCATION)

    # -- internals

    def _zone(self) -> tuple[str, int]:
        return self._loc._lookup(self._sec)

    def _fields(self) -> tuple[int, int, int, int, int, int, int]:
        """(year, month, day, hour, minute, second, yday) in the time's location."""
        _, offset = self._zone()
        local = self._sec + offset
        days, secs = divmod(local, 86400)
        year, month, day = _days_to_civil(days)
        yday = days - _civil_to_days(year, 1, 1) + 1
        return year, month, day, secs // 3600, secs // 60 % 60, secs % 60, yday

    def _abs_ns(self) -> int:
        return (self._sec - _ZERO_UNIX) * _NS + self._nsec

    def __eq__(self, other: object) -> bool:
        # Go's == on time.Time compares location too; templates compare with eq rarely.
        if not isinstance(other, GoTime):
            return NotImplemented
        return (self._sec, self._nsec, self._loc) == (other._sec, other._nsec, other._loc)

    def __hash__(self) -> int:
        return hash((self._sec, self._nsec))

    def __repr__(self) -> str:
        return f"GoTime({self.String()!r})"

    # -- Go methods

    def Format(self, layout: str) -> str:
        """Format with Go's reference-time layout grammar (``2006-01-02T15:04:05Z07:00``)."""
        year, month, day, hour, minute, second, yday = self._fields()
        abbrev, offset = self._zone()
        out: list[str] = []
        for kind, text in _parse_layout(layout):
            if not kind:
                out.append(text)
            elif kind.startswith("frac"):
                digits = str(self._nsec).rjust(9, "0")[: len(text) - 1]
                if kind.startswith("frac9"):
                    digits = digits.rstrip("0")
                    if digits:
                        out.append(text[0] + digits)
                else:
                    out.append(text[0] + digits)
            elif kind.endswith("tz") and kind != "tz":
                out.append(_format_offset(kind, offset))
            else:
                fields = (year, month, day, hour, minute, second, yday)
                out.append(_format_field(kind, fields, abbrev, offset))
        return "".join(out)

    def GoString(self) -> str:
        """Return the Go expression ``%#v`` prints: ``time.Date(2026, time.March, …, time.UTC)``."""
        year, month, day, hour, minute, second, _ = self._fields()
        if self._loc is UTC_LOCATION:
            loc = "time.UTC"
        elif self._loc is LOCAL_LOCATION:
            loc = "time.Local"
        else:
            loc = 'time.Location("' + self._loc.String().replace('"', '\\"') + '")'
        return (
            f"time.Date({year}, time.{_MONTHS[month - 1]}, {day}, {hour}, {minute}, {second}, "
            f"{self._nsec}, {loc})"
        )

    def String(self) -> str:
        """Return ``2006-01-02 15:04:05.999999999 -0700 MST`` (never a monotonic suffix)."""
        return self.Format("2006-01-02 15:04:05.999999999 -0700 MST")

    def Unix(self) -> int:
        """Seconds since the Unix epoch."""
        return self._sec

    def UnixMilli(self) -> int:
        """Milliseconds since the Unix epoch."""
        return self._sec * 1000 + self._nsec // 1_000_000

    def UnixMicro(self) -> int:
        """Microseconds since the Unix epoch."""
        return self._sec * 1_000_000 + self._nsec // 1000

    def UnixNano(self) -> int:
        """Nanoseconds since the Unix epoch."""
        return self._sec * _NS + self._nsec

    def UTC(self) -> GoTime:
        """The same instant in UTC."""
        return GoTime(self._sec, self._nsec, UTC_LOCATION)

    def Local(self) -> GoTime:
        """The same instant in Go's Local (UTC here, see the module doc)."""
        return GoTime(self._sec, self._nsec, LOCAL_LOCATION)

    def In(self, loc: Location) -> GoTime:
        """The same instant in ``loc``."""
        return GoTime(self._sec, self._nsec, loc)

    def Location(self) -> Location:
        """The time's location."""
        return self._loc

    def Zone(self) -> str:
        """The zone abbreviation (Go also returns the offset; templates see one value)."""
        return self._zone()[0]

    def IsZero(self) -> bool:
        """Report whether this is Go's zero time."""
        return self._sec == _ZERO_UNIX and self._nsec == 0

    def Before(self, other: GoTime) -> bool:
        """Report whether the instant is before ``other``."""
        return (self._sec, self._nsec) < (other._sec, other._nsec)

    def After(self, other: GoTime) -> bool:
        """Report whether the instant is after ``other``."""
        return (self._sec, self._nsec) > (other._sec, other._nsec)

    def Equal(self, other: GoTime) -> bool:
        """Report whether both are the same instant, whatever their locations."""
        return (self._sec, self._nsec) == (other._sec, other._nsec)

    def Compare(self, other: GoTime) -> int:
        """Return -1, 0 or +1 as the instant is before, equal to or after ``other``."""
        a, b = (self._sec, self._nsec), (other._sec, other._nsec)
        return (a > b) - (a < b)

    def Add(self, d: int) -> GoTime:
        """Return the time plus the duration ``d`` (nanoseconds)."""
        return GoTime(self._sec, self._nsec + int(d), self._loc)

    def Sub(self, other: GoTime) -> GoDuration:
        """Return the duration ``self - other``."""
        # Go saturates at the int64 range (as with the zero EndsAt of a firing alert).
        return GoDuration(
            min(max(self.UnixNano() - other.UnixNano(), _MIN_DURATION), _MAX_DURATION)
        )

    def AddDate(self, years: int, months: int, days: int) -> GoTime:
        """Add calendar years, months and days, normalising overflow as Go does."""
        year, month, day, hour, minute, second, _ = self._fields()
        _, offset = self._zone()
        month0 = month - 1 + months
        year += years + month0 // 12
        month = month0 % 12 + 1
        total_days = _civil_to_days(year, month, 1) + day - 1 + days
        local = total_days * 86400 + hour * 3600 + minute * 60 + second
        return GoTime(local - offset, self._nsec, self._loc)

    def Year(self) -> int:
        """The year."""
        return self._fields()[0]

    def Month(self) -> GoMonth:
        """The month (prints as its name)."""
        return GoMonth(self._fields()[1])

    def Day(self) -> int:
        """The day of the month."""
        return self._fields()[2]

    def Hour(self) -> int:
        """The hour, 0-23."""
        return self._fields()[3]

    def Minute(self) -> int:
        """The minute."""
        return self._fields()[4]

    def Second(self) -> int:
        """The second."""
        return self._fields()[5]

    def Nanosecond(self) -> int:
        """The nanosecond within the second."""
        return self._nsec

    def YearDay(self) -> int:
        """The day of the year, 1-366."""
        return self._fields()[6]

    def Weekday(self) -> GoWeekday:
        """The day of the week (prints as its name)."""
        _, offset = self._zone()
        days = (self._sec + offset) // 86400
        return GoWeekday((days + 4) % 7)

    def Truncate(self, d: int) -> GoTime:
        """Round down to a multiple of ``d`` since the zero time."""
        if d <= 0:
            return self
        return self.Add(-(self._abs_ns() % int(d)))

    def Round(self, d: int) -> GoTime:
        """Round to the nearest multiple of ``d`` since the zero time (halfway rounds up)."""
        if d <= 0:
            return self
        r = self._abs_ns() % int(d)
        if r + r < d:
            return self.Add(-r)
        return self.Add(int(d) - r)


def _format_offset(kind: str, offset: int) -> str:
    if offset == 0 and kind.startswith("iso"):
        return "Z"
    sign = "-" if offset < 0 else "+"
    absolute = abs(offset)
    zone = absolute // 60
    colon = ":" if "colon" in kind else ""
    text = sign + _pad(zone // 60, 2)
    if not kind.endswith("short_tz"):
        text += colon + _pad(zone % 60, 2)
    if "seconds" in kind:
        text += colon + _pad(absolute % 60, 2)
    return text


_FIELD_FORMATTERS: dict[str, Callable[[tuple[int, ...]], str]] = {
    "year": lambda f: _pad(f[0] % 100, 2),
    "long_year": lambda f: _pad(f[0], 4),
    "month": lambda f: _MONTHS[f[1] - 1][:3],
    "long_month": lambda f: _MONTHS[f[1] - 1],
    "num_month": lambda f: str(f[1]),
    "zero_month": lambda f: _pad(f[1], 2),
    "day": lambda f: str(f[2]),
    "under_day": lambda f: str(f[2]).rjust(2),
    "zero_day": lambda f: _pad(f[2], 2),
    "hour": lambda f: _pad(f[3], 2),
    "hour12": lambda f: str(f[3] % 12 or 12),
    "zero_hour12": lambda f: _pad(f[3] % 12 or 12, 2),
    "minute": lambda f: str(f[4]),
    "zero_minute": lambda f: _pad(f[4], 2),
    "second": lambda f: str(f[5]),
    "zero_second": lambda f: _pad(f[5], 2),
    "zero_year_day": lambda f: _pad(f[6], 3),
    "under_year_day": lambda f: str(f[6]).rjust(3),
    "PM": lambda f: "PM" if f[3] >= 12 else "AM",
    "pm": lambda f: "pm" if f[3] >= 12 else "am",
}


def _format_field(kind: str, fields: tuple[int, ...], abbrev: str, offset: int) -> str:
    year, month, day = fields[0], fields[1], fields[2]
    if kind in ("weekday", "long_weekday"):
        name = _DAYS[(_civil_to_days(year, month, day) + 4) % 7]
        return name if kind == "long_weekday" else name[:3]
    if kind == "tz":
        if abbrev:
            return abbrev
        minutes = abs(offset) // 60
        return ("-" if offset < 0 else "+") + _pad(minutes // 60, 2) + _pad(minutes % 60, 2)
    return _FIELD_FORMATTERS[kind](fields)


_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?(Z|[+-]\d{2}:\d{2})\Z"
)


def parse_rfc3339(text: str) -> GoTime:
    """Parse an RFC 3339 timestamp the way Go's ``time.Time.UnmarshalJSON`` does.

    Fractions beyond nine digits are truncated; ``Z`` gives UTC, a zero offset Go's Local (UTC
    here), other offsets an unnamed fixed zone, which Go prints as ``+0200``.
    """
    m = _RFC3339.match(text)
    if m is None:
        raise ValueError(f'parsing time "{text}" as RFC3339: cannot parse')
    year, month, day, hour, minute, second = (int(m.group(i)) for i in range(1, 7))
    if not 1 <= month <= 12:
        raise ValueError(f'parsing time "{text}": month out of range')
    days_in_month = (31, 29 if _is_leap(year) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
    if not 1 <= day <= days_in_month[month - 1]:
        raise ValueError(f'parsing time "{text}": day out of range')
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(f'parsing time "{text}": time out of range')
    frac = (m.group(7) or "")[:9].ljust(9, "0")
    zone = m.group(8)
    offset = 0
    if zone != "Z":
        # Go 1.19 (amtool 0.25's) does not range-check offsets: +05:99 is 6h39m east.
        hh, mm = int(zone[1:3]), int(zone[4:6])
        offset = (hh * 3600 + mm * 60) * (-1 if zone[0] == "-" else 1)
    local = _civil_to_days(year, month, day) * 86400 + hour * 3600 + minute * 60 + second
    if zone == "Z":
        loc = UTC_LOCATION
    elif offset == 0:
        # Go picks Local when the offset matches it; our Local is UTC.
        loc = LOCAL_LOCATION
    else:
        loc = fixed_zone("", offset)
    return GoTime(local - offset, int(frac), loc)


# --- parsing with a layout (time.ParseInLocation(layout, value, time.UTC)) --------------------


class _ParseError(ValueError):
    """A parse failure; ``str()`` is Go's ``time.ParseError`` message."""


def _getnum(value: str, fixed: bool) -> tuple[int, str] | None:
    if not value[:1].isdigit() or not value[:1].isascii():
        return None
    if not value[1:2].isdigit() or not value[1:2].isascii():
        return None if fixed else (int(value[0]), value[1:])
    return int(value[:2]), value[2:]


def _lookup(names: tuple[str, ...], value: str) -> tuple[int, str] | None:
    for i, name in enumerate(names):
        if value[: len(name)].lower() == name.lower():
            return i, value[len(name) :]
    return None


def _quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_time(layout: str, value: str) -> GoTime:
    """Parse ``value`` with a Go layout, as ``time.ParseInLocation(layout, value, time.UTC)``.

    Raises ``ValueError`` carrying Go's message (``parsing time "x" as "2006": cannot parse …``).
    """
    original = value
    year, month, day, yday = 0, 1, 1, -1
    hour = minute = second = nsec = 0
    pm_set = am_set = False
    offset: int | None = None
    zone_name = ""
    is_utc = False
    chunks = _parse_layout(layout)

    def fail(rest: str, elem: str) -> _ParseError:
        return _ParseError(
            f"parsing time {_quote(original)} as {_quote(layout)}: cannot parse "
            f"{_quote(rest)} as {_quote(elem)}"
        )

    def out_of_range(what: str) -> _ParseError:
        return _ParseError(f"parsing time {_quote(original)}: {what} out of range")

    for n, (kind, text) in enumerate(chunks):
        rest = value
        if not kind:
            if not value.startswith(text):
                raise fail(value, text)
            value = value[len(text) :]
            continue
        got: tuple[int, str] | None
        if kind == "long_year":
            if len(value) < 4 or not value[:4].isdigit():
                raise fail(rest, text)
            year, value = int(value[:4]), value[4:]
        elif kind == "year":
            got = _getnum(value, True)
            if got is None:
                raise fail(rest, text)
            year = got[0] + (1900 if got[0] >= 69 else 2000)
            value = got[1]
        elif kind in ("month", "long_month"):
            names = tuple(m[:3] for m in _MONTHS) if kind == "month" else _MONTHS
            got = _lookup(names, value)
            if got is None:
                raise fail(rest, text)
            month, value = got[0] + 1, got[1]
        elif kind in ("weekday", "long_weekday"):
            names = tuple(d[:3] for d in _DAYS) if kind == "weekday" else _DAYS
            got = _lookup(names, value)
            if got is None:
                raise fail(rest, text)
            value = got[1]
        elif kind in ("num_month", "zero_month"):
            got = _getnum(value, kind == "zero_month")
            if got is None:
                raise fail(rest, text)
            month, value = got
            if not 1 <= month <= 12:
                raise out_of_range("month")
        elif kind in ("day", "under_day", "zero_day"):
            if kind == "under_day" and value.startswith(" "):
                value = value[1:]
            got = _getnum(value, kind == "zero_day")
            if got is None:
                raise fail(rest, text)
            day, value = got
        elif kind in ("zero_year_day", "under_year_day"):
            digits = value[:3].lstrip(" ") if kind == "under_year_day" else value[:3]
            if len(value) < 3 or not digits.isdigit():
                raise fail(rest, text)
            yday, value = int(digits), value[3:]
        elif kind in ("hour", "hour12", "zero_hour12", "minute", "zero_minute"):
            got = _getnum(value, kind.startswith("zero"))
            if got is None:
                raise fail(rest, text)
            number, value = got
            if kind == "hour":
                if number > 23:
                    raise out_of_range("hour")
                hour = number
            elif kind.endswith("hour12"):
                if number > 12:
                    raise out_of_range("hour")
                hour = number
            else:
                if number > 59:
                    raise out_of_range("minute")
                minute = number
        elif kind in ("second", "zero_second"):
            got = _getnum(value, kind == "zero_second")
            if got is None:
                raise fail(rest, text)
            second, value = got
            if second > 59:
                raise out_of_range("second")
            # A fraction in the value that the layout does not ask for is still accepted.
            nxt = chunks[n + 1][0] if n + 1 < len(chunks) else ""
            if (
                len(value) >= 2
                and value[0] in ".,"
                and value[1].isdigit()
                and not nxt.startswith("frac")
            ):
                j = 2
                while j < len(value) and value[j].isdigit():
                    j += 1
                nsec = int(value[1:j][:9].ljust(9, "0"))
                value = value[j:]
        elif kind.startswith("frac0"):
            width = len(text)
            if len(value) < width or value[0] not in ".," or not value[1:width].isdigit():
                raise fail(rest, text)
            nsec, value = int(value[1:width][:9].ljust(9, "0")), value[width:]
        elif kind.startswith("frac9"):
            if len(value) < 2 or value[0] not in ".," or not value[1].isdigit():
                continue
            j = 1
            while j < len(value) and value[j].isdigit():
                j += 1
            nsec, value = int(value[1:j][:9].ljust(9, "0")), value[j:]
        elif kind in ("PM", "pm"):
            word = value[:2]
            want = ("PM", "AM") if kind == "PM" else ("pm", "am")
            if word not in want:
                raise fail(rest, text)
            pm_set, am_set = word == want[0], word == want[1]
            value = value[2:]
        elif kind == "tz":
            if value.startswith("UTC"):
                is_utc, value = True, value[3:]
                continue
            m = re.match(r"[A-Z]{3,5}T?", value)
            if m is None:
                raise fail(rest, text)
            zone_name, value = m.group(0), value[m.end() :]
        else:
            if kind.startswith("iso") and value.startswith("Z"):
                is_utc, value = True, value[1:]
                continue
            pattern = {
                "short_tz": r"([+-])(\d\d)()()",
                "colon_tz": r"([+-])(\d\d):(\d\d)()",
                "num_tz": r"([+-])(\d\d)(\d\d)()",
                "iso_tz": r"([+-])(\d\d)(\d\d)()",
                "colon_seconds_tz": r"([+-])(\d\d):(\d\d):(\d\d)",
                "seconds_tz": r"([+-])(\d\d)(\d\d)(\d\d)",
            }
            key = kind.removeprefix("iso_").removeprefix("num_")
            m = re.match(pattern.get(key, pattern["num_tz"]), value)
            if m is None:
                raise fail(rest, text)
            secs = int(m.group(2)) * 3600 + int(m.group(3) or 0) * 60 + int(m.group(4) or 0)
            offset = -secs if m.group(1) == "-" else secs
            value = value[m.end() :]
    if value:
        raise _ParseError(f"parsing time {_quote(original)}: extra text: {_quote(value)}")
    if pm_set and hour < 12:
        hour += 12
    elif am_set and hour == 12:
        hour = 0
    if yday >= 0:
        leap = _is_leap(year)
        if yday < 1 or yday > (366 if leap else 365):
            raise out_of_range("day-of-year")
        first = _civil_to_days(year, 1, 1) + yday - 1
        _, month, day = _days_to_civil(first)
    lengths = (31, 29 if _is_leap(year) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
    if day < 1 or day > lengths[month - 1]:
        raise out_of_range("day")
    local = _civil_to_days(year, month, day) * 86400 + hour * 3600 + minute * 60 + second
    if is_utc:
        return GoTime(local, nsec, UTC_LOCATION)
    if offset is not None:
        loc = UTC_LOCATION if offset == 0 else fixed_zone("", offset)
        return GoTime(local - offset, nsec, loc)
    if zone_name:
        fake = 0
        if zone_name.startswith("GMT") and zone_name[3:].lstrip("+-").isdigit():
            fake = int(zone_name[3:]) * 3600
        return GoTime(local, nsec, fixed_zone(zone_name, fake))
    return GoTime(local, nsec, UTC_LOCATION)
