"""Spec section 6, retry policy: validation, the delay formula, rolling caps, persistence."""

from __future__ import annotations

import dataclasses
import json
import random
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialstate.errors import ConfigurationError, UnknownOutcome
from dialstate.outcomes import Outcome
from dialstate.policy import DEFAULT_DELAYS, RetryPolicy
from tests.support import OUTCOME_TABLE

PROPERTY = settings(max_examples=150, deadline=None, database=None)
T0 = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


# -- defaults -------------------------------------------------------------------------

SPEC_SECTION_4 = [(outcome, row.delay) for outcome, row in OUTCOME_TABLE.items()]


@pytest.mark.parametrize(("outcome", "seconds"), SPEC_SECTION_4, ids=lambda x: str(x))
def test_default_delays_follow_the_table_of_spec_section_4(outcome: Outcome, seconds: int | None) -> None:
    assert DEFAULT_DELAYS.get(outcome) == seconds
    assert RetryPolicy().delays[outcome] == seconds
    assert RetryPolicy().delay_for(outcome, 1) == seconds


def test_default_policy_allows_five_attempts_and_does_not_count_congestion() -> None:
    policy = RetryPolicy()
    assert policy.max_attempts == 5
    assert policy.uncounted == frozenset({Outcome.CONGESTION})
    assert not policy.counts(Outcome.CONGESTION)
    assert all(policy.counts(o) for o in Outcome if o is not Outcome.CONGESTION)


def test_default_delays_cannot_be_changed_in_place() -> None:
    with pytest.raises(TypeError):
        DEFAULT_DELAYS[Outcome.BUSY] = 1  # type: ignore[index]


# -- validation -----------------------------------------------------------------------

BAD_SETTINGS: list[tuple[str, dict[str, Any], list[str]]] = [
    ("zero attempts", {"max_attempts": 0}, ["max_attempts", "0", ">= 1"]),
    ("fractional attempts", {"max_attempts": 2.5}, ["max_attempts", "2.5", "whole number"]),
    ("boolean attempts", {"max_attempts": True}, ["max_attempts", "True"]),
    ("negative delay", {"delays": {"busy": -1}}, ["delays[busy]", "-1", ">= 0"]),
    ("nan delay", {"delays": {Outcome.BUSY: float("nan")}}, ["delays[busy]", "nan"]),
    ("text delay", {"delays": {"busy": "5m"}}, ["delays[busy]", "'5m'"]),
    ("unknown outcome", {"delays": {"bussy": 10}}, ["delays", "'bussy'", "no_answer", "voicemail"]),
    ("delays not a mapping", {"delays": [("busy", 1)]}, ["delays", "mapping"]),
    ("shrinking backoff", {"backoff": 0.5}, ["backoff", "0.5", ">= 1.0", "hammer"]),
    ("text backoff", {"backoff": "2"}, ["backoff", "'2'", "hammer"]),
    ("infinite backoff", {"backoff": float("inf")}, ["backoff", "inf"]),
    ("zero max_delay", {"max_delay": 0}, ["max_delay", "0", "> 0"]),
    ("negative max_delay", {"max_delay": -5}, ["max_delay", "-5", "None for no cap"]),
    ("jitter of one", {"jitter": 1.0}, ["jitter", "1.0", "0 <= jitter < 1"]),
    ("negative jitter", {"jitter": -0.1}, ["jitter", "-0.1", "0 <= jitter < 1"]),
    ("unknown uncounted", {"uncounted": {"nope"}}, ["uncounted", "'nope'", "congestion"]),
    ("uncounted not a collection", {"uncounted": 3}, ["uncounted", "3", "collection"]),
    ("zero count", {"rolling_limits": [(0, DAY)]}, ["rolling_limits", ">= 1"]),
    ("zero period", {"rolling_limits": [(3, timedelta(0))]}, ["rolling_limits", "greater than zero"]),
    ("negative seconds period", {"rolling_limits": [(3, -60)]}, ["rolling_limits", "-60", "greater than zero"]),
    ("text period", {"rolling_limits": [(3, "2d")]}, ["rolling_limits", "'2d'", "timedelta"]),
    ("limit without period", {"rolling_limits": [(3,)]}, ["rolling_limits", "(count, period)"]),
    ("limits as a mapping", {"rolling_limits": {3: 60}}, ["rolling_limits", "(count, period)"]),
]


@pytest.mark.parametrize(("kwargs", "fragments"), [c[1:] for c in BAD_SETTINGS],
                         ids=[c[0] for c in BAD_SETTINGS])
