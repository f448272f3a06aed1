"""When a contact may be called again: the retry policy of spec section 6.

`RetryPolicy` is a frozen, validated setting; its methods are pure functions the engine
calls to decide a retry's delay and to keep attempts under the rolling caps.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

from dialstate.errors import ConfigurationError, UnknownOutcome
from dialstate.outcomes._outcome import Outcome
from dialstate.policy._json import check_json_object

__all__ = ["DEFAULT_DELAYS", "RetryPolicy"]

#: Seconds to wait before retrying each retryable outcome (spec section 4). Outcomes
#: whose default decision is not a retry (completed, transferred, escalated,
#: unallocated, blocked, not_allowed) are absent.
DEFAULT_DELAYS: Mapping[Outcome, float] = MappingProxyType(
    {
        Outcome.INCOMPLETE: 1800.0,
        Outcome.BUSY: 300.0,
        Outcome.NO_ANSWER: 1800.0,
        Outcome.VOICEMAIL: 7200.0,
        Outcome.REJECTED: 3600.0,
        Outcome.ABANDONED: 600.0,
        Outcome.CANCELED: 600.0,
        Outcome.CONGESTION: 120.0,
        Outcome.FAILED: 300.0,
        Outcome.UNKNOWN: 900.0,
    }
)

# Without max_delay, a large backoff ** attempts would overflow a float and no datetime
# could hold it; one hundred years is "never" for a calling campaign yet stays usable.
_DELAY_CEILING = 100 * 365 * 86400.0
_OUTCOMES_BY_VALUE = {o.value: o for o in Outcome}
_OUTCOME_VALUES = ", ".join(o.value for o in Outcome)
_FIELDS = ("max_attempts", "delays", "backoff", "max_delay", "jitter", "uncounted",
           "rolling_limits", "number_order", "max_attempts_per_number")
#: How a contact's numbers take turns (spec section 15).
NUMBER_ORDERS = ("rotate", "escalate")


def _bad(name: str, value: object, allowed: str) -> ConfigurationError:
    return ConfigurationError(f"RetryPolicy.{name}: {value!r} is not allowed; {allowed}")


def _number(name: str, value: object, allowed: str) -> float:
    """`value` as a finite float, or a ConfigurationError naming the field."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _bad(name, value, allowed)
    return float(value)


def _outcome(name: str, value: object) -> Outcome:
    if isinstance(value, Outcome):
        return value
    if isinstance(value, str) and value.strip().lower() in _OUTCOMES_BY_VALUE:
        return _OUTCOMES_BY_VALUE[value.strip().lower()]
    raise _bad(name, value, f"an outcome is one of: {_OUTCOME_VALUES}")


def _period(name: str, value: object) -> timedelta:
    allowed = "a period is a timedelta or a number of seconds, greater than zero"
    period = value if isinstance(value, timedelta) else timedelta(seconds=_number(name, value, allowed))
    if period <= timedelta(0):
        raise _bad(name, value, allowed)
    return period


