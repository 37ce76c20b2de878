"""Time intervals behave as in Alertmanager 0.25 (the behaviour of its timeinterval_test.go, and
the corners its code has that the tests there do not reach)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from alertrouter.config.time_intervals import (
    NamedTimeIntervalConfig,
    TimeIntervalSpecConfig,
    TimeRangeConfig,
)
from alertrouter.router import time_intervals as ti
from alertrouter.router.time_intervals import (
    InclusiveRange,
    TimeInterval,
    TimeRange,
    any_contains,
    load_location,
    parse_day_of_month_range,
    parse_month_range,
    parse_time_range,
    parse_weekday_range,
    parse_year_range,
)

SPECS = TypeAdapter(list[TimeIntervalSpecConfig])
SYDNEY = ZoneInfo("Australia/Sydney")
# Go's messages for a directory or a non-zone file need the zone files on disk to show.
NEEDS_SYSTEM_TZDATA = pytest.mark.skipif(
    not Path("/usr/share/zoneinfo/zone.tab").is_file(), reason="no system tzdata"
)


def at(text: str) -> datetime:
    """``"2020-05-04 15:04 +0000"`` as an aware datetime."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M %z")


def r(begin: int, end: int | None = None) -> InclusiveRange:
    return InclusiveRange(begin, begin if end is None else end)


def load(text: str) -> tuple[TimeInterval, ...]:
    return tuple(spec.compile() for spec in SPECS.validate_python(yaml.safe_load(text)))


def errors(text: str) -> list[dict[str, Any]]:
    with pytest.raises(ValidationError) as caught:
        SPECS.validate_python(yaml.safe_load(text))
    return [dict(e) for e in caught.value.errors()]


BUSINESS_HOURS = TimeInterval(times=(TimeRange(540, 1020),), weekdays=(r(1, 5),))
SYDNEY_BUSINESS_HOURS = TimeInterval(
    times=(TimeRange(540, 1020),), weekdays=(r(1, 5),), location=SYDNEY
)
SYDNEY_NOVEMBER_BUSINESS_HOURS = TimeInterval(
    times=(TimeRange(540, 1020),), weekdays=(r(1, 5),), months=(r(11),), location=SYDNEY
)

# Alertmanager's ContainsTime table: (name, interval, instants inside, instants outside).
CONTAINS_TABLE = [
    ("always", TimeInterval(), ["2006-01-02 15:04 +0000", "2007-01-03 10:04 +0000"], []),
    (
        "business-hours",
        BUSINESS_HOURS,
        ["2020-05-04 15:04 +0000", "2020-05-05 10:04 +0000", "2020-06-09 09:04 +0000"],
        ["2020-05-03 15:04 +0000", "2020-05-04 08:59 +0000", "2020-05-05 05:00 +0000"],
    ),
    (
        "easter-2020",
        TimeInterval(days_of_month=(r(4, 6),), months=(r(4),), years=(r(2020),)),
        ["2020-04-04 15:04 +0000", "2020-04-05 00:00 +0000", "2020-04-06 23:05 +0000"],
        ["2018-05-03 15:04 +0000", "2020-04-03 23:59 +0000", "2020-06-04 23:59 +0000",
         "2019-04-06 23:59 +0000", "2020-04-07 00:00 +0000"],
    ),
    (
        "last-three-days",  # of any month, leap Februaries included
        TimeInterval(days_of_month=(r(-3, -1),)),
        ["2020-01-31 15:04 +0000", "2020-01-29 15:04 +0000", "2020-06-30 00:00 +0000",
         "2020-02-29 23:05 +0000"],
        ["2020-01-27 15:04 +0000", "2020-04-03 23:59 +0000", "2020-03-01 00:00 +0000"],
    ),
    (
        "out-of-bounds-days-clamped",
        TimeInterval(months=(r(6),), days_of_month=(r(-31, 31),)),
        ["2020-06-30 00:00 +0000", "2020-06-01 00:00 +0000"],
        ["2020-05-31 00:00 +0000", "2020-07-01 00:00 +0000"],
    ),
    (
        "sydney-business-hours",
        SYDNEY_BUSINESS_HOURS,
        ["2021-04-06 13:00 +1000"],
        ["2021-04-06 13:00 +0000"],  # 23:00 in Sydney
    ),
    (
        "sydney-summer-time",
        SYDNEY_NOVEMBER_BUSINESS_HOURS,
        ["2021-11-01 09:00 +1100", "2021-10-31 22:00 +0000"],  # both 09:00 Monday in Sydney
        ["2021-10-31 21:00 +0000"],
    ),
]  # fmt: skip
CONTAINS_CASES = [
    pytest.param(interval, at(when), expected, id=f"{name}@{when}")
    for name, interval, inside, outside in CONTAINS_TABLE
    for whens, expected in ((inside, True), (outside, False))
    for when in whens
]


