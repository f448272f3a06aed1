"""The planners: pure functions from a contact's facts to its change (spec sections 3-7).

One per trigger, plus the timeout rules the scheduler runs when a state's time is up
(`TIMEOUT_RULES`, keyed by the trigger the lifecycle table says the timer fires).
No planner reads or writes the database: whatever a decision needs was loaded into
its `Facts` first (`needs_dial_times` says when the past dials are needed).
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from dialstate.engine import decisions
from dialstate.engine.change import Change, Facts, Step, join_notes
from dialstate.engine.decisions import Decision, Meaning
from dialstate.engine.gates import callability, pick_number
from dialstate.engine.lifecycle import BLACKLISTABLE_NOW
from dialstate.engine.numbers import (
    CALLABLE,
    CONDEMNING,
    WRONG_NUMBER,
    choose,
    copy_numbers,
    in_service,
    index_of,
    zone_key_of,
    zone_sets,
)
from dialstate.engine.settings import CampaignConfig
from dialstate.engine.states import ContactState, DialMode
from dialstate.errors import InvalidArgument
from dialstate.outcomes import Outcome
from dialstate.store.rows import FOREVER

S = ContactState

#: How often a retry time is re-adjusted for rolling limits and the calling window
#: before giving up on making both agree (they converge in one or two rounds).
_MAX_ROUNDS = 16
#: Triggers whose decision may schedule a retry (and so must keep the rolling caps).
RETRYING_TRIGGERS = frozenset({"dial_failed", "call_ended", "wrap_up"})
#: Triggers that start or prepare a call: the rules of section 12 gate them.
GATED_TRIGGERS = frozenset({"dial", "assign_operator"})


def needs_dial_times(trigger: str, cfg: CampaignConfig) -> bool:
    """Whether a decision for `trigger` needs the contact's past dial times (only a
    policy with rolling caps looks at them)."""
    return bool(cfg.policy.rolling_limits) and (trigger in RETRYING_TRIGGERS or trigger in GATED_TRIGGERS)


def new_call_id() -> str:
    """A new call id: a UUID of version 7 (RFC 9562) in hex, whose first 48 bits are
    the time in milliseconds, so the ids of new calls land side by side in the index
    that finds a call by its id rather than on a random page each."""
    return new_call_ids(1)[0]


def new_call_ids(n: int) -> list[str]:
    """`n` new call ids (`new_call_id`), from one read of the system's randomness.

    Each is spelled in hex from its parts: the time (12 digits), the version (7), 12
    random bits, the variant (binary 10) with 2 random bits, and 60 random bits.
    """
    stamp = f"{time.time_ns() // 1_000_000:012x}7"
    random = os.urandom(10 * n).hex()  # 20 digits an id, 19 of them used
    return [f"{stamp}{random[i:i + 3]}{_VARIANT[random[i + 3]]}{random[i + 4:i + 19]}" for i in range(0, 20 * n, 20)]


#: A random hex digit -> the digit that carries the variant (10) and its 2 low bits.
_VARIANT = {f"{d:x}": f"{0x8 | d & 0x3:x}" for d in range(16)}


# -- operators ---------------------------------------------------------------------------


def simple(trigger: str, to_state: ContactState) -> Change:
    """A move that decides nothing: one step to a fixed state."""
    return Change([Step(trigger, to_state)])


def assign_operator(facts: Facts, operator_id: str) -> Change:
    """An operator takes the contact; with several numbers, the call will use the one
    chosen now (`facts.number`)."""
    updates: dict[str, Any] = {"operator_id": operator_id, "callback_operator_id": None, "personal_until": None}
    numbers = facts.several
    if numbers is not None and facts.number is not None:
        updates.update(use_number(numbers[facts.number]))
    return Change([Step("assign_operator", S.OPERATOR_ASSIGNED)], updates)


def reject(facts: Facts) -> Change:
    return Change([Step("reject", S.REJECTED_BY_OPERATOR, f"rejected by {facts.row['operator_id']}"),
                   Step("requeue", S.READY)])


def connect_operator(operator_id: str) -> Change:
    return Change([Step("connect_operator", S.CALL_IN_PROGRESS)], {"operator_id": operator_id})


# -- calls --------------------------------------------------------------------------------


def dial(facts: Facts, call_id: str, note: str | None = None) -> Change:
    """Place a call: one attempt more, and the call's id (with several numbers, on the
    number `facts.number`, which counts the attempt too)."""
    updates: dict[str, Any] = {"attempts": facts.row["attempts"] + 1, "call_id": call_id,
                               "last_attempt_at": facts.now}
    numbers = facts.several
    if numbers is not None and facts.number is not None:
        numbers = copy_numbers(numbers)
        number = numbers[facts.number]
        number["attempts"] += 1
        number["last_attempt_at"] = facts.now
        updates.update(numbers=numbers, **use_number(number))
    return Change([Step("dial", S.DIALING, note)], updates)


def use_number(number: Mapping[str, Any]) -> dict[str, Any]:
    """The contact's columns that name the number a call uses."""
    return {"phone": number["phone"], "phone_key": number["phone"]}


