"""`dialstate.testing`, the kit for users' own tests: the virtual clock (moved by hand
in tests, moved to each event's epoch second by the demo simulation) and the engine on
an in-memory database; the example in the module's documentation runs as written."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

import dialstate.testing
from dialstate import ContactState, DialMode, Outcome
from dialstate.scheduler import Scheduler
from dialstate.sim import VirtualClock as SimulationClock
from dialstate.testing import DEFAULT_START, VirtualClock, memory_engine

MONDAY = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


# -- the virtual clock ----------------------------------------------------------------


def test_the_clock_starts_on_a_monday_morning_unless_told_otherwise() -> None:
    assert VirtualClock().now == VirtualClock()() == DEFAULT_START == MONDAY
    assert VirtualClock(datetime(2030, 1, 1, tzinfo=UTC)).now == datetime(2030, 1, 1, tzinfo=UTC)


def test_the_clock_moves_only_when_told_to() -> None:
    clock = VirtualClock()
    assert clock() == clock() == MONDAY
    assert clock.advance(90) == MONDAY + timedelta(seconds=90)
    assert clock.advance(minutes=5, seconds=10) == MONDAY + timedelta(seconds=400)
    assert clock.advance(days=1) == clock() == MONDAY + timedelta(days=1, seconds=400)


def test_set_jumps_to_any_aware_time_forward_or_backward_and_reads_it_as_utc() -> None:
    clock = VirtualClock()
    berlin_evening = datetime(2026, 3, 2, 21, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert clock.set(berlin_evening) == berlin_evening
    assert clock().tzinfo is UTC and clock() == datetime(2026, 3, 2, 20, 0, tzinfo=UTC)
    assert clock.set(MONDAY - timedelta(days=7)) == clock.now == MONDAY - timedelta(days=7)


def test_a_naive_time_is_refused_where_it_is_given() -> None:
    naive = datetime(2026, 3, 2, 10, 0)
    with pytest.raises(ValueError, match="aware"):
        VirtualClock(naive)
    with pytest.raises(ValueError, match="aware"):
        VirtualClock().set(naive)


def test_move_to_goes_forward_to_an_epoch_second_and_never_back() -> None:
    clock = VirtualClock(datetime(2026, 3, 2, 10, 0, tzinfo=timezone(timedelta(hours=2))))
    start = clock.seconds
    assert start == datetime(2026, 3, 2, 8, 0, tzinfo=UTC).timestamp()
    clock.move_to(start + 30.5)
    assert clock() == datetime(2026, 3, 2, 8, 0, 30, 500000, tzinfo=UTC)
    clock.move_to(start + 10)  # an event that is already late does not turn time back
    assert clock.seconds == start + 30.5


def test_move_to_keeps_the_very_epoch_seconds_it_was_given() -> None:
    clock = VirtualClock()
    target = clock.seconds + 0.1234567891  # finer than the microseconds a datetime keeps
    clock.move_to(target)
    assert clock.seconds == target
    assert clock() == datetime.fromtimestamp(target, UTC)
    clock.advance(1)
    assert clock.seconds == clock().timestamp()


def test_the_demo_simulation_runs_on_the_same_clock() -> None:
    assert SimulationClock is VirtualClock


# -- the in-memory engine -------------------------------------------------------------


def test_memory_engine_runs_on_the_clock_it_is_given() -> None:
    clock = VirtualClock()
    with memory_engine(clock) as engine:
        campaign = engine.create_campaign("In memory", mode=DialMode.AGENTLESS)
        (cid,) = engine.add_contacts(campaign.id, ["+1 212 555 0100"]).contact_ids
        engine.dial(cid)
        clock.advance(45)
        ended = engine.call_ended(cid, Outcome.BUSY)
        assert ended.updated_at == MONDAY + timedelta(seconds=45)
        assert ended.next_attempt_at == MONDAY + timedelta(seconds=45 + 300)
        clock.advance(300)
        assert Scheduler(engine).run_pending() == 1
        assert engine.get_contact(cid).state is ContactState.READY


def test_each_memory_engine_has_a_database_of_its_own() -> None:
    with memory_engine() as first, memory_engine() as second:
        first.create_campaign("Only in the first")
        assert [c.name for c in first.campaigns()] == ["Only in the first"]
        assert second.campaigns() == []
    with memory_engine() as again:
        assert again.campaigns() == [], "a closed engine's database is gone"


def test_memory_engine_without_a_clock_uses_the_real_time() -> None:
    with memory_engine() as engine:
        before = datetime.now(UTC)
        campaign = engine.create_campaign("Now")
        assert before <= campaign.created_at <= datetime.now(UTC)


def test_the_example_in_the_documentation_of_dialstate_testing_runs() -> None:
    doc = dialstate.testing.__doc__ or ""
    match = re.search(r"::\n\n((?:    .*\n|\n)+)", doc)
    assert match, "dialstate.testing lost its example"
    code = "\n".join(line[4:] for line in match.group(1).splitlines())
    namespace: dict[str, object] = {}
    exec(compile(code, "dialstate/testing.py", "exec"), namespace)
    tests = [f for name, f in namespace.items() if name.startswith("test_") and callable(f)]
    assert len(tests) == 1
    tests[0]()
