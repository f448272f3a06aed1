"""Spec section 6, calling windows: validation, local-time math across DST, contact zones."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialstate.errors import ConfigurationError
from dialstate.phones import resolve_zones, zones_for_number
from dialstate.phones import zones as window_module
from dialstate.policy import HORIZON, CallingWindow, validate_timezone

PROPERTY = settings(max_examples=120, deadline=None, database=None)
US = ["America/New_York"]
MICROSECOND = timedelta(microseconds=1)


def local(zone: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An instant given by its wall time in `zone` (first occurrence), as UTC."""
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def clock_seconds(text: str | time) -> int:
    """Seconds after midnight of a normalised window time ("HH:MM[:SS]", "24:00")."""
    assert isinstance(text, str)
    hours, minutes, *seconds = (int(part) for part in text.split(":"))
    return hours * 3600 + minutes * 60 + sum(seconds)


# -- validation -----------------------------------------------------------------------

BAD_WINDOWS: list[tuple[str, dict[str, Any], list[str]]] = [
    ("am/pm text", {"start": "9am"}, ["start", "'9am'", "HH:MM"]),
    ("hour 25", {"start": "25:00"}, ["start", "'25:00'"]),
    ("minute 60", {"end": "09:60"}, ["end", "'09:60'"]),
    ("24:00 as a start", {"start": "24:00"}, ["start", "'24:00'"]),
    ("past 24:00", {"end": "24:01"}, ["end", "'24:01'", "up to '24:00'"]),
    ("a bare number", {"start": 9}, ["start", "9", "HH:MM"]),
    ("a time with a zone", {"start": time(9, tzinfo=UTC)}, ["start", "tzinfo"]),
    ("overnight", {"start": "22:00", "end": "02:00"}, ["02:00", "22:00", "overnight",
                                                        "two campaigns", "24:00"]),
    ("empty", {"start": "10:00", "end": "10:00"}, ["not after start", "24:00"]),
    ("misspelt day", {"days": "mon-frx"}, ["days", "'mon-frx'", "mon-fri", "0=Mon"]),
    ("no day", {"days": ""}, ["days", "''", "mon"]),
    ("no days at all", {"days": []}, ["days", "at least one day"]),
    ("day number 7", {"days": [7]}, ["days", "[7]", "6=Sun"]),
    ("boolean day", {"days": [True]}, ["days", "True"]),
    ("days as a number", {"days": 5}, ["days", "5"]),
    ("impossible holiday", {"holidays": ["2026-13-01"]}, ["holidays", "'2026-13-01'", "YYYY-MM-DD"]),
    ("holiday as an instant", {"holidays": [datetime(2026, 12, 25, tzinfo=UTC)]},
     ["holidays", "calendar dates"]),
    ("holiday as a number", {"holidays": [20261225]}, ["holidays", "20261225"]),
]


@pytest.mark.parametrize(("kwargs", "fragments"), [c[1:] for c in BAD_WINDOWS],
                         ids=[c[0] for c in BAD_WINDOWS])
def test_a_bad_window_is_rejected_naming_the_value_and_what_is_allowed(
        kwargs: dict[str, Any], fragments: list[str]) -> None:
    with pytest.raises(ConfigurationError) as caught:
        CallingWindow(**kwargs)
    for fragment in fragments:
        assert fragment in str(caught.value)


SAME_DAYS = [
    ("mon-fri", (0, 1, 2, 3, 4)),
    ("Mon-Fri,SAT", (0, 1, 2, 3, 4, 5)),
    ("sat,sun", (5, 6)),
    ("mon,wed,fri", (0, 2, 4)),
    ("fri-mon", (0, 4, 5, 6)),
    ("sun-sun", (6,)),
    ("mon-sun", (0, 1, 2, 3, 4, 5, 6)),
    (" monday - wednesday , friday ", (0, 1, 2, 4)),
    (["mon", 2, "thursday"], (0, 2, 3)),
    ((5, 6, 5), (5, 6)),
    (["fri-sun", "tues"], (1, 4, 5, 6)),
]


@pytest.mark.parametrize(("days", "expected"), SAME_DAYS, ids=[str(d[0]) for d in SAME_DAYS])
def test_days_are_read_from_names_ranges_that_wrap_and_numbers(days: Any, expected: tuple[int, ...]) -> None:
    assert CallingWindow(days=days).days == expected