def dial_failed(facts: Facts, reason: str | None, call_id: str | None, rng: random.Random) -> Change:
    decision = decisions.after_attempt(
        facts.cfg.mode, Outcome.FAILED, facts.cfg.policy, facts.row["attempts"],
        blacklisted=facts.blacklisted, via=S.DIAL_FAILED, rng=rng,
    )
    change = decided("dial_failed", decision, facts, Outcome.FAILED, reason)
    if call_id is not None and facts.state == S.BEFORE_CALL_WORK:
        change.updates["call_id"] = call_id
    return after_numbers(facts, change, Outcome.FAILED, None)


def answered(facts: Facts, operator_id: str | None) -> Change:
    mode = facts.cfg.mode
    if mode is DialMode.PREDICTIVE and operator_id is None:
        return Change([Step("answered", S.AWAITING_OPERATOR, "waiting for a free operator")])
    updates = {"operator_id": operator_id} if operator_id is not None and mode.has_operators else {}
    return Change([Step("answered", S.CALL_IN_PROGRESS)], updates)


def call_ended(facts: Facts, outcome: Outcome, raw: str | None, dialect: str | None, rng: random.Random,
               *, not_before: float | None = None, waiting_outcome: Outcome = Outcome.ABANDONED) -> Change:
    """The end of a call. A predictive client's call that ends while waiting for an
    operator passes `canceled_by_client` and counts as `waiting_outcome` (abandoned,
    unless recovery cannot know: then unknown)."""
    row, cfg = facts.row, facts.cfg
    state = row["state"]
    if state == S.CALL_IN_PROGRESS and cfg.mode.has_operators:
        change = Change([Step("call_ended", S.AFTER_CALL_WORK)], {"last_outcome": outcome.value}, outcome.value)
    else:
        result, via = outcome, None
        if state == S.AWAITING_OPERATOR:  # predictive: the client hung up while waiting
            result, via = waiting_outcome, S.CANCELED_BY_CLIENT
        attempts = row["attempts"] - (0 if cfg.policy.counts(result) else 1)
        decision = decisions.after_attempt(
            cfg.mode, result, cfg.policy, attempts, blacklisted=facts.blacklisted, via=via, rng=rng,
        )
        change = decided("call_ended", decision, facts, result, None, not_before=not_before)
        change.updates["attempts"] = max(attempts, 0)
        change = after_numbers(facts, change, result, CONDEMNING.get(result), f"the network said {result.value}")
    change.raw_code, change.dialect = raw, dialect
    return change


def wrap_up(facts: Facts, disposition: str, callback_at: datetime | None, personal: bool,
            rng: random.Random) -> Change:
    row, cfg = facts.row, facts.cfg
    meaning = decisions.resolve_disposition(disposition, cfg.dispositions, row["id"])
    if meaning is Meaning.CALLBACK and callback_at is None:
        raise InvalidArgument(
            f"contact {row['id']}: disposition {disposition!r} is a callback and needs callback_at")
    decision = decisions.after_wrap_up(meaning, cfg.policy, row["attempts"],
                                       blacklisted=facts.blacklisted, rng=rng)
    note = f"disposition {disposition}"
    if meaning is Meaning.CALLBACK and decision.state is S.RETRY_SCHEDULED:
        assert callback_at is not None
        change = decided("wrap_up", decision, facts, None, note, at=max(callback_at.timestamp(), facts.now))
        if personal:
            change.updates["callback_operator_id"] = row["operator_id"]
            change.updates["personal_until"] = change.updates["next_attempt_at"] + cfg.timers["callback_grace_seconds"]
        return after_numbers(facts, change, None, None)
    change = decided("wrap_up", decision, facts, None, note)
    numbers = facts.several
    if numbers is not None and decision.blacklist_number:  # do not call: every number of the person
        change.blacklist = [n["phone"] for n in numbers if n["valid"]]
        return change
    return after_numbers(facts, change, None, WRONG_NUMBER if meaning is Meaning.INVALID else None,
                         f"disposition {disposition}")