def test_a_bad_setting_is_rejected_naming_the_field_the_value_and_what_is_allowed(
        kwargs: dict[str, Any], fragments: list[str]) -> None:
    with pytest.raises(ConfigurationError) as caught:
        RetryPolicy(**kwargs)
    for fragment in fragments:
        assert fragment in str(caught.value)


# -- normalisation --------------------------------------------------------------------


def test_given_delays_overlay_the_defaults_with_outcomes_or_their_values_as_keys() -> None:
    policy = RetryPolicy(delays={"BUSY": 60, Outcome.VOICEMAIL: 0, "no_answer": None})
    assert policy.delays[Outcome.BUSY] == 60.0
    assert policy.delays[Outcome.VOICEMAIL] == 0.0
    assert policy.delays[Outcome.NO_ANSWER] is None
    assert policy.delays[Outcome.REJECTED] == 3600.0
    assert set(policy.delays) == set(Outcome)


def test_the_delay_table_is_read_only() -> None:
    policy = RetryPolicy()
    with pytest.raises(TypeError):
        policy.delays[Outcome.BUSY] = 1  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.max_attempts = 9  # type: ignore[misc]


def test_uncounted_accepts_a_single_outcome_name_or_nothing() -> None:
    assert RetryPolicy(uncounted="busy").uncounted == frozenset({Outcome.BUSY})
    assert RetryPolicy(uncounted=[]).counts(Outcome.CONGESTION)


def test_rolling_limits_accept_seconds_and_are_stored_sorted_by_period() -> None:
    policy = RetryPolicy(rolling_limits=[(4, timedelta(days=2)), (2, 3600), (2, 3600.0)])
    assert policy.rolling_limits == ((2, HOUR), (4, timedelta(days=2)))


def test_equal_settings_make_equal_hashable_policies_whatever_their_spelling() -> None:
    a = RetryPolicy(delays={"busy": 300, "voicemail": 60}, uncounted=["congestion"],
                    rolling_limits=[(4, 172800)])
    b = RetryPolicy(delays={Outcome.VOICEMAIL: 60.0}, rolling_limits=((4, timedelta(days=2)),))
    assert a == b
    assert hash(a) == hash(b)
    assert len({a, b, RetryPolicy()}) == 2


# -- counts and delay_for -------------------------------------------------------------

DELAY_CASES = [
    # (policy settings, outcome, attempts, expected seconds)
    ("default busy", {}, Outcome.BUSY, 1, 300.0),
    ("no backoff: same delay every time", {}, Outcome.BUSY, 4, 300.0),
    ("backoff doubles per counted attempt", {"backoff": 2}, Outcome.BUSY, 3, 1200.0),
    ("zero attempts count as one", {"backoff": 2}, Outcome.BUSY, 0, 300.0),
    ("cap applies after backoff", {"backoff": 2, "max_delay": 1000}, Outcome.BUSY, 3, 1000.0),
    ("cap above the delay changes nothing", {"max_delay": 10_000}, Outcome.VOICEMAIL, 2, 7200.0),
    ("override by name", {"delays": {"no_answer": 90}}, Outcome.NO_ANSWER, 1, 90.0),
    ("a zero delay retries at once", {"delays": {"busy": 0}, "backoff": 3}, Outcome.BUSY, 5, 0.0),
    ("outcome given by value", {}, "congestion", 1, 120.0),
    ("huge backoff is capped", {"backoff": 1e6, "max_delay": 86400}, Outcome.BUSY, 500, 86400.0),
]


@pytest.mark.parametrize(("kwargs", "outcome", "attempts", "expected"),
                         [c[1:] for c in DELAY_CASES], ids=[c[0] for c in DELAY_CASES])
def test_the_delay_is_base_times_backoff_to_the_attempts_minus_one_capped(
        kwargs: dict[str, Any], outcome: Outcome | str, attempts: int, expected: float) -> None:
    assert RetryPolicy(**kwargs).delay_for(outcome, attempts) == pytest.approx(expected)


@pytest.mark.parametrize(("kwargs", "outcome"), [
    ({}, Outcome.COMPLETED),
    ({}, Outcome.BLOCKED),
    ({"delays": {"busy": None}}, Outcome.BUSY),
])
def test_an_outcome_without_a_delay_gets_no_retry(kwargs: dict[str, Any], outcome: Outcome) -> None:
    assert RetryPolicy(**kwargs).delay_for(outcome, 1) is None


