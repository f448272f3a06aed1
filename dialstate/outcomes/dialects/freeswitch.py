"""FreeSWITCH hangup cause names (``hangup_cause``), read as call outcomes.

Most names mirror a Q.850 cause, and a few newer ones a SIP response; those take
their outcome from the q850 and sip tables, so each decision is made once. The
names FreeSWITCH invented itself carry their own decision here. Names only: a
numeric cause is Q.850 and goes through the ``q850`` dialect.

The cloud dialer of the `call_result` dialect describes how one FreeSWITCH-based dialer sees these causes; where it
speaks (RECOVERY_ON_TIMER_EXPIRE, NORMAL_TEMPORARY_FAILURE "network issues") it
agrees with the q850 table.
"""

from __future__ import annotations

from typing import Final

from dialstate.outcomes._outcome import Outcome
from dialstate.outcomes.dialects import q850, sip

# Words may be joined by "_", "-" or spaces: "USER_BUSY", "user-busy", "User Busy".
SEPARATORS: Final = "_-"

Q850_CAUSES: Final[dict[str, int]] = {
    "UNALLOCATED_NUMBER": 1,
    "NO_ROUTE_TRANSIT_NET": 2,
    # FreeSWITCH also raises this for SIP 485/604; both read as a dead number.
    "NO_ROUTE_DESTINATION": 3,
    "CHANNEL_UNACCEPTABLE": 6,
    "CALL_AWARDED_DELIVERED": 7,
    "NORMAL_CLEARING": 16,
    "USER_BUSY": 17,
    # FreeSWITCH's name for SIP 480 as well.
    "NO_USER_RESPONSE": 18,
    "NO_ANSWER": 19,
    "SUBSCRIBER_ABSENT": 20,
    # Also FreeSWITCH's reading of SIP 401/402/403/407/603; the cloud dialer (`call_result`) blames outages
    # and bad caller IDs. A counted, hourly retry fits every one of those readings.
    "CALL_REJECTED": 21,
    "NUMBER_CHANGED": 22,
    "REDIRECTION_TO_NEW_DESTINATION": 23,
    "EXCHANGE_ROUTING_ERROR": 25,
    "DESTINATION_OUT_OF_ORDER": 27,
    "INVALID_NUMBER_FORMAT": 28,
    "FACILITY_REJECTED": 29,
    "RESPONSE_TO_STATUS_ENQUIRY": 30,
    # Also FreeSWITCH's catch-all for SIP codes it has no name for.
    "NORMAL_UNSPECIFIED": 31,
    "NORMAL_CIRCUIT_CONGESTION": 34,
    "NETWORK_OUT_OF_ORDER": 38,
    # The cloud dialer (`call_result`): a short-term network issue, try again soon.
    "NORMAL_TEMPORARY_FAILURE": 41,
    "SWITCH_CONGESTION": 42,
    "ACCESS_INFO_DISCARDED": 43,
    "REQUESTED_CHAN_UNAVAIL": 44,
    "PRE_EMPTED": 45,
    "FACILITY_NOT_SUBSCRIBED": 50,
    "OUTGOING_CALL_BARRED": 52,
    "INCOMING_CALL_BARRED": 54,
    "BEARERCAPABILITY_NOTAUTH": 57,
    "BEARERCAPABILITY_NOTAVAIL": 58,
    "SERVICE_UNAVAILABLE": 63,
    "BEARERCAPABILITY_NOTIMPL": 65,
    "CHAN_NOT_IMPLEMENTED": 66,
    "FACILITY_NOT_IMPLEMENTED": 69,
    "SERVICE_NOT_IMPLEMENTED": 79,
    "INVALID_CALL_REFERENCE": 81,
    "INCOMPATIBLE_DESTINATION": 88,
    "INVALID_MSG_UNSPECIFIED": 95,
    "MANDATORY_IE_MISSING": 96,
    "MESSAGE_TYPE_NONEXIST": 97,
    "WRONG_MESSAGE": 98,
    "IE_NONEXIST": 99,
    "INVALID_IE_CONTENTS": 100,
    "WRONG_CALL_STATE": 101,
    # The cloud dialer (`call_result`): a timer expired while handling an error, often network issues.
    # FreeSWITCH gives it for an unanswered INVITE and for SIP 408/504.
    "RECOVERY_ON_TIMER_EXPIRE": 102,
    "MANDATORY_IE_LENGTH_ERROR": 103,
    "PROTOCOL_ERROR": 111,
    "INTERWORKING": 127,
}