def retry_due() -> Change:
    return simple("retry_due", S.READY)


def _one_number_cap(facts: Facts, change: Change) -> Change:
    """A contact with one number: the policy's cap per number is a cap on its attempts."""
    cap = facts.cfg.policy.max_attempts_per_number
    attempts = change.updates.get("attempts", facts.row["attempts"])
    if cap is None or attempts < cap or change.steps[-1].to_state != S.RETRY_SCHEDULED:
        return change
    change.steps[-1] = Step(change.steps[-1].trigger, S.EXHAUSTED,
                            f"its number has had its {cap} attempt{'s' * (cap != 1)}")
    change.updates.pop("next_attempt_at", None)
    return change


def after_numbers(facts: Facts, change: Change, outcome: Outcome | None, condemned: str | None,
                  note: str | None = None) -> Change:
    """What an attempt's end means for a contact with several numbers: the number used
    keeps its outcome, and an outcome that condemns it (`condemned`: its new status)
    marks it. While a number in service is left, a condemned number sends the contact
    straight back to `ready` (no delay), and the next claim takes that number; the
    retries of the contact wait in the zones of the number they will use."""
    numbers = facts.several
    if numbers is None:
        return _one_number_cap(facts, change)
    numbers = copy_numbers(numbers)
    used = index_of(numbers, facts.row["phone_key"])
    if used is not None:
        if outcome is not None:
            numbers[used]["last_outcome"] = outcome.value
        if condemned is not None:
            numbers[used]["status"] = condemned
            numbers[used]["reason"] = note or condemned
    policy = facts.cfg.policy
    following = choose(numbers, policy.number_order, policy.max_attempts_per_number, facts.banned,
                       facts.row["phone_key"])
    change.updates["numbers"] = numbers
    zone_key = zone_key_of(numbers, facts.banned, policy.max_attempts_per_number)
    if zone_key != facts.row["zone_key"]:  # claims look it up by its numbers in service
        change.updates["zone_key"] = zone_key
        retry_at = change.updates.get("next_attempt_at")
        if retry_at is not None and change.updates.get("callback_operator_id") is None:
            moved = Facts({**facts.row, "zone_key": zone_key}, facts.cfg, facts.now, facts.dial_times)
            change.updates["next_attempt_at"] = retry_time(moved, retry_at, True)
    final = change.steps[-1].to_state
    if following is None and final == S.RETRY_SCHEDULED:
        # No number left to retry on: each is condemned, has had its attempts, or is
        # blacklisted (then the contact is parked until one is free again).
        parked = any(in_service(n, (), policy.max_attempts_per_number) for n in numbers)  # all blacklisted
        change.steps[-1] = Step(change.steps[-1].trigger, S.BLACKLISTED if parked else S.EXHAUSTED,
                                "every number left is on the blacklist" if parked else "no number left to call")
        change.updates.pop("next_attempt_at", None)
        return change
    if condemned is not None and following is not None and final in (S.INVALID_RECORD, S.BLACKLISTED):
        phone = numbers[used]["phone"] if used is not None else facts.row["phone"]
        why = f"{phone} is {condemned.replace('_', ' ')}; next: {numbers[following]['phone']}"
        change.steps[-1] = Step(change.steps[-1].trigger, S.RETRY_SCHEDULED, why)
        change.steps.append(Step("retry_due", S.READY, "another number is left"))
        change.updates.pop("next_attempt_at", None)
        change.blacklist = None
    return change


# -- administration --------------------------------------------------------------------------


def update_phone(facts: Facts, e164: str, zone_key: str, blacklisted: float | None) -> Change:
    """A corrected number: `invalid_record` leaves for `ready` (or `blacklisted`); other
    states keep theirs, but a waiting contact whose new number is blacklisted becomes
    `blacklisted`. `blacklisted` is until when the new number is on the blacklist (None: it is not)."""
    updates: dict[str, Any] = {"phone": e164, "phone_key": e164, "zone_key": zone_key}
    expiry = blacklisted if blacklisted and blacklisted < FOREVER else None
    return _renumbered(facts, updates, f"phone corrected from {facts.row['phone']!r} to {e164}",
                       bool(blacklisted), expiry, "the number is on the blacklist")


