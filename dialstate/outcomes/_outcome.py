"""The canonical outcome vocabulary (spec section 4) and its three groups (completed,
no response, failed: the grouping campaign reports use)."""

from __future__ import annotations

from enum import StrEnum


class OutcomeGroup(StrEnum):
    COMPLETED = "completed"
    NO_RESPONSE = "no_response"
    FAILED = "failed"


class Outcome(StrEnum):
    """What came of one call attempt, whatever the switch or vendor called it."""

    COMPLETED = "completed"
    INCOMPLETE = "incomplete"
    TRANSFERRED = "transferred"
    ESCALATED = "escalated"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    VOICEMAIL = "voicemail"
    REJECTED = "rejected"
    UNALLOCATED = "unallocated"
    ABANDONED = "abandoned"
    CANCELED = "canceled"
    CONGESTION = "congestion"
    FAILED = "failed"
    BLOCKED = "blocked"
    NOT_ALLOWED = "not_allowed"
    UNKNOWN = "unknown"

    @property
    def group(self) -> OutcomeGroup:
        return _GROUPS[self]


_GROUPS: dict[Outcome, OutcomeGroup] = {
    Outcome.COMPLETED: OutcomeGroup.COMPLETED,
    Outcome.INCOMPLETE: OutcomeGroup.COMPLETED,
    Outcome.TRANSFERRED: OutcomeGroup.COMPLETED,
    Outcome.ESCALATED: OutcomeGroup.COMPLETED,
    Outcome.BUSY: OutcomeGroup.NO_RESPONSE,
    Outcome.NO_ANSWER: OutcomeGroup.NO_RESPONSE,
    Outcome.VOICEMAIL: OutcomeGroup.NO_RESPONSE,
    Outcome.REJECTED: OutcomeGroup.NO_RESPONSE,
    Outcome.UNALLOCATED: OutcomeGroup.NO_RESPONSE,
    Outcome.ABANDONED: OutcomeGroup.FAILED,
    Outcome.CANCELED: OutcomeGroup.FAILED,
    Outcome.CONGESTION: OutcomeGroup.FAILED,
    Outcome.FAILED: OutcomeGroup.FAILED,
    Outcome.BLOCKED: OutcomeGroup.FAILED,
    Outcome.NOT_ALLOWED: OutcomeGroup.FAILED,
    Outcome.UNKNOWN: OutcomeGroup.FAILED,
}
