"""Alertmanager's ``time_intervals:`` YAML schema; ``compile()`` turns it into router objects.

Each item is checked by the router's parse functions, so errors carry Alertmanager's wording.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from alertrouter.router.time_intervals import (
    TimeInterval,
    TimeRange,
    load_location,
    parse_day_of_month_range,
    parse_month_range,
    parse_time_range,
    parse_weekday_range,
    parse_year_range,
)

__all__ = ["NamedTimeIntervalConfig", "TimeIntervalSpecConfig", "TimeRangeConfig"]


def _config_error(exc: ValueError) -> PydanticCustomError:
    # Not a ValueError, whose message pydantic would prefix with "Value error, ".
    return PydanticCustomError("time_interval", "{message}", {"message": str(exc)})


def _checked_by(parse: Callable[[str], object]) -> AfterValidator:
    """Validate a string with ``parse``, keeping its message as Alertmanager words it."""

    def check(value: str) -> str:
        try:
            parse(value)
        except ValueError as exc:
            raise _config_error(exc) from None
        return value

    return AfterValidator(check)


def _name_given(name: str) -> str:
    if not name:
        raise PydanticCustomError("time_interval", "missing name in time interval")
    return name


_Weekday = Annotated[str, _checked_by(parse_weekday_range)]
_DayOfMonth = Annotated[str, _checked_by(parse_day_of_month_range)]
_Month = Annotated[str, _checked_by(parse_month_range)]
_Year = Annotated[str, _checked_by(parse_year_range)]
_Location = Annotated[str, _checked_by(load_location)]


class TimeRangeConfig(BaseModel):
    """``start_time``/``end_time`` as ``"HH:MM"``; the end (up to ``"24:00"``) is exclusive."""

    # Go's YAML decoder gives a string field any scalar's text, so `years: [2020]` is valid there.
    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)

    start_time: str
    end_time: str

    @model_validator(mode="after")
    def _check(self) -> TimeRangeConfig:
        try:
            parse_time_range(self.start_time, self.end_time)
        except ValueError as exc:
            raise _config_error(exc) from None
        return self

    def compile(self) -> TimeRange:
        """The router's TimeRange."""
        return parse_time_range(self.start_time, self.end_time)


class TimeIntervalSpecConfig(BaseModel):
    """One ``time_interval``: every field given must match; an absent one matches anything."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)

    times: list[TimeRangeConfig] = Field(default_factory=list)
    weekdays: list[_Weekday] = Field(default_factory=list)
    days_of_month: list[_DayOfMonth] = Field(default_factory=list)
    months: list[_Month] = Field(default_factory=list)
    years: list[_Year] = Field(default_factory=list)
    location: _Location | None = None

    @field_validator("times", "weekdays", "days_of_month", "months", "years", mode="before")
    @classmethod
    def _null_list(cls, value: Any) -> Any:
        # Alertmanager reads `weekdays:` with nothing after it as an unset field.
        return [] if value is None else value

    def compile(self) -> TimeInterval:
        """The router's TimeInterval; no location means UTC."""
        return TimeInterval(
            times=tuple(r.compile() for r in self.times),
            weekdays=tuple(parse_weekday_range(s) for s in self.weekdays),
            days_of_month=tuple(parse_day_of_month_range(s) for s in self.days_of_month),
            months=tuple(parse_month_range(s) for s in self.months),
            years=tuple(parse_year_range(s) for s in self.years),
            location=None if self.location is None else load_location(self.location),
        )


class NamedTimeIntervalConfig(BaseModel):
    """An entry of ``time_intervals:`` (or the older ``mute_time_intervals:``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)

    name: Annotated[str, AfterValidator(_name_given)]
    time_intervals: list[TimeIntervalSpecConfig] = Field(default_factory=list)

    @field_validator("time_intervals", mode="before")
    @classmethod
    def _null_list(cls, value: Any) -> Any:
        return [] if value is None else value

    def compile(self) -> tuple[TimeInterval, ...]:
        """The router's intervals; the name matches when any of them contains the time."""
        return tuple(spec.compile() for spec in self.time_intervals)