def test_differently_spelt_equal_windows_are_equal_and_hashable() -> None:
    a = CallingWindow("9:00", "24:00", "mon-fri", ["2026-12-25"])
    b = CallingWindow(time(9), "24:00:00", [0, 1, 2, 3, 4], [date(2026, 12, 25)])
    assert a == b
    assert hash(a) == hash(b)
    assert (a.start, a.end) == ("09:00", "24:00")
    assert CallingWindow("08:30:15", "17:00").start == "08:30:15"


@pytest.mark.parametrize("window", [
    CallingWindow(),
    CallingWindow("08:30:15", "24:00", "fri-mon", ["2026-12-25", date(2027, 1, 1)]),
], ids=["default", "every setting"])
def test_a_window_survives_a_json_round_trip(window: CallingWindow) -> None:
    data = json.loads(json.dumps(window.to_json()))
    assert CallingWindow.from_json(data) == window


def test_json_with_an_unknown_key_is_rejected() -> None:
    with pytest.raises(ConfigurationError, match="allowed: start, end, days, holidays"):
        CallingWindow.from_json({"start": "09:00", "timezone": "UTC"})


@pytest.mark.parametrize(("zones", "exception", "fragment"), [
    (["Mars/Olympus_Mons"], ConfigurationError, "Mars/Olympus_Mons"),
    (["Europe/Berlin", "america/new_york"], ConfigurationError, "america/new_york"),
    ([], ConfigurationError, "at least one time zone"),
])
def test_the_zones_asked_about_must_be_known(zones: list[str], exception: type[Exception],
                                             fragment: str) -> None:
    with pytest.raises(exception, match=fragment):
        CallingWindow().is_open(zones, utc(2026, 1, 5, 12))


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        CallingWindow().next_opening(US, datetime(2026, 1, 5, 12))


# -- opening and closing --------------------------------------------------------------

OPENINGS = [
    # (case, window, zones, at, expected next opening)
    ("open now: at itself", CallingWindow(), US, local(US[0], 2026, 1, 5, 10), local(US[0], 2026, 1, 5, 10)),
    ("before the start", CallingWindow(), US, local(US[0], 2026, 1, 5, 7), local(US[0], 2026, 1, 5, 9)),
    ("the end is excluded", CallingWindow(), US, local(US[0], 2026, 1, 5, 21), local(US[0], 2026, 1, 6, 9)),
    ("a Friday holiday moves to Monday",
     CallingWindow(days="mon-fri", holidays=["2026-07-03"]), US,
     local(US[0], 2026, 7, 2, 22), local(US[0], 2026, 7, 6, 9)),
    ("the weekend is skipped", CallingWindow(days="mon-fri"), US,
     local(US[0], 2026, 7, 11, 10), local(US[0], 2026, 7, 13, 9)),
    ("two zones open when both are", CallingWindow(), ["Europe/Berlin", "America/New_York"],
     utc(2026, 1, 5, 6), utc(2026, 1, 5, 14)),
    ("spring-forward gap opens at its end", CallingWindow("02:30", "05:00"), US,
     local(US[0], 2026, 3, 8, 0), utc(2026, 3, 8, 7)),
    ("autumn repeated hour: the first occurrence", CallingWindow("01:30", "05:00"), US,
     utc(2026, 11, 1, 4), utc(2026, 11, 1, 5, 30)),
    ("Berlin gap at 02:00", CallingWindow("02:00", "05:00"), ["Europe/Berlin"],
     utc(2026, 3, 28, 12), utc(2026, 3, 29, 1)),
    ("Lord Howe half-hour gap", CallingWindow("02:10", "05:00"), ["Australia/Lord_Howe"],
     utc(2026, 10, 3), local("Australia/Lord_Howe", 2026, 10, 4, 2, 30)),
    ("Chatham gap at 02:45", CallingWindow("02:50", "05:00"), ["Pacific/Chatham"],
     utc(2026, 9, 26), local("Pacific/Chatham", 2026, 9, 27, 3, 45)),
    ("Sao Paulo midnight gap", CallingWindow("00:00", "08:00"), ["America/Sao_Paulo"],
     utc(2018, 11, 3, 12), utc(2018, 11, 4, 3)),
    ("Samoa skipped 30 December 2011", CallingWindow(), ["Pacific/Apia"],
     local("Pacific/Apia", 2011, 12, 29, 22), local("Pacific/Apia", 2011, 12, 31, 9)),
]


