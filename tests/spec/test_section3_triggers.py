"""Spec section 3: every (mode, state, trigger) cell is either a valid transition
whose result is checked, or an `InvalidTransition` that changes nothing."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from dialstate import (
    ContactState,
    DialMode,
    Engine,
    InvalidTransition,
    Outcome,
    RetryPolicy,
)
from dialstate.engine.machine import machine_for
from dialstate.engine.table import PUBLIC_TRIGGERS
from tests.support.invariants import assert_history_continuous

S = ContactState
P, G, D, A = DialMode.PREVIEW, DialMode.PROGRESSIVE, DialMode.PREDICTIVE, DialMode.AGENTLESS
_numbers = itertools.count(1000)


def fresh_phone() -> str:
    return f"+1 212 555 {next(_numbers):04d}"


# A policy under which the passing states can be left final (no retry for abandoned),
# and agentless contacts can be exhausted (no retry for voicemail).
POLICY = RetryPolicy(max_attempts=5, delays={Outcome.ABANDONED: None, Outcome.VOICEMAIL: None})

# How to bring a new `ready` contact into each state, per mode.
Path = list[Callable[[Engine, int], object]]
assign: Callable[[Engine, int], object] = lambda e, c: e.assign_operator(c, "op1")  # noqa: E731
accept: Callable[[Engine, int], object] = lambda e, c: e.accept(c)  # noqa: E731
dial: Callable[[Engine, int], object] = lambda e, c: e.dial(c)  # noqa: E731


def ended(outcome: str) -> Callable[[Engine, int], object]:
    return lambda e, c: e.call_ended(c, outcome)


def answered(operator: str | None = None) -> Callable[[Engine, int], object]:
    return lambda e, c: e.answered(c, operator_id=operator)


wrap: Callable[[Engine, int], object] = lambda e, c: e.wrap_up(c, "success")  # noqa: E731
close: Callable[[Engine, int], object] = lambda e, c: e.wrap_up(c, "closed")  # noqa: E731

OPERATOR_FIRST: dict[S, Path] = {
    S.READY: [],
    S.OPERATOR_ASSIGNED: [assign],
    S.AWAITING_OPERATOR: [lambda e, c: e.wait_for_operator(c)],
    S.BEFORE_CALL_WORK: [assign, accept],
    S.DIALING: [assign, accept, dial],
    S.CALL_IN_PROGRESS: [assign, accept, dial, answered()],
    S.AFTER_CALL_WORK: [assign, accept, dial, answered(), ended("completed")],
    S.RETRY_SCHEDULED: [assign, accept, dial, ended("busy")],
    S.SUCCESS: [assign, accept, dial, answered(), ended("completed"), wrap],
    S.DIAL_FAILED: [assign, accept, dial, ended("not_allowed")],
    S.EXHAUSTED: [assign, accept, dial, answered(), ended("completed"), close],
}
PATHS: dict[DialMode, dict[S, Path]] = {
    P: OPERATOR_FIRST,
    G: OPERATOR_FIRST,
    D: {
        S.READY: [],
        S.DIALING: [dial],
        S.AWAITING_OPERATOR: [dial, answered()],
        S.CALL_IN_PROGRESS: [dial, answered("op1")],
        S.AFTER_CALL_WORK: [dial, answered("op1"), ended("completed")],
        S.RETRY_SCHEDULED: [dial, ended("busy")],
        S.SUCCESS: [dial, answered("op1"), ended("completed"), wrap],
        S.DIAL_FAILED: [dial, ended("not_allowed")],
        S.CANCELED_BY_CLIENT: [dial, answered(), ended("completed")],
        S.EXHAUSTED: [dial, answered("op1"), ended("completed"), close],
    },
    A: {
        S.READY: [],
        S.DIALING: [dial],
        S.CALL_IN_PROGRESS: [dial, answered()],
        S.RETRY_SCHEDULED: [dial, ended("busy")],
        S.SUCCESS: [dial, answered(), ended("completed")],
        S.DIAL_FAILED: [dial, ended("not_allowed")],
        S.EXHAUSTED: [dial, ended("voicemail")],
    },
}
for _paths in PATHS.values():
    _paths[S.CANCELED_BY_ADMIN] = [lambda e, c: e.cancel(c)]
    _paths[S.DELETED] = [lambda e, c: e.delete(c)]

# How each trigger is called in the table, with default arguments.
CALLS: dict[str, Callable[[Engine, int], object]] = {
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
    "update_phone": lambda e, c: e.update_phone(c, fresh_phone()),
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


def _reachable(mode: DialMode) -> list[S]:
    return sorted(PATHS[mode].keys() | {S.BLACKLISTED, S.INVALID_RECORD}, key=lambda s: s.value)


CELLS = [
    pytest.param(mode, state, trigger, id=f"{mode.value}-{state.value}-{trigger}")
    for mode in DialMode
    for state in _reachable(mode)
    for trigger in PUBLIC_TRIGGERS
]


def _contact_in(engine: Engine, mode: DialMode, state: S) -> int:
    campaign = engine.create_campaign(f"{mode.value} table", mode=mode, retry_policy=POLICY,
                                      dispositions={"closed": "final"})
    if state is S.INVALID_RECORD:
        return engine.add_contacts(campaign.id, ["not a number"]).contact_ids[0]
    phone = fresh_phone()
    if state is S.BLACKLISTED:
        engine.blacklist_phone(phone)
    cid = engine.add_contacts(campaign.id, [phone]).contact_ids[0]
    for step in PATHS[mode].get(state, []):
        step(engine, cid)
    assert engine.get_contact(cid).state is state
    return cid


@pytest.mark.parametrize(("mode", "state", "trigger"), CELLS)
def test_every_trigger_in_every_state_of_every_mode_is_valid_or_refused(
    engine: Engine, mode: DialMode, state: S, trigger: str
) -> None:
    cid = _contact_in(engine, mode, state)
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
