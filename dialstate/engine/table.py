"""The state machine as data: one declarative table for all dial modes.

Each rule says which trigger moves a contact from which states to which possible
states, in which modes. Where a rule has several destinations, the policy decides
which one (a retry, exhaustion, the blacklist ...); the machine checks that the
decided destination is one the table allows. From this table the runtime machines,
the README diagrams and the "allowed now" lists of `InvalidTransition` are built.
"""

from __future__ import annotations

from dataclasses import dataclass

from dialstate.engine.states import BLACKLISTABLE_NOW, ContactState, DialMode

S = ContactState
M = DialMode

ALL = frozenset(DialMode)
OPERATOR = frozenset({M.PREVIEW, M.PROGRESSIVE, M.PREDICTIVE})
ASSIGNED = frozenset({M.PREVIEW, M.PROGRESSIVE})  # an operator is assigned before the call
SYSTEM_DIALS = frozenset({M.PREDICTIVE, M.AGENTLESS})

#: Where the policy may send a contact after a call attempt.
POLICY_DESTS = (S.SUCCESS, S.RETRY_SCHEDULED, S.EXHAUSTED, S.BLACKLISTED, S.INVALID_RECORD)
#: Where the policy may send a contact that passed through a passing state.
FOLLOW_UP_DESTS = (S.RETRY_SCHEDULED, S.EXHAUSTED, S.BLACKLISTED)

#: Triggers the engine applies itself as the follow-up of a passing state.
INTERNAL_TRIGGERS = frozenset({"requeue", "decide"})


@dataclass(frozen=True)
class Rule:
    trigger: str
    sources: tuple[ContactState, ...]
    dests: tuple[ContactState, ...]
    modes: frozenset[DialMode] = ALL


def _open_states_for_cancel() -> tuple[ContactState, ...]:
    return (
        S.READY, S.OPERATOR_ASSIGNED, S.AWAITING_OPERATOR, S.BEFORE_CALL_WORK, S.DIALING,
        S.CALL_IN_PROGRESS, S.AFTER_CALL_WORK, S.RETRY_SCHEDULED, S.BLACKLISTED,
        S.INVALID_RECORD,
    )


RULES: tuple[Rule, ...] = (
    # Operator assignment (preview, progressive).
    Rule("assign_operator", (S.READY, S.AWAITING_OPERATOR), (S.OPERATOR_ASSIGNED,), ASSIGNED),
    Rule("wait_for_operator", (S.READY,), (S.AWAITING_OPERATOR,), ASSIGNED),
    Rule("accept", (S.OPERATOR_ASSIGNED,), (S.BEFORE_CALL_WORK,), ASSIGNED),
    Rule("reject", (S.OPERATOR_ASSIGNED,), (S.REJECTED_BY_OPERATOR,), frozenset({M.PREVIEW})),
    Rule("requeue", (S.REJECTED_BY_OPERATOR,), (S.READY,), frozenset({M.PREVIEW})),
    # A timed-out assignment goes back to the list (in-flight recovery).
    Rule("release", (S.OPERATOR_ASSIGNED,), (S.READY,), ASSIGNED),
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
    Rule("blacklist", tuple(BLACKLISTABLE_NOW), (S.BLACKLISTED,)),
    Rule("unblacklist", (S.BLACKLISTED,), (S.READY,)),
    Rule("update_phone", (S.INVALID_RECORD,), (S.READY, S.BLACKLISTED)),
    Rule("cancel", _open_states_for_cancel(), (S.CANCELED_BY_ADMIN,)),
    Rule(
        "delete",
        tuple(s for s in ContactState if s is not S.DELETED),
        (S.DELETED,),
    ),
)

#: Triggers that keep the state (they correct data, not the lifecycle).
SELF_LOOPS: dict[str, tuple[ContactState, ...]] = {
    "update_phone": (
        S.READY, S.OPERATOR_ASSIGNED, S.AWAITING_OPERATOR, S.BEFORE_CALL_WORK, S.DIALING,
        S.CALL_IN_PROGRESS, S.AFTER_CALL_WORK, S.RETRY_SCHEDULED,
    ),
    # The scheduler opens a personal callback to every operator after its grace.
    "open_callback": (S.READY,),
}

#: The states a contact can be created in (by `add_contacts`).
ENTRY_STATES = (S.READY, S.INVALID_RECORD, S.BLACKLISTED)

#: The public triggers, as `Engine` methods, in the order the spec lists them.
PUBLIC_TRIGGERS = (
    "assign_operator", "accept", "reject", "wait_for_operator", "dial", "dial_failed",
    "answered", "connect_operator", "call_ended", "wrap_up", "retry_due", "cancel",
    "delete", "update_phone",
)
