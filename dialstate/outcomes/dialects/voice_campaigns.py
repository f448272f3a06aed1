"""The `call_status` dialect: the call statuses of a voice-campaign platform
(``STATUS/SUB_STATUS`` and result codes).

A status may come as "ANSWERED/COMPLETE", "ANSWERED_COMPLETE", "answered complete",
as a bare status ("ABSENT"), as a bare sub-status ("VOICEMAIL_DETECTED", each belongs
to one status only) or as a call result code ("HANGUP").
"""

from __future__ import annotations

from typing import Final

from dialstate.outcomes._outcome import Outcome

# "/", "_", "-" and spaces all separate words; no two codes collide when they do
# (the registry checks that when it builds the dialect).
SEPARATORS: Final = "/_-"

TABLE: Final[dict[str, Outcome]] = {
    # --- STATUS/SUB_STATUS -------------------------------------------------------
    "ANSWERED/COMPLETE": Outcome.COMPLETED,  # the message was fully broadcast
    "ANSWERED/INCOMPLETE": Outcome.INCOMPLETE,  # cut short, e.g. the recipient hung up
    "ABSENT/BUSY": Outcome.BUSY,
    "ABSENT/NO_ANSWER": Outcome.NO_ANSWER,
    "ABSENT/VOICEMAIL_DETECTED": Outcome.VOICEMAIL,
    "ERROR/BLACKLISTED": Outcome.BLOCKED,  # not dialled: the number is blacklisted
    "ERROR/REJECTED": Outcome.REJECTED,  # rejected by the recipient
    "ERROR/UNALLOCATED_NUMBER": Outcome.UNALLOCATED,
    "ERROR/OTHER": Outcome.FAILED,  # an unknown error
    # --- bare statuses: only the class is known ------------------------------------
    # Answered without a sub-status: the recipient picked up, which is success.
    "ANSWERED": Outcome.COMPLETED,
    # Reached but not answered; without a sub-status the mildest reading.
    "ABSENT": Outcome.NO_ANSWER,
    "ERROR": Outcome.FAILED,
    # --- bare sub-statuses: each names its status unambiguously --------------------
    "COMPLETE": Outcome.COMPLETED,
    "INCOMPLETE": Outcome.INCOMPLETE,
    "BUSY": Outcome.BUSY,
    "NO_ANSWER": Outcome.NO_ANSWER,
    "VOICEMAIL_DETECTED": Outcome.VOICEMAIL,
    "BLACKLISTED": Outcome.BLOCKED,
    "REJECTED": Outcome.REJECTED,
    "UNALLOCATED_NUMBER": Outcome.UNALLOCATED,
    "OTHER": Outcome.FAILED,
    # --- call result codes ------------------------------------------------------
    # The recipient hung up on an answered call: the platform gives that as the typical
    # cause of ANSWERED/INCOMPLETE. (Pass STATUS/SUB_STATUS when you have it.)
    "HANGUP": Outcome.INCOMPLETE,
    "VOICEMAIL_COMPLETE": Outcome.VOICEMAIL,  # the message was fully left on voicemail
    "VOICEMAIL_INCOMPLETE": Outcome.VOICEMAIL,  # partly left on voicemail
}
