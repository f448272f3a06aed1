"""Spec section 4 through the engine: a call ending while dialing is decided by the
outcome table (tests/support/outcome_table.py) in every mode, vendor codes of every
dialect reach that decision, unknown codes are kept raw, bad codes and dialects change
nothing, attempts are counted against the policy, and `campaign_stats` counts them by
outcome and group."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest

from dialstate import (
    Contact,
    ContactState,
    DialMode,
    DialstateError,
    Engine,
    InvalidTransition,
    Outcome,
    RetryPolicy,
    UnknownOutcome,
)
from dialstate.outcomes import OperatorLegCode, register_dialect
from dialstate.testing import VirtualClock
from tests.support import (
    ENDING_A_DIAL,
    OUTCOME_TABLE,
    assert_history_continuous,
    contact_record,
    new_campaign,
    new_contact,
    new_contacts,
    new_phones,
    path_from_dialing,
    walk_to,
)

S = ContactState
O = Outcome
P, G, D, A = DialMode.PREVIEW, DialMode.PROGRESSIVE, DialMode.PREDICTIVE, DialMode.AGENTLESS


def ended_entry(engine: Engine, cid: int):
    """The history entry that `call_ended` wrote first (the one carrying the code)."""
    entries = [e for e in engine.history(cid) if e.trigger == "call_ended"]
    assert len(entries) == 1, entries
    return entries[0]


# Vendor codes of every dialect and the outcome each must be read as.
VENDOR_CODES: list[tuple[str, str | int, Outcome]] = [
    # busy, as every switch and vendor says it
    ("sip", 486, O.BUSY),
    ("sip", "486", O.BUSY),
    ("sip", 600, O.BUSY),
    ("q850", 17, O.BUSY),
    ("q850", "17", O.BUSY),
    ("freeswitch", "USER_BUSY", O.BUSY),
    ("freeswitch", "user_busy", O.BUSY),
    ("asterisk", "BUSY", O.BUSY),
    ("asterisk", "busy", O.BUSY),
    ("call_result", "Busy", O.BUSY),
    ("call_status", "ABSENT/BUSY", O.BUSY),
    ("leg_status", "BUSY_LEG2", O.BUSY),
    ("session_status", "Busy", O.BUSY),
    # no answer
    ("q850", 19, O.NO_ANSWER),
    ("sip", 480, O.NO_ANSWER),
    ("freeswitch", "NO_ANSWER", O.NO_ANSWER),
    ("asterisk", "NOANSWER", O.NO_ANSWER),
    ("call_result", "Timeout", O.NO_ANSWER),
    ("session_status", "Not answered", O.NO_ANSWER),
    # voicemail, rejected
    ("call_status", "ABSENT/VOICEMAIL_DETECTED", O.VOICEMAIL),
    ("q850", 21, O.REJECTED),
    ("sip", 603, O.REJECTED),
    ("session_status", "Declined", O.REJECTED),
    # the number does not exist
    ("q850", 1, O.UNALLOCATED),
    ("sip", 404, O.UNALLOCATED),
    ("freeswitch", "UNALLOCATED_NUMBER", O.UNALLOCATED),
    ("call_status", "ERROR/UNALLOCATED_NUMBER", O.UNALLOCATED),
    ("session_status", "Not found", O.UNALLOCATED),
    # canceled by our side, congestion, failures
    ("asterisk", "CANCEL", O.CANCELED),
    ("call_result", "Cancel", O.CANCELED),
    ("q850", 34, O.CONGESTION),
    ("asterisk", "CONGESTION", O.CONGESTION),
    ("leg_status", "MAX-USE", O.CONGESTION),
    ("asterisk", "CHANUNAVAIL", O.FAILED),
    ("call_result", "Failed", O.FAILED),
    # blocked: blacklist, do-not-disturb, do-not-call
    ("asterisk", "DONTCALL", O.BLOCKED),
    ("sip", 607, O.BLOCKED),
    ("call_status", "ERROR/BLACKLISTED", O.BLOCKED),
    ("leg_status", "DND", O.BLOCKED),
    # the destination is not allowed
    ("q850", 52, O.NOT_ALLOWED),
    ("sip", 403, O.NOT_ALLOWED),
    ("leg_status", "NOTALLOWED", O.NOT_ALLOWED),
    # answered and done, without an answered event first (from `dialing`)
    ("asterisk", "ANSWER", O.COMPLETED),
]


@pytest.mark.parametrize(
    ("dialect", "code", "outcome"),
    [pytest.param(d, c, o, id=f"{d}-{c}") for d, c, o in VENDOR_CODES],
)
def test_a_vendor_code_ending_a_call_reaches_its_outcomes_decision(
    sqlite_engine: Engine, clock: VirtualClock, dialect: str, code: str | int, outcome: Outcome
) -> None:
    # The decision is backend-independent: the table runs on SQLite, the storage of
    # raw codes on both backends below.
    engine = sqlite_engine
    cid = walk_to(engine, A, S.DIALING)
    path, delay = path_from_dialing(outcome, A), OUTCOME_TABLE[outcome].delay
    after = engine.call_ended(cid, code, dialect=dialect)
    assert after.state is path[-1]
    assert after.last_outcome is outcome
    if delay is None:
        assert after.next_attempt_at is None
    else:
        assert after.next_attempt_at == clock.now + timedelta(seconds=delay)
    entries = engine.history(cid)
    assert [e.to_state for e in entries[-len(path):]] == path
    first = ended_entry(engine, cid)
    assert (first.outcome, first.raw_code, first.dialect) == (outcome, str(code), dialect)
    assert_history_continuous(engine, cid)


def test_an_uncounted_congestion_gives_the_attempt_back(engine: Engine) -> None:
    cid = walk_to(engine, A, S.DIALING)
    assert engine.get_contact(cid).attempts == 1
    after = engine.call_ended(cid, 34, dialect="q850")
    assert after.attempts == 0


def test_not_allowed_leaves_the_contact_final_in_dial_failed(engine: Engine) -> None:
    cid = walk_to(engine, A, S.DIALING)
    after = engine.call_ended(cid, 403, dialect="sip")
    assert after.state is S.DIAL_FAILED and after.next_attempt_at is None
    with pytest.raises(InvalidTransition) as info:
        engine.cancel(cid)
    assert info.value.allowed == ("delete",)
    assert engine.delete(cid).state is S.DELETED


@pytest.mark.parametrize("mode", list(DialMode), ids=lambda m: m.value)
def test_sip_486_from_dialing_schedules_a_retry_in_five_minutes_in_every_mode(
    engine: Engine, clock: VirtualClock, mode: DialMode
) -> None:
    cid = walk_to(engine, mode, S.DIALING)
    after = engine.call_ended(cid, 486, dialect="sip")
    assert after.state is S.RETRY_SCHEDULED
    assert after.next_attempt_at == clock.now + timedelta(seconds=300)
    assert after.operator_id is None
    assert_history_continuous(engine, cid)


@pytest.mark.parametrize(
    ("mode", "state"),
    [
        (DialMode.AGENTLESS, S.SUCCESS),
        (DialMode.PREVIEW, S.AFTER_CALL_WORK),
        (DialMode.PROGRESSIVE, S.AFTER_CALL_WORK),
        (DialMode.PREDICTIVE, S.AFTER_CALL_WORK),
    ],
    ids=lambda v: v.value,
)
@pytest.mark.parametrize(("dialect", "code"), [("q850", 16), ("freeswitch", "NORMAL_CLEARING")])
def test_normal_clearing_of_an_answered_call_is_success_agentless_and_wrap_up_with_operators(
    engine: Engine, mode: DialMode, state: ContactState, dialect: str, code: str | int
) -> None:
    cid = walk_to(engine, mode, S.DIALING)
    engine.answered(cid, operator_id="op1" if mode is DialMode.PREDICTIVE else None)
    after = engine.call_ended(cid, code, dialect=dialect)
    assert after.state is state
    assert after.last_outcome is O.COMPLETED
    entry = ended_entry(engine, cid)
    assert (entry.outcome, entry.raw_code, entry.dialect) == (O.COMPLETED, str(code), dialect)
    assert_history_continuous(engine, cid)


# An answered agentless call ends by the table's "agentless end" column.
AGENTLESS_ENDS = [
    ("call_status", "ANSWERED/COMPLETE", S.SUCCESS, None),
    ("call_status", "ANSWERED/INCOMPLETE", S.RETRY_SCHEDULED, 1800),
    ("call_status", "HANGUP", S.RETRY_SCHEDULED, 1800),
    ("session_status", "Transferred", S.SUCCESS, None),
    ("session_status", "Escalated by operator", S.SUCCESS, None),
    ("session_status", "Resolved by operator", S.SUCCESS, None),
]


@pytest.mark.parametrize(
    ("dialect", "code", "state", "delay"), AGENTLESS_ENDS, ids=[c for _, c, _, _ in AGENTLESS_ENDS]
)
def test_an_answered_agentless_call_ends_by_its_outcome(
    sqlite_engine: Engine, clock: VirtualClock, dialect: str, code: str, state: ContactState, delay: int | None
) -> None:
    engine = sqlite_engine
    cid = walk_to(engine, DialMode.AGENTLESS, S.DIALING)
    engine.answered(cid)
    after = engine.call_ended(cid, code, dialect=dialect)
    assert after.state is state
    assert after.next_attempt_at == (None if delay is None else clock.now + timedelta(seconds=delay))


def test_an_incomplete_call_with_an_operator_goes_to_a_normal_wrap_up(engine: Engine) -> None:
    cid = walk_to(engine, DialMode.PREVIEW, S.DIALING)
    engine.answered(cid)
    after = engine.call_ended(cid, "ANSWERED/INCOMPLETE", dialect="call_status")
    assert (after.state, after.last_outcome) == (S.AFTER_CALL_WORK, O.INCOMPLETE)


def test_a_predictive_client_who_hangs_up_waiting_passes_canceled_by_client_and_retries_in_600_s(
    engine: Engine, clock: VirtualClock
) -> None:
    cid = walk_to(engine, DialMode.PREDICTIVE, S.DIALING)
    engine.answered(cid)
    after = engine.call_ended(cid, "NORMAL_CLEARING", dialect="freeswitch")
    assert (after.state, after.last_outcome) == (S.RETRY_SCHEDULED, O.ABANDONED)
    assert after.next_attempt_at == clock.now + timedelta(seconds=600)
    assert [e.to_state for e in engine.history(cid)[-2:]] == [S.CANCELED_BY_CLIENT, S.RETRY_SCHEDULED]
    assert_history_continuous(engine, cid)


@pytest.mark.parametrize(
    ("mode", "walk"),
    [(DialMode.PREDICTIVE, [S.CANCELED_BY_CLIENT, S.RETRY_SCHEDULED]), (DialMode.AGENTLESS, [S.RETRY_SCHEDULED])],
    ids=lambda v: getattr(v, "value", "walk"),
)
def test_an_abandoned_outcome_retries_in_600_s_through_canceled_by_client_when_predictive(
    engine: Engine, clock: VirtualClock, mode: DialMode, walk: list[ContactState]
) -> None:
    cid = walk_to(engine, mode, S.DIALING)
    after = engine.call_ended(cid, "abandoned")
    assert after.next_attempt_at == clock.now + timedelta(seconds=600)
    assert [e.to_state for e in engine.history(cid)[-len(walk):]] == walk
    assert engine.history(cid)[-len(walk) - 1].to_state is S.DIALING


@pytest.mark.parametrize(
    ("dialect", "code"),
    [("sip", 180), ("sip", "799"), ("q850", 200), ("q850", 10), ("freeswitch", "SOMETHING_ODD"),
     ("asterisk", "ON_FIRE"), ("call_result", "Exploded"), ("call_status", "ABSENT/ON_MARS"),
     ("leg_status", "BUSY_LEG3"), ("session_status", "Sleeping")],
    ids=lambda v: str(v),
)
def test_an_unknown_code_is_outcome_unknown_with_the_raw_code_kept(
    sqlite_engine: Engine, clock: VirtualClock, dialect: str, code: str | int
) -> None:
    engine = sqlite_engine
    cid = walk_to(engine, A, S.DIALING)
    after = engine.call_ended(cid, code, dialect=dialect)
    assert after.last_outcome is O.UNKNOWN
    assert after.state is S.RETRY_SCHEDULED
    assert after.next_attempt_at == clock.now + timedelta(seconds=900)
    entry = ended_entry(engine, cid)
    assert (entry.outcome, entry.raw_code, entry.dialect) == (O.UNKNOWN, str(code), dialect)


@pytest.mark.parametrize(("dialect", "code", "outcome"), [("sip", 486, O.BUSY), ("freeswitch", "Odd_Cause", O.UNKNOWN)])
def test_the_raw_code_and_dialect_are_stored_on_every_backend(
    engine: Engine, dialect: str, code: str | int, outcome: Outcome
) -> None:
    cid = walk_to(engine, A, S.DIALING)
    engine.call_ended(cid, code, dialect=dialect)
    entry = ended_entry(engine, cid)
    assert (entry.outcome, entry.raw_code, entry.dialect) == (outcome, str(code), dialect)
    assert engine.get_contact(cid).last_outcome is outcome


def test_a_canonical_outcome_without_dialect_keeps_no_raw_code(engine: Engine) -> None:
    cid = walk_to(engine, A, S.DIALING)
    engine.call_ended(cid, "busy")
    entry = ended_entry(engine, cid)
    assert (entry.outcome, entry.raw_code, entry.dialect) == (O.BUSY, None, None)


def assert_refused_and_unchanged(engine: Engine, cid: int, call: Callable[[], object],
                                 error: type[Exception]) -> Exception:
    before = contact_record(engine, cid)
    with pytest.raises(error) as info:
        call()
    assert isinstance(info.value, DialstateError)
    assert contact_record(engine, cid) == before
    return info.value


@pytest.mark.parametrize(
    ("dialect", "code"),
    [("call_result", "Lose-race"), ("call_result", "lose_race"), ("call_result", "LOSE RACE"),
     ("freeswitch", "LOSE_RACE")],
)
def test_lose_race_is_refused_as_an_operator_leg_and_changes_nothing(
    engine: Engine, dialect: str, code: str
) -> None:
    cid = walk_to(engine, DialMode.PREDICTIVE, S.DIALING)
    err = assert_refused_and_unchanged(
        engine, cid, lambda: engine.call_ended(cid, code, dialect=dialect), OperatorLegCode
    )
    assert "operator's leg" in str(err) and code in str(err)


def test_lose_race_without_a_dialect_is_refused_and_changes_nothing(engine: Engine) -> None:
    cid = walk_to(engine, DialMode.PREDICTIVE, S.DIALING)
    err = assert_refused_and_unchanged(
        engine, cid, lambda: engine.call_ended(cid, "Lose-race"), UnknownOutcome
    )
    assert "Lose-race" in str(err)


def test_an_unknown_dialect_is_refused_naming_the_known_ones_and_changes_nothing(engine: Engine) -> None:
    cid = walk_to(engine, A, S.DIALING)
    err = assert_refused_and_unchanged(
        engine, cid, lambda: engine.call_ended(cid, 486, dialect="no-such-switch"), UnknownOutcome
    )
    assert "no-such-switch" in str(err) and "sip" in str(err)


@pytest.mark.parametrize("code", ["exploded", "486", 486, "USER_BUSY"], ids=str)
def test_a_code_that_is_no_canonical_outcome_without_a_dialect_is_refused(
    engine: Engine, code: str | int
) -> None:
    cid = walk_to(engine, A, S.DIALING)
    err = assert_refused_and_unchanged(engine, cid, lambda: engine.call_ended(cid, code), UnknownOutcome)
    assert "busy" in str(err)  # the message lists the outcomes allowed


@pytest.mark.usefixtures("isolated_dialects")
def test_a_registered_dialect_is_usable_through_call_ended(engine: Engine, clock: VirtualClock) -> None:
    name = f"acme_{uuid.uuid4().hex[:8]}"
    register_dialect(name, {"LINE-ENGAGED": O.BUSY, 42: "voicemail", "GONE": "unallocated"})
    busy = walk_to(engine, A, S.DIALING)
    after = engine.call_ended(busy, "line-engaged", dialect=name)
    assert (after.state, after.next_attempt_at) == (S.RETRY_SCHEDULED, clock.now + timedelta(seconds=300))
    entry = ended_entry(engine, busy)
    assert (entry.outcome, entry.raw_code, entry.dialect) == (O.BUSY, "line-engaged", name)
    voicemail = walk_to(engine, A, S.DIALING)
    assert engine.call_ended(voicemail, "42", dialect=name).next_attempt_at == clock.now + timedelta(hours=2)
    gone = walk_to(engine, A, S.DIALING)
    assert engine.call_ended(gone, "gone", dialect=name).state is S.INVALID_RECORD
    odd = walk_to(engine, A, S.DIALING)
    assert engine.call_ended(odd, "UNHEARD-OF", dialect=name).last_outcome is O.UNKNOWN


# -- the decision after a call attempt, outcome by outcome and mode by mode ------------

CASES = [
    pytest.param(mode, outcome, id=f"{mode.value}-{outcome.value}")
    for mode in DialMode for outcome in ENDING_A_DIAL
]


@pytest.mark.parametrize(("mode", "outcome"), CASES)
def test_a_call_that_ends_while_dialing_is_decided_by_section_4s_table(
    sqlite_engine: Engine, clock: VirtualClock, mode: DialMode, outcome: Outcome
) -> None:
    engine = sqlite_engine
    cid = walk_to(engine, mode, S.DIALING)
    n = len(engine.history(cid))
    clock.advance(45)
    after = engine.call_ended(cid, outcome)
    path, row = path_from_dialing(outcome, mode), OUTCOME_TABLE[outcome]
    entries = engine.history(cid)[n:]
    assert [e.to_state for e in entries] == path
    assert after.state is path[-1]
    assert after.next_attempt_at == (None if row.delay is None else clock.now + timedelta(seconds=row.delay))
    assert after.attempts == (1 if row.counted else 0)
    assert after.last_outcome is outcome
    assert entries[0].outcome is outcome and entries[0].trigger == "call_ended"
    assert_history_continuous(engine, cid)


def test_a_contact_left_in_dial_failed_by_not_allowed_refuses_everything_but_delete(engine: Engine) -> None:
    cid = new_contact(engine, A)
    engine.dial(cid)
    assert engine.call_ended(cid, O.NOT_ALLOWED).state is S.DIAL_FAILED
    for refused in (lambda: engine.retry_due(cid), lambda: engine.dial(cid), lambda: engine.cancel(cid)):
        with pytest.raises(InvalidTransition):
            refused()
    assert engine.delete(cid).state is S.DELETED


def test_the_contact_is_exhausted_when_its_counted_attempts_reach_max_attempts(
    engine: Engine, clock: VirtualClock
) -> None:
    cid = new_contact(engine, A, retry_policy=RetryPolicy(max_attempts=2))
    engine.dial(cid)
    assert engine.call_ended(cid, O.BUSY).state is S.RETRY_SCHEDULED
    engine.retry_due(cid)
    engine.dial(cid)
    final = engine.call_ended(cid, O.NO_ANSWER)
    assert (final.state, final.attempts, final.next_attempt_at) == (S.EXHAUSTED, 2, None)
    assert "2" in (engine.history(cid)[-1].note or "")
    assert_history_continuous(engine, cid)


def test_congestion_is_not_counted_towards_max_attempts(engine: Engine) -> None:
    cid = new_contact(engine, A, retry_policy=RetryPolicy(max_attempts=2))
    outcomes = [O.BUSY, O.CONGESTION, O.CONGESTION, O.CONGESTION, O.BUSY]
    states = []
    for outcome in outcomes:
        if engine.get_contact(cid).state is S.RETRY_SCHEDULED:
            engine.retry_due(cid)
        engine.dial(cid)
        after = engine.call_ended(cid, outcome)
        states.append((after.state, after.attempts))
    assert states == [
        (S.RETRY_SCHEDULED, 1), (S.RETRY_SCHEDULED, 1), (S.RETRY_SCHEDULED, 1), (S.RETRY_SCHEDULED, 1),
        (S.EXHAUSTED, 2),
    ]


def test_congestion_on_the_last_allowed_attempt_still_retries(engine: Engine) -> None:
    cid = new_contact(engine, A, retry_policy=RetryPolicy(max_attempts=1))
    engine.dial(cid)
    assert engine.call_ended(cid, O.CONGESTION).state is S.RETRY_SCHEDULED
    engine.retry_due(cid)
    engine.dial(cid)
    assert engine.call_ended(cid, O.VOICEMAIL).state is S.EXHAUSTED


@pytest.mark.parametrize(("mode", "end", "passing"), [
    (A, lambda e, c: e.dial_failed(c, "trunk down"), S.DIAL_FAILED),
    (A, lambda e, c: e.call_ended(c, O.FAILED), S.DIAL_FAILED),
    (D, lambda e, c: e.call_ended(c, O.ABANDONED), S.CANCELED_BY_CLIENT),
], ids=["dial_failed", "failed-outcome", "abandoned"])
def test_a_passing_state_on_the_last_allowed_attempt_leads_to_exhausted(
    sqlite_engine: Engine, mode: DialMode, end: Callable[[Engine, int], Contact], passing: ContactState
) -> None:
    engine = sqlite_engine
    cid = new_contact(engine, mode, retry_policy=RetryPolicy(max_attempts=1))
    engine.dial(cid)
    after = end(engine, cid)
    assert after.state is S.EXHAUSTED
    assert [e.to_state for e in engine.history(cid)[-2:]] == [passing, S.EXHAUSTED]


@pytest.mark.parametrize("mode", [P, G, D, A])
def test_dial_failed_passes_dial_failed_then_retries_after_300_seconds(
    sqlite_engine: Engine, clock: VirtualClock, mode: DialMode
) -> None:
    engine = sqlite_engine
    cid = walk_to(engine, mode, S.DIALING)
    clock.advance(5)
    after = engine.dial_failed(cid, "SIP trunk unreachable")
    assert (after.state, after.last_outcome) == (S.RETRY_SCHEDULED, O.FAILED)
    assert after.next_attempt_at == clock.now + timedelta(seconds=300)
    failed, retry = engine.history(cid)[-2:]
    assert (failed.to_state, retry.to_state) == (S.DIAL_FAILED, S.RETRY_SCHEDULED)
    assert "SIP trunk unreachable" in (failed.note or "")


def test_dial_failed_before_the_call_is_placed_also_retries(engine: Engine, clock: VirtualClock) -> None:
    cid = new_contact(engine, P)
    engine.assign_operator(cid, "op1")
    engine.accept(cid)
    after = engine.dial_failed(cid, "workstation offline")
    assert after.state is S.RETRY_SCHEDULED and after.next_attempt_at == clock.now + timedelta(seconds=300)
    assert after.operator_id is None


def test_an_incomplete_agentless_call_retries_after_1800_seconds(engine: Engine, clock: VirtualClock) -> None:
    cid = new_contact(engine, A)
    engine.dial(cid)
    engine.answered(cid)
    after = engine.call_ended(cid, O.INCOMPLETE)
    assert (after.state, after.last_outcome) == (S.RETRY_SCHEDULED, O.INCOMPLETE)
    assert after.next_attempt_at == clock.now + timedelta(seconds=1800)


@pytest.mark.parametrize("mode", [P, G, D])
@pytest.mark.parametrize("outcome", [O.INCOMPLETE, O.COMPLETED, O.BUSY])
def test_a_connected_call_in_an_operator_mode_ends_in_after_call_work(
    sqlite_engine: Engine, mode: DialMode, outcome: Outcome
) -> None:
    engine = sqlite_engine
    cid = walk_to(engine, mode, S.DIALING)
    engine.answered(cid, operator_id="op1")
    after = engine.call_ended(cid, outcome)
    assert (after.state, after.last_outcome, after.next_attempt_at) == (S.AFTER_CALL_WORK, outcome, None)


# -- campaign_stats --------------------------------------------------------------------


def run_predictive_calls(engine: Engine) -> int:
    """A predictive campaign with a known set of finished attempts; returns its id.

    Answered: 5 calls (3 connected to an operator, 2 abandoned while waiting).
    Not answered: 2 busy, 1 no answer, 1 congestion, 1 dial failure, 1 unallocated.
    """
    campaign = new_campaign(engine, D)
    cids = new_contacts(engine, campaign, *new_phones(11))
    for cid in cids:
        engine.dial(cid)
    connected, abandoned, rest = cids[:3], cids[3:5], cids[5:]
    for cid in connected:
        engine.answered(cid, operator_id="op1")
        engine.call_ended(cid, 16, dialect="q850")
        engine.wrap_up(cid, "success")
    for cid in abandoned:
        engine.answered(cid)  # no operator free: the client waits, then hangs up
        engine.call_ended(cid, "NORMAL_CLEARING", dialect="freeswitch")
    engine.call_ended(rest[0], 486, dialect="sip")
    engine.call_ended(rest[1], "busy")
    engine.call_ended(rest[2], "NOANSWER", dialect="asterisk")
    engine.call_ended(rest[3], 34, dialect="q850")
    engine.dial_failed(rest[4], "no trunk")
    engine.call_ended(rest[5], 404, dialect="sip")
    return campaign


def test_campaign_stats_count_finished_attempts_by_outcome_and_by_group(engine: Engine) -> None:
    stats = engine.campaign_stats(run_predictive_calls(engine))
    assert dict(stats.attempts_by_outcome) == {
        "completed": 3, "abandoned": 2, "busy": 2, "no_answer": 1, "congestion": 1, "failed": 1,
        "unallocated": 1,
    }
    assert dict(stats.attempts_by_group) == {"completed": 3, "no_response": 4, "failed": 4}
    assert stats["success"] == 3
    assert stats["retry_scheduled"] == 7
    assert stats["invalid_record"] == 1


def test_the_predictive_abandon_rate_is_abandoned_over_answered_calls(engine: Engine) -> None:
    stats = engine.campaign_stats(run_predictive_calls(engine))
    assert stats.abandon_rate == pytest.approx(2 / 5)


def test_a_predictive_campaign_without_answered_calls_has_no_abandon_rate(engine: Engine) -> None:
    cid = walk_to(engine, D, S.DIALING)
    engine.call_ended(cid, "busy")
    assert engine.campaign_stats(engine.get_contact(cid).campaign_id).abandon_rate is None


def test_an_agentless_campaign_has_no_abandon_rate(engine: Engine) -> None:
    cid = walk_to(engine, DialMode.AGENTLESS, S.DIALING)
    engine.answered(cid)
    engine.call_ended(cid, "completed")
    stats = engine.campaign_stats(engine.get_contact(cid).campaign_id)
    assert dict(stats.attempts_by_outcome) == {"completed": 1}
    assert stats.abandon_rate is None


@pytest.mark.parametrize("code", ["Lose-race", "LOSE_RACE", "lose race"])
def test_a_lose_race_code_given_without_a_dialect_is_refused_as_an_operator_leg(
    sqlite_engine: Engine, code: str
) -> None:
    cid = walk_to(sqlite_engine, A, S.DIALING, phone="212 555 0190", default_region="US")
    before = sqlite_engine.get_contact(cid)
    with pytest.raises(OperatorLegCode, match="operator's leg"):
        sqlite_engine.call_ended(cid, code)
    assert sqlite_engine.get_contact(cid) == before