def _renumbered(facts: Facts, updates: dict[str, Any], note: str, parked: bool, expiry: float | None,
                why: str) -> Change:
    """The steps of new numbers: `invalid_record` leaves for `ready`, or `blacklisted`
    when `parked` (the blacklist holds the new numbers); other states keep theirs, but a
    waiting contact the blacklist now holds is parked, until `expiry`."""
    state = facts.row["state"]
    if state == S.INVALID_RECORD:
        steps = [Step("update_phone", S.BLACKLISTED if parked else S.READY, note)]
    else:
        steps = [Step("update_phone", state, note)]
        if parked and state in BLACKLISTABLE_NOW:
            steps.append(Step("blacklist", S.BLACKLISTED, why))
            updates["operator_id"] = None
    if steps[-1].to_state == S.BLACKLISTED:  # the new numbers' entries, not the old
        updates["next_attempt_at"] = expiry
    return Change(steps, updates)


def update_numbers(facts: Facts, numbers: list[dict[str, Any]], banned: Mapping[str, float]) -> Change:
    """New numbers for a contact: a number it had keeps its attempts and status; it
    leaves `invalid_record` when one is valid, and is parked when every number it may
    be called on is blacklisted (or released when one no longer is)."""
    row = facts.row
    old = {n["phone"]: n for n in (facts.several or [])}
    if not old and row["phone_key"]:
        old[row["phone_key"]] = {"status": CALLABLE, "reason": None, "attempts": row["attempts"],
                                 "last_outcome": row["last_outcome"], "last_attempt_at": row["last_attempt_at"]}
    merged = []
    for number in numbers:
        kept = old.get(number["phone"]) if number["valid"] else None
        if kept is not None:
            number = {**number, **{k: kept[k] for k in ("status", "reason", "attempts", "last_outcome",
                                                        "last_attempt_at")}}
        merged.append(number)
    cap = facts.cfg.policy.max_attempts_per_number
    current = row["phone_key"] if any(n["phone"] == row["phone_key"] and n["valid"] for n in merged) else None
    first = current or next(n["phone"] for n in merged if n["valid"])
    updates: dict[str, Any] = {"numbers": merged, "phone": first, "phone_key": first,
                               "zone_key": zone_key_of(merged, banned, cap)}
    after = Facts({**row, **updates}, facts.cfg, facts.now, facts.dial_times, banned=banned)
    return _renumbered(facts, updates, "numbers replaced: " + ", ".join(n["phone"] for n in merged),
                       after.blacklisted, after.blacklist_expiry, "every number is on the blacklist")


def update_contact(facts: Facts, fields: dict[str, Any], derived: dict[str, Any]) -> Change:
    """New values for some of a contact's fields (and the columns that follow from
    them): one `update` entry naming the fields that change."""
    row = facts.row
    changed = [name for name, value in fields.items() if row[name] != value]
    note = f"updated {', '.join(changed)}" if changed else "nothing changed"
    return Change([Step("update", facts.state, note)], {**fields, **derived})


# -- timeout rules (the scheduler) ---------------------------------------------------------------


def countdown_dial(facts: Facts, rng: random.Random) -> Change:
    """The before-call-work countdown ran out: the call is placed, if the rules allow it
    now; else the contact goes back to the list (operator cleared), the reason noted."""
    if facts.several is not None:  # the number chosen at the assignment, or another usable now
        facts.number = pick_number(facts, facts.now)
    verdict = callability(facts, facts.now)
    if verdict.callable:
        return dial(facts, new_call_id(), "before-call-work countdown ended")
    why = "; ".join(r.text for r in verdict.reasons)
    if facts.blacklisted:
        return Change([Step("blacklist", S.BLACKLISTED, f"the countdown ended: {why}")])
    return Change([Step("release", S.READY, f"the countdown ended, the call was not placed: {why}")])


def wrap_up_timed_out(facts: Facts, rng: random.Random) -> Change:
    """After-call work ran out: wrap up with the campaign's default disposition."""
    change = wrap_up(facts, facts.cfg.default_disposition, None, False, rng)
    change.steps[0].note = join_notes("after-call work timed out", change.steps[0].note)
    return change


def release(facts: Facts, rng: random.Random) -> Change:
    return Change([Step("release", S.READY, "the operator did not accept in time")])


