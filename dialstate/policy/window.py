"""Calling windows (spec section 6): when a contact may be called, in its local time.

All instants in and out are timezone-aware (UTC out); local time exists only here,
through `zoneinfo`. Day boundaries per (zone, local date) are memoized, because the
engine asks for many contacts that share a few zones.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dialstate.errors import ConfigurationError
from dialstate.policy._json import check_json_object

__all__ = [
    "HORIZON",
    "CallingWindow",
    "aware_utc",
    "is_known_zone",
    "validate_timezone",
]

#: How far next_opening / next_closing look ahead (long enough to step over a year of holidays).
HORIZON = timedelta(days=400)

_DAY_SECONDS = 86400
_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_INDEX = {
    **{name: i for i, name in enumerate(_DAY_NAMES)},
    **{name: i for i, name in enumerate(
        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))},
    "tues": 1, "thur": 3, "thurs": 3,
}
_DAYS_ALLOWED = ("days are mon, tue, wed, thu, fri, sat, sun (or full names, or 0=Mon..6=Sun), "
                 "single or as ranges that may wrap the week, e.g. 'mon-fri', 'mon-fri,sat', "
                 "'fri-mon', or a list such as ['mon', 'wed', 5]")
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
_FIELDS = ("start", "end", "days", "holidays")

Interval = tuple[datetime, datetime]


def _bad(name: str, value: object, allowed: str) -> ConfigurationError:
    return ConfigurationError(f"CallingWindow.{name}: {value!r} is not allowed; {allowed}")


def _clock_seconds(name: str, value: object, *, end: bool) -> int:
    """Seconds after local midnight for "HH:MM[:SS]" or a naive `time`; "24:00" only for end."""
    allowed = ("it must be a local time 'HH:MM' or 'HH:MM:SS' (or a datetime.time without "
               "tzinfo), whole seconds" + (", up to '24:00' for the end of the day" if end else ""))
    if isinstance(value, time):
        if value.tzinfo is not None or value.microsecond:
            raise _bad(name, value, allowed)
        return value.hour * 3600 + value.minute * 60 + value.second
    match = _CLOCK.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise _bad(name, value, allowed)
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    if minutes > 59 or seconds > 59 or total > (_DAY_SECONDS if end else _DAY_SECONDS - 1):
        raise _bad(name, value, allowed)
    return total


def _clock_text(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}" + (f":{secs:02d}" if secs else "")


def _day_index(text: str, whole: object) -> int:
    index = _DAY_INDEX.get(text.strip().lower())
    if index is None:
        raise _bad("days", whole, _DAYS_ALLOWED)
    return index


def _parse_days(value: object) -> tuple[int, ...]:
    if isinstance(value, str):
        parts: list[object] = list(value.split(","))
    elif isinstance(value, Iterable):
        parts = list(value)
    else:
        raise _bad("days", value, _DAYS_ALLOWED)
    days: set[int] = set()
    for part in parts:
        if isinstance(part, int) and not isinstance(part, bool) and 0 <= part <= 6:
            days.add(part)
        elif isinstance(part, str) and "-" in part:
            first_text, _, last_text = part.partition("-")
            first, last = _day_index(first_text, value), _day_index(last_text, value)
            days.update((first + i) % 7 for i in range((last - first) % 7 + 1))
        elif isinstance(part, str):
            days.add(_day_index(part, value))
        else:
            raise _bad("days", value, _DAYS_ALLOWED)
    if not days:
        raise _bad("days", value, "a window needs at least one day; " + _DAYS_ALLOWED)
    return tuple(sorted(days))


def _parse_holidays(value: object) -> frozenset[date]:
    allowed = "holidays are local calendar dates: datetime.date objects or ISO strings 'YYYY-MM-DD'"
    items = [value] if isinstance(value, (str, date)) else value
    if not isinstance(items, Iterable):
        raise _bad("holidays", value, allowed)
    holidays = set()
    for item in items:
        if isinstance(item, date) and not isinstance(item, datetime):
            holidays.add(item)
            continue
        try:
            holidays.add(date.fromisoformat(item.strip()))
        except (AttributeError, TypeError, ValueError):
            raise _bad("holidays", item, allowed) from None
    return frozenset(holidays)


@dataclass(frozen=True)
class CallingWindow:
    """Local hours at the contact when calling is allowed: [start, end) on `days`, not on `holidays`.

    Normalised on construction: `start`/`end` as "HH:MM[:SS]" text, `days` a sorted tuple of
    0=Mon..6=Sun, `holidays` a frozenset of dates. On the autumn day of a DST change the
    window runs from the first occurrence of `start` to the first occurrence of `end`; a
    boundary inside a spring-forward gap moves to the end of the gap.
    """

    start: str | time = "09:00"
    end: str | time = "21:00"
    days: str | Iterable[str | int] = "mon-sun"
    holidays: Iterable[date | str] = ()
    # typed copies for the hot path, derived in __post_init__; they take no part in eq or hash
    _start_s: int = field(init=False, repr=False, compare=False)
    _end_s: int = field(init=False, repr=False, compare=False)
    _day_set: frozenset[int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__  # the dataclass is frozen; normalise once, here
        start_s = _clock_seconds("start", self.start, end=False)
        end_s = _clock_seconds("end", self.end, end=True)
        if end_s <= start_s:
            raise ConfigurationError(
                f"CallingWindow: end {_clock_text(end_s)} is not after start {_clock_text(start_s)};"
                " a window must close later the same day, overnight windows are not supported:"
                " use two campaigns, or a window ending at 24:00 (with another starting at 00:00)")
        set_(self, "start", _clock_text(start_s))
        set_(self, "end", _clock_text(end_s))
        set_(self, "days", _parse_days(self.days))
        set_(self, "holidays", _parse_holidays(self.holidays))
        set_(self, "_start_s", start_s)
        set_(self, "_end_s", end_s)
        set_(self, "_day_set", frozenset(self.days))

    # -- persistence -------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe dict: times as text, days as names, holidays as ISO dates."""
        return {
            "start": self.start,
            "end": self.end,
            "days": [_DAY_NAMES[d] for d in sorted(self._day_set)],
            "holidays": sorted(d.isoformat() for d in self._holidays),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CallingWindow:
        """The window `to_json` described; missing keys take their defaults."""
        check_json_object("CallingWindow", data, _FIELDS)
        return cls(**data)

    @property
    def _holidays(self) -> frozenset[date]:
        return self.holidays  # type: ignore[return-value]  # normalised in __post_init__

    # -- queries -----------------------------------------------------------------------

    def open_intervals(self, zones: Sequence[str], start: datetime,
                       end: datetime) -> list[Interval]:
        """The merged UTC intervals within [start, end) when the window is open in every zone."""
        names = _zone_names(zones)
        start, end = aware_utc(start, "start"), aware_utc(end, "end")
        if end <= start:
            return []
        common = self._zone_intervals(names[0], start, end)
        for name in names[1:]:
            if not common:
                break
            common = _intersect(common, self._zone_intervals(name, start, end))
        return common

    def is_open(self, zones: Sequence[str], at: datetime) -> bool:
        """Whether the window is open at `at` in every one of `zones`."""
        return bool(self.open_intervals(zones, at, at + timedelta(microseconds=1)))

    def next_opening(self, zones: Sequence[str], at: datetime) -> datetime | None:
        """The earliest instant >= `at` (UTC) open in every zone; None if none within HORIZON."""
        cursor = aware_utc(at, "at")
        limit, step = cursor + HORIZON, timedelta(days=2)
        while cursor < limit:  # widening steps: the usual answer is found in the first one
            stop = min(cursor + step, limit)
            found = self.open_intervals(zones, cursor, stop)
            if found:
                return found[0][0]
            cursor, step = stop, step * 4
        return None

    def next_closing(self, zones: Sequence[str], at: datetime) -> datetime:
        """The earliest instant >= `at` (UTC) when the window is closed in some zone.

        That is the end of the common open interval holding `at`, or `at` itself when the
        window is closed then; for a window that never closes, `at` + HORIZON.
        """
        cursor = aware_utc(at, "at")
        limit, step = cursor + HORIZON, timedelta(days=2)
        while cursor < limit:
            stop = min(cursor + step, limit)
            found = self.open_intervals(zones, cursor, stop)
            if not found or found[0][0] > cursor:
                return cursor
            if found[0][1] < stop:
                return found[0][1]
            cursor, step = stop, step * 4
        return limit

    def _zone_intervals(self, zone: str, start: datetime, end: datetime) -> list[Interval]:
        """Merged open intervals of one zone, clipped to [start, end)."""
        tz = _zone(zone)
        # one day of margin each side: a clock change around midnight can push a day's
        # boundaries past the neighbouring local date
        day = start.astimezone(tz).date() - timedelta(days=1)
        last = end.astimezone(tz).date() + timedelta(days=1)
        found: list[Interval] = []
        while day <= last:
            if day.weekday() in self._day_set and day not in self._holidays:
                interval = _day_interval(zone, day, self._start_s, self._end_s)
                if interval is not None and interval[1] > start and interval[0] < end:
                    _append_merged(found, (max(interval[0], start), min(interval[1], end)))
            day += timedelta(days=1)
        return found


# -- interval arithmetic --------------------------------------------------------------


def _append_merged(intervals: list[Interval], new: Interval) -> None:
    """Append `new` (not starting before the last one) merging it when they touch."""
    if intervals and intervals[-1][1] >= new[0]:
        intervals[-1] = (intervals[-1][0], max(intervals[-1][1], new[1]))
    else:
        intervals.append(new)


def _intersect(a: list[Interval], b: list[Interval]) -> list[Interval]:
    """Intersection of two sorted, merged interval lists."""
    out: list[Interval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo < hi:
            _append_merged(out, (lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def aware_utc(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ValueError(f"{name}: {value!r} must be a timezone-aware datetime (UTC inside dialstate)")
    return value.astimezone(UTC)


def _zone_names(zones: Sequence[str]) -> tuple[str, ...]:
    names = (zones,) if isinstance(zones, str) else tuple(dict.fromkeys(zones))
    if not names:
        raise ConfigurationError("a calling window needs at least one time zone to be checked in")
    for name in names:
        _zone(name)
    return names


# -- local time, memoized -------------------------------------------------------------


@lru_cache(maxsize=1024)
def _zone(name: str) -> ZoneInfo:
    allowed = "use an IANA time zone name such as 'Europe/Berlin' or 'America/New_York'"
    # "localtime" is the host's own setting, not a zone: a contact's zone must not depend on it
    if not isinstance(name, str) or not name.strip() or name == "localtime":
        raise ConfigurationError(f"unknown time zone {name!r}; {allowed}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ConfigurationError(f"unknown time zone {name!r}; {allowed}") from None


def _first_instant_at_or_after(tz: ZoneInfo, wall: datetime) -> datetime:
    """The first UTC instant whose local time in `tz` is `wall` or later.

    fold=0 picks the first occurrence of a repeated wall time; a wall time skipped by a
    spring-forward gap resolves to the end of the gap, found by bisection on whole seconds
    (tz transitions happen on whole seconds).
    """
    instant = wall.replace(tzinfo=tz).astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) == wall:
        return instant
    # In a gap fold=1 reads `wall` with the offset after the jump, which lands before it.
    lo, hi = sorted((int(wall.replace(tzinfo=tz, fold=1).timestamp()), int(instant.timestamp())))
    while hi - lo > 1:  # invariant: local(lo) < wall <= local(hi)
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, tz).replace(tzinfo=None) >= wall:
            hi = mid
        else:
            lo = mid
    return datetime.fromtimestamp(hi, UTC)


@lru_cache(maxsize=65536)
def _day_interval(zone: str, day: date, start_s: int, end_s: int) -> Interval | None:
    """The UTC interval [start, end) of local date `day` in `zone`; None when DST empties it."""
    tz = _zone(zone)
    midnight = datetime.combine(day, time())
    opens = _first_instant_at_or_after(tz, midnight + timedelta(seconds=start_s))
    closes = _first_instant_at_or_after(tz, midnight + timedelta(seconds=end_s))
    return (opens, closes) if opens < closes else None


# -- zones of a contact ---------------------------------------------------------------


def validate_timezone(name: str) -> str:
    """`name` when it is a known IANA zone; else ConfigurationError naming it."""
    _zone(name)
    return name


def is_known_zone(name: str) -> bool:
    """Whether `name` is an IANA zone this machine's tz database knows."""
    try:
        _zone(name)
    except ConfigurationError:
        return False
    return True
