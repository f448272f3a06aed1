"""The `call_result` dialect: the call results of a FreeSWITCH-based cloud dialer
(Busy, Cancel, Failed, Timeout, Answered, Lose-race), read as call outcomes."""

from __future__ import annotations

from typing import Final

from dialstate.outcomes._outcome import Outcome

# "Lose-race", "lose_race" and "LOSE RACE" are one code.
SEPARATORS: Final = "-_"

TABLE: Final[dict[str, Outcome]] = {
    # The cloud dialer (`call_result`) also files "the customer has blocked your number" here; the network
    # signals that as busy too, and a counted 5-minute retry is the right answer.
    "Busy": Outcome.BUSY,
    # Abandoned calls, calls outside working hours, hang-ups while ringing: in all of
    # them our side or the timing stopped the call, not the contact's answer.
    "Cancel": Outcome.CANCELED,
    "Failed": Outcome.FAILED,  # network trouble, a number without country code, no balance
    # The dialer's own ring limit ran out (the cloud dialer): the contact did not answer.
    "Timeout": Outcome.NO_ANSWER,
    "Answered": Outcome.COMPLETED,
}

# A ring-all queue rings every agent; the ones who lost the race to answer get
# "Lose-race" while the call goes on with the winner. That is an agent's leg, never
# the contact's call, so normalize raises OperatorLegCode rather than guess.
OPERATOR_LEG_CODES: Final[dict[str, str]] = {
    "Lose-race": (
        "with the 'Ring All' queue strategy every agent who did not answer first "
        "gets Lose-race while the call itself goes on with the agent who did"
    ),
}
