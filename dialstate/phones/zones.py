"""The time zones a number belongs to, and the zones a contact's calling window is
checked in (spec section 6)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

import phonenumbers
from phonenumbers import timezone as phone_timezones

from dialstate.policy.window import CallingWindow, Interval, aware_utc, is_known_zone, validate_timezone


@lru_cache(maxsize=16384)
def zones_for_number(e164: str) -> tuple[str, ...]:
    """The IANA zones of a number (sorted), or () when it has no known zone or cannot be parsed."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return ()
    zones = phone_timezones.time_zones_for_number(number)
    return tuple(sorted(z for z in zones
                        if z != phone_timezones.UNKNOWN_TIMEZONE and is_known_zone(z)))




def resolve_zones(window: CallingWindow | None, contact_tz: str | None, e164: str | None,
                  campaign_tz: str, *, at: datetime | None = None) -> tuple[str, ...]:
    """The zone(s) a contact's calling window is checked in (spec section 6).

    The contact's own zone when set; else its number's zones when they share open time
    (checked for the week of `at`, default now, and half a year later so a DST season
    cannot strand the contact); else the campaign's zone.
    """
    campaign = validate_timezone(campaign_tz)
    if contact_tz is not None and contact_tz.strip():
        return (validate_timezone(contact_tz),)
    zones = zones_for_number(e164) if e164 else ()
    if not zones:
        return (campaign,)
    if window is None or len(zones) == 1:
        return zones
    week = (aware_utc(at, "at") if at is not None else datetime.now(UTC)).date()
    monday = week - timedelta(days=week.weekday())
    return zones if have_common_time(window, zones, monday) else (campaign,)


#: The least share of a zone's own open time that the candidate zones must have in
#: common. A US toll-free number maps to 42 zones from Newfoundland to Guam: under a
#: 09:00-21:00 window they do overlap, but for well under an hour a day. Dialing such
#: a contact in that sliver is no way to honour the callee's hours, so a zone set that
#: shares less than a quarter of the window is treated as having no common time.
MIN_SHARED_FRACTION = 0.25


@lru_cache(maxsize=4096)
def have_common_time(window: CallingWindow, zones: tuple[str, ...], monday: date) -> bool:
    """Whether `zones` share enough open time (MIN_SHARED_FRACTION of one zone's own)
    in the week from `monday` and in the week 26 weeks on.

    Holidays are ignored: a holiday week must not move a contact to another zone for good.
    """
    bare = replace(window, holidays=()) if window.holidays else window
    for offset in (timedelta(0), timedelta(weeks=26)):
        start = datetime.combine(monday + offset, time(), UTC)
        end = start + timedelta(weeks=1)
        shared = _total(bare.open_intervals(zones, start, end))
        own = min(_total(bare.open_intervals((zone,), start, end)) for zone in zones)
        if shared <= 0 or shared < MIN_SHARED_FRACTION * own:
            return False
    return True


def _total(intervals: list[Interval]) -> float:
    return sum((b - a).total_seconds() for a, b in intervals)