# FreeSWITCH 1.10 names for SIP responses that have no Q.850 cause.
SIP_RESPONSES: Final[dict[str, int]] = {
    "BUSY_EVERYWHERE": 600,
    "DECLINE": 603,
    "DOES_NOT_EXIST_ANYWHERE": 604,
    "NOT_ACCEPTABLE": 606,
    "UNWANTED": 607,
    "NO_IDENTITY": 428,
    "BAD_IDENTITY_INFO": 436,
    "UNSUPPORTED_CERTIFICATE": 437,
    "INVALID_IDENTITY": 438,
}

OWN_CAUSES: Final[dict[str, Outcome]] = {
    "SUCCESS": Outcome.COMPLETED,
    "ORIGINATOR_CANCEL": Outcome.CANCELED,  # we cancelled before answer (the cloud dialer)
    # Our switch failed: counted, so a call that crashes it cannot loop forever.
    "CRASH": Outcome.FAILED,
    "SYSTEM_SHUTDOWN": Outcome.CANCELED,  # our side ended the call; redial after restart
    "MANAGER_REQUEST": Outcome.CANCELED,  # hung up by an API command (uuid_kill): our side
    "BLIND_TRANSFER": Outcome.TRANSFERRED,
    "ATTENDED_TRANSFER": Outcome.TRANSFERRED,
    # The per-leg ring limit (leg_timeout) ran out: the contact did not answer.
    # the cloud dialer's "Timeout" call result is the same event.
    "ALLOTTED_TIMEOUT": Outcome.NO_ANSWER,
    "USER_CHALLENGE": Outcome.FAILED,  # an auth challenge we could not answer
    # RTP stopped flowing; the network dropped the call. Counted as failed rather
    # than congestion: a broken media path per destination would loop uncounted.
    "MEDIA_TIMEOUT": Outcome.FAILED,
    # The endpoint is not registered right now: absent, like SIP 480.
    "USER_NOT_REGISTERED": Outcome.NO_ANSWER,
    # No ringing or early media within progress_timeout: the contact was never
    # alerted. Silent dead lines do this, so it is counted (failed), not congestion.
    "PROGRESS_TIMEOUT": Outcome.FAILED,
    "INVALID_GATEWAY": Outcome.FAILED,  # our configuration names no such gateway
    "GATEWAY_DOWN": Outcome.CONGESTION,  # our trunk is down: not the contact's fault
    "INVALID_URL": Outcome.FAILED,
    "INVALID_PROFILE": Outcome.FAILED,
    "NO_PICKUP": Outcome.NO_ANSWER,  # originate gave up waiting for an answer
    "SRTP_READ_ERROR": Outcome.FAILED,
    # A loopback channel leaving a bridge it optimised away; not an outcome at all.
    "BOWOUT": Outcome.UNKNOWN,
    # STIR/SHAKEN: our Identity header was too old, so our signing (unlike SIP 403).
    "STALE_DATE": Outcome.FAILED,
    "UNSPECIFIED": Outcome.UNKNOWN,
    "NONE": Outcome.UNKNOWN,  # no cause was ever set
    "UNKNOWN": Outcome.UNKNOWN,  # what FreeSWITCH prints for a cause it cannot name
}

# These causes are only ever given to one ringing leg of a call that goes on
# elsewhere, so they describe no contact's call: normalize raises OperatorLegCode.
# LOSE_RACE is the same event as the cloud dialer's "Lose-race" call result; PICKED_OFF is
# its call-pickup twin (another phone took the ringing call).
OPERATOR_LEG_CODES: Final[dict[str, str]] = {
    "LOSE_RACE": (
        "FreeSWITCH hangs up every losing leg of a forked originate (ring-all, "
        "simultaneous ring) with LOSE_RACE while the winning leg carries the call"
    ),
    "PICKED_OFF": (
        "FreeSWITCH gives PICKED_OFF to a ringing phone whose call another phone "
        "picked up; the call itself goes on there"
    ),
}

TABLE: Final[dict[str, Outcome]] = {
    **{name: q850.TABLE[cause] for name, cause in Q850_CAUSES.items()},
    **{name: sip.TABLE[code] for name, code in SIP_RESPONSES.items()},
    **OWN_CAUSES,
}