def test_an_overflowing_backoff_without_a_cap_stays_a_usable_finite_delay() -> None:
    delay = RetryPolicy(backoff=1e6).delay_for(Outcome.BUSY, 10_000)
    assert delay is not None
    assert T0 + timedelta(seconds=delay) > T0


def test_an_unknown_outcome_at_run_time_names_the_allowed_values() -> None:
    with pytest.raises(UnknownOutcome, match="no_answer"):
        RetryPolicy().delay_for("bussy", 1)
    with pytest.raises(UnknownOutcome):
        RetryPolicy().counts("bussy")


def test_jitter_spreads_delays_within_plus_or_minus_the_fraction_reproducibly() -> None:
    policy = RetryPolicy(jitter=0.2, max_delay=250)
    rng = random.Random(7)
    delays = [policy.delay_for(Outcome.BUSY, 1, rng) for _ in range(500)]
    assert all(d is not None and 200.0 <= d <= 300.0 for d in delays)
    assert len(set(delays)) > 400
    assert min(d for d in delays if d is not None) < 210 < 290 < max(d for d in delays if d is not None)
    again = random.Random(7)
    assert delays == [policy.delay_for(Outcome.BUSY, 1, again) for _ in range(500)]


@PROPERTY
@given(base=st.floats(0, 1e6), backoff=st.floats(1, 10), attempts=st.integers(-3, 60),
       cap=st.none() | st.floats(0.001, 1e7), jitter=st.floats(0, 0.999), seed=st.integers())
def test_a_delay_is_never_negative_and_never_beyond_the_cap_plus_jitter(
        base: float, backoff: float, attempts: int, cap: float | None, jitter: float,
        seed: int) -> None:
    policy = RetryPolicy(delays={"busy": base}, backoff=backoff, max_delay=cap, jitter=jitter)
    delay = policy.delay_for(Outcome.BUSY, attempts, random.Random(seed))
    assert delay is not None
    assert delay >= 0.0
    if cap is not None:
        assert delay <= cap * (1 + jitter) * (1 + 1e-12)


# -- rolling limits -------------------------------------------------------------------


def test_without_rolling_limits_the_wanted_time_is_allowed() -> None:
    assert RetryPolicy().earliest_allowed([T0] * 50, T0) == T0


def test_four_attempts_in_two_days_move_the_next_until_the_oldest_leaves_the_window() -> None:
    policy = RetryPolicy(rolling_limits=[(4, timedelta(days=2))])
    made = [T0 - 8 * HOUR, T0 - 6 * HOUR, T0 - 4 * HOUR, T0 - 2 * HOUR]
    assert policy.earliest_allowed(made, T0) == made[0] + timedelta(days=2)


def test_three_attempts_in_two_days_leave_room_for_a_fourth_now() -> None:
    policy = RetryPolicy(rolling_limits=[(4, timedelta(days=2))])
    made = [T0 - 3 * DAY, T0 - 30 * HOUR, T0 - 6 * HOUR, T0 - 2 * HOUR]
    assert policy.earliest_allowed(made, T0) == T0


def test_an_attempt_exactly_one_period_ago_has_left_the_window() -> None:
    policy = RetryPolicy(rolling_limits=[(1, DAY)])
    assert policy.earliest_allowed([T0 - DAY], T0) == T0
    assert policy.earliest_allowed([T0 - DAY + timedelta(microseconds=1)], T0) == T0 + timedelta(
        microseconds=1)


def test_several_limits_at_once_are_all_kept() -> None:
    policy = RetryPolicy(rolling_limits=[(2, HOUR), (4, DAY)])
    day_start = T0.replace(hour=9)
    made = [day_start, day_start + 30 * timedelta(minutes=1), day_start + 3 * HOUR,
            day_start + 3 * HOUR + timedelta(minutes=10)]
    at = day_start + 3 * HOUR + timedelta(minutes=20)
    # the hourly cap alone would allow 13:00; the daily cap then waits for 09:00 tomorrow
    assert policy.earliest_allowed(made, at) == day_start + DAY
    assert policy.earliest_allowed(made[2:], at) == day_start + 4 * HOUR


def test_attempt_times_may_come_in_any_order_and_zone_and_the_answer_is_utc() -> None:
    policy = RetryPolicy(rolling_limits=[(2, DAY)])
    plus_two = timezone(timedelta(hours=2))
    made = [(T0 - HOUR).astimezone(plus_two), T0 - 5 * HOUR]
    allowed = policy.earliest_allowed(made, T0.astimezone(plus_two))
    assert allowed == T0 - 5 * HOUR + DAY
    assert allowed.tzinfo is UTC


