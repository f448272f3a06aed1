"""What the policy decides after a call attempt or a wrap-up (spec sections 4 and 5).

Pure functions: they name the states to pass through and the retry delay; the engine
turns a delay into a time (rolling limits, calling window) and writes the result.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from dialstate.engine.states import ContactState, DialMode
from dialstate.errors import UnknownDisposition
from dialstate.outcomes import Outcome
from dialstate.policy import RetryPolicy

S = ContactState
O = Outcome

#: Outcomes that mean the client was contacted.
SUCCESS_OUTCOMES = frozenset({O.COMPLETED, O.TRANSFERRED, O.ESCALATED})


class Meaning(StrEnum):
    """What a wrap-up disposition does (spec section 5)."""

    SUCCESS = "success"
    CALLBACK = "callback"
    RETRY = "retry"
    DO_NOT_CALL = "do_not_call"
    INVALID = "invalid"
    FINAL = "final"


DEFAULT_DISPOSITIONS: Mapping[str, Meaning] = {
    "success": Meaning.SUCCESS,
    "not_interested": Meaning.SUCCESS,
    "callback": Meaning.CALLBACK,
    "retry": Meaning.RETRY,
    "do_not_call": Meaning.DO_NOT_CALL,
    "wrong_number": Meaning.INVALID,
}


@dataclass(frozen=True)
class Decision:
    """Where a contact goes: through `via` (a passing state) to `state`, retrying
    after `delay` seconds when `state` is `retry_scheduled`."""

    state: ContactState
    via: ContactState | None = None
    delay: float | None = None
    note: str | None = None
    blacklist_number: bool = False


def after_attempt(
    mode: DialMode,
    outcome: Outcome,
    policy: RetryPolicy,
    attempts: int,
    *,
    blacklisted: bool,
    via: ContactState | None = None,
    rng: random.Random | None = None,
) -> Decision:
    """Decide after a call attempt that ended with `outcome`.

    `attempts` is the number of counted attempts including this one (the caller has
    already taken an uncounted one back). `via` forces a passing state (a call that
    ended while the client waited for an operator passes `canceled_by_client`).
    """
    if via is None:
        if outcome in (O.FAILED, O.NOT_ALLOWED):
            via = S.DIAL_FAILED
        elif outcome is O.ABANDONED and mode is DialMode.PREDICTIVE:
            via = S.CANCELED_BY_CLIENT
    if blacklisted:
        return Decision(S.BLACKLISTED, via, note="the number is on the blacklist")
    if outcome in SUCCESS_OUTCOMES:
        return Decision(S.SUCCESS, via)
    if outcome is O.UNALLOCATED:
        return Decision(S.INVALID_RECORD, via, note="the network says the number does not exist")
    if outcome is O.BLOCKED:
        return Decision(S.BLACKLISTED, via, note="the network blocked the number (blacklist, DND)")
    if outcome is O.NOT_ALLOWED:
        return Decision(S.DIAL_FAILED, None, note="destination not allowed: no retry")
    return retry(outcome, policy, attempts, via=via, rng=rng)


def retry(
    outcome: Outcome,
    policy: RetryPolicy,
    attempts: int,
    *,
    via: ContactState | None = None,
    rng: random.Random | None = None,
) -> Decision:
    """A retry after `outcome`'s delay, or the end when the policy allows no more."""
    delay = policy.delay_for(outcome, max(attempts, 1), rng)
    if delay is None:
        # No retry: a passing state becomes final where it is, otherwise the contact is done.
        return Decision(via if via is not None else S.EXHAUSTED, note=f"the policy gives {outcome} no retry")
    if policy.counts(outcome) and attempts >= policy.max_attempts:
        return Decision(
            S.EXHAUSTED, via, note=f"{attempts} of {policy.max_attempts} attempts used"
        )
    return Decision(S.RETRY_SCHEDULED, via, delay=delay)


def resolve_disposition(
    disposition: str, dispositions: Mapping[str, Meaning], contact_id: int
) -> Meaning:
    try:
        return dispositions[disposition]
    except (KeyError, TypeError):
        raise UnknownDisposition(str(disposition), dispositions, contact_id) from None


def after_wrap_up(
    meaning: Meaning,
    policy: RetryPolicy,
    attempts: int,
    *,
    blacklisted: bool,
    rng: random.Random | None = None,
) -> Decision:
    """Decide after an operator's wrap-up. A callback's time is the caller's, so it
    carries no delay here; a `retry` waits the policy's delay for `no_answer`."""
    if meaning is Meaning.DO_NOT_CALL:
        return Decision(S.BLACKLISTED, note="do not call: number blacklisted", blacklist_number=True)
    if blacklisted:
        return Decision(S.BLACKLISTED, note="the number is on the blacklist")
    if meaning is Meaning.SUCCESS:
        return Decision(S.SUCCESS)
    if meaning is Meaning.INVALID:
        return Decision(S.INVALID_RECORD, note="the operator marked the number wrong")
    if meaning is Meaning.FINAL:
        return Decision(S.EXHAUSTED, note="the operator closed the contact")
    if meaning is Meaning.CALLBACK:
        return Decision(S.RETRY_SCHEDULED, delay=0.0)
    return retry(O.NO_ANSWER, policy, attempts, rng=rng)