@pytest.mark.parametrize(("window", "zones", "at", "expected"), [c[1:] for c in OPENINGS],
                         ids=[c[0] for c in OPENINGS])
def test_the_next_opening_is_the_first_open_instant(window: CallingWindow, zones: list[str],
                                                    at: datetime, expected: datetime) -> None:
    opening = window.next_opening(zones, at)
    assert opening == expected
    assert opening is not None and opening.tzinfo is UTC


def test_the_spring_forward_opening_reads_three_oclock_local() -> None:
    opening = CallingWindow("02:30", "05:00").next_opening(US, local(US[0], 2026, 3, 8, 0))
    assert opening is not None
    assert opening.astimezone(ZoneInfo(US[0])).time() == time(3, 0)


def test_an_end_inside_a_gap_closes_at_the_gap() -> None:
    window = CallingWindow("00:00", "02:30")
    assert window.next_closing(US, utc(2026, 3, 8, 5, 30)) == utc(2026, 3, 8, 7)
    assert not window.is_open(US, utc(2026, 3, 8, 7))


def test_on_the_autumn_day_the_window_runs_from_the_first_start_to_the_first_end() -> None:
    late = CallingWindow("01:30", "05:00")
    assert late.is_open(US, utc(2026, 11, 1, 6, 15))  # 01:15 EST, after 01:30 EDT: still open
    early = CallingWindow("00:00", "01:30")
    assert early.next_closing(US, utc(2026, 11, 1, 5)) == utc(2026, 11, 1, 5, 30)
    assert not early.is_open(US, utc(2026, 11, 1, 6, 15))  # 01:15 EST, after the first 01:30


def test_a_window_ending_at_24_00_closes_at_the_first_instant_of_the_next_day() -> None:
    window = CallingWindow("20:00", "24:00")
    # Sao Paulo skipped 00:00-01:00 on 2018-11-04: the day ended at 01:00 local (03:00 UTC)
    assert window.next_closing(["America/Sao_Paulo"], utc(2018, 11, 4, 1)) == utc(2018, 11, 4, 3)


def test_touching_days_merge_into_one_interval() -> None:
    window = CallingWindow("00:00", "24:00", "mon-tue")
    start, end = local(US[0], 2026, 1, 4, 12), local(US[0], 2026, 1, 8, 12)
    assert window.open_intervals(US, start, end) == [
        (local(US[0], 2026, 1, 5, 0), local(US[0], 2026, 1, 7, 0))]


def test_next_closing_is_at_itself_when_closed_and_the_horizon_when_never_closing() -> None:
    at = utc(2026, 1, 5, 3)
    assert CallingWindow().next_closing(US, at) == at
    assert CallingWindow("00:00", "24:00").next_closing(["UTC"], at) == at + HORIZON


@pytest.mark.parametrize(("window", "zones"), [
    (CallingWindow("09:00", "10:00"), ["Pacific/Kiritimati", "Pacific/Pago_Pago"]),
    (CallingWindow("09:00", "12:00"), ["Pacific/Guam", "Pacific/Honolulu"]),
    (CallingWindow(days="mon", holidays=[date(2026, 1, 5) + timedelta(weeks=w) for w in range(60)]),
     ["UTC"]),
], ids=["a day apart", "Guam and Hawaii", "every monday a holiday"])
def test_zones_without_common_time_have_no_next_opening(window: CallingWindow,
                                                         zones: list[str]) -> None:
    assert window.next_opening(zones, utc(2026, 1, 1)) is None


# -- properties -----------------------------------------------------------------------

DST_ZONES = ["America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Pacific/Chatham",
             "America/Sao_Paulo", "Asia/Kolkata", "Pacific/Apia"]
OTHER_ZONES = ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago", "Pacific/Guam",
               "Pacific/Honolulu", "America/St_Johns", "Europe/Dublin", "Antarctica/Troll",
               "Asia/Kathmandu", "Africa/Casablanca"]
DST_DAYS = [date(2026, 3, 8), date(2026, 11, 1), date(2026, 3, 29), date(2026, 10, 25),
            date(2026, 4, 5), date(2026, 10, 4), date(2026, 9, 27), date(2018, 11, 4),
            date(2019, 2, 17), date(2011, 12, 30), date(2021, 4, 4), date(2020, 9, 27)]

