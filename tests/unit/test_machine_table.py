"""The declarative machine (spec sections 1-3): validated when built, one per mode,
and drawn from the same table (tests/docs checks the README's drawings)."""

from __future__ import annotations

import pytest

from dialstate import ContactState, DialMode, InvalidTransition
from dialstate.engine import machine as machine_module
from dialstate.engine.diagram import dot, mermaid
from dialstate.engine.machine import MachineDefinitionError, build_all, machine_for, validate
from dialstate.engine.states import StateKind

S = ContactState


def test_each_mode_has_exactly_one_machine_shared_by_every_contact() -> None:
    machines = build_all()
    assert set(machines) == set(DialMode)
    for mode in DialMode:
        assert machine_for(mode) is machines[mode]


def test_a_machine_that_would_trap_a_contact_is_refused_when_built() -> None:
    moves = [("dial", S.READY, S.DIALING)]  # dialing has no way out
    with pytest.raises(MachineDefinitionError, match="dialing"):
        validate(DialMode.AGENTLESS, moves)


def test_a_final_state_that_can_be_left_by_anything_but_delete_is_refused() -> None:
    moves = [
        ("dial", S.READY, S.SUCCESS),
        ("retry_due", S.SUCCESS, S.READY),
        ("cancel", S.INVALID_RECORD, S.CANCELED_BY_ADMIN),
        ("cancel", S.BLACKLISTED, S.CANCELED_BY_ADMIN),
    ]
    with pytest.raises(MachineDefinitionError, match="final state success"):
        validate(DialMode.AGENTLESS, moves)


@pytest.mark.parametrize("mode", list(DialMode))
def test_every_state_of_a_mode_is_reachable_and_can_reach_an_end(mode: DialMode) -> None:
    machine = machine_for(mode)
    assert {S.READY, S.INVALID_RECORD, S.BLACKLISTED, S.DELETED} <= machine.states
    passing = {s for s in machine.states if s.kind is StateKind.PASSING}
    expected_passing = {
        DialMode.PREVIEW: {S.REJECTED_BY_OPERATOR, S.DIAL_FAILED},
        DialMode.PROGRESSIVE: {S.DIAL_FAILED},
        DialMode.PREDICTIVE: {S.DIAL_FAILED, S.CANCELED_BY_CLIENT},
        DialMode.AGENTLESS: {S.DIAL_FAILED},
    }[mode]
    assert passing == expected_passing


def test_a_refused_move_names_the_contact_state_trigger_and_what_is_allowed() -> None:
    machine = machine_for(DialMode.AGENTLESS)
    with pytest.raises(InvalidTransition) as info:
        machine.run(7, "ready", "accept", "before_call_work")
    err = info.value
    assert (err.contact_id, err.state, err.trigger, err.mode) == (7, "ready", "accept", "agentless")
    assert err.allowed == ("cancel", "delete", "dial", "update_phone")
    assert "contact 7" in str(err) and "accept" in str(err) and "dial" in str(err)


def test_the_machine_verdicts_come_from_transitions_and_are_remembered() -> None:
    machine = machine_module.build(DialMode.PREVIEW)  # a fresh machine, nothing remembered
    assert machine.run(1, "before_call_work", "dial", "dialing") == "dialing"
    assert machine.verdicts[("before_call_work", "dial", "dialing")] == "dialing"
    with pytest.raises(InvalidTransition):
        machine.run(1, "dialing", "call_ended", "before_call_work")


@pytest.mark.parametrize("mode", list(DialMode))
def test_the_diagrams_draw_every_lifecycle_move_of_the_table(mode: DialMode) -> None:
    text = mermaid(mode)
    assert text.startswith("stateDiagram-v2\n")
    for trigger, src, dest in machine_module.mode_rules(mode):
        if trigger in ("cancel", "delete", "blacklist") or (trigger == "update_phone" and src is not S.INVALID_RECORD):
            continue
        assert f"{src.value} --> {dest.value}: " in text
    assert f'"{mode.value}"' in dot(mode)
