"""States, their kinds and the dial modes (spec sections 1 and 2)."""

from __future__ import annotations

from enum import StrEnum


class ContactState(StrEnum):
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

    @property
    def kind(self) -> StateKind:
        from dialstate.engine.lifecycle import STATES

        return STATES[self].kind


class StateKind(StrEnum):
    OPEN = "open"
    PASSING = "passing"  # entered, recorded, and followed up in the same transaction
    PARKED = "parked"  # leaves only by un-blacklisting or a phone correction
    FINAL = "final"


class DialMode(StrEnum):
    PREVIEW = "preview"
    PROGRESSIVE = "progressive"
    PREDICTIVE = "predictive"
    AGENTLESS = "agentless"

    @property
    def has_operators(self) -> bool:
        return self is not DialMode.AGENTLESS
