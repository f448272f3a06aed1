"""Several numbers per contact (spec section 15): which number an attempt uses, and
what an attempt's end does to the number it used. Pure: the numbers are the
contact's `numbers` column, a list of dicts (None for a contact with one plain
number, which its own columns describe).

A number's dict: `phone` (E.164, or the text as written when it is invalid), `label`,
`timezone` (its own zone, overriding those read from it), `zones` (the zone key its
calling window is checked in), `valid` (read as a number), `status`, `reason` (why it is not callable),
`attempts`, `last_outcome`, `last_attempt_at` (epoch seconds).
"""

from __future__ import annotations

from collections.abc import Callable, Container, Mapping, Sequence
from typing import Any

from dialstate.outcomes import Outcome

CALLABLE, INVALID, WRONG_NUMBER, BLOCKED, BLACKLISTED = "callable", "invalid", "wrong_number", "blocked", "blacklisted"
#: Outcomes that condemn the number, not the person: the status the number takes.
CONDEMNING: Mapping[Outcome, str] = {Outcome.UNALLOCATED: INVALID, Outcome.BLOCKED: BLOCKED}

NumberList = list[dict[str, Any]]


def new_number(phone: str, label: str | None, timezone: str | None, zones: str, reason: str | None) -> dict[str, Any]:
    """A number as read from the input: callable, or invalid with its reason."""
    return {"phone": phone, "label": label, "timezone": timezone, "zones": zones, "valid": reason is None,
            "status": CALLABLE if reason is None else INVALID, "reason": reason,
            "attempts": 0, "last_outcome": None, "last_attempt_at": None}


def index_of(numbers: Sequence[Mapping[str, Any]], phone: str | None) -> int | None:
    for i, number in enumerate(numbers):
        if number["phone"] == phone:
            return i
    return None


def last_used(numbers: Sequence[Mapping[str, Any]], current: str | None) -> int | None:
    """The number of the contact's last attempt, `current` (its phone): None before
    the first attempt."""
    if all(number["last_attempt_at"] is None for number in numbers):
        return None
    return index_of(numbers, current)


def in_service(number: Mapping[str, Any], banned: Container[str], cap: int | None) -> bool:
    """Callable, not blacklisted, and under the policy's cap per number (the window aside)."""
    return (number["status"] == CALLABLE and number["phone"] not in banned
            and (cap is None or number["attempts"] < cap))


def choose(numbers: Sequence[Mapping[str, Any]], order: str, cap: int | None, banned: Container[str],
           current: str | None, open_now: Callable[[Mapping[str, Any]], bool] = lambda n: True) -> int | None:
    """The number the next attempt uses: "rotate" takes the next usable one after the
    last used (`current`, the contact's phone); "escalate" stays on the last used while
    it is usable, then the next. Usable: in service and `open_now` (its calling
    window). None when none is."""
    n = len(numbers)
    last = last_used(numbers, current)
    if last is None:
        candidates = list(range(n))
    elif order == "escalate":
        candidates = [(last + k) % n for k in range(n)]
    else:
        candidates = [(last + k) % n for k in range(1, n + 1)]
    for i in candidates:
        number = numbers[i]
        if in_service(number, banned, cap) and open_now(number):
            return i
    return None


def all_banned(numbers: Sequence[Mapping[str, Any]], banned: Container[str]) -> bool:
    """Whether every number still callable is on the blacklist (and one is)."""
    live = [n["phone"] for n in numbers if n["status"] == CALLABLE]
    return bool(live) and all(phone in banned for phone in live)


def copy_numbers(numbers: Sequence[Mapping[str, Any]]) -> NumberList:
    return [dict(number) for number in numbers]


def zone_key_of(numbers: Sequence[Mapping[str, Any]], banned: Container[str] = (), cap: int | None = None,
                ) -> str:
    """The zone key claims look a contact with several numbers up by: the zone sets of
    its numbers in service joined by ";" (it may be called when any is open), those of
    its valid numbers when none is, its first number's when none is valid."""
    sets = [n["zones"] for n in numbers if in_service(n, banned, cap)] or [n["zones"] for n in numbers if n["valid"]]
    unique = sorted(set(sets))
    return ";".join(unique) if unique else numbers[0]["zones"]


def key_zones(zone_key: str | None) -> tuple[str, ...]:
    """Every zone a zone key names, once each (those of all its zone sets)."""
    if not zone_key:
        return ()
    if ";" not in zone_key:
        return tuple(zone_key.split("|"))
    return tuple(dict.fromkeys(z for part in zone_key.split(";") for z in part.split("|") if z))


def zone_sets(zone_key: str, default: str) -> list[tuple[str, ...]]:
    """The zone sets of a zone key: one (all its zones must be open), or several joined
    by ";" (any of them may be)."""
    return [tuple(part.split("|")) if part else (default,) for part in (zone_key or "").split(";")]