@pytest.mark.parametrize(("interval", "when", "expected"), CONTAINS_CASES)
def test_contains_time(interval: TimeInterval, when: datetime, expected: bool) -> None:
    """An instant is inside an interval exactly when Alertmanager's ContainsTime says so."""
    assert interval.contains(when) is expected


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [("00:00", "24:00", TimeRange(0, 1440)), ("01:35", "17:39", TimeRange(95, 1059)),
     ("09:35", "09:39", TimeRange(575, 579))],
)  # fmt: skip
def test_parse_time_range(start: str, end: str, expected: TimeRange) -> None:
    """A time range becomes minutes since midnight, 24:00 being the end of the day."""
    assert parse_time_range(start, end) == expected


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("17:31", "17:31", "start time cannot be equal or greater than end time"),
        ("12:30", "24:01", "couldn't parse timestamp 24:01, invalid format"),
        ("09:30", "07:41", "start time cannot be equal or greater than end time"),
        ("24:00", "17:41", "start time cannot be equal or greater than end time"),
        ("14:03", "", "both start and end times must be provided"),
        ("9:00", "10:00", "couldn't parse timestamp 9:00, invalid format"),
        ("09:00\n", "10:00", "couldn't parse timestamp 09:00\n, invalid format"),
    ],
)
def test_parse_time_range_errors(start: str, end: str, message: str) -> None:
    """A bad time range is refused with Alertmanager's message."""
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        parse_time_range(start, end)