class _DelayTable(Mapping[Outcome, "float | None"]):
    """A read-only, hashable mapping Outcome -> seconds (None: no retry), total over Outcome."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[Outcome, float | None]) -> None:
        self._items = dict(items)

    def __getitem__(self, key: Outcome | str) -> float | None:
        if type(key) is not Outcome and isinstance(key, str):
            key = Outcome(key)
        return self._items[key]

    def __iter__(self) -> Iterator[Outcome]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(tuple(self._items.items()))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return dict(self.items()) == dict(other.items())
        return NotImplemented

    def __repr__(self) -> str:
        return "{" + ", ".join(f"{k.value!r}: {v!r}" for k, v in self._items.items()) + "}"


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how soon a contact is called again (spec section 6).

    After construction `delays` is a read-only mapping over every `Outcome` (DEFAULT_DELAYS
    overlaid with the given delays; None means no retry), `uncounted` a frozenset of
    Outcome and `rolling_limits` a sorted tuple of (count, timedelta).
    """

    max_attempts: int = 5
    # two Mappings, not Mapping[Outcome | str, ...]: the key type is invariant, and a caller's
    # dict[Outcome, float] or dict[str, float] should both type-check
    delays: Mapping[Outcome, float | None] | Mapping[str, float | None] = field(default_factory=dict)
    backoff: float = 1.0
    max_delay: float | None = None
    jitter: float = 0.0
    uncounted: Iterable[Outcome | str] = frozenset({Outcome.CONGESTION})
    rolling_limits: Iterable[tuple[int, timedelta | float]] = ()
    #: Which of a contact's numbers an attempt uses: "rotate" (the next usable one
    #: after the last used) or "escalate" (the same one until its cap, then the next).
    number_order: str = "rotate"
    #: Attempts one number may take (None: no cap but `max_attempts`); a hard cap,
    #: callbacks included. A contact with one number is exhausted when it is reached.
    max_attempts_per_number: int | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__  # the dataclass is frozen; normalise once, here
        if (isinstance(self.max_attempts, bool) or not isinstance(self.max_attempts, int)
                or self.max_attempts < 1):
            raise _bad("max_attempts", self.max_attempts, "it must be a whole number >= 1")
        set_(self, "delays", _DelayTable(self._normalise_delays(self.delays)))
        backoff_allowed = ("it must be a number >= 1.0: a backoff below 1 would shrink the delay "
                           "with every attempt and hammer the contact")
        backoff = _number("backoff", self.backoff, backoff_allowed)
        if backoff < 1.0:
            raise _bad("backoff", self.backoff, backoff_allowed)
        set_(self, "backoff", backoff)
        if self.max_delay is not None:
            allowed = "it must be a number of seconds > 0, or None for no cap"
            max_delay = _number("max_delay", self.max_delay, allowed)
            if max_delay <= 0:
                raise _bad("max_delay", self.max_delay, allowed)
            set_(self, "max_delay", max_delay)
        jitter_allowed = "it must be a fraction with 0 <= jitter < 1 (0.1 spreads delays by ±10%)"
        jitter = _number("jitter", self.jitter, jitter_allowed)
        if not 0.0 <= jitter < 1.0:
            raise _bad("jitter", self.jitter, jitter_allowed)
        set_(self, "jitter", jitter)
        uncounted = [self.uncounted] if isinstance(self.uncounted, str) else self.uncounted
        if not isinstance(uncounted, Iterable):
            raise _bad("uncounted", self.uncounted, "it must be a collection of outcomes")
        set_(self, "uncounted", frozenset(_outcome("uncounted", o) for o in uncounted))
        set_(self, "rolling_limits", self._normalise_limits(self.rolling_limits))
        if self.number_order not in NUMBER_ORDERS:
            raise _bad("number_order", self.number_order, f"it must be one of {', '.join(NUMBER_ORDERS)}")
        cap = self.max_attempts_per_number
        if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 1):
            raise _bad("max_attempts_per_number", cap, "it must be a whole number >= 1, or None for no cap")

    @staticmethod
    def _normalise_delays(given: object) -> dict[Outcome, float | None]:
        if not isinstance(given, Mapping):
            raise _bad("delays", given, "it must be a mapping {outcome: seconds or None}")
        table: dict[Outcome, float | None] = {o: DEFAULT_DELAYS.get(o) for o in Outcome}
        for key, seconds in given.items():
            outcome = _outcome("delays", key)
            if seconds is None:
                table[outcome] = None
                continue
            allowed = f"the delay for {outcome.value} must be seconds >= 0, or None for no retry"
            value = _number(f"delays[{outcome.value}]", seconds, allowed)
            if value < 0:
                raise _bad(f"delays[{outcome.value}]", seconds, allowed)
            table[outcome] = value
        return table

    @staticmethod
    def _normalise_limits(given: object) -> tuple[tuple[int, timedelta], ...]:
        shape = "it must be a collection of (count, period) pairs"
        if isinstance(given, (str, bytes, Mapping)) or not isinstance(given, Iterable):
            raise _bad("rolling_limits", given, shape)
        limits = set()
        for item in given:
            if not isinstance(item, (tuple, list)) or len(item) != 2:
                raise _bad("rolling_limits", item, shape)
            count, period = item
            if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                raise _bad("rolling_limits", item, "the count of a limit must be a whole number >= 1")
            limits.add((count, _period("rolling_limits", period)))
        return tuple(sorted(limits, key=lambda limit: (limit[1], limit[0])))

    # -- decisions -------------------------------------------------------------------

    def counts(self, outcome: Outcome | str) -> bool:
        """Whether an attempt ending with `outcome` counts toward the limits."""
        return _runtime_outcome(outcome) not in self._uncounted

    def delay_for(self, outcome: Outcome | str, attempts: int,
                  rng: random.Random | None = None) -> float | None:
        """Seconds to wait before retrying `outcome`, or None when it gets no retry.

        `attempts` is the number of counted attempts so far (values below 1 count as 1):
        ``delays[outcome] * backoff ** (attempts - 1)``, capped by max_delay, then spread
        uniformly by ± jitter (so a jittered delay may exceed max_delay by that fraction).
        """
        base = self._delays[_runtime_outcome(outcome)]
        if base is None:
            return None
        try:
            delay = base * self.backoff ** (max(attempts, 1) - 1)
        except OverflowError:
            delay = math.inf
        cap = self.max_delay if self.max_delay is not None else _DELAY_CEILING
        delay = min(delay, cap, _DELAY_CEILING)
        if self.jitter and delay:
            spread = rng.uniform if rng is not None else random.uniform
            delay *= 1.0 + spread(-self.jitter, self.jitter)
        return max(delay, 0.0)

    def earliest_allowed(self, attempt_times: Sequence[datetime], at: datetime) -> datetime:
        """The earliest instant >= `at` (UTC) at which one more attempt keeps every rolling cap.

        For each (n, period) the new attempt at t needs fewer than n counted attempts in
        (t - period, t]. `attempt_times` are the counted attempts already made, in any order
        (all at or before `at`, as the engine passes them).
        """
        t = _aware(at, "at").astimezone(UTC)
        if not self._rolling_limits:
            return t
        times = sorted(_aware(x, "attempt_times") for x in attempt_times)
        moved = True
        while moved:  # t only grows, each time to some attempt + period: this terminates
            moved = False
            for count, period in self._rolling_limits:
                inside_end = bisect_right(times, t)
                inside = inside_end - bisect_right(times, t - period)
                if inside >= count:
                    # the newest `count` attempts keep the cap full until the oldest of them leaves
                    t = (times[inside_end - count] + period).astimezone(UTC)
                    moved = True
        return t

    # -- typed views of the normalised fields ----------------------------------------

    @property
    def _delays(self) -> _DelayTable:
        return self.delays  # type: ignore[return-value]  # normalised in __post_init__

    @property
    def _uncounted(self) -> frozenset[Outcome]:
        return self.uncounted  # type: ignore[return-value]  # normalised in __post_init__

    @property
    def _rolling_limits(self) -> tuple[tuple[int, timedelta], ...]:
        return self.rolling_limits  # type: ignore[return-value]  # normalised in __post_init__

    # -- persistence -------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe dict (outcomes as strings, periods as seconds) with the full delay table.

        The full table, not only the overrides, so that a stored policy keeps deciding the
        same way even if a later dialstate changes DEFAULT_DELAYS.
        """
        return {
            "max_attempts": self.max_attempts,
            "delays": {o.value: s for o, s in self._delays.items()},
            "backoff": self.backoff,
            "max_delay": self.max_delay,
            "jitter": self.jitter,
            "uncounted": sorted(o.value for o in self._uncounted),
            "rolling_limits": [[n, p.total_seconds()] for n, p in self._rolling_limits],
            "number_order": self.number_order,
            "max_attempts_per_number": self.max_attempts_per_number,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RetryPolicy:
        """The policy `to_json` described; missing keys take their defaults."""
        check_json_object("RetryPolicy", data, _FIELDS)
        kwargs = dict(data)
        if "rolling_limits" in kwargs and isinstance(kwargs["rolling_limits"], list):
            kwargs["rolling_limits"] = [tuple(x) if isinstance(x, list) else x
                                        for x in kwargs["rolling_limits"]]
        return cls(**kwargs)


def _runtime_outcome(outcome: Outcome | str) -> Outcome:
    if type(outcome) is Outcome:  # on every decision: skip the enum's lookup by value
        return outcome
    try:
        return Outcome(outcome)
    except ValueError:
        raise UnknownOutcome(outcome, None, f"unknown outcome {outcome!r}; "
                             f"one of: {_OUTCOME_VALUES}") from None


def _aware(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ValueError(f"{name}: {value!r} must be a timezone-aware datetime (UTC inside dialstate)")
    return value
