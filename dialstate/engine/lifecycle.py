"""The lifecycle as data: one declarative table of moves for all dial modes, and one
row of behaviour per state.

`RULES` says which trigger moves a contact from which states to which possible
states, in which modes. Where a rule has several destinations, the policy decides
which one (a retry, exhaustion, the blacklist ...); the machine checks that the
decided destination is one the table allows.

`STATES` says, for each state, its kind, its timer (how long a contact may stay,
in which modes, and which trigger the scheduler runs when that time is up) and the
columns that entering or leaving it clears. The runtime machines, the README
diagrams, the "allowed now" lists of `InvalidTransition`, the scheduler's dispatch,
the due times and the sets below are all derived from these two tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType

from dialstate.engine.states import ContactState, DialMode, StateKind

S = ContactState
M = DialMode

ALL = frozenset(DialMode)
OPERATOR = frozenset({M.PREVIEW, M.PROGRESSIVE, M.PREDICTIVE})
ASSIGNED = frozenset({M.PREVIEW, M.PROGRESSIVE})  # an operator is assigned before the call
SYSTEM_DIALS = frozenset({M.PREDICTIVE, M.AGENTLESS})


# -- per-state behaviour ------------------------------------------------------------------


@dataclass(frozen=True)
class Timer:
    """How long a contact may stay in a state, and what the scheduler does then.

    The due time is `setting` seconds (a campaign setting) after entering the state,
    or the time held in the contact's `column`. When it comes, the scheduler runs
    the trigger `fires` (its timeout rule lives in `dialstate.engine.plans`).
    """

    fires: str
    setting: str | None = None
    column: str | None = None
    modes: frozenset[DialMode] = ALL


@dataclass(frozen=True)
class StateSpec:
    kind: StateKind
    timer: Timer | None = None
    #: Columns set to NULL when a contact enters the state.
    entry_clears: tuple[str, ...] = ()
    #: Columns set to NULL when a contact leaves the state.
    exit_clears: tuple[str, ...] = ()


_CALLBACK = ("callback_operator_id", "personal_until")
_PARKED_CLEARS = ("next_attempt_at", *_CALLBACK)

STATES: Mapping[ContactState, StateSpec] = MappingProxyType({
    # A personal callback waits for its operator until `personal_until`, then opens to all.
    S.READY: StateSpec(StateKind.OPEN, Timer("open_callback", column="personal_until"),
                       entry_clears=("operator_id",), exit_clears=_CALLBACK),
    S.OPERATOR_ASSIGNED: StateSpec(StateKind.OPEN, Timer("release", "assign_timeout_seconds", modes=ASSIGNED)),
    S.REJECTED_BY_OPERATOR: StateSpec(StateKind.PASSING),
    # Only in predictive is a client on the line while waiting; the operator-first
    # modes wait for an operator with no call, and no time limit.
    S.AWAITING_OPERATOR: StateSpec(
        StateKind.OPEN, Timer("call_ended", "operator_wait_seconds", modes=frozenset({M.PREDICTIVE}))),
    S.BEFORE_CALL_WORK: StateSpec(StateKind.OPEN, Timer("dial", "before_call_work_seconds", modes=ASSIGNED)),
    S.DIALING: StateSpec(StateKind.OPEN, Timer("call_ended", "dial_timeout_seconds")),
    S.CALL_IN_PROGRESS: StateSpec(StateKind.OPEN, Timer("call_ended", "max_call_seconds")),
    S.AFTER_CALL_WORK: StateSpec(StateKind.OPEN, Timer("wrap_up", "after_call_work_seconds", modes=OPERATOR)),
    S.RETRY_SCHEDULED: StateSpec(StateKind.OPEN, Timer("retry_due", column="next_attempt_at"),
                                 entry_clears=("operator_id",), exit_clears=("next_attempt_at",)),
    S.SUCCESS: StateSpec(StateKind.FINAL),
    S.DIAL_FAILED: StateSpec(StateKind.PASSING),
    S.CANCELED_BY_CLIENT: StateSpec(StateKind.PASSING),
    # Parked while its number is on the blacklist; an entry that expires releases it
    # then (`next_attempt_at` holds the expiry, None for an entry without one).
    S.BLACKLISTED: StateSpec(StateKind.PARKED, Timer("unblacklist", column="next_attempt_at"),
                             entry_clears=_PARKED_CLEARS, exit_clears=("next_attempt_at",)),
    S.INVALID_RECORD: StateSpec(StateKind.PARKED),
    S.EXHAUSTED: StateSpec(StateKind.FINAL),
    S.CANCELED_BY_ADMIN: StateSpec(StateKind.FINAL, entry_clears=_PARKED_CLEARS),
    S.DELETED: StateSpec(StateKind.FINAL, entry_clears=_PARKED_CLEARS),
})

#: The campaign settings that give a state's time limit, with their defaults (s).
TIMER_SETTINGS: Mapping[str, float] = MappingProxyType({
    "before_call_work_seconds": 30.0,
    "after_call_work_seconds": 120.0,
    "assign_timeout_seconds": 300.0,
    "dial_timeout_seconds": 120.0,
    "max_call_seconds": 7200.0,
    "operator_wait_seconds": 60.0,
    "callback_grace_seconds": 900.0,
})


def timer_for(state: ContactState | str, mode: DialMode) -> Timer | None:
    """The timer of `state` in `mode`, if it has one there."""
    timer = STATES[state].timer  # type: ignore[index]  # a StrEnum member and its value: one key
    return timer if timer is not None and mode in timer.modes else None


def clears(from_state: ContactState | str, to_state: ContactState | str) -> Mapping[str, None]:
    """The columns a move from `from_state` to `to_state` sets to NULL (each mapped to
    None, ready to update a row with)."""
    return _CLEARS[(from_state, to_state)]  # type: ignore[index]


_CLEARS: dict[tuple[ContactState, ContactState], Mapping[str, None]] = {
    # Plain dicts (typed read-only): a row takes them by dict.update, the fast way.
    (a, b): dict.fromkeys((*STATES[a].exit_clears, *STATES[b].entry_clears)) if a != b else {}
    for a in ContactState for b in ContactState
}

#: States whose due time counts from entering them (a correction in place keeps it).
TIMED_STATES = frozenset(s for s, spec in STATES.items() if spec.timer is not None and spec.timer.setting)
OPEN_STATES = frozenset(s for s, spec in STATES.items() if spec.kind is StateKind.OPEN)
PARKED_STATES = frozenset(s for s, spec in STATES.items() if spec.kind is StateKind.PARKED)
FINAL_STATES = frozenset(s for s, spec in STATES.items() if spec.kind is StateKind.FINAL)
#: States in which the contact may be on a live call: recovery never redials them early.
IN_CALL_STATES = frozenset({S.DIALING, S.CALL_IN_PROGRESS, S.AFTER_CALL_WORK})


# -- moves ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    trigger: str
    sources: tuple[ContactState, ...]
    dests: tuple[ContactState, ...]
    modes: frozenset[DialMode] = ALL


#: Where the policy may send a contact after a call attempt.
POLICY_DESTS = (S.SUCCESS, S.RETRY_SCHEDULED, S.EXHAUSTED, S.BLACKLISTED, S.INVALID_RECORD)
#: Where the policy may send a contact that passed through a passing state.
FOLLOW_UP_DESTS = (S.RETRY_SCHEDULED, S.EXHAUSTED, S.BLACKLISTED)
#: States a waiting contact may be moved to `blacklisted` from at once (the others keep their call).
_BLACKLISTABLE_NOW = (S.READY, S.AWAITING_OPERATOR, S.OPERATOR_ASSIGNED, S.BEFORE_CALL_WORK, S.RETRY_SCHEDULED)

RULES: tuple[Rule, ...] = (
    # Operator assignment (preview, progressive).
    Rule("assign_operator", (S.READY, S.AWAITING_OPERATOR), (S.OPERATOR_ASSIGNED,), ASSIGNED),
    Rule("wait_for_operator", (S.READY,), (S.AWAITING_OPERATOR,), ASSIGNED),
    Rule("accept", (S.OPERATOR_ASSIGNED,), (S.BEFORE_CALL_WORK,), ASSIGNED),
    Rule("reject", (S.OPERATOR_ASSIGNED,), (S.REJECTED_BY_OPERATOR,), frozenset({M.PREVIEW})),
    Rule("requeue", (S.REJECTED_BY_OPERATOR,), (S.READY,), frozenset({M.PREVIEW})),
    # A timed-out assignment goes back to the list (in-flight recovery), and so does a
    # countdown that ends where the rules forbid the call (a closed window, a pause).
    Rule("release", (S.OPERATOR_ASSIGNED, S.BEFORE_CALL_WORK), (S.READY,), ASSIGNED),
    # Dialing.
    Rule("dial", (S.BEFORE_CALL_WORK,), (S.DIALING,), ASSIGNED),
    Rule("dial", (S.READY,), (S.DIALING,), SYSTEM_DIALS),
    Rule("dial_failed", (S.BEFORE_CALL_WORK,), (S.DIAL_FAILED,), ASSIGNED),
    Rule("dial_failed", (S.DIALING,), (S.DIAL_FAILED,)),
    Rule("answered", (S.DIALING,), (S.CALL_IN_PROGRESS,)),
    Rule("answered", (S.DIALING,), (S.AWAITING_OPERATOR,), frozenset({M.PREDICTIVE})),
    Rule("connect_operator", (S.AWAITING_OPERATOR,), (S.CALL_IN_PROGRESS,), frozenset({M.PREDICTIVE})),
    # The end of a call.
    Rule("call_ended", (S.DIALING,), (*POLICY_DESTS, S.DIAL_FAILED)),
    Rule("call_ended", (S.DIALING, S.AWAITING_OPERATOR), (S.CANCELED_BY_CLIENT,), frozenset({M.PREDICTIVE})),
    Rule("call_ended", (S.CALL_IN_PROGRESS,), (S.AFTER_CALL_WORK,), OPERATOR),
    Rule("call_ended", (S.CALL_IN_PROGRESS,), (*POLICY_DESTS, S.DIAL_FAILED), frozenset({M.AGENTLESS})),
    Rule("wrap_up", (S.AFTER_CALL_WORK,), POLICY_DESTS, OPERATOR),
    # The policy's follow-up of a passing state, in the same transaction.
    Rule("decide", (S.DIAL_FAILED,), FOLLOW_UP_DESTS),
    Rule("decide", (S.CANCELED_BY_CLIENT,), FOLLOW_UP_DESTS, frozenset({M.PREDICTIVE})),
    # Scheduler.
    Rule("retry_due", (S.RETRY_SCHEDULED,), (S.READY,)),
    # Administration.
    Rule("blacklist", _BLACKLISTABLE_NOW, (S.BLACKLISTED,)),
    Rule("unblacklist", (S.BLACKLISTED,), (S.READY,)),
    Rule("update_phone", (S.INVALID_RECORD,), (S.READY, S.BLACKLISTED)),
    Rule("cancel", tuple(s for s in ContactState if STATES[s].kind in (StateKind.OPEN, StateKind.PARKED)),
         (S.CANCELED_BY_ADMIN,)),
    Rule("delete", tuple(s for s in ContactState if s is not S.DELETED), (S.DELETED,)),
)

#: Triggers that keep the state (they correct data, not the lifecycle).
SELF_LOOPS: Mapping[str, tuple[ContactState, ...]] = MappingProxyType({
    "update_phone": (
        S.READY, S.OPERATOR_ASSIGNED, S.AWAITING_OPERATOR, S.BEFORE_CALL_WORK, S.DIALING,
        S.CALL_IN_PROGRESS, S.AFTER_CALL_WORK, S.RETRY_SCHEDULED,
    ),
    # The scheduler opens a personal callback to every operator after its grace.
    "open_callback": (S.READY,),
    # `update_contact`: priority, data, time zone, external id; never the state.
    "update": tuple(s for s in ContactState if s is not S.DELETED),
})

#: The states a contact can be created in (by `add_contacts`).
ENTRY_STATES = (S.READY, S.INVALID_RECORD, S.BLACKLISTED)

#: Triggers the engine applies itself as the follow-up of a passing state.
FOLLOW_UP_TRIGGERS = frozenset({"requeue", "decide"})

#: The public triggers, as `Engine` methods, in the order the spec lists them.
PUBLIC_TRIGGERS = (
    "assign_operator", "accept", "reject", "wait_for_operator", "dial", "dial_failed",
    "answered", "connect_operator", "call_ended", "wrap_up", "retry_due", "cancel",
    "delete", "update_phone",
)


def sources(trigger: str) -> frozenset[ContactState]:
    """Every state `trigger` moves a contact out of, in some mode."""
    return frozenset(s for rule in RULES if rule.trigger == trigger for s in rule.sources)


@cache
def modes_with(trigger: str, source: ContactState) -> frozenset[DialMode]:
    """The modes in which `trigger` moves a contact out of `source` (worked out once:
    every claim asks)."""
    return frozenset(m for rule in RULES if rule.trigger == trigger and source in rule.sources for m in rule.modes)


#: What `cancel` and `cancel_campaign` move to `canceled_by_admin`.
CANCELABLE = sources("cancel")
#: What `blacklist_phone` moves to `blacklisted` at once.
BLACKLISTABLE_NOW = sources("blacklist")