YAML_VALID_CASES = [
    pytest.param(
        """
        - weekdays: ['monday:friday']
          times: [{start_time: '09:00', end_time: '17:00'}]
        """,
        (BUSINESS_HOURS,),
        ["2020-07-08 09:00 +0000", "2020-07-08 16:59 +0000", "2021-04-01 13:00 +0000"],
        ["2020-07-08 05:00 +0000", "2020-07-08 08:59 +0000"],
        id="business-hours",
    ),
    pytest.param(
        """
        # the last week of each first quarter, but Saturdays, in office hours, some years
        - weekdays: ['monday:friday', 'sunday']
          months: ['january:march']
          days_of_month: ['-7:-1']
          years: ['2020:2025', '2030:2035']
          times: [{start_time: '09:00', end_time: '17:00'}]
        """,
        (
            TimeInterval(
                times=(TimeRange(540, 1020),),
                weekdays=(r(1, 5), r(0)),
                days_of_month=(r(-7, -1),),
                months=(r(1, 3),),
                years=(r(2020, 2025), r(2030, 2035)),
            ),
        ),
        ["2021-01-27 09:00 +0000", "2021-01-28 16:59 +0000", "2021-01-29 13:00 +0000",
         "2025-03-31 13:00 +0000", "2035-01-31 13:00 +0000"],
        ["2021-01-30 13:00 +0000", "2021-04-01 13:00 +0000", "2026-01-30 13:00 +0000",
         "2035-01-31 17:01 +0000"],
        id="negative-days-and-ranges",
    ),
    pytest.param(
        "- days_of_month: ['1:-1']", (TimeInterval(days_of_month=(r(1, -1),)),), [], [],
        id="positive-to-negative-day",
    ),
    pytest.param(
        "- months: ['January:december']", (TimeInterval(months=(r(1, 12),)),), [], [],
        id="month-names-any-case",
    ),
    pytest.param(
        "- {years: ['2020:2022'], location: 'Australia/Sydney'}",
        (TimeInterval(years=(r(2020, 2022),), location=SYDNEY),),
        ["2019-12-31 14:00 +0000"],  # already 2020 in Sydney
        ["2019-12-31 12:59 +0000"],
        id="location",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected", "inside", "outside"), YAML_VALID_CASES)
def test_yaml_unmarshal(
    text: str, expected: tuple[TimeInterval, ...], inside: list[str], outside: list[str]
) -> None:
    """Valid YAML compiles to the expected intervals, which contain exactly the expected times."""
    intervals = load(text)
    assert intervals == expected
    assert all(any_contains(intervals, at(s)) for s in inside)
    assert not any(any_contains(intervals, at(s)) for s in outside)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- times: [{start_time: '01:99', end_time: '23:59'}]",
         "couldn't parse timestamp 01:99, invalid format"),
        ("- times: [{start_time: '00:00', end_time: '99:99'}]",
         "couldn't parse timestamp 99:99, invalid format"),
        ("- weekdays: ['friday:monday']", "start day cannot be before end day"),
        ("- weekdays: ['saturday:sunday']", "start day cannot be before end day"),  # sunday is 0
        ("- weekdays: ['blurgsday:flurgsday']", "blurgsday is not a valid weekday"),
        ("- weekdays: ['1:3']", "1 is not a valid weekday"),
        ("- weekdays: ['-2:-1']", "-2 is not a valid weekday"),
        ("- weekdays: ['mon:tue:wed']", "couldn't parse range mon:tue:wed, invalid format"),
        ("- days_of_month: ['0']", "0 is not a valid day of the month: out of range"),
        ("- days_of_month: ['-50:-20']", "-50 is not a valid day of the month: out of range"),
        ("- days_of_month: ['1:50']", "50 is not a valid day of the month: out of range"),
        ("- days_of_month: ['-15:5']", "end day must be negative if start day is negative"),
        ("- days_of_month: ['10:-25']", "end day -25 is always before start day 10"),
        ("- days_of_month: ['x']", 'strconv.Atoi: parsing "x": invalid syntax'),
        ("- months: ['martius:june']", "martius is not a valid month"),
        ("- months: ['march:junius']", "junius is not a valid month"),
        ("- months: ['december:january']", "end month january is before start month december"),
        ("- months: ['13:2']", "end month february is before start month "),
        ("- years: ['2022:2020']", "end year 2020 is before start year 2022"),
        ("- location: 'Mars/Olympus'", "unknown time zone Mars/Olympus"),
        ("- location: '../../etc/passwd'", "time: invalid location name"),
    ],
)  # fmt: skip
def test_yaml_unmarshal_errors(text: str, message: str) -> None:
    """Invalid YAML is refused with Alertmanager's message, without pydantic's prefix."""
    assert [e["msg"] for e in errors(text)] == [message]


@pytest.mark.parametrize(
    ("text", "inside", "outside"),
    [
        (
            """
            weekdays: ['monday:wednesday', 'saturday', 'sunday']
            times: [{start_time: '13:00', end_time: '15:00'}]
            days_of_month: ['1', '10', '20:-1']
            years: ['2020:2023']
            months: ['january:march']
            """,
            ["2021-01-10 13:00 +0000", "2021-01-30 14:24 +0000"],
            ["2021-01-09 13:00 +0000", "2021-01-20 12:59 +0000", "2021-02-02 13:00 +0000"],
        ),
        (
            "{days_of_month: ['30:31'], years: ['2020:2023'], months: ['february']}",
            [],
            ["2021-02-28 13:00 +0000"],
        ),
    ],
)
def test_time_interval_complete(text: str, inside: list[str], outside: list[str]) -> None:
    """From YAML to a decision: the whole path agrees with Alertmanager's."""
    interval = TimeIntervalSpecConfig.model_validate(yaml.safe_load(text)).compile()
    assert all(interval.contains(at(s)) for s in inside)
    assert not any(interval.contains(at(s)) for s in outside)


