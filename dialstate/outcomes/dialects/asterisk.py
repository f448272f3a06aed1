"""Asterisk ``DIALSTATUS`` values (set by the Dial application), read as call outcomes.

DIALSTATUS is coarse: Asterisk folds most hangup causes into CHANUNAVAIL. When the
integration also has ``HANGUPCAUSE``, normalizing that with the ``q850`` dialect is
more precise.
"""

from __future__ import annotations

from typing import Final

from dialstate.outcomes._outcome import Outcome

TABLE: Final[dict[str, Outcome]] = {
    "ANSWER": Outcome.COMPLETED,
    "BUSY": Outcome.BUSY,
    "NOANSWER": Outcome.NO_ANSWER,
    "CANCEL": Outcome.CANCELED,  # the calling side hung up before the answer: ours
    # Asterisk sets it only for cause 34/42-style congestion (trunk or network).
    "CONGESTION": Outcome.CONGESTION,
    # Asterisk's catch-all: peer unreachable, but also every cause it has no
    # better word for, dead numbers included. Congestion is redialled without
    # counting, which would loop forever on those, so it is counted as failed.
    "CHANUNAVAIL": Outcome.FAILED,
    # Privacy manager: the callee chose "do not call" for us.
    "DONTCALL": Outcome.BLOCKED,
    # Privacy manager: the callee sent us to the torture menu, a louder "do not call".
    "TORTURE": Outcome.BLOCKED,
    "INVALIDARGS": Outcome.FAILED,  # our Dial() arguments were wrong
}
