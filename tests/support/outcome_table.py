"""The outcome table of spec section 4, once, for every test that checks it.

Each row: the outcome's group; its default retry delay in seconds (None: no retry);
the states a contact passes when a call ends with it while `dialing` (the last one is
where it stays; None where the spec gives no decision from `dialing`); and whether the
call counts as an attempt. In predictive mode an abandoned call passes
`canceled_by_client` first (`path_from_dialing`).
"""

from __future__ import annotations

from typing import NamedTuple

from dialstate import ContactState, DialMode, Outcome, OutcomeGroup

S, O = ContactState, Outcome
COMPLETED, NO_RESPONSE, FAILED = OutcomeGroup.COMPLETED, OutcomeGroup.NO_RESPONSE, OutcomeGroup.FAILED


class Row(NamedTuple):
    group: OutcomeGroup
    delay: int | None
    from_dialing: tuple[ContactState, ...] | None
    counted: bool = True


OUTCOME_TABLE: dict[Outcome, Row] = {
    O.COMPLETED: Row(COMPLETED, None, (S.SUCCESS,)),
    O.INCOMPLETE: Row(COMPLETED, 1800, None),  # answered: agentless retries, operators wrap up
    O.TRANSFERRED: Row(COMPLETED, None, (S.SUCCESS,)),
    O.ESCALATED: Row(COMPLETED, None, (S.SUCCESS,)),
    O.BUSY: Row(NO_RESPONSE, 300, (S.RETRY_SCHEDULED,)),
    O.NO_ANSWER: Row(NO_RESPONSE, 1800, (S.RETRY_SCHEDULED,)),
    O.VOICEMAIL: Row(NO_RESPONSE, 7200, (S.RETRY_SCHEDULED,)),
    O.REJECTED: Row(NO_RESPONSE, 3600, (S.RETRY_SCHEDULED,)),
    O.UNALLOCATED: Row(NO_RESPONSE, None, (S.INVALID_RECORD,)),
    O.ABANDONED: Row(FAILED, 600, (S.RETRY_SCHEDULED,)),
    O.CANCELED: Row(FAILED, 600, (S.RETRY_SCHEDULED,)),
    O.CONGESTION: Row(FAILED, 120, (S.RETRY_SCHEDULED,), counted=False),
    O.FAILED: Row(FAILED, 300, (S.DIAL_FAILED, S.RETRY_SCHEDULED)),
    O.BLOCKED: Row(FAILED, None, (S.BLACKLISTED,)),
    O.NOT_ALLOWED: Row(FAILED, None, (S.DIAL_FAILED,)),
    O.UNKNOWN: Row(FAILED, 900, (S.RETRY_SCHEDULED,)),
}

#: The outcomes the table decides from `dialing`.
ENDING_A_DIAL = [outcome for outcome, row in OUTCOME_TABLE.items() if row.from_dialing is not None]


def path_from_dialing(outcome: Outcome, mode: DialMode) -> list[ContactState]:
    """The states a contact of `mode` passes when its call ends with `outcome` while dialing."""
    path = OUTCOME_TABLE[outcome].from_dialing
    assert path is not None, f"spec section 4 gives {outcome.value} no decision from dialing"
    if outcome is O.ABANDONED and mode is DialMode.PREDICTIVE:
        return [S.CANCELED_BY_CLIENT, *path]
    return list(path)