@pytest.mark.parametrize("text", [p.values[0] for p in YAML_VALID_CASES])
def test_config_round_trips(text: str) -> None:
    """Dumping a valid spec, to Python or JSON, and reading it back gives the same spec."""
    for spec in SPECS.validate_python(yaml.safe_load(text)):
        assert TimeIntervalSpecConfig.model_validate(spec.model_dump()) == spec
        assert TimeIntervalSpecConfig.model_validate_json(spec.model_dump_json()) == spec


def test_error_location_names_the_list_item() -> None:
    """A bad item's error points at its field and index."""
    found = errors("- weekdays: ['monday']\n- weekdays: ['sunday', 'Funday']")
    assert [(e["loc"], e["msg"], e["type"]) for e in found] == [
        ((1, "weekdays", 1), "funday is not a valid weekday", "time_interval")
    ]


def test_bad_time_range_error_points_at_the_range() -> None:
    """A bad time range is reported at its index in ``times``."""
    found = errors(
        """
        - times:
            - {start_time: '10:00', end_time: '11:00'}
            - {start_time: '12:00', end_time: '11:00'}
        """
    )
    assert [(e["loc"], e["msg"]) for e in found] == [
        ((0, "times", 1), "start time cannot be equal or greater than end time")
    ]


@pytest.mark.parametrize(
    ("data", "loc"),
    [
        ({"weekday": ["monday"]}, ("weekday",)),
        (
            {"times": [{"start_time": "09:00", "end_time": "10:00", "end": "x"}]},
            ("times", 0, "end"),
        ),
    ],
)
def test_unknown_keys_are_errors(data: dict[str, Any], loc: tuple[str | int, ...]) -> None:
    """Unknown keys are refused, as Alertmanager's strict YAML decoding does."""
    with pytest.raises(ValidationError) as caught:
        TimeIntervalSpecConfig.model_validate(data)
    assert [(e["loc"], e["type"]) for e in caught.value.errors()] == [(loc, "extra_forbidden")]


def test_missing_end_time_is_reported_on_the_field() -> None:
    """A time range without an end names the missing field."""
    with pytest.raises(ValidationError) as caught:
        TimeRangeConfig.model_validate({"start_time": "14:03"})
    assert [(e["loc"], e["type"]) for e in caught.value.errors()] == [(("end_time",), "missing")]


def test_numbers_are_read_as_their_text() -> None:
    """Unquoted numbers are accepted, as Go's YAML decoder gives a string field their text."""
    spec = TimeIntervalSpecConfig.model_validate({"years": [2020], "days_of_month": [1, -1]})
    assert spec.compile() == TimeInterval(years=(r(2020),), days_of_month=(r(1), r(-1)))


def test_null_fields_match_everything() -> None:
    """A field given with no value (YAML null) is unset, like an absent one."""
    (interval,) = load("- {weekdays: null, times: null, location: null}")
    assert interval == TimeInterval()
    assert interval.contains(at("2021-06-06 03:00 +0000"))


def test_empty_list_matches_everything() -> None:
    """An empty list matches any time, as Alertmanager documents (its code matches none)."""
    (interval,) = load("- weekdays: []")
    assert interval.contains(at("2021-06-06 03:00 +0000"))


def test_named_interval_compiles_every_spec() -> None:
    """A named interval compiles to one TimeInterval per spec, in order."""
    named = NamedTimeIntervalConfig.model_validate(
        {"name": "offhours", "time_intervals": [{"weekdays": ["saturday", "sunday"]}, {}]}
    )
    assert named.compile() == (TimeInterval(weekdays=(r(6), r(0))), TimeInterval())


def test_named_interval_needs_a_name() -> None:
    """An empty name is refused with Alertmanager's message."""
    with pytest.raises(ValidationError) as caught:
        NamedTimeIntervalConfig.model_validate({"name": "", "time_intervals": None})
    assert [e["msg"] for e in caught.value.errors()] == ["missing name in time interval"]


