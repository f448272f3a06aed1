"""Calls (spec sections 3 and 8): each call's id and the stale events of other calls,
and idempotency keys, which make a repeated trigger return the same snapshot and
write nothing."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from dialstate import (
    Contact,
    ContactState,
    DialMode,
    Engine,
    IdempotencyConflict,
    InvalidTransition,
    Outcome,
    StaleCallEvent,
)
from dialstate.testing import VirtualClock
from tests.support import contact_record, new_campaign, new_contact, new_contacts, new_phone, new_phones, walk, walk_to

S = ContactState
O = Outcome
P, D, A = DialMode.PREVIEW, DialMode.PREDICTIVE, DialMode.AGENTLESS


# -- call ids -------------------------------------------------------------------------


def test_dial_gives_each_call_a_fresh_unique_call_id_when_none_is_given(engine: Engine) -> None:
    first, second = new_contact(engine, A), new_contact(engine, A)
    a, b = engine.dial(first), engine.dial(second)
    assert a.call_id and b.call_id and a.call_id != b.call_id
    engine.call_ended(first, O.BUSY)
    engine.retry_due(first)
    again = engine.dial(first)
    assert again.call_id and again.call_id != a.call_id
    assert engine.history(first)[-1].call_id == again.call_id


def test_dial_next_gives_each_call_a_fresh_unique_call_id(engine: Engine) -> None:
    campaign = new_campaign(engine, D)
    new_contacts(engine, campaign, *new_phones(6))
    calls = engine.dial_next(campaign, 6)
    ids = [c.call_id for c in calls]
    assert len(calls) == 6 and all(ids) and len(set(ids)) == 6
    for c in calls:
        assert engine.history(c.id)[-1].call_id == c.call_id


def test_dial_keeps_a_call_id_the_caller_gives(engine: Engine) -> None:
    cid = new_contact(engine, P)
    dialed = walk(engine, cid, S.DIALING, call_id="pbx-4711")
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
    cid = walk_to(engine, mode, S.DIALING, call_id="current")
    before = contact_record(engine, cid)
    with pytest.raises(StaleCallEvent) as info:
        send(engine, cid, "someone-else")
    assert (info.value.contact_id, info.value.trigger) == (cid, event)
    assert (info.value.call_id, info.value.current_call_id) == ("someone-else", "current")
    assert contact_record(engine, cid) == before


@pytest.mark.parametrize(("mode", "state", "then"), [
    (D, S.AWAITING_OPERATOR, []),
    (D, S.AWAITING_OPERATOR, [lambda e, c: e.connect_operator(c, "op1")]),
    (A, S.CALL_IN_PROGRESS, []),
], ids=["awaiting-operator", "connected", "agentless-in-call"])
def test_a_call_end_for_another_call_is_stale_during_the_call_too(
    sqlite_engine: Engine, mode: DialMode, state: ContactState, then: list[Callable[[Engine, int], object]]
) -> None:
    engine = sqlite_engine
    cid = walk_to(engine, mode, state, call_id="current")
    for step in then:
        step(engine, cid)
    before = contact_record(engine, cid)
    with pytest.raises(StaleCallEvent):
        engine.call_ended(cid, O.COMPLETED, call_id="other")
    assert contact_record(engine, cid) == before


def test_a_late_duplicate_end_of_the_finished_call_is_refused_and_changes_nothing(engine: Engine) -> None:
    cid = new_contact(engine, A)
    call = engine.dial(cid).call_id
    assert call is not None
    engine.call_ended(cid, O.BUSY, call_id=call)
    before = contact_record(engine, cid)
    with pytest.raises(InvalidTransition):
        engine.call_ended(cid, O.BUSY, call_id=call)
    with pytest.raises(InvalidTransition):
        engine.answered(cid, call_id=call)
    assert contact_record(engine, cid) == before


def test_a_late_event_of_an_earlier_call_is_stale_once_the_contact_is_on_a_new_call(engine: Engine) -> None:
    cid = new_contact(engine, A)
    old = engine.dial(cid).call_id
    assert old is not None
    engine.call_ended(cid, O.NO_ANSWER, call_id=old)
    engine.retry_due(cid)
    new = engine.dial(cid).call_id
    before = contact_record(engine, cid)
    for send in (lambda: engine.call_ended(cid, O.NO_ANSWER, call_id=old),
                 lambda: engine.answered(cid, call_id=old),
                 lambda: engine.dial_failed(cid, call_id=old)):
        with pytest.raises(StaleCallEvent):
            send()
    assert contact_record(engine, cid) == before
    assert engine.call_ended(cid, O.COMPLETED, call_id=new).state is S.SUCCESS


def test_a_late_dial_failed_for_the_previous_call_is_refused_while_the_next_one_is_prepared(engine: Engine) -> None:
    cid = new_contact(engine, P)
    walk(engine, cid, S.DIALING, call_id="c-1")
    engine.call_ended(cid, O.BUSY, call_id="c-1")
    engine.retry_due(cid)
    engine.assign_operator(cid, "op1")
    engine.accept(cid)  # before_call_work: the operator prepares the second call
    before = contact_record(engine, cid)
    with pytest.raises((StaleCallEvent, InvalidTransition)):
        engine.dial_failed(cid, "late report of the first call", call_id="c-1")
    assert contact_record(engine, cid) == before


def test_a_late_duplicate_answer_during_the_call_is_refused(engine: Engine) -> None:
    cid = new_contact(engine, A)
    call = engine.dial(cid).call_id
    engine.answered(cid, call_id=call)
    before = contact_record(engine, cid)
    with pytest.raises(InvalidTransition):
        engine.answered(cid, call_id=call)
    assert contact_record(engine, cid) == before


# -- idempotency keys -----------------------------------------------------------------

# (trigger, mode, the state it is called in, the call with an idempotency key)
KEYED: list[tuple[str, DialMode, ContactState, Callable[[Engine, int, str], Contact]]] = [
    ("assign_operator", P, S.READY, lambda e, c, k: e.assign_operator(c, "op1", idempotency_key=k)),
    ("dial", A, S.READY, lambda e, c, k: e.dial(c, idempotency_key=k)),
    ("answered", A, S.DIALING, lambda e, c, k: e.answered(c, idempotency_key=k)),
    ("call_ended", A, S.DIALING, lambda e, c, k: e.call_ended(c, O.BUSY, idempotency_key=k)),
    ("dial_failed", D, S.DIALING, lambda e, c, k: e.dial_failed(c, "x", idempotency_key=k)),
    ("reject", P, S.OPERATOR_ASSIGNED, lambda e, c, k: e.reject(c, idempotency_key=k)),
    ("cancel", P, S.READY, lambda e, c, k: e.cancel(c, idempotency_key=k)),
]


@pytest.mark.parametrize(("trigger", "mode", "state", "call"), KEYED, ids=[k[0] for k in KEYED])
def test_a_repeated_call_with_the_same_idempotency_key_returns_the_same_snapshot_and_writes_nothing(
    sqlite_engine: Engine, clock: VirtualClock, trigger: str, mode: DialMode, state: ContactState,
    call: Callable[[Engine, int, str], Contact],
) -> None:
    engine = sqlite_engine
    cid = walk_to(engine, mode, state)
    first = call(engine, cid, f"key-{trigger}")
    after_first = contact_record(engine, cid)
    clock.advance(30)
    again = call(engine, cid, f"key-{trigger}")
    assert again == first
    assert contact_record(engine, cid) == after_first


def test_an_idempotent_repeat_returns_the_old_snapshot_even_after_later_transitions(engine: Engine) -> None:
    cid = new_contact(engine, P)
    assigned = engine.assign_operator(cid, "op1", idempotency_key="assign-1")
    engine.accept(cid)
    dialed = engine.dial(cid)
    before = contact_record(engine, cid)
    repeat = engine.assign_operator(cid, "op1", idempotency_key="assign-1")
    assert repeat == assigned and repeat.state is S.OPERATOR_ASSIGNED
    assert contact_record(engine, cid) == before
    assert engine.get_contact(cid).state is S.DIALING and engine.get_contact(cid).call_id == dialed.call_id


def test_an_idempotent_repeat_of_a_contact_with_nested_data_returns_an_equal_snapshot(engine: Engine) -> None:
    cid = new_contact(engine, P, {
        "phone": new_phone(), "external_id": "crm-9", "priority": 2, "timezone": "America/Chicago",
        "data": {"name": "Ada", "tags": ["vip", {"since": 2019}], "address": {"city": "Berlin"}},
    })
    first = engine.assign_operator(cid, "op1", idempotency_key="nested")
    again = engine.assign_operator(cid, "op1", idempotency_key="nested")
    assert again == first
    assert again.data["tags"][1]["since"] == 2019 and again.data["address"]["city"] == "Berlin"
    assert (again.external_id, again.priority, again.timezone) == ("crm-9", 2, "America/Chicago")


def test_an_idempotent_dial_repeats_with_the_same_call_id(engine: Engine) -> None:
    cid = new_contact(engine, D)
    first = engine.dial(cid, idempotency_key="dial-1")
    assert engine.dial(cid, idempotency_key="dial-1").call_id == first.call_id


def test_an_idempotency_key_survives_a_new_engine_on_the_same_database(sqlite_engine: Engine, sqlite_url: str) -> None:
    cid = new_contact(sqlite_engine, P)
    first = sqlite_engine.assign_operator(cid, "op1", idempotency_key="k")
    other = Engine(sqlite_url)
    try:
        assert other.assign_operator(cid, "op1", idempotency_key="k") == first
    finally:
        other.close()
    assert len(sqlite_engine.history(cid)) == 2


def test_reusing_an_idempotency_key_for_another_contact_raises_a_clear_error(engine: Engine) -> None:
    one, two = new_contact(engine, P), new_contact(engine, P)
    engine.assign_operator(one, "op1", idempotency_key="shared")
    before = contact_record(engine, two)
    with pytest.raises(IdempotencyConflict) as info:
        engine.assign_operator(two, "op1", idempotency_key="shared")
    assert (info.value.key, info.value.contact_id, info.value.trigger) == ("shared", two, "assign_operator")
    assert "shared" in str(info.value) and str(two) in str(info.value) and str(one) in str(info.value)
    assert contact_record(engine, two) == before


def test_reusing_an_idempotency_key_for_another_trigger_raises_a_clear_error(engine: Engine) -> None:
    cid = new_contact(engine, P)
    engine.assign_operator(cid, "op1", idempotency_key="k-7")
    before = contact_record(engine, cid)
    with pytest.raises(IdempotencyConflict) as info:
        engine.accept(cid, idempotency_key="k-7")
    assert info.value.trigger == "accept" and "assign_operator" in str(info.value)
    assert contact_record(engine, cid) == before


def test_a_refused_call_does_not_use_up_its_idempotency_key(engine: Engine) -> None:
    cid = new_contact(engine, P)
    with pytest.raises(InvalidTransition):
        engine.accept(cid, idempotency_key="k-1")
    engine.assign_operator(cid, "op1")
    assert engine.accept(cid, idempotency_key="k-1").state is S.BEFORE_CALL_WORK
