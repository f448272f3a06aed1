"""Calls (spec sections 3 and 4): call ids and stale events, idempotency keys, the
decision after a call attempt for each canonical outcome, the blacklist during a
call, and phone corrections."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import timedelta

import pytest

from dialstate import (
    Contact,
    ContactState,
    DialMode,
    Engine,
    IdempotencyConflict,
    InvalidPhone,
    InvalidTransition,
    Outcome,
    RetryPolicy,
    StaleCallEvent,
)
from dialstate.testing import VirtualClock
from tests.support.invariants import assert_history_continuous

S = ContactState
O = Outcome
P, G, D, A = DialMode.PREVIEW, DialMode.PROGRESSIVE, DialMode.PREDICTIVE, DialMode.AGENTLESS
_numbers = itertools.count(100)


def phone() -> str:
    return f"+1 212 555 {next(_numbers):04d}"


def campaign(engine: Engine, mode: DialMode, policy: RetryPolicy | None = None) -> int:
    return engine.create_campaign(f"{mode.value} calls", mode=mode, retry_policy=policy,
                                  default_region="US").id


def contact(engine: Engine, mode: DialMode, policy: RetryPolicy | None = None, number: str | None = None) -> int:
    return engine.add_contacts(campaign(engine, mode, policy), [number or phone()]).contact_ids[0]


def to_dialing(engine: Engine, cid: int, call_id: str | None = None) -> Contact:
    """Bring a ready contact to `dialing` the way its mode does."""
    mode = engine.get_campaign(engine.get_contact(cid).campaign_id).mode
    if mode in (P, G):
        engine.assign_operator(cid, "op1")
        engine.accept(cid)
    return engine.dial(cid, call_id=call_id)


def frozen(engine: Engine, cid: int) -> tuple[Contact, list[object]]:
    """What must not change when a call is refused."""
    return engine.get_contact(cid), list(engine.history(cid))


# -- call ids -------------------------------------------------------------------------


def test_dial_gives_each_call_a_fresh_unique_call_id_when_none_is_given(engine: Engine) -> None:
    first, second = contact(engine, A), contact(engine, A)
    a, b = engine.dial(first), engine.dial(second)
    assert a.call_id and b.call_id and a.call_id != b.call_id
    engine.call_ended(first, O.BUSY)
    engine.retry_due(first)
    again = engine.dial(first)
    assert again.call_id and again.call_id != a.call_id
    assert engine.history(first)[-1].call_id == again.call_id


def test_dial_next_gives_each_call_a_fresh_unique_call_id(engine: Engine) -> None:
    cid = campaign(engine, D)
    engine.add_contacts(cid, [phone() for _ in range(6)])
    calls = engine.dial_next(cid, 6)
    ids = [c.call_id for c in calls]
    assert len(calls) == 6 and all(ids) and len(set(ids)) == 6
    for c in calls:
        assert engine.history(c.id)[-1].call_id == c.call_id


def test_dial_keeps_a_call_id_the_caller_gives(engine: Engine) -> None:
    cid = contact(engine, P)
    dialed = to_dialing(engine, cid, call_id="pbx-4711")
    assert dialed.call_id == "pbx-4711"
    assert engine.history(cid)[-1].call_id == "pbx-4711"
    assert engine.answered(cid, call_id="pbx-4711").state is S.CALL_IN_PROGRESS


STALE_EVENTS: list[tuple[str, Callable[[Engine, int, str], object]]] = [
    ("answered", lambda e, c, call: e.answered(c, call_id=call)),
    ("call_ended", lambda e, c, call: e.call_ended(c, O.BUSY, call_id=call)),
    ("dial_failed", lambda e, c, call: e.dial_failed(c, "no trunk", call_id=call)),
]


@pytest.mark.parametrize("mode", [P, D, A])
@pytest.mark.parametrize(("event", "send"), STALE_EVENTS, ids=[e for e, _ in STALE_EVENTS])
def test_a_call_event_for_another_call_raises_stale_call_event_and_changes_nothing(
    sqlite_engine: Engine, mode: DialMode, event: str, send: Callable[[Engine, int, str], object]
) -> None:
    engine = sqlite_engine
    cid = contact(engine, mode)
    to_dialing(engine, cid, call_id="current")
    before = frozen(engine, cid)
    with pytest.raises(StaleCallEvent) as info:
        send(engine, cid, "someone-else")
    assert (info.value.contact_id, info.value.trigger) == (cid, event)
    assert (info.value.call_id, info.value.current_call_id) == ("someone-else", "current")
    assert frozen(engine, cid) == before


@pytest.mark.parametrize(("mode", "setup"), [
    (D, [lambda e, c: e.answered(c, call_id="current")]),
    (D, [lambda e, c: e.answered(c, call_id="current"), lambda e, c: e.connect_operator(c, "op1")]),
    (A, [lambda e, c: e.answered(c, call_id="current")]),
], ids=["awaiting-operator", "connected", "agentless-in-call"])
def test_a_call_end_for_another_call_is_stale_during_the_call_too(
    sqlite_engine: Engine, mode: DialMode, setup: list[Callable[[Engine, int], object]]
) -> None:
    engine = sqlite_engine
    cid = contact(engine, mode)
    engine.dial(cid, call_id="current")
    for step in setup:
        step(engine, cid)
    before = frozen(engine, cid)
    with pytest.raises(StaleCallEvent):
        engine.call_ended(cid, O.COMPLETED, call_id="other")
    assert frozen(engine, cid) == before


def test_a_late_duplicate_end_of_the_finished_call_is_refused_and_changes_nothing(engine: Engine) -> None:
    cid = contact(engine, A)
    call = engine.dial(cid).call_id
    assert call is not None
    engine.call_ended(cid, O.BUSY, call_id=call)
    before = frozen(engine, cid)
    with pytest.raises(InvalidTransition):
        engine.call_ended(cid, O.BUSY, call_id=call)
    with pytest.raises(InvalidTransition):
        engine.answered(cid, call_id=call)
    assert frozen(engine, cid) == before


def test_a_late_event_of_an_earlier_call_is_stale_once_the_contact_is_on_a_new_call(engine: Engine) -> None:
    cid = contact(engine, A)
    old = engine.dial(cid).call_id
    assert old is not None
    engine.call_ended(cid, O.NO_ANSWER, call_id=old)
    engine.retry_due(cid)
    new = engine.dial(cid).call_id
    before = frozen(engine, cid)
    for send in (lambda: engine.call_ended(cid, O.NO_ANSWER, call_id=old),
                 lambda: engine.answered(cid, call_id=old),
                 lambda: engine.dial_failed(cid, call_id=old)):
        with pytest.raises(StaleCallEvent):
            send()
    assert frozen(engine, cid) == before
    assert engine.call_ended(cid, O.COMPLETED, call_id=new).state is S.SUCCESS


def test_a_late_dial_failed_for_the_previous_call_is_refused_while_the_next_one_is_prepared(engine: Engine) -> None:
    cid = contact(engine, P)
    to_dialing(engine, cid, call_id="c-1")
    engine.call_ended(cid, O.BUSY, call_id="c-1")
    engine.retry_due(cid)
    engine.assign_operator(cid, "op1")
    engine.accept(cid)  # before_call_work: the operator prepares the second call
    before = frozen(engine, cid)
    with pytest.raises((StaleCallEvent, InvalidTransition)):
        engine.dial_failed(cid, "late report of the first call", call_id="c-1")
    assert frozen(engine, cid) == before


def test_a_late_duplicate_answer_during_the_call_is_refused(engine: Engine) -> None:
    cid = contact(engine, A)
    call = engine.dial(cid).call_id
    engine.answered(cid, call_id=call)
    before = frozen(engine, cid)
    with pytest.raises(InvalidTransition):
        engine.answered(cid, call_id=call)
    assert frozen(engine, cid) == before


# -- idempotency keys -----------------------------------------------------------------

KEYED: list[tuple[str, DialMode, list[Callable[[Engine, int], object]], Callable[[Engine, int, str], Contact]]] = [
    ("assign_operator", P, [], lambda e, c, k: e.assign_operator(c, "op1", idempotency_key=k)),
    ("dial", A, [], lambda e, c, k: e.dial(c, idempotency_key=k)),
    ("answered", A, [lambda e, c: e.dial(c)], lambda e, c, k: e.answered(c, idempotency_key=k)),
    ("call_ended", A, [lambda e, c: e.dial(c)], lambda e, c, k: e.call_ended(c, O.BUSY, idempotency_key=k)),
    ("dial_failed", D, [lambda e, c: e.dial(c)], lambda e, c, k: e.dial_failed(c, "x", idempotency_key=k)),
    ("reject", P, [lambda e, c: e.assign_operator(c, "op1")], lambda e, c, k: e.reject(c, idempotency_key=k)),
    ("cancel", P, [], lambda e, c, k: e.cancel(c, idempotency_key=k)),
]


@pytest.mark.parametrize(("trigger", "mode", "setup", "call"), KEYED, ids=[k[0] for k in KEYED])
def test_a_repeated_call_with_the_same_idempotency_key_returns_the_same_snapshot_and_writes_nothing(
    sqlite_engine: Engine, clock: VirtualClock, trigger: str, mode: DialMode,
    setup: list[Callable[[Engine, int], object]], call: Callable[[Engine, int, str], Contact],
) -> None:
    engine = sqlite_engine
    cid = contact(engine, mode)
    for step in setup:
        step(engine, cid)
    first = call(engine, cid, f"key-{trigger}")
    after_first = frozen(engine, cid)
    clock.advance(30)
    again = call(engine, cid, f"key-{trigger}")
    assert again == first
    assert frozen(engine, cid) == after_first


def test_an_idempotent_repeat_returns_the_old_snapshot_even_after_later_transitions(engine: Engine) -> None:
    cid = contact(engine, P)
    assigned = engine.assign_operator(cid, "op1", idempotency_key="assign-1")
    engine.accept(cid)
    dialed = engine.dial(cid)
    before = frozen(engine, cid)
    repeat = engine.assign_operator(cid, "op1", idempotency_key="assign-1")
    assert repeat == assigned and repeat.state is S.OPERATOR_ASSIGNED
    assert frozen(engine, cid) == before
    assert engine.get_contact(cid).state is S.DIALING and engine.get_contact(cid).call_id == dialed.call_id


def test_an_idempotent_repeat_of_a_contact_with_nested_data_returns_an_equal_snapshot(engine: Engine) -> None:
    cid = engine.add_contacts(campaign(engine, P), [
        {"phone": phone(), "external_id": "crm-9", "priority": 2, "timezone": "America/Chicago",
         "data": {"name": "Ada", "tags": ["vip", {"since": 2019}], "address": {"city": "Berlin"}}},
    ]).contact_ids[0]
    first = engine.assign_operator(cid, "op1", idempotency_key="nested")
    again = engine.assign_operator(cid, "op1", idempotency_key="nested")
    assert again == first
    assert again.data["tags"][1]["since"] == 2019 and again.data["address"]["city"] == "Berlin"
    assert (again.external_id, again.priority, again.timezone) == ("crm-9", 2, "America/Chicago")


def test_an_idempotent_dial_repeats_with_the_same_call_id(engine: Engine) -> None:
    cid = contact(engine, D)
    first = engine.dial(cid, idempotency_key="dial-1")
    assert engine.dial(cid, idempotency_key="dial-1").call_id == first.call_id


def test_an_idempotency_key_survives_a_new_engine_on_the_same_database(sqlite_engine: Engine, sqlite_url: str) -> None:
    cid = contact(sqlite_engine, P)
    first = sqlite_engine.assign_operator(cid, "op1", idempotency_key="k")
    other = Engine(sqlite_url)
    try:
        assert other.assign_operator(cid, "op1", idempotency_key="k") == first
    finally:
        other.close()
    assert len(sqlite_engine.history(cid)) == 2


def test_reusing_an_idempotency_key_for_another_contact_raises_a_clear_error(engine: Engine) -> None:
    one, two = contact(engine, P), contact(engine, P)
    engine.assign_operator(one, "op1", idempotency_key="shared")
    before = frozen(engine, two)
    with pytest.raises(IdempotencyConflict) as info:
        engine.assign_operator(two, "op1", idempotency_key="shared")
    assert (info.value.key, info.value.contact_id, info.value.trigger) == ("shared", two, "assign_operator")
    assert "shared" in str(info.value) and str(two) in str(info.value) and str(one) in str(info.value)
    assert frozen(engine, two) == before


def test_reusing_an_idempotency_key_for_another_trigger_raises_a_clear_error(engine: Engine) -> None:
    cid = contact(engine, P)
    engine.assign_operator(cid, "op1", idempotency_key="k-7")
    before = frozen(engine, cid)
    with pytest.raises(IdempotencyConflict) as info:
        engine.accept(cid, idempotency_key="k-7")
    assert info.value.trigger == "accept" and "assign_operator" in str(info.value)
    assert frozen(engine, cid) == before


def test_a_refused_call_does_not_use_up_its_idempotency_key(engine: Engine) -> None:
    cid = contact(engine, P)
    with pytest.raises(InvalidTransition):
        engine.accept(cid, idempotency_key="k-1")
    engine.assign_operator(cid, "op1")
    assert engine.accept(cid, idempotency_key="k-1").state is S.BEFORE_CALL_WORK


# -- the decision after a call attempt (section 4's table) ------------------------------

# outcome -> (states after dialing, retry delay in seconds or None, counted as an attempt)
DECISIONS: dict[Outcome, tuple[list[ContactState], float | None, bool]] = {
    O.COMPLETED: ([S.SUCCESS], None, True),
    O.TRANSFERRED: ([S.SUCCESS], None, True),
    O.ESCALATED: ([S.SUCCESS], None, True),
    O.BUSY: ([S.RETRY_SCHEDULED], 300, True),
    O.NO_ANSWER: ([S.RETRY_SCHEDULED], 1800, True),
    O.VOICEMAIL: ([S.RETRY_SCHEDULED], 7200, True),
    O.REJECTED: ([S.RETRY_SCHEDULED], 3600, True),
    O.UNALLOCATED: ([S.INVALID_RECORD], None, True),
    O.ABANDONED: ([S.RETRY_SCHEDULED], 600, True),  # predictive: via canceled_by_client
    O.CANCELED: ([S.RETRY_SCHEDULED], 600, True),
    O.CONGESTION: ([S.RETRY_SCHEDULED], 120, False),
    O.FAILED: ([S.DIAL_FAILED, S.RETRY_SCHEDULED], 300, True),
    O.BLOCKED: ([S.BLACKLISTED], None, True),
    O.NOT_ALLOWED: ([S.DIAL_FAILED], None, True),
    O.UNKNOWN: ([S.RETRY_SCHEDULED], 900, True),
}


def expected_path(outcome: Outcome, mode: DialMode) -> list[ContactState]:
    path = DECISIONS[outcome][0]
    if outcome is O.ABANDONED and mode is D:
        return [S.CANCELED_BY_CLIENT, *path]
    return path


CASES = [
    pytest.param(mode, outcome, id=f"{mode.value}-{outcome.value}")
    for mode in DialMode for outcome in DECISIONS
]


@pytest.mark.parametrize(("mode", "outcome"), CASES)
def test_a_call_that_ends_while_dialing_is_decided_by_section_4s_table(
    sqlite_engine: Engine, clock: VirtualClock, mode: DialMode, outcome: Outcome
) -> None:
    engine = sqlite_engine
    cid = contact(engine, mode)
    to_dialing(engine, cid)
    n = len(engine.history(cid))
    clock.advance(45)
    after = engine.call_ended(cid, outcome)
    path, delay, counted = expected_path(outcome, mode), DECISIONS[outcome][1], DECISIONS[outcome][2]
    entries = engine.history(cid)[n:]
    assert [e.to_state for e in entries] == path
    assert after.state is path[-1]
    assert after.next_attempt_at == (None if delay is None else clock.now + timedelta(seconds=delay))
    assert after.attempts == (1 if counted else 0)
    assert after.last_outcome is outcome
    assert entries[0].outcome is outcome and entries[0].trigger == "call_ended"
    assert_history_continuous(engine, cid)


def test_not_allowed_leaves_the_contact_final_in_dial_failed(engine: Engine) -> None:
    cid = contact(engine, A)
    engine.dial(cid)
    assert engine.call_ended(cid, O.NOT_ALLOWED).state is S.DIAL_FAILED
    for refused in (lambda: engine.retry_due(cid), lambda: engine.dial(cid), lambda: engine.cancel(cid)):
        with pytest.raises(InvalidTransition):
            refused()
    assert engine.delete(cid).state is S.DELETED


def test_the_contact_is_exhausted_when_its_counted_attempts_reach_max_attempts(
    engine: Engine, clock: VirtualClock
) -> None:
    cid = contact(engine, A, RetryPolicy(max_attempts=2))
    engine.dial(cid)
    assert engine.call_ended(cid, O.BUSY).state is S.RETRY_SCHEDULED
    engine.retry_due(cid)
    engine.dial(cid)
    final = engine.call_ended(cid, O.NO_ANSWER)
    assert (final.state, final.attempts, final.next_attempt_at) == (S.EXHAUSTED, 2, None)
    assert "2" in (engine.history(cid)[-1].note or "")
    assert_history_continuous(engine, cid)


def test_congestion_is_not_counted_towards_max_attempts(engine: Engine) -> None:
    cid = contact(engine, A, RetryPolicy(max_attempts=2))
    outcomes = [O.BUSY, O.CONGESTION, O.CONGESTION, O.CONGESTION, O.BUSY]
    states = []
    for outcome in outcomes:
        if engine.get_contact(cid).state is S.RETRY_SCHEDULED:
            engine.retry_due(cid)
        engine.dial(cid)
        after = engine.call_ended(cid, outcome)
        states.append((after.state, after.attempts))
    assert states == [
        (S.RETRY_SCHEDULED, 1), (S.RETRY_SCHEDULED, 1), (S.RETRY_SCHEDULED, 1), (S.RETRY_SCHEDULED, 1),
        (S.EXHAUSTED, 2),
    ]


def test_congestion_on_the_last_allowed_attempt_still_retries(engine: Engine) -> None:
    cid = contact(engine, A, RetryPolicy(max_attempts=1))
    engine.dial(cid)
    assert engine.call_ended(cid, O.CONGESTION).state is S.RETRY_SCHEDULED
    engine.retry_due(cid)
    engine.dial(cid)
    assert engine.call_ended(cid, O.VOICEMAIL).state is S.EXHAUSTED


@pytest.mark.parametrize(("mode", "end", "passing"), [
    (A, lambda e, c: e.dial_failed(c, "trunk down"), S.DIAL_FAILED),
    (A, lambda e, c: e.call_ended(c, O.FAILED), S.DIAL_FAILED),
    (D, lambda e, c: e.call_ended(c, O.ABANDONED), S.CANCELED_BY_CLIENT),
], ids=["dial_failed", "failed-outcome", "abandoned"])
def test_a_passing_state_on_the_last_allowed_attempt_leads_to_exhausted(
    sqlite_engine: Engine, mode: DialMode, end: Callable[[Engine, int], Contact], passing: ContactState
) -> None:
    engine = sqlite_engine
    cid = contact(engine, mode, RetryPolicy(max_attempts=1))
    engine.dial(cid)
    after = end(engine, cid)
    assert after.state is S.EXHAUSTED
    assert [e.to_state for e in engine.history(cid)[-2:]] == [passing, S.EXHAUSTED]


@pytest.mark.parametrize("mode", [P, G, D, A])
def test_dial_failed_passes_dial_failed_then_retries_after_300_seconds(
    sqlite_engine: Engine, clock: VirtualClock, mode: DialMode
) -> None:
    engine = sqlite_engine
    cid = contact(engine, mode)
    to_dialing(engine, cid)
    clock.advance(5)
    after = engine.dial_failed(cid, "SIP trunk unreachable")
    assert (after.state, after.last_outcome) == (S.RETRY_SCHEDULED, O.FAILED)
    assert after.next_attempt_at == clock.now + timedelta(seconds=300)
    failed, retry = engine.history(cid)[-2:]
    assert (failed.to_state, retry.to_state) == (S.DIAL_FAILED, S.RETRY_SCHEDULED)
    assert "SIP trunk unreachable" in (failed.note or "")


def test_dial_failed_before_the_call_is_placed_also_retries(engine: Engine, clock: VirtualClock) -> None:
    cid = contact(engine, P)
    engine.assign_operator(cid, "op1")
    engine.accept(cid)
    after = engine.dial_failed(cid, "workstation offline")
    assert after.state is S.RETRY_SCHEDULED and after.next_attempt_at == clock.now + timedelta(seconds=300)
    assert after.operator_id is None


def test_an_incomplete_agentless_call_retries_after_1800_seconds(engine: Engine, clock: VirtualClock) -> None:
    cid = contact(engine, A)
    engine.dial(cid)
    engine.answered(cid)
    after = engine.call_ended(cid, O.INCOMPLETE)
    assert (after.state, after.last_outcome) == (S.RETRY_SCHEDULED, O.INCOMPLETE)
    assert after.next_attempt_at == clock.now + timedelta(seconds=1800)


@pytest.mark.parametrize("mode", [P, G, D])
@pytest.mark.parametrize("outcome", [O.INCOMPLETE, O.COMPLETED, O.BUSY])
def test_a_connected_call_in_an_operator_mode_ends_in_after_call_work(
    sqlite_engine: Engine, mode: DialMode, outcome: Outcome
) -> None:
    engine = sqlite_engine
    cid = contact(engine, mode)
    to_dialing(engine, cid)
    engine.answered(cid, operator_id="op1")
    after = engine.call_ended(cid, outcome)
    assert (after.state, after.last_outcome, after.next_attempt_at) == (S.AFTER_CALL_WORK, outcome, None)


# -- the blacklist during a call --------------------------------------------------------

NUMBER = "+1 212 555 9999"

# state -> (mode, how a new ready contact gets there)
WAITING: dict[ContactState, tuple[DialMode, list[Callable[[Engine, int], object]]]] = {
    S.READY: (D, []),
    S.OPERATOR_ASSIGNED: (P, [lambda e, c: e.assign_operator(c, "op1")]),
    S.AWAITING_OPERATOR: (G, [lambda e, c: e.wait_for_operator(c)]),
    S.BEFORE_CALL_WORK: (P, [lambda e, c: e.assign_operator(c, "op1"), lambda e, c: e.accept(c)]),
    S.RETRY_SCHEDULED: (A, [lambda e, c: e.dial(c), lambda e, c: e.call_ended(c, O.BUSY)]),
}


def test_blacklist_phone_moves_every_waiting_contact_with_that_number_at_once(
    engine: Engine, clock: VirtualClock
) -> None:
    contacts = {}
    for state, (mode, path) in WAITING.items():
        cid = contact(engine, mode, number=NUMBER)
        for step in path:
            step(engine, cid)
        contacts[state] = cid
    elsewhere = contact(engine, D)
    clock.advance(10)
    moved = engine.blacklist_phone("(212) 555-9999", region="US", actor="compliance")
    assert moved == len(WAITING)
    for state, cid in contacts.items():
        c = engine.get_contact(cid)
        assert (c.state, c.operator_id, c.next_attempt_at) == (S.BLACKLISTED, None, None)
        last = engine.history(cid)[-1]
        assert (last.from_state, last.trigger, last.at, last.actor) == (state, "blacklist", clock.now, "compliance")
        assert_history_continuous(engine, cid)
    assert engine.get_contact(elsewhere).state is S.READY
    assert engine.dial_next(engine.get_contact(contacts[S.READY]).campaign_id, 5) == []


def end_then_wrap_up(engine: Engine, cid: int, disposition: str) -> Contact:
    engine.call_ended(cid, O.COMPLETED)
    return engine.wrap_up(cid, disposition)


IN_CALL: list[tuple[str, DialMode, list[Callable[[Engine, int], object]], Callable[[Engine, int], Contact]]] = [
    ("dialing-ends-busy", D, [lambda e, c: e.dial(c)], lambda e, c: e.call_ended(c, O.BUSY)),
    ("dialing-ends-completed", A, [lambda e, c: e.dial(c)], lambda e, c: e.call_ended(c, O.COMPLETED)),
    ("dialing-fails", A, [lambda e, c: e.dial(c)], lambda e, c: e.dial_failed(c, "trunk")),
    ("agentless-call-ends", A, [lambda e, c: e.dial(c), lambda e, c: e.answered(c)],
     lambda e, c: e.call_ended(c, O.COMPLETED)),
    ("operator-call-wrapped-up", P,
     [lambda e, c: e.assign_operator(c, "op1"), lambda e, c: e.accept(c), lambda e, c: e.dial(c),
      lambda e, c: e.answered(c)],
     lambda e, c: end_then_wrap_up(e, c, "success")),
]


@pytest.mark.parametrize(("name", "mode", "path", "end"), IN_CALL, ids=[c[0] for c in IN_CALL])
def test_a_contact_in_a_call_keeps_its_call_and_becomes_blacklisted_at_its_end(
    sqlite_engine: Engine, name: str, mode: DialMode, path: list[Callable[[Engine, int], object]],
    end: Callable[[Engine, int], Contact],
) -> None:
    engine = sqlite_engine
    cid = contact(engine, mode, number=NUMBER)
    for step in path:
        step(engine, cid)
    during = engine.get_contact(cid)
    assert engine.blacklist_phone(NUMBER) == 0
    assert engine.get_contact(cid) == during
    assert end(engine, cid).state is S.BLACKLISTED
    assert_history_continuous(engine, cid)


def test_unblacklist_phone_brings_the_blacklisted_contacts_back_to_ready(engine: Engine, clock: VirtualClock) -> None:
    engine.blacklist_phone(NUMBER)
    added_blacklisted = contact(engine, P, number=NUMBER)
    moved_later = contact(engine, D, number="+1 212 555 8888")
    engine.blacklist_phone("+1 212 555 8888")
    assert engine.get_contact(added_blacklisted).state is S.BLACKLISTED
    clock.advance(60)
    assert engine.unblacklist_phone("212-555-9999", region="US") == 1
    assert engine.unblacklist_phone("+12125558888") == 1
    for cid in (added_blacklisted, moved_later):
        assert engine.get_contact(cid).state is S.READY
        assert engine.history(cid)[-1].trigger == "unblacklist"
        assert_history_continuous(engine, cid)
    assert NUMBER.replace(" ", "") not in [p for p, _ in engine.blacklist()]
    claimed = engine.assign_operator(added_blacklisted, "op1")
    assert claimed.state is S.OPERATOR_ASSIGNED
    assert [c.id for c in engine.dial_next(engine.get_contact(moved_later).campaign_id, 5)] == [moved_later]


def test_unblacklisting_leaves_contacts_in_other_states_alone(engine: Engine) -> None:
    cid = contact(engine, A, number=NUMBER)
    engine.dial(cid)
    engine.blacklist_phone(NUMBER)
    engine.unblacklist_phone(NUMBER)
    assert engine.get_contact(cid).state is S.DIALING
    assert engine.call_ended(cid, O.BUSY).state is S.RETRY_SCHEDULED


# -- phone corrections -----------------------------------------------------------------


def test_update_phone_moves_an_invalid_record_to_ready_with_the_number_in_e164(engine: Engine) -> None:
    cid = engine.add_contacts(engine.create_campaign("DE", default_region="DE").id, ["030 12a4567"]).contact_ids[0]
    after = engine.update_phone(cid, "030 1234567", actor="agent")
    assert (after.state, after.phone, after.version) == (S.READY, "+49301234567", 2)
    last = engine.history(cid)[-1]
    assert (last.from_state, last.to_state, last.trigger, last.actor) == (
        S.INVALID_RECORD, S.READY, "update_phone", "agent")
    assert_history_continuous(engine, cid)


@pytest.mark.parametrize("bad", ["", "12ab", "030#1", "123"])
def test_update_phone_with_an_invalid_number_raises_invalid_phone_and_the_record_stays(
    sqlite_engine: Engine, bad: str
) -> None:
    engine = sqlite_engine
    cid = engine.add_contacts(engine.create_campaign("DE", default_region="DE").id, ["junk"]).contact_ids[0]
    before = frozen(engine, cid)
    with pytest.raises(InvalidPhone) as info:
        engine.update_phone(cid, bad)
    assert (info.value.contact_id, info.value.phone) == (cid, bad) and info.value.reason
    assert frozen(engine, cid) == before


def test_update_phone_to_a_blacklisted_number_parks_the_contact_in_blacklisted(engine: Engine) -> None:
    engine.blacklist_phone(NUMBER)
    cid = contact(engine, D, number="junk")
    assert engine.update_phone(cid, NUMBER).state is S.BLACKLISTED


def test_update_phone_to_a_number_another_contact_of_the_campaign_has_is_refused(engine: Engine) -> None:
    cid_campaign = campaign(engine, D)
    taken, invalid = engine.add_contacts(cid_campaign, [NUMBER, "junk"]).contact_ids
    before = frozen(engine, invalid)
    with pytest.raises(InvalidPhone) as info:
        engine.update_phone(invalid, NUMBER)
    assert str(taken) in str(info.value)
    assert frozen(engine, invalid) == before


def test_a_predictive_client_waiting_for_an_operator_keeps_the_call_and_is_blacklisted_at_its_end(
    engine: Engine,
) -> None:
    campaign = engine.create_campaign("predictive bl", mode="predictive", default_region="US")
    waiting = engine.add_contacts(campaign.id, ["212 555 0191"]).contact_ids[0]
    engine.dial(waiting)
    engine.answered(waiting)
    assert engine.blacklist_phone("+12125550191") == 0
    assert engine.get_contact(waiting).state == "awaiting_operator"
    after = engine.call_ended(waiting, "completed")
    assert after.state == "blacklisted"
    assert [e.to_state.value for e in engine.history(waiting)[-2:]] == ["canceled_by_client", "blacklisted"]