def test_named_interval_without_specs_never_matches() -> None:
    """A named interval with no specs contains no time."""
    named = NamedTimeIntervalConfig.model_validate({"name": "never", "time_intervals": None})
    assert not any_contains(named.compile(), at("2021-06-06 03:00 +0000"))


@pytest.mark.parametrize(
    ("parse", "text", "expected"),
    [
        (parse_weekday_range, "Monday:FRIDAY", r(1, 5)),
        (parse_weekday_range, "sunday", r(0)),
        (parse_weekday_range, "fr\u0130day", r(5)),  # Go lowercases the dotted capital I to "i"
        (parse_day_of_month_range, "-3:-1", r(-3, -1)),
        (parse_day_of_month_range, "+05", r(5)),
        (parse_day_of_month_range, "-31", r(-31)),
        (parse_month_range, "3:june", r(3, 6)),
        (parse_month_range, "13", r(13)),  # never matches, yet Alertmanager accepts it
        (parse_year_range, "2020:2025", r(2020, 2025)),
        (parse_year_range, "-5", r(-5)),
    ],
)
def test_parse_ranges(parse: Any, text: str, expected: InclusiveRange) -> None:
    """Range strings parse as Alertmanager's do, quirks included."""
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (" 5", 'strconv.Atoi: parsing " 5": invalid syntax'),
        ("1_0", 'strconv.Atoi: parsing "1_0": invalid syntax'),
        ("\u0663", 'strconv.Atoi: parsing "\u0663": invalid syntax'),  # an Arabic-Indic three
        ("\t1", 'strconv.Atoi: parsing "\\t1": invalid syntax'),
        ("", 'strconv.Atoi: parsing "": invalid syntax'),
        ("9" * 20, 'strconv.Atoi: parsing "' + "9" * 20 + '": value out of range'),
    ],
)  # fmt: skip
def test_numbers_parse_like_go_atoi(text: str, message: str) -> None:
    """Numbers are Go's strconv.Atoi numbers: sign and ASCII digits only, and its messages."""
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        parse_year_range(text)


def test_end_time_is_exclusive() -> None:
    """A range ending at 24:00 includes the day's last minute but not the next midnight."""
    evening = TimeInterval(times=(TimeRange(1020, 1440),))
    assert evening.contains(at("2021-06-01 23:59 +0000"))
    assert not evening.contains(at("2021-06-02 00:00 +0000"))
    assert evening.contains(at("2021-06-01 17:00 +0000"))


@pytest.mark.parametrize(
    ("zone", "days", "day", "expected"),
    [
        # March in Berlin "has" 30 days: it loses an hour to DST, and 743 hours / 24 is 30.
        ("Europe/Berlin", r(-1), "2021-03-30", True),
        ("Europe/Berlin", r(-1), "2021-03-31", False),
        ("Europe/Berlin", r(31), "2021-03-31", False),
        ("Europe/Berlin", r(1, 31), "2021-03-31", False),
        ("Europe/Berlin", r(-1), "2021-10-31", True),  # October gains an hour: still 31
        ("Europe/Berlin", r(-1), "2021-04-30", True),
        # Asuncion skipped 2023-10-01 00:00; Go's time.Date resolves that midnight to 23:00
        # the day before, so September and October both count 29 days.
        ("America/Asuncion", r(-1), "2023-09-29", True),
        ("America/Asuncion", r(-1), "2023-09-30", False),
        ("America/Asuncion", r(-1), "2023-10-29", True),
        ("America/Asuncion", r(-1), "2023-10-31", False),
    ],
)
def test_days_in_month_counts_like_alertmanager(
    zone: str, days: InclusiveRange, day: str, expected: bool
) -> None:
    """Month length is Alertmanager's hours-over-24 count, which DST can shorten by a day."""
    interval = TimeInterval(days_of_month=(days,), location=ZoneInfo(zone))
    noon = datetime.fromisoformat(day).replace(hour=12, tzinfo=ZoneInfo(zone))
    assert interval.contains(noon) is expected