def recover_call(facts: Facts, rng: random.Random) -> Change:
    """An event was lost or a process died: end the call as `unknown`, but never
    redial before the call, if it is somehow still live, must have ended."""
    row, cfg = facts.row, facts.cfg
    started = facts.last_dial_at if facts.last_dial_at is not None else float(row["updated_at"])
    note = f"no event for the call within the {row['state']} limit"
    # From awaiting_operator the client's call passes canceled_by_client; whether the
    # client hung up nobody knows (a lost connect_operator may have put them through),
    # so the outcome stays unknown rather than abandoned.
    change = call_ended(facts, Outcome.UNKNOWN, None, None, rng,
                        not_before=started + cfg.timers["max_call_seconds"], waiting_outcome=Outcome.UNKNOWN)
    change.steps[0].note = join_notes(note, change.steps[0].note)
    return change


def retry_came_due(facts: Facts, rng: random.Random) -> Change:
    return retry_due()


def blacklist_expired(facts: Facts, rng: random.Random) -> Change:
    """A blacklisted contact's entry ran out: back to the list, unless another entry
    (or a newer one) still holds the number; then it waits for that one's expiry."""
    if facts.blacklisted:
        return Change([])  # `to_move` sets the expiry of the entries still in force
    return Change([Step("unblacklist", S.READY, "the blacklist entry expired")])


def open_callback(facts: Facts, rng: random.Random) -> Change:
    """A personal callback unclaimed after its grace: anyone may take it now."""
    if facts.row["callback_operator_id"] is None:
        return Change([])  # nothing due any more
    return Change([Step("open_callback", S.READY, "personal callback unclaimed after its grace")],
                  {"callback_operator_id": None, "personal_until": None})


#: What the scheduler does when a state's timer runs out, by the trigger the
#: lifecycle table says it fires (`dialstate.engine.lifecycle.STATES`).
TIMEOUT_RULES: Mapping[str, Callable[[Facts, random.Random], Change]] = MappingProxyType({
    "dial": countdown_dial,
    "wrap_up": wrap_up_timed_out,
    "release": release,
    "call_ended": recover_call,
    "retry_due": retry_came_due,
    "open_callback": open_callback,
    "unblacklist": blacklist_expired,
})


# -- from a policy decision to a change ------------------------------------------------------------


def decided(trigger: str, decision: Decision, facts: Facts, outcome: Outcome | None, note: str | None,
            at: float | None = None, not_before: float | None = None) -> Change:
    """Turn a policy decision into steps and column updates (a retry gets its time)."""
    first = decision.via or decision.state
    steps = [Step(trigger, first, join_notes(note, decision.note))]
    if decision.via is not None and decision.state is not decision.via:
        steps.append(Step("decide", decision.state, decision.note))
    updates: dict[str, Any] = {}
    if outcome is not None:
        updates["last_outcome"] = outcome.value
    if decision.state is S.RETRY_SCHEDULED:
        wanted = at if at is not None else facts.now + (decision.delay or 0.0)
        if not_before is not None:
            wanted = max(wanted, not_before)
        counted = outcome is None or facts.cfg.policy.counts(outcome)
        updates["next_attempt_at"] = retry_time(facts, wanted, counted)
    change = Change(steps, updates, outcome.value if outcome is not None else None)
    if decision.blacklist_number:
        change.blacklist = facts.row["phone_key"] or facts.row["phone"]
        updates["next_attempt_at"] = None  # blacklisted for good
    return change


def retry_time(facts: Facts, wanted: float, counted: bool) -> float:
    """The earliest time at or after `wanted` that keeps the policy's rolling caps and
    falls inside the contact's calling window."""
    cfg = facts.cfg
    policy, window = cfg.policy, cfg.window
    if not policy.rolling_limits and window is None:
        return wanted
    times = attempt_times(facts, counted) if policy.rolling_limits else []
    sets = zone_sets(facts.row["zone_key"], cfg.timezone)
    t = datetime.fromtimestamp(wanted, UTC)
    for _ in range(_MAX_ROUNDS):
        before = t
        if policy.rolling_limits:
            t = policy.earliest_allowed(times, t)
        if window is not None:
            openings = [o for o in (window.next_opening(zones, t) for zones in sets) if o is not None]
            if openings:
                t = min(openings)
        if t == before:
            break
    return t.timestamp()


def attempt_times(facts: Facts, counted: bool) -> list[datetime]:
    """When the contact's counted attempts were made (a congested attempt, not counted,
    is redialed under the same attempt number: its last dial counts)."""
    current = facts.row["attempts"] if not counted else None
    return [datetime.fromtimestamp(at, UTC) for attempt, at in facts.dial_times if attempt != current]
