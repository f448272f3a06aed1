"""Valid phone numbers for tests, distinct per region and from the numbers tests
write out literally (those are seven-digit Berlin and 555 New York numbers)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

#: Each region's numbers belong to one city, so that one time zone: calling-window
#: tests rely on it.
ZONES = {"US": "America/New_York", "DE": "Europe/Berlin"}

_WRITE: dict[str, Callable[[int], str]] = {
    "US": lambda n: f"+1 212 {200 + n // 10_000:03d} {n % 10_000:04d}",  # New York, 8 million
    "DE": lambda n: f"+49 30 {10_000_000 + n}",  # Berlin, eight digits: 90 million
}
#: Where `new_phone` starts in each region: above any block `phone_number` is asked for.
_FRESH_FROM = {"US": 5_000_000, "DE": 50_000_000}
_fresh: dict[str, Iterator[int]] = {region: itertools.count(start) for region, start in _FRESH_FROM.items()}


def phone_number(index: int, region: str = "US") -> str:
    """The `index`-th number of the region's block: the same every time (for inputs
    whose numbers a test states, such as "the first row's number")."""
    if not 0 <= index < _FRESH_FROM[_known(region)]:
        raise ValueError(f"phone_number(index) takes 0 <= index < {_FRESH_FROM[region]}, got {index}")
    return _WRITE[region](index)


def new_phone(region: str = "US") -> str:
    """A valid number of the region that no other call of this test session gave out."""
    return _WRITE[_known(region)](next(_fresh[region]))


def new_phones(n: int, region: str = "US") -> list[str]:
    """`n` numbers from `new_phone`."""
    return [new_phone(region) for _ in range(n)]


def _known(region: str) -> str:
    if region not in _WRITE:
        raise ValueError(f"no test numbers for region {region!r}; known: {', '.join(_WRITE)}")
    return region
