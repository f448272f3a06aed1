"""Spec section 3, triggers: every (mode, state, trigger) cell is either a valid
transition whose result is checked, or an `InvalidTransition` that changes nothing;
the order of claims; the blacklist (campaign-wide, and during a call); phone
corrections."""

from __future__ import annotations

import functools
from collections.abc import Callable

import pytest

from dialstate import (
    Contact,
    ContactState,
    DialMode,
    Engine,
    InvalidPhone,
    InvalidTransition,
    Outcome,
    RetryPolicy,
)
from dialstate.engine.lifecycle import PUBLIC_TRIGGERS
from dialstate.engine.machine import machine_for
from dialstate.testing import VirtualClock
from tests.support import (
    assert_history_continuous,
    contact_record,
    new_campaign,
    new_contact,
    new_contacts,
    new_phone,
    resting_states,
    walk_to,
)

S = ContactState
O = Outcome
P, G, D, A = DialMode.PREVIEW, DialMode.PROGRESSIVE, DialMode.PREDICTIVE, DialMode.AGENTLESS

# A policy under which the passing states can be left final (no retry for abandoned),
# and contacts are exhausted by one unanswered call (no retry for voicemail).
POLICY = RetryPolicy(max_attempts=5, delays={Outcome.ABANDONED: None, Outcome.VOICEMAIL: None})

# How each trigger is called in the table, with default arguments.
CALLS: dict[str, Callable[[Engine, int], Contact]] = {
    "assign_operator": lambda e, c: e.assign_operator(c, "op9"),
    "accept": lambda e, c: e.accept(c),
    "reject": lambda e, c: e.reject(c),
    "wait_for_operator": lambda e, c: e.wait_for_operator(c),
    "dial": lambda e, c: e.dial(c),
    "dial_failed": lambda e, c: e.dial_failed(c, "no trunk"),
    "answered": lambda e, c: e.answered(c),
    "connect_operator": lambda e, c: e.connect_operator(c, "op2"),
    "call_ended": lambda e, c: e.call_ended(c, "busy"),
    "wrap_up": lambda e, c: e.wrap_up(c, "success"),
    "retry_due": lambda e, c: e.retry_due(c),
    "cancel": lambda e, c: e.cancel(c),
    "delete": lambda e, c: e.delete(c),
    "update_phone": lambda e, c: e.update_phone(c, new_phone()),
}
assert set(CALLS) == set(PUBLIC_TRIGGERS)

OPEN = {S.READY, S.OPERATOR_ASSIGNED, S.AWAITING_OPERATOR, S.BEFORE_CALL_WORK, S.DIALING,
        S.CALL_IN_PROGRESS, S.AFTER_CALL_WORK, S.RETRY_SCHEDULED}
PARKED = {S.BLACKLISTED, S.INVALID_RECORD}


def expected(mode: DialMode, state: S, trigger: str) -> S | None:
    """The spec's table (section 3 with section 4's defaults): where a contact in
    `state` goes on `trigger` called with CALLS' arguments; None = InvalidTransition."""
    operator_first = mode in (P, G)
    cell: dict[tuple[str, S], S] = {}
    if operator_first:
        cell |= {
            ("assign_operator", S.READY): S.OPERATOR_ASSIGNED,
            ("assign_operator", S.AWAITING_OPERATOR): S.OPERATOR_ASSIGNED,
            ("wait_for_operator", S.READY): S.AWAITING_OPERATOR,
            ("accept", S.OPERATOR_ASSIGNED): S.BEFORE_CALL_WORK,
            ("dial", S.BEFORE_CALL_WORK): S.DIALING,
            ("dial_failed", S.BEFORE_CALL_WORK): S.RETRY_SCHEDULED,
        }
    else:
        cell[("dial", S.READY)] = S.DIALING
    if mode is P:
        cell[("reject", S.OPERATOR_ASSIGNED)] = S.READY
    cell[("dial_failed", S.DIALING)] = S.RETRY_SCHEDULED
    cell[("answered", S.DIALING)] = S.AWAITING_OPERATOR if mode is D else S.CALL_IN_PROGRESS
    cell[("call_ended", S.DIALING)] = S.RETRY_SCHEDULED
    if mode is D:
        cell[("connect_operator", S.AWAITING_OPERATOR)] = S.CALL_IN_PROGRESS
        cell[("call_ended", S.AWAITING_OPERATOR)] = S.CANCELED_BY_CLIENT  # POLICY: no retry for abandoned
    if mode is A:
        cell[("call_ended", S.CALL_IN_PROGRESS)] = S.RETRY_SCHEDULED
    else:
        cell[("call_ended", S.CALL_IN_PROGRESS)] = S.AFTER_CALL_WORK
        cell[("wrap_up", S.AFTER_CALL_WORK)] = S.SUCCESS
    cell[("retry_due", S.RETRY_SCHEDULED)] = S.READY
    for s in OPEN | PARKED:
        cell[("cancel", s)] = S.CANCELED_BY_ADMIN
    for s in S:
        if s is not S.DELETED:
            cell[("delete", s)] = S.DELETED
    for s in OPEN:
        cell[("update_phone", s)] = s
    cell[("update_phone", S.INVALID_RECORD)] = S.READY
    return cell.get((trigger, state))