def test_contains_needs_an_aware_datetime() -> None:
    """A naive datetime is refused rather than guessed."""
    with pytest.raises(ValueError, match="timezone-aware"):
        TimeInterval().contains(datetime(2021, 6, 1, 12))


def test_no_location_means_utc() -> None:
    """Without a location, an instant is read in UTC whatever zone it carries."""
    morning = TimeInterval(times=(TimeRange(540, 600),))
    assert morning.contains(at("2021-06-01 11:30 +0200"))
    assert not morning.contains(at("2021-06-01 09:30 +0200"))


@given(
    st.datetimes(
        min_value=datetime(1990, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
    ),
    st.integers(min_value=-14 * 60, max_value=14 * 60),
)
def test_result_depends_only_on_the_instant(when: datetime, offset_minutes: int) -> None:
    """The same instant gives the same answer whatever zone it is expressed in."""
    other = when.astimezone(timezone(timedelta(minutes=offset_minutes)))
    for interval in (SYDNEY_NOVEMBER_BUSINESS_HOURS, TimeInterval(days_of_month=(r(-3, -1),))):
        assert interval.contains(when) == interval.contains(other)


def test_any_contains() -> None:
    """A list of intervals contains a time when one of them does; an empty list never does."""
    when = at("2021-06-01 12:00 +0000")
    assert any_contains([TimeInterval(years=(r(1999),)), TimeInterval()], when)
    assert not any_contains([], when)


@pytest.fixture
def fresh_local_zone() -> Iterator[None]:
    ti._local_zone.cache_clear()
    yield
    ti._local_zone.cache_clear()


@pytest.mark.parametrize(
    ("tz", "expected_offset"),
    [("Asia/Tokyo", 9), (":Asia/Tokyo", 9), ("", 0), ("Nowhere/Atall", 0)],
)
@pytest.mark.usefixtures("fresh_local_zone")
def test_local_follows_tz_like_go(
    monkeypatch: pytest.MonkeyPatch, tz: str, expected_offset: int
) -> None:
    """The "Local" zone is Go's time.Local: $TZ names it; empty or unknown means UTC."""
    monkeypatch.setenv("TZ", tz)
    zone = load_location("Local")
    assert datetime(2021, 6, 1, tzinfo=zone).utcoffset() == timedelta(hours=expected_offset)


@pytest.mark.parametrize("name", ["", "UTC"])
def test_empty_and_utc_locations_are_utc(name: str) -> None:
    """Go's LoadLocation reads both "" and "UTC" as UTC."""
    assert load_location(name).utcoffset(datetime(2021, 6, 1)) == timedelta(0)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Mars/Olympus", "unknown time zone Mars/Olympus"),
        ("europe/berlin", "unknown time zone europe/berlin"),
        ("/etc/localtime", "time: invalid location name"),
        ("Europe/..", "time: invalid location name"),
        pytest.param("Europe", "is a directory", marks=NEEDS_SYSTEM_TZDATA),
        pytest.param("Europe/Berlin/", "not a directory", marks=NEEDS_SYSTEM_TZDATA),
        pytest.param("zone.tab", "malformed time zone information", marks=NEEDS_SYSTEM_TZDATA),
    ],
)
def test_bad_locations(name: str, message: str) -> None:
    """A zone Go cannot load is refused with Go's message."""
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        load_location(name)


def test_location_paths_resolve_like_the_os() -> None:
    """Names the OS resolves to a zone file ("Europe//Berlin") load, as they do in Go."""
    assert load_location("Europe//Berlin") is ZoneInfo("Europe/Berlin")
    assert load_location("./UTC") is ZoneInfo("UTC")


@pytest.mark.parametrize(
    ("parse", "text"),
    [(parse_weekday_range, "funday"), (parse_day_of_month_range, "32"),
     (parse_month_range, "smarch"), (parse_year_range, "year")],
)  # fmt: skip
def test_parse_errors_are_value_errors(parse: Any, text: str) -> None:
    """Every parse function signals bad input with ValueError."""
    with pytest.raises(ValueError, match=r"\S"):
        parse(text)
