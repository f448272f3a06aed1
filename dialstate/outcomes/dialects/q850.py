"""ITU-T Q.850 cause values (ISDN/ISUP release causes), read as call outcomes.

Every cause Q.850 defines is listed with its name. A value Q.850 leaves undefined
(10-13, 15, 32-33, ...) is not listed and so normalizes to ``unknown``.

Rules of thumb behind the choices, from the money a wrong retry costs:
- ``unallocated``, ``blocked`` and ``not_allowed`` end the contact for good, so they
  are kept for causes that say so about the number itself.
- ``congestion`` is retried in two minutes without counting an attempt, so it is kept
  for causes that are temporary by definition; a permanent fault put there would be
  redialled forever. Permanent faults on our side (protocol, configuration, features)
  are ``failed``: counted, so the attempt limit ends them.
- RFC 3398 (ISUP/SIP interworking) is the tie-breaker; the SIP table agrees with it.
"""

from __future__ import annotations

from typing import Final

from dialstate.outcomes._outcome import Outcome

TABLE: Final[dict[int, Outcome]] = {
    # --- normal event class -----------------------------------------------------
    1: Outcome.UNALLOCATED,  # Unallocated (unassigned) number
    # Our transit-carrier selection is unknown: a routing fault, not the contact's.
    2: Outcome.FAILED,  # No route to specified transit network (national use)
    # The network does not serve the destination: in practice a vacant number range.
    # RFC 3398 maps it to 404 like cause 1, and FreeSWITCH raises it for SIP 604.
    3: Outcome.UNALLOCATED,  # No route to destination
    # Unreachable "for reasons of a long-term nature": the intercept tone of a
    # disconnected or vacant number.
    4: Outcome.UNALLOCATED,  # Send special information tone
    # The number as dialled is malformed, like cause 28: fix the record, not redial.
    5: Outcome.UNALLOCATED,  # Misdialled trunk prefix (national use)
    6: Outcome.FAILED,  # Channel unacceptable
    # Not a reason a call fails; as a final cause it says nothing about the contact.
    7: Outcome.UNKNOWN,  # Call awarded and being delivered in an established channel
    8: Outcome.CONGESTION,  # Preemption: the circuit went to a higher-priority call
    9: Outcome.CONGESTION,  # Preemption - circuit reserved for reuse
    # The number was ported out; routing needs a portability lookup, the number lives.
    14: Outcome.FAILED,  # QoR: ported number
    16: Outcome.COMPLETED,  # Normal call clearing
    17: Outcome.BUSY,  # User busy
    18: Outcome.NO_ANSWER,  # No user responding
    19: Outcome.NO_ANSWER,  # No answer from user (user alerted)
    20: Outcome.NO_ANSWER,  # Subscriber absent: phone off or out of coverage
    21: Outcome.REJECTED,  # Call rejected
    22: Outcome.UNALLOCATED,  # Number changed: the number no longer reaches the contact
    # An exchange asked for the call to be re-set-up elsewhere and nobody did.
    23: Outcome.FAILED,  # Redirection to new destination
    # Q.850 Amendment 1 (2001), e.g. anonymous call rejection: the callee's side refused.
    24: Outcome.REJECTED,  # Call rejected due to feature at the destination
    25: Outcome.FAILED,  # Exchange routing error (hop counter reached: a routing loop)
    # Meant for one terminal of a multipoint access that was not awarded the call;
    # as the contact call's final cause it proves nothing either way.
    26: Outcome.UNKNOWN,  # Non-selected user clearing
    27: Outcome.FAILED,  # Destination out of order
    28: Outcome.UNALLOCATED,  # Invalid number format (address incomplete)
    29: Outcome.FAILED,  # Facility rejected: a service we requested was refused
    30: Outcome.UNKNOWN,  # Response to STATUS ENQUIRY: a status report, not an outcome
    # Sent when no other normal cause fits, typically after ringing out; RFC 3398
    # maps it to 480. Never "completed": a false success loses the contact.
    31: Outcome.NO_ANSWER,  # Normal, unspecified
    # --- resource unavailable class -----------------------------------------------
    34: Outcome.CONGESTION,  # No circuit/channel available
    # Q.850 warns it may last a while, but it is the network's fault, not the
    # contact's: do not count it against the contact.
    38: Outcome.CONGESTION,  # Network out of order
    39: Outcome.FAILED,  # Permanent frame mode connection out of service
    40: Outcome.UNKNOWN,  # Permanent frame mode connection operational: a status
    41: Outcome.CONGESTION,  # Temporary failure
    42: Outcome.CONGESTION,  # Switching equipment congestion
    43: Outcome.FAILED,  # Access information discarded
    44: Outcome.CONGESTION,  # Requested circuit/channel not available
    # Q.931 value, not in Q.850 proper; FreeSWITCH names it PRE_EMPTED.
    45: Outcome.CONGESTION,  # Preempted
    46: Outcome.CONGESTION,  # Precedence call blocked: no preemptable circuit
    47: Outcome.CONGESTION,  # Resource unavailable, unspecified
    # --- service or option not available class ------------------------------------
    # May be a fixed property of the route; congestion would redial it forever.
    49: Outcome.FAILED,  # Quality of Service not available
    50: Outcome.FAILED,  # Requested facility not subscribed: our account
    # Barring of our line for this destination: the destination is not allowed.
    # 52 and 54 are Q.931/ETSI values FreeSWITCH uses; Q.850 has the CUG pair 53/55.
    52: Outcome.NOT_ALLOWED,  # Outgoing calls barred
    53: Outcome.NOT_ALLOWED,  # Outgoing calls barred within CUG
    # The contact's line refuses incoming calls: the number must not be dialled.
    54: Outcome.BLOCKED,  # Incoming calls barred
    55: Outcome.BLOCKED,  # Incoming calls barred within CUG
    57: Outcome.FAILED,  # Bearer capability not authorized: our trunk's configuration
    58: Outcome.CONGESTION,  # Bearer capability not presently available
    62: Outcome.FAILED,  # Inconsistency in designated outgoing access information and subscriber class
    63: Outcome.FAILED,  # Service or option not available, unspecified
    # --- service or option not implemented class ----------------------------------
    65: Outcome.FAILED,  # Bearer capability not implemented
    66: Outcome.FAILED,  # Channel type not implemented
    69: Outcome.FAILED,  # Requested facility not implemented
    70: Outcome.FAILED,  # Only restricted digital information bearer capability is available
    79: Outcome.FAILED,  # Service or option not implemented, unspecified
    # --- invalid message class: our signalling, never the contact -------------------
    81: Outcome.FAILED,  # Invalid call reference value
    82: Outcome.FAILED,  # Identified channel does not exist
    83: Outcome.FAILED,  # A suspended call exists, but this call identity does not
    84: Outcome.FAILED,  # Call identity in use
    85: Outcome.FAILED,  # No call suspended
    86: Outcome.FAILED,  # Call having the requested call identity has been cleared
    # Our line may not reach this closed user group: the destination is not allowed.
    87: Outcome.NOT_ALLOWED,  # User not member of CUG
    # Also what FreeSWITCH reports for a codec mismatch (SIP 488/606): our side.
    88: Outcome.FAILED,  # Incompatible destination
    90: Outcome.FAILED,  # Non-existent CUG
    91: Outcome.FAILED,  # Invalid transit network selection (national use)
    95: Outcome.FAILED,  # Invalid message, unspecified
    # --- protocol error class -------------------------------------------------------
    96: Outcome.FAILED,  # Mandatory information element is missing
    97: Outcome.FAILED,  # Message type non-existent or not implemented
    98: Outcome.FAILED,  # Message not compatible with call state or message type non-existent
    99: Outcome.FAILED,  # Information element / parameter non-existent or not implemented
    100: Outcome.FAILED,  # Invalid information element contents
    101: Outcome.FAILED,  # Message not compatible with call state
    # No reply before a timer ran out; RFC 3398 maps it to 504 and the cloud dialer (`call_result`) calls it
    # a network issue. The network's fault, so not counted against the contact.
    102: Outcome.CONGESTION,  # Recovery on timer expiry
    103: Outcome.FAILED,  # Parameter non-existent or not implemented - passed on
    110: Outcome.FAILED,  # Message with unrecognized parameter, discarded
    111: Outcome.FAILED,  # Protocol error, unspecified
    # --- interworking class ---------------------------------------------------------
    127: Outcome.FAILED,  # Interworking, unspecified: the far network gave no cause
}