CELLS = [
    pytest.param(mode, state, trigger, id=f"{mode.value}-{state.value}-{trigger}")
    for mode in DialMode
    for state in resting_states(mode)
    for trigger in PUBLIC_TRIGGERS
]


@pytest.mark.parametrize(("mode", "state", "trigger"), CELLS)
def test_every_trigger_in_every_state_of_every_mode_is_valid_or_refused(
    engine: Engine, mode: DialMode, state: S, trigger: str
) -> None:
    cid = walk_to(engine, new_campaign(engine, mode, retry_policy=POLICY), state)
    before = engine.get_contact(cid)
    history_before = engine.history(cid)
    want = expected(mode, state, trigger)
    allowed_by_machine = trigger in machine_for(mode).allowed(state.value)
    assert allowed_by_machine == (want is not None), "the declarative table disagrees with the spec"
    if want is None:
        with pytest.raises(InvalidTransition) as info:
            CALLS[trigger](engine, cid)
        err = info.value
        assert (err.contact_id, err.state, err.trigger) == (cid, state.value, trigger)
        assert set(err.allowed) == set(machine_for(mode).allowed(state.value))
        assert str(cid) in str(err) and state.value in str(err) and trigger in str(err)
        assert engine.get_contact(cid) == before
        assert engine.history(cid) == history_before
    else:
        after = CALLS[trigger](engine, cid)
        assert after.state is want
        assert engine.get_contact(cid) == after
        assert after.version == before.version + 1
        assert len(engine.history(cid)) > len(history_before)
    assert_history_continuous(engine, cid)


# -- the order of claims ----------------------------------------------------------------


def added_ten_seconds_later(engine: Engine, clock: VirtualClock, campaign_id: int, phone: str, priority: int) -> int:
    """A contact with `priority`, added ten seconds after the one before it."""
    clock.advance(10)
    return new_contact(engine, campaign_id, {"phone": phone, "priority": priority})


def test_assign_next_hands_out_higher_priority_first_then_the_earliest_ready(
    engine: Engine, clock: VirtualClock
) -> None:
    campaign = new_campaign(engine, P)
    add = functools.partial(added_ten_seconds_later, engine, clock, campaign)
    a = add("+1 212 555 0001", 0)
    b = add("+1 212 555 0002", 5)
    e = add("+1 212 555 0003", 0)
    c = add("+1 212 555 0004", 0)
    d = add("+1 212 555 0005", 5)
    clock.advance(10)
    engine.assign_operator(e, "op9")
    engine.reject(e)  # back on the list now: it became ready last
    clock.advance(10)
    order = []
    while (got := engine.assign_next(campaign, "op1")) is not None:
        order.append(got.id)
    assert order == [b, d, a, c, e]


def test_dial_next_takes_higher_priority_first_then_the_earliest_ready_in_each_batch(
    engine: Engine, clock: VirtualClock
) -> None:
    campaign = new_campaign(engine, D)
    add = functools.partial(added_ten_seconds_later, engine, clock, campaign)
    retried = add("+1 212 555 0001", 0)
    urgent_retried = add("+1 212 555 0002", 9)
    engine.dial(retried)
    engine.dial(urgent_retried)
    low_early = add("+1 212 555 0003", 0)
    mid = add("+1 212 555 0004", 3)
    low_late = add("+1 212 555 0005", 0)
    engine.call_ended(retried, Outcome.BUSY)
    engine.call_ended(urgent_retried, Outcome.BUSY)
    clock.advance(600)
    engine.retry_due(retried)  # created first, ready again last
    engine.retry_due(urgent_retried)
    first = [c.id for c in engine.dial_next(campaign, 3)]
    rest = [c.id for c in engine.dial_next(campaign, 3)]
    assert first == [urgent_retried, mid, low_early]
    assert rest == [low_late, retried]


def test_a_blacklisted_or_invalid_contact_is_never_claimed(engine: Engine) -> None:
    campaign = new_campaign(engine, D)
    engine.blacklist_phone("+1 212 555 0001")
    ids = new_contacts(engine, campaign, "+1 212 555 0001", "junk", "+1 212 555 0003")
    assert [c.id for c in engine.dial_next(campaign, 10)] == [ids[2]]
    assert engine.dial_next(campaign, 10) == []


# -- the blacklist during a call --------------------------------------------------------

NUMBER = "+1 212 555 9999"

