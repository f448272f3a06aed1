"""The rules every path that starts or prepares a call obeys (spec section 12): the
campaign is running, the number is not blacklisted, the contact's calling window is
open, and the retry policy's caps hold. Pure: `callability` answers from the facts
loaded for the contact (its row, its campaign's config, its past dials)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from dialstate.engine.change import Facts
from dialstate.engine.lifecycle import FINAL_STATES, PARKED_STATES
from dialstate.engine.numbers import CALLABLE, all_banned, choose, in_service, index_of
from dialstate.engine.settings import CANCELED, PAUSED
from dialstate.errors import Reason

#: How often the window and the caps may move the next allowed time before the
#: answer is taken as it stands (they agree in one or two rounds).
_ROUNDS = 16
#: What blocks for good, or until someone acts: no time can be given.
_UNTIMED = frozenset({"campaign_paused", "campaign_canceled", "blacklisted", "not_ready", "no_usable_number"})
#: States a call may be prepared or placed from, by some path.
_DIALABLE = frozenset({"ready", "operator_assigned", "before_call_work", "awaiting_operator"})


@dataclass(frozen=True, slots=True)
class Callability:
    """Whether a contact may be called at a time, what blocks it, and from when nothing
    does (None when no time can be known)."""

    callable: bool
    reasons: tuple[Reason, ...]
    next_allowed_at: datetime | None


def callability(facts: Facts, at: float, *, override: bool = False, check_state: bool = False) -> Callability:
    """Every rule that blocks the contact at `at` (epoch seconds). With `override`
    (an operator's decision) the window and the caps do not block; the blacklist and
    a pause always do. `check_state` adds the contact's own state (for `why_not`)."""
    row, cfg = facts.row, facts.cfg
    reasons: list[Reason] = []
    if check_state:
        reasons.extend(_state_reasons(row, at))
    status = row["campaign_status"]
    if status == PAUSED:
        reasons.append(Reason("campaign_paused", f"campaign {cfg.id} is paused"))
    elif status == CANCELED:
        reasons.append(Reason("campaign_canceled", f"campaign {cfg.id} is canceled"))
    expiry = facts.blacklist_expiry
    moment = datetime.fromtimestamp(at, UTC)
    window = cfg.window
    zone_sets: list[tuple[str, ...]] | None = None
    if facts.several is not None:
        zone_sets = _number_reasons(facts, moment, override, reasons)
    else:
        if row["blacklisted"]:
            until = "" if expiry is None else f" until {datetime.fromtimestamp(expiry, UTC).isoformat()}"
            reasons.append(Reason("blacklisted", f"the number {row['phone_key'] or row['phone']} is on the "
                                                 f"blacklist{until}"))
        zones = contact_zones(facts)
        if not override and window is not None and not window.is_open(zones, moment):
            reasons.append(Reason("outside_window", f"outside the calling window {window.start}-{window.end} "
                                                    f"({', '.join(window_days(window))}) in {', '.join(zones)}"))
    times = facts_dial_times(facts)
    limits = cfg.policy.rolling_limits
    if not override and limits and cfg.policy.earliest_allowed(times, moment) > moment:
        reasons.append(Reason("rolling_limit", "the retry policy's rolling cap of "
                                               + " and ".join(f"{n} attempt{'s' * (n != 1)} in {_period(p)}"
                                                              for n, p in limits)
                                               + " is reached"))
    if not reasons:
        return Callability(True, (), moment)
    # A blacklist entry that expires, and the wait of a contact it parked, end in time.
    parked_until = row["next_attempt_at"] if row["state"] == "blacklisted" else None
    timed = {"retry_pending"}
    if expiry is not None:
        timed.add("blacklisted")
    if any(r.code in _UNTIMED and r.code not in timed and not (r.code == "not_ready" and parked_until)
           for r in reasons):
        return Callability(False, tuple(reasons), None)
    start = moment
    for wait in (row["next_attempt_at"] if any(r.code == "retry_pending" for r in reasons) else None,
                 expiry, parked_until):
        if wait is not None and wait > start.timestamp():
            start = datetime.fromtimestamp(wait, UTC)
    return Callability(False, tuple(reasons), next_allowed(facts, start, times, override, zone_sets))


def next_allowed(facts: Facts, start: datetime, times: list[datetime], override: bool = False,
                 zone_sets: list[tuple[str, ...]] | None = None) -> datetime | None:
    """The earliest time at or after `start` when the window is open (in the contact's
    zones, or in those of any of `zone_sets`: its numbers in service) and the caps hold."""
    cfg = facts.cfg
    window = cfg.window
    sets = zone_sets if zone_sets is not None else [contact_zones(facts)]
    t = start
    for _ in range(_ROUNDS):
        before = t
        if cfg.policy.rolling_limits and not override:
            t = cfg.policy.earliest_allowed(times, t)
        if window is not None and not override:
            openings = [o for o in (window.next_opening(zones, t) for zones in sets) if o is not None]
            if not openings:
                return None
            t = min(openings)
        if t == before:
            break
    return t


def number_zones(facts: Facts, number: Mapping[str, Any]) -> tuple[str, ...]:
    """The zones one of a contact's numbers is called in."""
    return tuple(number["zones"].split("|")) if number["zones"] else (facts.cfg.timezone,)


def pick_number(facts: Facts, at: float, override: bool = False) -> int | None:
    """The number (index) a call placed at `at` uses: `facts.number` when one was
    chosen; after an assignment, the number it chose (the contact's current one) while
    it is usable; else the next usable one of the policy's order. None when none is."""
    numbers = facts.several
    assert numbers is not None
    policy, window = facts.cfg.policy, facts.cfg.window
    moment = datetime.fromtimestamp(at, UTC)

    def open_now(number: Mapping[str, Any]) -> bool:
        return override or window is None or window.is_open(number_zones(facts, number), moment)

    def usable(i: int | None) -> bool:
        return i is not None and in_service(numbers[i], facts.banned, policy.max_attempts_per_number) \
            and open_now(numbers[i])

    if facts.number is not None:
        return facts.number if usable(facts.number) else None
    if facts.state == "before_call_work":
        assigned = index_of(numbers, facts.row["phone_key"])
        if usable(assigned):
            return assigned
    return choose(numbers, policy.number_order, policy.max_attempts_per_number, facts.banned,
                  facts.row["phone_key"], open_now)


def _number_reasons(facts: Facts, moment: datetime, override: bool, reasons: list[Reason],
                    ) -> list[tuple[str, ...]]:
    """The reasons a contact with several numbers cannot be called on any (or on the
    one chosen), each naming its numbers; the zones of those in service."""
    numbers = facts.several
    assert numbers is not None
    cfg = facts.cfg
    window, cap, banned = cfg.window, cfg.policy.max_attempts_per_number, facts.banned
    asked = [numbers[facts.number]] if facts.number is not None else numbers
    live = [n for n in asked if in_service(n, banned, cap)]
    if not live:
        if all_banned(asked, banned):
            reasons.append(Reason("blacklisted", "on the blacklist: " + ", ".join(
                n["phone"] for n in asked if n["status"] == CALLABLE)))
        else:
            reasons.append(Reason("no_usable_number", "no number to call: " + "; ".join(
                f"{n['phone']} {_out_of_service(n, banned, cap)}" for n in asked)))
        return []
    if not override and window is not None and not any(window.is_open(number_zones(facts, n), moment)
                                                       for n in live):
        reasons.append(Reason("outside_window", f"outside the calling window {window.start}-{window.end} "
                                                f"({', '.join(window_days(window))}) for "
                              + "; ".join(f"{n['phone']} in {', '.join(number_zones(facts, n))}" for n in live)))
    return [number_zones(facts, n) for n in live]


def _out_of_service(number: Mapping[str, Any], banned: Mapping[str, float], cap: int | None) -> str:
    if number["status"] != CALLABLE:
        return f"is {number['status'].replace('_', ' ')}" + (f" ({number['reason']})" if number["reason"] else "")
    if number["phone"] in banned:
        return "is on the blacklist"
    return f"has had its {cap} attempt{'s' * (cap != 1)}"


def contact_zones(facts: Facts) -> tuple[str, ...]:
    """The zones the contact's calling window is checked in."""
    zone_key = facts.row["zone_key"]
    return tuple(zone_key.split("|")) if zone_key else (facts.cfg.timezone,)


def facts_dial_times(facts: Facts) -> list[datetime]:
    """When the contact's counted attempts were dialed (loaded with its facts): a dial
    whose attempt was not counted (congestion) is under a number above `attempts`."""
    counted = facts.row["attempts"]
    return [datetime.fromtimestamp(at, UTC) for attempt, at in facts.dial_times if attempt <= counted]


def _period(period: timedelta | float) -> str:
    """A cap's period in words: 1 day, 12 hours, 90 minutes, 45 seconds."""
    exact = period.total_seconds() if isinstance(period, timedelta) else float(period)
    seconds = int(exact)
    if seconds != exact:
        return f"{exact:g} seconds"
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}{'s' * (n != 1)}"
    return f"{exact:g} seconds"


def window_days(window: object) -> list[str]:
    days = window.to_json()["days"]  # type: ignore[attr-defined]
    return list(days) if len(days) < 7 else ["every day"]


def _state_reasons(row: dict[str, object], at: float) -> list[Reason]:
    state = str(row["state"])
    if state == "retry_scheduled":
        due = row["next_attempt_at"]
        if isinstance(due, (int, float)) and due > at:
            when = datetime.fromtimestamp(due, UTC).isoformat()
            return [Reason("retry_pending", f"its next attempt is scheduled for {when}")]
        return []
    if state in _DIALABLE:
        return []
    if state == "blacklisted" and isinstance(row["next_attempt_at"], (int, float)):
        when = datetime.fromtimestamp(row["next_attempt_at"], UTC).isoformat()
        return [Reason("not_ready", f"it is blacklisted until {when}")]
    if state in FINAL_STATES or state in PARKED_STATES:
        return [Reason("not_ready", f"it is {state}")]
    return [Reason("not_ready", f"it is {state}: in a call or its wrap-up")]
