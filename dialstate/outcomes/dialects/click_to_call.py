"""The `leg_status` dialect: the call statuses of a click-to-call / IVR platform
whose calls have two legs.

For an outbound click-to-call, leg 1 is our agent and leg 2 the customer: the agent is
rung first and the customer only once the agent answers. Every status is read for the
CONTACT's call. A failure on the agent's leg means the contact was never dialled, so
it must not be counted as the contact's busy or no-answer: it is ``canceled`` (our
side gave up) or ``failed`` (our side broke). The bare statuses are, per the platform's documentation,
incoming-call statuses: there "agent" is our side too.

Unlike the cloud dialer's Lose-race, these are statuses of the whole call, so even the leg-1
ones describe what happened to the contact's call and are mapped, not refused.
"""

from __future__ import annotations

from typing import Final

from dialstate.outcomes._outcome import Outcome

# "IVR-ANSWER", "ivr_answer" and "ivr answer" are one code; so are "BUSY_LEG2",
# "busy-leg2" and "busy leg2".
SEPARATORS: Final = "-_"

TABLE: Final[dict[str, Outcome]] = {
    # The call dropped before the IVR could answer: it never reached the flow, which
    # is the platform's failure rather than the caller's choice.
    "IVR": Outcome.FAILED,
    "IVR-ANSWER": Outcome.COMPLETED,  # the IVR answered and the caller heard it
    # A missed call to the missed-call widget: nobody answered by design, and the
    # right reaction is the no-answer one, calling the contact back.
    "MISWIG": Outcome.NO_ANSWER,
    "ANSWER": Outcome.COMPLETED,  # both legs answered and were connected
    # Incoming: our agent did not answer the contact. Our side gave up, not the contact.
    "NOANSWER": Outcome.CANCELED,
    # Incoming: our agent was busy or hung up. Not the contact's busy line.
    "BUSY": Outcome.CANCELED,
    "FAILED": Outcome.FAILED,  # incoming: the agent's number unreachable or no route
    # Incoming: the caller hung up before an agent answered; outgoing: the agent hung
    # up before the customer answered. Either way the attempt was given up unanswered.
    "CANCEL": Outcome.CANCELED,
    "BLOCKED": Outcome.BLOCKED,  # the number is blacklisted in the application
    "MAX-USE": Outcome.CONGESTION,  # all allocated lines were in use
    "DND": Outcome.BLOCKED,  # the callee is on the do-not-disturb registry
    # Incoming outside working hours: we did not take the call (the cloud dialer (`call_result`) files the
    # same case under Cancel).
    "OFF-HOUR": Outcome.CANCELED,
    "NOTALLOWED": Outcome.NOT_ALLOWED,  # the country or network is not allowed here
    # --- outgoing click-to-call: leg 1 = agent, leg 2 = customer --------------------
    "NOANSWER_LEG2": Outcome.NO_ANSWER,  # the agent answered, the customer did not
    "NOANSWER_LEG1": Outcome.CANCELED,  # the agent did not answer; customer never rung
    "FAILED_LEG1": Outcome.FAILED,  # the agent's number failed: the contact state "dial failed"
    "FAILED_LEG2": Outcome.FAILED,  # the customer's number failed to connect
    "BUSY_LEG1": Outcome.CANCELED,  # the agent was busy or hung up; customer never rung
    # The customer's line was busy or the customer hung up while it rang.
    "BUSY_LEG2": Outcome.BUSY,
}