# The states blacklist_phone moves a contact out of, each in a mode that has it.
WAITING: dict[ContactState, DialMode] = {
    S.READY: D,
    S.OPERATOR_ASSIGNED: P,
    S.AWAITING_OPERATOR: G,
    S.BEFORE_CALL_WORK: P,
    S.RETRY_SCHEDULED: A,
}


def test_blacklist_phone_moves_every_waiting_contact_with_that_number_at_once(
    engine: Engine, clock: VirtualClock
) -> None:
    contacts = {state: walk_to(engine, mode, state, phone=NUMBER) for state, mode in WAITING.items()}
    elsewhere = new_contact(engine, D)
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


# (case, mode, the state of the call, how the call ends)
IN_CALL: list[tuple[str, DialMode, ContactState, Callable[[Engine, int], Contact]]] = [
    ("dialing-ends-busy", D, S.DIALING, lambda e, c: e.call_ended(c, O.BUSY)),
    ("dialing-ends-completed", A, S.DIALING, lambda e, c: e.call_ended(c, O.COMPLETED)),
    ("dialing-fails", A, S.DIALING, lambda e, c: e.dial_failed(c, "trunk")),
    ("agentless-call-ends", A, S.CALL_IN_PROGRESS, lambda e, c: e.call_ended(c, O.COMPLETED)),
    ("operator-call-wrapped-up", P, S.CALL_IN_PROGRESS, lambda e, c: end_then_wrap_up(e, c, "success")),
]


@pytest.mark.parametrize(("name", "mode", "state", "end"), IN_CALL, ids=[c[0] for c in IN_CALL])
def test_a_contact_in_a_call_keeps_its_call_and_becomes_blacklisted_at_its_end(
    sqlite_engine: Engine, name: str, mode: DialMode, state: ContactState, end: Callable[[Engine, int], Contact],
) -> None:
    engine = sqlite_engine
    cid = walk_to(engine, mode, state, phone=NUMBER)
    during = engine.get_contact(cid)
    assert engine.blacklist_phone(NUMBER) == 0
    assert engine.get_contact(cid) == during
    assert end(engine, cid).state is S.BLACKLISTED
    assert_history_continuous(engine, cid)


def test_unblacklist_phone_brings_the_blacklisted_contacts_back_to_ready(engine: Engine, clock: VirtualClock) -> None:
    engine.blacklist_phone(NUMBER)
    added_blacklisted = new_contact(engine, P, NUMBER)
    moved_later = new_contact(engine, D, "+1 212 555 8888")
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
    cid = new_contact(engine, A, NUMBER)
    engine.dial(cid)
    engine.blacklist_phone(NUMBER)
    engine.unblacklist_phone(NUMBER)
    assert engine.get_contact(cid).state is S.DIALING
    assert engine.call_ended(cid, O.BUSY).state is S.RETRY_SCHEDULED


def test_a_predictive_client_waiting_for_an_operator_keeps_the_call_and_is_blacklisted_at_its_end(
    engine: Engine,
) -> None:
    waiting = walk_to(engine, D, S.AWAITING_OPERATOR, phone="212 555 0191", default_region="US")
    assert engine.blacklist_phone("+12125550191") == 0
    assert engine.get_contact(waiting).state == "awaiting_operator"
    after = engine.call_ended(waiting, "completed")
    assert after.state == "blacklisted"
    assert [e.to_state.value for e in engine.history(waiting)[-2:]] == ["canceled_by_client", "blacklisted"]


# -- phone corrections -----------------------------------------------------------------


def test_update_phone_moves_an_invalid_record_to_ready_with_the_number_in_e164(engine: Engine) -> None:
    cid = new_contact(engine, P, "030 12a4567", default_region="DE")
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
    cid = new_contact(engine, P, "junk", default_region="DE")
    before = contact_record(engine, cid)
    with pytest.raises(InvalidPhone) as info:
        engine.update_phone(cid, bad)
    assert (info.value.contact_id, info.value.phone) == (cid, bad) and info.value.reason
    assert contact_record(engine, cid) == before


def test_update_phone_to_a_blacklisted_number_parks_the_contact_in_blacklisted(engine: Engine) -> None:
    engine.blacklist_phone(NUMBER)
    cid = new_contact(engine, D, "junk")
    assert engine.update_phone(cid, NUMBER).state is S.BLACKLISTED


def test_update_phone_to_a_number_another_contact_of_the_campaign_has_is_refused(engine: Engine) -> None:
    taken, invalid = new_contacts(engine, new_campaign(engine, D), NUMBER, "junk")
    before = contact_record(engine, invalid)
    with pytest.raises(InvalidPhone) as info:
        engine.update_phone(invalid, NUMBER)
    assert str(taken) in str(info.value)
    assert contact_record(engine, invalid) == before