def test_naive_times_are_refused() -> None:
    policy = RetryPolicy(rolling_limits=[(2, DAY)])
    with pytest.raises(ValueError, match="timezone-aware"):
        policy.earliest_allowed([], T0.replace(tzinfo=None))


def _cap_kept(limits: tuple[tuple[int, timedelta], ...], made: list[datetime], t: datetime) -> bool:
    return all(sum(t - period < x <= t for x in made) < count for count, period in limits)


@PROPERTY
@given(
    offsets=st.lists(st.integers(0, 6 * 24 * 60), max_size=25),
    limits=st.lists(st.tuples(st.integers(1, 6), st.integers(1, 4 * 24 * 60)),
                    min_size=1, max_size=4),
)
def test_the_earliest_allowed_time_keeps_every_cap_and_nothing_earlier_does(
        offsets: list[int], limits: list[tuple[int, int]]) -> None:
    policy = RetryPolicy(rolling_limits=[(n, timedelta(minutes=m)) for n, m in limits])
    made = [T0 - timedelta(minutes=m) for m in offsets]
    allowed = policy.earliest_allowed(made, T0)
    caps = policy.rolling_limits
    assert isinstance(caps, tuple)
    assert allowed >= T0
    assert _cap_kept(caps, made, allowed)
    # Whether a cap is kept changes only at an attempt or at an attempt + period, so
    # checking `at` and those instants before the answer proves it is the earliest.
    candidates = {T0} | {x + p for x in made for _, p in caps} | set(made)
    assert not any(_cap_kept(caps, made, c) for c in candidates if T0 <= c < allowed)


# -- persistence ----------------------------------------------------------------------

POLICIES = [
    RetryPolicy(),
    RetryPolicy(max_attempts=9, delays={"busy": 60, "no_answer": None, "completed": 5},
                backoff=1.5, max_delay=3600, jitter=0.25, uncounted={"congestion", "failed"},
                rolling_limits=[(4, timedelta(days=2)), (2, timedelta(hours=1, microseconds=5))]),
]


@pytest.mark.parametrize("policy", POLICIES, ids=["default", "every setting"])
def test_a_policy_survives_a_json_round_trip(policy: RetryPolicy) -> None:
    data = json.loads(json.dumps(policy.to_json()))
    assert RetryPolicy.from_json(data) == policy


def test_json_names_outcomes_by_value_and_periods_in_seconds() -> None:
    data = RetryPolicy(rolling_limits=[(4, timedelta(days=2))]).to_json()
    assert data["rolling_limits"] == [[4, 172800.0]]
    assert data["uncounted"] == ["congestion"]
    assert data["delays"]["busy"] == 300.0


def test_json_with_only_some_keys_takes_defaults_for_the_rest() -> None:
    assert RetryPolicy.from_json({"delays": {"busy": 60}}) == RetryPolicy(delays={"busy": 60})


@pytest.mark.parametrize(("data", "fragment"), [
    ({"max_attempt": 3}, "max_attempt"),
    ({"backoff": 0.1}, "hammer"),
    ([1, 2], "JSON object"),
])
def test_bad_json_is_rejected_with_a_clear_message(data: Any, fragment: str) -> None:
    with pytest.raises(ConfigurationError, match=fragment):
        RetryPolicy.from_json(data)


@PROPERTY
@given(
    max_attempts=st.integers(1, 50),
    delays=st.dictionaries(st.sampled_from(list(Outcome)), st.none() | st.floats(0, 1e6)),
    backoff=st.floats(1, 5),
    max_delay=st.none() | st.floats(0.5, 1e6),
    jitter=st.floats(0, 0.99),
    uncounted=st.frozensets(st.sampled_from(list(Outcome))),
    limits=st.lists(st.tuples(st.integers(1, 9), st.integers(1, 10**9)), max_size=3),
)
def test_any_valid_policy_survives_a_json_round_trip(
        max_attempts: int, delays: dict[Outcome, float | None], backoff: float,
        max_delay: float | None, jitter: float, uncounted: frozenset[Outcome],
        limits: list[tuple[int, int]]) -> None:
    policy = RetryPolicy(max_attempts, delays, backoff, max_delay, jitter, uncounted,
                         [(n, timedelta(microseconds=us)) for n, us in limits])
    assert RetryPolicy.from_json(json.loads(json.dumps(policy.to_json()))) == policy
