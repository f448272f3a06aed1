"""The runtime machines: one `transitions.Machine` per dial mode, built once from the
declarative table, validated when built, and shared by every contact.

A contact is never given a machine of its own: its trigger runs against the mode's
machine with a token carrying the state loaded from its row and the destination the
policy decided. The machine then checks the move is one the table allows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from functools import cache

from transitions import EventData, Machine

from dialstate.engine.lifecycle import ENTRY_STATES, PUBLIC_TRIGGERS, RULES, SELF_LOOPS, STATES, Rule
from dialstate.engine.states import ContactState, DialMode, StateKind
from dialstate.errors import InvalidTransition, MachineDefinitionError

S = ContactState
_REFUSED = "<refused>"


class _Token:
    """What a trigger runs on: the state from the row and the decided destination."""

    __slots__ = ("state", "target")

    def __init__(self, state: str, target: str) -> None:
        self.state = state
        self.target = target


def _is_target(event: EventData) -> bool:
    """The condition of every move: it leads where the policy decided."""
    token: _Token = event.model  # type: ignore[assignment]
    return event.transition is not None and token.target == event.transition.dest


@dataclass(frozen=True)
class ModeMachine:
    mode: DialMode
    states: frozenset[ContactState]
    #: (trigger, source) -> the destinations the table allows.
    moves: dict[tuple[str, str], tuple[str, ...]]
    machine: Machine
    #: (state, trigger, target) -> the state the machine moved to, or _REFUSED.
    verdicts: dict[tuple[str, str, str], str] = field(default_factory=dict)

    def allowed(self, state: str) -> tuple[str, ...]:
        """The public triggers a contact in `state` accepts in this mode."""
        return _allowed(self, state)

    def check(self, contact_id: int, state: str, trigger: str, reason: str | None = None) -> None:
        if (trigger, state) not in self.moves and state not in SELF_LOOPS.get(trigger, ()):
            raise InvalidTransition(contact_id, state, trigger, self.allowed(state), self.mode.value, reason)

    def run(self, contact_id: int, state: str, trigger: str, target: str) -> str:
        """Run `trigger` for a contact in `state` towards `target`; return the new state.

        The machine has no callbacks with side effects, so its verdict depends only on
        (state, trigger, target): it is computed by `transitions` once and remembered,
        which keeps its ~16 µs per event off the per-transition hot path.
        """
        key = (state, trigger, target)
        verdict = self.verdicts.get(key)
        if verdict is None:
            verdict = self.verdicts[key] = self._run_machine(state, trigger, target)
        if verdict is _REFUSED:
            self.check(contact_id, state, trigger)
            raise InvalidTransition(
                contact_id, state, trigger, self.allowed(state), self.mode.value,
                f"the table has no move from {state} to {target} on {trigger}",
            )
        return verdict

    def _run_machine(self, state: str, trigger: str, target: str) -> str:
        if state == target and state in SELF_LOOPS.get(trigger, ()):
            return state
        if (trigger, state) not in self.moves:
            return _REFUSED
        token = _Token(state, target)
        if not self.machine.events[trigger].trigger(token):
            return _REFUSED
        return token.state


@cache
def _allowed_cached(mode: DialMode, state: str) -> tuple[str, ...]:
    m = machine_for(mode)
    return tuple(
        t for t in PUBLIC_TRIGGERS
        if (t, state) in m.moves or state in SELF_LOOPS.get(t, ())
    )


def _allowed(m: ModeMachine, state: str) -> tuple[str, ...]:
    return _allowed_cached(m.mode, state)


def mode_rules(mode: DialMode) -> list[tuple[str, ContactState, ContactState]]:
    """The (trigger, source, dest) moves of a mode, restricted to reachable states."""
    reachable = set(ENTRY_STATES)
    rules = [r for r in RULES if mode in r.modes]
    changed = True
    while changed:
        changed = False
        for rule in rules:
            if any(s in reachable for s in rule.sources):
                for dest in rule.dests:
                    if dest not in reachable:
                        reachable.add(dest)
                        changed = True
    return [
        (rule.trigger, src, dest)
        for rule in rules
        for src in rule.sources
        if src in reachable
        for dest in rule.dests
    ]


def validate(mode: DialMode, moves: Iterable[tuple[str, ContactState, ContactState]]) -> frozenset[ContactState]:
    """Check a mode's moves: every state reachable, passing states followed up, final
    states left only by `delete`, and a final state reachable from every state."""
    moves = list(moves)
    states = set(ENTRY_STATES) | {d for _, _, d in moves} | {s for _, s, _ in moves}
    out: dict[ContactState, set[tuple[str, ContactState]]] = defaultdict(set)
    for trigger, src, dest in moves:
        out[src].add((trigger, dest))
    problems = []
    for state in states:
        kind = state.kind
        if kind is StateKind.FINAL and any(t != "delete" for t, _ in out[state]):
            problems.append(f"final state {state} is left by {sorted(t for t, _ in out[state])}")
        if kind is StateKind.PASSING and not any(t in ("decide", "requeue") for t, _ in out[state]):
            problems.append(f"passing state {state} has no follow-up")
        if kind is not StateKind.FINAL and not out[state]:
            problems.append(f"state {state} is a trap (no way out)")
        if state is not S.DELETED and not _reaches_final(state, out):
            problems.append(f"state {state} cannot reach a final state")
    if problems:
        raise MachineDefinitionError(f"{mode.value} machine: " + "; ".join(sorted(problems)))
    return frozenset(states)


def _reaches_final(start: ContactState, out: dict[ContactState, set[tuple[str, ContactState]]]) -> bool:
    seen, todo = {start}, [start]
    while todo:
        state = todo.pop()
        for _, dest in out[state]:
            if dest.kind is StateKind.FINAL:
                return True
            if dest not in seen:
                seen.add(dest)
                todo.append(dest)
    return False


def _check_rules_used() -> None:
    used = {(r.trigger, r.sources, r.dests) for mode in DialMode for r in RULES
            if mode in r.modes and any(t == r.trigger for t, _, _ in mode_rules(mode))}
    dead = [r for r in RULES if (r.trigger, r.sources, r.dests) not in used]
    if dead:
        raise MachineDefinitionError(f"rules that no mode can use: {dead}")


def build(mode: DialMode) -> ModeMachine:
    moves = mode_rules(mode)
    states = validate(mode, moves)
    machine = Machine(
        model=None,
        states=sorted(s.value for s in states),
        initial=None,
        auto_transitions=False,
        send_event=True,
        name=mode.value,
    )
    table: dict[tuple[str, str], list[str]] = defaultdict(list)
    for trigger, src, dest in moves:
        if dest.value in table[(trigger, src.value)]:
            continue
        table[(trigger, src.value)].append(dest.value)
        machine.add_transition(trigger, src.value, dest.value, conditions=[_is_target])
    return ModeMachine(mode, states, {k: tuple(v) for k, v in table.items()}, machine)


@cache
def machine_for(mode: DialMode) -> ModeMachine:
    """The one machine of a dial mode (built and validated on first use)."""
    return build(mode)


def check_timers(timeout_rules: Collection[str]) -> None:
    """Check the timers of the state table: each names its time (a setting or a
    column), fires a trigger that moves the contact out of (or keeps it in) that state
    in every mode the timer applies to, and that trigger has a timeout rule."""
    problems = []
    for state, spec in STATES.items():
        timer = spec.timer
        if timer is None:
            continue
        if (timer.setting is None) == (timer.column is None):
            problems.append(f"the timer of {state} needs exactly one of a setting or a column")
        if timer.fires not in timeout_rules:
            problems.append(f"timed state {state} fires {timer.fires!r}, which has no timeout rule")
        for mode in timer.modes:
            machine = machine_for(mode)
            if state in machine.states and (timer.fires, state.value) not in machine.moves \
                    and state not in SELF_LOOPS.get(timer.fires, ()):
                problems.append(f"timed state {state} fires {timer.fires!r}, which does not move it in {mode} mode")
    if problems:
        raise MachineDefinitionError("state table: " + "; ".join(sorted(problems)))


def build_all(timeout_rules: Collection[str] | None = None) -> dict[DialMode, ModeMachine]:
    """Build and check every mode's machine and the timers of the state table (against
    the engine's timeout rules unless others are given)."""
    if timeout_rules is None:
        from dialstate.engine.plans import TIMEOUT_RULES

        timeout_rules = TIMEOUT_RULES
    _check_rules_used()
    machines = {mode: machine_for(mode) for mode in DialMode}
    check_timers(timeout_rules)
    return machines


def rules_for(mode: DialMode) -> list[Rule]:
    return [r for r in RULES if mode in r.modes]
