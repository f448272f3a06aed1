"""The `session_status` dialect: the session statuses of a conversational-AI
platform (voice bots), read as call outcomes.

The platform also sorts the statuses into three campaign groups; each outcome below was
chosen so that ``Outcome.group`` reproduces that grouping (the tests check it).
"""

from __future__ import annotations

from typing import Final

from dialstate.outcomes._outcome import Outcome

# "Not answered", "not_answered" and "NOT-ANSWERED" are one status.
SEPARATORS: Final = "-_"

TABLE: Final[dict[str, Outcome]] = {
    "Busy": Outcome.BUSY,
    "Canceled": Outcome.CANCELED,
    "Completed": Outcome.COMPLETED,
    "Declined": Outcome.REJECTED,  # the recipient declined the conversation
    "Escalated by operator": Outcome.ESCALATED,
    "Failed": Outcome.FAILED,
    "Network Error": Outcome.CONGESTION,  # the network's fault: retried soon, not counted
    "Not answered": Outcome.NO_ANSWER,
    # "The recipient could not be found": the number reaches nobody. the platform counts
    # it as "no response", which is the group of unallocated.
    "Not found": Outcome.UNALLOCATED,
    "Resolved by operator": Outcome.COMPLETED,
    # The session ended on a timeout; the platform counts it as "no response".
    "Timeout": Outcome.NO_ANSWER,
    "Transferred": Outcome.TRANSFERRED,
    "Unknown": Outcome.UNKNOWN,
    "User timeout": Outcome.NO_ANSWER,  # the customer stopped responding
}
