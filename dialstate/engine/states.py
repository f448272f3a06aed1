"""States, their kinds and the dial modes (spec sections 1 and 2)."""

from __future__ import annotations

from enum import Enum


class ContactState(str, Enum):
    """The state of one campaign contact; the value is the name in lower case."""

    READY = "ready"
    OPERATOR_ASSIGNED = "operator_assigned"
    REJECTED_BY_OPERATOR = "rejected_by_operator"
    AWAITING_OPERATOR = "awaiting_operator"
    BEFORE_CALL_WORK = "before_call_work"
    DIALING = "dialing"
    CALL_IN_PROGRESS = "call_in_progress"
    AFTER_CALL_WORK = "after_call_work"
    RETRY_SCHEDULED = "retry_scheduled"
    SUCCESS = "success"
    DIAL_FAILED = "dial_failed"
    CANCELED_BY_CLIENT = "canceled_by_client"
    BLACKLISTED = "blacklisted"
    INVALID_RECORD = "invalid_record"
    EXHAUSTED = "exhausted"
    CANCELED_BY_ADMIN = "canceled_by_admin"
    DELETED = "deleted"

    def __str__(self) -> str:
        return self.value

    @property
    def kind(self) -> StateKind:
        return STATE_KINDS[self]


class StateKind(str, Enum):
    OPEN = "open"
    PASSING = "passing"  # entered, recorded, and followed up in the same transaction
    PARKED = "parked"  # leaves only by un-blacklisting or a phone correction
    FINAL = "final"


class DialMode(str, Enum):
    PREVIEW = "preview"
    PROGRESSIVE = "progressive"
    PREDICTIVE = "predictive"
    AGENTLESS = "agentless"

    def __str__(self) -> str:
        return self.value

    @property
    def has_operators(self) -> bool:
        return self is not DialMode.AGENTLESS


S = ContactState
STATE_KINDS: dict[ContactState, StateKind] = {
    S.READY: StateKind.OPEN,
    S.OPERATOR_ASSIGNED: StateKind.OPEN,
    S.REJECTED_BY_OPERATOR: StateKind.PASSING,
    S.AWAITING_OPERATOR: StateKind.OPEN,
    S.BEFORE_CALL_WORK: StateKind.OPEN,
    S.DIALING: StateKind.OPEN,
    S.CALL_IN_PROGRESS: StateKind.OPEN,
    S.AFTER_CALL_WORK: StateKind.OPEN,
    S.RETRY_SCHEDULED: StateKind.OPEN,
    S.SUCCESS: StateKind.FINAL,
    S.DIAL_FAILED: StateKind.PASSING,
    S.CANCELED_BY_CLIENT: StateKind.PASSING,
    S.BLACKLISTED: StateKind.PARKED,
    S.INVALID_RECORD: StateKind.PARKED,
    S.EXHAUSTED: StateKind.FINAL,
    S.CANCELED_BY_ADMIN: StateKind.FINAL,
    S.DELETED: StateKind.FINAL,
}

OPEN_STATES = frozenset(s for s, k in STATE_KINDS.items() if k is StateKind.OPEN)
PARKED_STATES = frozenset(s for s, k in STATE_KINDS.items() if k is StateKind.PARKED)
#: States in which the contact may be on a live call: recovery never redials them early.
IN_CALL_STATES = frozenset({S.DIALING, S.CALL_IN_PROGRESS, S.AFTER_CALL_WORK})
#: States that `blacklist_phone` moves to `blacklisted` at once (the others keep their call).
BLACKLISTABLE_NOW = frozenset(
    {S.READY, S.AWAITING_OPERATOR, S.OPERATOR_ASSIGNED, S.BEFORE_CALL_WORK, S.RETRY_SCHEDULED}
)