quarter_hours = st.integers(0, 95)


@st.composite
def windows(draw: st.DrawFn) -> CallingWindow:
    start = draw(quarter_hours)
    end = draw(st.integers(start + 1, 96))
    days = draw(st.sets(st.integers(0, 6), min_size=1))
    holidays = draw(st.lists(st.sampled_from(DST_DAYS) | st.dates(date(2026, 1, 1), date(2026, 12, 31)),
                             max_size=4))
    return CallingWindow(time(start // 4, start % 4 * 15), "24:00" if end == 96 else
                         time(end // 4, end % 4 * 15), days, holidays)


instants = st.one_of(
    st.datetimes(datetime(2010, 1, 1), datetime(2035, 1, 1), timezones=st.just(UTC)),
    st.builds(lambda d, minutes: datetime.combine(d, time(), UTC) + timedelta(minutes=minutes),
              st.sampled_from(DST_DAYS), st.integers(-48 * 60, 48 * 60)),
)


@PROPERTY
@given(window=windows(), zone=st.sampled_from(DST_ZONES), at=instants)
def test_the_next_opening_is_open_not_early_and_closed_just_before(
        window: CallingWindow, zone: str, at: datetime) -> None:
    opening = window.next_opening([zone], at)
    assert opening is not None
    assert opening >= at
    assert window.is_open([zone], opening)
    assert window.open_intervals([zone], at, opening) == []
    if opening > at:
        assert not window.is_open([zone], opening - MICROSECOND)
    assert window.next_opening([zone], opening) == opening


@PROPERTY
@given(window=windows(), zone=st.sampled_from(DST_ZONES), at=instants)
def test_an_opening_is_at_the_start_time_or_at_a_clock_change(
        window: CallingWindow, zone: str, at: datetime) -> None:
    opening = window.next_opening([zone], at)
    assert opening is not None
    tz = ZoneInfo(zone)
    clock_changed = (opening - MICROSECOND).astimezone(tz).utcoffset() != opening.astimezone(tz).utcoffset()
    assert opening == at or clock_changed or opening.astimezone(tz).strftime("%H:%M") == window.start


@PROPERTY
@given(window=windows(), zones=st.lists(st.sampled_from(DST_ZONES + OTHER_ZONES), min_size=1,
                                        max_size=4), at=instants)
def test_the_next_opening_terminates_for_any_zones_and_is_open_in_all_of_them(
        window: CallingWindow, zones: list[str], at: datetime) -> None:
    opening = window.next_opening(zones, at)
    if opening is None:
        assert not any(window.is_open(zones, at + timedelta(hours=7 * k)) for k in range(60))
    else:
        assert opening >= at
        assert all(window.is_open([zone], opening) for zone in zones)


@PROPERTY
@given(window=windows(), zones=st.lists(st.sampled_from(DST_ZONES + OTHER_ZONES), min_size=1,
                                        max_size=3), at=instants)
def test_the_next_closing_ends_the_open_interval_holding_the_instant(
        window: CallingWindow, zones: list[str], at: datetime) -> None:
    closing = window.next_closing(zones, at)
    if not window.is_open(zones, at):
        assert closing == at
    else:
        assert closing > at
        assert window.is_open(zones, closing - MICROSECOND)
        assert closing == at + HORIZON or not window.is_open(zones, closing)
        assert window.open_intervals(zones, at, closing) == [(at, closing)]


@PROPERTY
@given(window=windows(), zones=st.lists(st.sampled_from(DST_ZONES + OTHER_ZONES), min_size=1,
                                        max_size=3), at=instants)
def test_is_open_agrees_with_the_local_clock_away_from_clock_changes(
        window: CallingWindow, zones: list[str], at: datetime) -> None:
    expected = True
    for zone in zones:
        tz = ZoneInfo(zone)
        if len({(at + k * timedelta(days=1)).astimezone(tz).utcoffset() for k in (-1, 0, 1)}) > 1:
            return  # within a day of a clock change, the DST cases above speak
        wall = at.astimezone(tz)
        seconds = wall.hour * 3600 + wall.minute * 60 + wall.second + wall.microsecond / 1e6
        expected &= (wall.weekday() in window.days and wall.date() not in window.holidays
                     and clock_seconds(window.start) <= seconds < clock_seconds(window.end))
    assert window.is_open(zones, at) == expected


@PROPERTY
@given(window=windows())
def test_any_window_survives_a_json_round_trip(window: CallingWindow) -> None:
    assert CallingWindow.from_json(json.loads(json.dumps(window.to_json()))) == window


# -- zones of a contact ---------------------------------------------------------------

TOLL_FREE = "+18005550199"
JANUARY = utc(2026, 1, 15, 12)


@pytest.mark.parametrize(("name", "ok"), [
    ("Europe/Berlin", True), ("UTC", True), ("America/Argentina/Buenos_Aires", True),
    ("Mars/Olympus_Mons", False), ("america/new_york", False), ("America", False),
    ("", False), ("../etc/passwd", False), ("localtime", False),
])
def test_validate_timezone_accepts_iana_names_only(name: str, ok: bool) -> None:
    if ok:
        assert validate_timezone(name) == name
    else:
        with pytest.raises(ConfigurationError, match="unknown time zone"):
            validate_timezone(name)


@pytest.mark.parametrize(("number", "zones"), [
    ("+12125550123", ("America/New_York",)),
    ("+442079460000", ("Europe/London",)),
    ("+16715550123", ("Pacific/Guam",)),
    ("+19995550000", ()),
    ("not a number", ()),
    ("2125550123", ()),
])
def test_zones_for_number_gives_the_known_zones_of_a_number(number: str, zones: tuple[str, ...]) -> None:
    assert zones_for_number(number) == zones


def test_a_toll_free_number_spans_zones_from_guam_to_hawaii_sorted() -> None:
    zones = zones_for_number(TOLL_FREE)
    assert {"Pacific/Guam", "Pacific/Honolulu", "America/New_York"} <= set(zones)
    assert list(zones) == sorted(zones)
    assert "Etc/Unknown" not in zones


RESOLUTIONS = [
    # (case, window, contact timezone, number, expected)
    ("the number's zone", CallingWindow(), None, "+12125550123", ("America/New_York",)),
    ("the contact's own zone wins", CallingWindow(), "Asia/Kolkata", "+12125550123",
     ("Asia/Kolkata",)),
    ("a blank contact zone is not set", CallingWindow(), "  ", "+12125550123", ("America/New_York",)),
    ("toll-free: Guam and Hawaii share no time", CallingWindow("09:00", "20:00"), None, TOLL_FREE,
     ("Europe/Berlin",)),
    ("a number without a known zone", CallingWindow(), None, "+19995550000", ("Europe/Berlin",)),
    ("an unparsable number", CallingWindow(), None, "garbage", ("Europe/Berlin",)),
    ("no number", CallingWindow(), None, None, ("Europe/Berlin",)),
    ("no window: every zone of the number", None, None, TOLL_FREE, zones_for_number(TOLL_FREE)),
]


@pytest.mark.parametrize(("window", "contact_tz", "number", "expected"),
                         [c[1:] for c in RESOLUTIONS], ids=[c[0] for c in RESOLUTIONS])
def test_resolve_zones_follows_spec_section_6(window: CallingWindow | None, contact_tz: str | None,
                                              number: str | None, expected: tuple[str, ...]) -> None:
    assert resolve_zones(window, contact_tz, number, "Europe/Berlin", at=JANUARY) == expected


@pytest.mark.parametrize(("contact_tz", "campaign_tz"), [
    ("Mars/Olympus_Mons", "Europe/Berlin"),
    (None, "Mars/Olympus_Mons"),
])
def test_resolve_zones_names_an_unknown_zone(contact_tz: str | None, campaign_tz: str) -> None:
    with pytest.raises(ConfigurationError, match="Mars/Olympus_Mons"):
        resolve_zones(CallingWindow(), contact_tz, "+12125550123", campaign_tz, at=JANUARY)


def test_the_common_time_check_is_memoized_per_window_and_zones() -> None:
    window = CallingWindow("09:00", "20:00", holidays=["2026-01-16"])
    before = window_module.have_common_time.cache_info()
    for _ in range(5):
        resolve_zones(window, None, TOLL_FREE, "UTC", at=JANUARY)
    after = window_module.have_common_time.cache_info()
    assert after.misses - before.misses == 1
    assert after.hits - before.hits == 4
