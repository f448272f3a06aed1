"""The simulated switch: what becomes of each call, how long it rings, and the vendor
code it reports it with, in one of several dialects (as a dialer fed by several
carriers and PBXs sees them). Now and then an event is lost or sent twice."""

from __future__ import annotations

import random
from dataclasses import dataclass

from dialstate.outcomes import Outcome, normalize
from dialstate.sim.numbers import Person

O = Outcome

#: Vendor codes per outcome, as (dialect, code); every one normalizes to its outcome.
CODES: dict[Outcome, tuple[tuple[str, str], ...]] = {
    O.COMPLETED: (("q850", "16"), ("sip", "200"), ("freeswitch", "NORMAL_CLEARING"), ("asterisk", "ANSWER"),
                  ("call_status", "ANSWERED/COMPLETE"), ("call_result", "Answered"),
                  ("session_status", "Completed")),
    O.INCOMPLETE: (("call_status", "ANSWERED/INCOMPLETE"),),
    O.BUSY: (("q850", "17"), ("sip", "486"), ("freeswitch", "USER_BUSY"), ("asterisk", "BUSY"),
             ("call_status", "ABSENT/BUSY"), ("call_result", "Busy")),
    O.NO_ANSWER: (("q850", "19"), ("sip", "480"), ("freeswitch", "NO_ANSWER"), ("asterisk", "NOANSWER"),
                  ("call_status", "ABSENT/NO_ANSWER"), ("call_result", "Timeout"),
                  ("session_status", "Not answered")),
    O.VOICEMAIL: (("call_status", "ABSENT/VOICEMAIL_DETECTED"), ("call_status", "VOICEMAIL_DETECTED")),
    O.REJECTED: (("q850", "21"), ("sip", "603"), ("freeswitch", "CALL_REJECTED"), ("call_status", "ERROR/REJECTED"),
                 ("session_status", "Declined")),
    O.UNALLOCATED: (("q850", "1"), ("sip", "404"), ("freeswitch", "UNALLOCATED_NUMBER"),
                    ("call_status", "ERROR/UNALLOCATED_NUMBER"), ("session_status", "Not found")),
    O.CONGESTION: (("q850", "34"), ("sip", "503"), ("freeswitch", "NORMAL_CIRCUIT_CONGESTION"),
                   ("asterisk", "CONGESTION"), ("session_status", "Network Error")),
}
#: Why a call could not be placed at all (sent with `dial_failed`).
DIAL_FAILURES = ("SIP 503 from the trunk: no route", "PBX refused the originate request",
                 "workstation softphone unregistered")


@dataclass(frozen=True)
class Shares:
    """How calls end, before the person's own reachability is applied."""

    congestion: float = 0.03
    dial_failed: float = 0.015
    lost: float = 0.01  # the end of an unanswered call is never reported
    duplicate: float = 0.03  # the end of a call is reported a second time, later
    busy: float = 0.25
    no_answer: float = 0.45
    voicemail: float = 0.22
    rejected: float = 0.08
    incomplete: float = 0.15  # agentless: the message was cut short


@dataclass(frozen=True)
class CallPlan:
    """What the switch will report for one call, and when (seconds after dialing)."""

    outcome: Outcome | None  # None: the call could not be placed (dial_failed)
    after: float  # ring time, or the time to fail
    answered: bool
    lost: bool
    duplicate: bool


class Switch:
    def __init__(self, rng: random.Random, shares: Shares | None = None) -> None:
        check_codes()
        self.rng = rng
        self.shares = shares or Shares()

    def plan(self, person: Person | None) -> CallPlan:
        """The fate of a call to `person` (None: a number the world does not know)."""
        rng, s = self.rng, self.shares
        duplicate = rng.random() < s.duplicate
        roll = rng.random()
        if roll < s.dial_failed:
            return CallPlan(None, rng.uniform(0.5, 3), False, False, False)
        if roll < s.dial_failed + s.congestion:
            return CallPlan(O.CONGESTION, rng.uniform(1, 4), False, False, duplicate)
        if person is None or person.dead:
            return CallPlan(O.UNALLOCATED, rng.uniform(1, 5), False, False, duplicate)
        if rng.random() < person.reachability:
            return CallPlan(O.COMPLETED, rng.uniform(6, 25), True, False, duplicate)
        outcome = rng.choices((O.BUSY, O.NO_ANSWER, O.VOICEMAIL, O.REJECTED),
                              (s.busy, s.no_answer, s.voicemail, s.rejected))[0]
        ring = {O.BUSY: (2, 6), O.NO_ANSWER: (25, 40), O.VOICEMAIL: (15, 30), O.REJECTED: (4, 15)}[outcome]
        lost = rng.random() < s.lost
        return CallPlan(outcome, rng.uniform(*ring), False, lost, duplicate and not lost)

    def code(self, outcome: Outcome) -> tuple[str, str]:
        """A vendor code for `outcome`, in a dialect drawn at random: (dialect, code)."""
        return self.rng.choice(CODES[outcome])


def check_codes() -> None:
    """Every code the switch sends must mean what the simulation intends."""
    for outcome, codes in CODES.items():
        for dialect, code in codes:
            got = normalize(code, dialect)
            if got is not outcome:
                raise AssertionError(f"{dialect} code {code!r} normalizes to {got}, the demo sends it for {outcome}")
