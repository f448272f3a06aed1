"""Spec section 7: the scheduler fires every timer from the due times in the contact
rows, once, never early, re-checked under the lock, and survives restarts.

These tests drive `Scheduler.run_pending` with the virtual clock, on SQLite and on
PostgreSQL; tests/integration runs the background scheduler in real time and several
scheduler processes.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest

from dialstate import ContactState, DialMode, Engine, Outcome, TransitionEvent
from dialstate.engine.timers import POISON_RETRY_SECONDS
from dialstate.scheduler import Scheduler
from dialstate.testing import VirtualClock
from tests.support import assert_history_continuous, new_phone, retry_due_entries, seed_retries, walk_to

S = ContactState
P, G, D, A = DialMode.PREVIEW, DialMode.PROGRESSIVE, DialMode.PREDICTIVE, DialMode.AGENTLESS
TIMERS = {
    "before_call_work_seconds": 30, "after_call_work_seconds": 120, "assign_timeout_seconds": 300,
    "dial_timeout_seconds": 120, "max_call_seconds": 7200, "operator_wait_seconds": 60,
    "callback_grace_seconds": 900,
}


def timed_contact(engine: Engine, mode: DialMode, state: ContactState = ContactState.READY,
                  phone: str | None = None, operator: str = "op1", **settings: Any) -> int:
    """A contact in `state` of a new campaign with the timers above (and `settings`)."""
    return walk_to(engine, mode, state, phone=phone, operator=operator, **{**TIMERS, **settings})


def fire(engine: Engine, clock: VirtualClock, seconds: float) -> int:
    clock.advance(seconds)
    return Scheduler(engine).run_pending()


def last(engine: Engine, cid: int) -> Any:
    return engine.history(cid)[-1]


# -- each timer rule ---------------------------------------------------------------


def test_a_retry_fires_when_its_time_has_come_and_not_a_second_before(engine: Engine, clock: VirtualClock) -> None:
    cid = timed_contact(engine, A, S.DIALING)
    retry = engine.call_ended(cid, Outcome.BUSY)
    assert retry.state is S.RETRY_SCHEDULED and retry.next_attempt_at == clock.now + timedelta(seconds=300)

    assert fire(engine, clock, 299.999) == 0
    assert engine.get_contact(cid).state is S.RETRY_SCHEDULED
    assert fire(engine, clock, 0.001) == 1

    contact = engine.get_contact(cid)
    assert contact.state is S.READY and contact.next_attempt_at is None and contact.due_at is None
    entry = last(engine, cid)
    assert (entry.from_state, entry.to_state, entry.trigger, entry.actor) == (
        S.RETRY_SCHEDULED, S.READY, "retry_due", "scheduler")
    assert entry.at == clock.now
    assert fire(engine, clock, 3600) == 0, "a fired timer does not fire again"
    assert_history_continuous(engine, cid)


def test_run_pending_fires_batch_after_batch_and_returns_how_many_fired(
    engine: Engine, clock: VirtualClock, caplog: pytest.LogCaptureFixture
) -> None:
    ids = seed_retries(engine, 25, delay=60)
    clock.advance(60)
    with caplog.at_level(logging.INFO, logger="dialstate.scheduler"):
        assert Scheduler(engine, batch_size=10).run_pending() == 25
    assert all(engine.get_contact(cid).state is S.READY for cid in ids)
    lines = [r.getMessage() for r in caplog.records if r.name == "dialstate.scheduler"]
    assert [line.split(" in ")[0] for line in lines] == ["fired 10 due contacts"] * 2 + ["fired 5 due contacts"]
    assert all(line.endswith(": retry_scheduled 10") for line in lines[:2])


@pytest.mark.parametrize("mode", [P, G])
def test_the_before_call_work_countdown_dials_a_fresh_call_and_tells_the_dialer(
    engine: Engine, clock: VirtualClock, mode: DialMode
) -> None:
    cid = timed_contact(engine, mode, S.BEFORE_CALL_WORK)
    heard: list[TransitionEvent] = []
    engine.subscribe(heard.append)

    assert fire(engine, clock, 29) == 0
    assert fire(engine, clock, 1) == 1

    contact = engine.get_contact(cid)
    assert contact.state is S.DIALING and contact.attempts == 1 and contact.call_id
    assert contact.operator_id == "op1"
    entry = last(engine, cid)
    assert (entry.trigger, entry.actor, entry.note) == ("dial", "scheduler", "before-call-work countdown ended")
    assert [(e.contact.id, e.entry.to_state, e.contact.call_id) for e in heard] == [(cid, S.DIALING, contact.call_id)]


@pytest.mark.parametrize(("disposition", "expected"), [
    ("success", S.SUCCESS), ("not_interested", S.SUCCESS), ("retry", S.RETRY_SCHEDULED),
])
def test_timed_out_after_call_work_is_wrapped_up_with_the_campaigns_default_disposition(
    engine: Engine, clock: VirtualClock, disposition: str, expected: ContactState
) -> None:
    cid = timed_contact(engine, P, S.AFTER_CALL_WORK, default_disposition=disposition)

    assert fire(engine, clock, 119) == 0
    assert fire(engine, clock, 1) == 1

    assert engine.get_contact(cid).state is expected
    entry = last(engine, cid)
    assert (entry.from_state, entry.trigger, entry.actor) == (S.AFTER_CALL_WORK, "wrap_up", "scheduler")
    assert entry.note is not None and entry.note.startswith(f"after-call work timed out; disposition {disposition}")
    assert_history_continuous(engine, cid)


def test_a_do_not_call_default_blacklists_the_number_in_every_campaign(engine: Engine, clock: VirtualClock) -> None:
    phone = new_phone()
    cid = timed_contact(engine, P, S.AFTER_CALL_WORK, phone, default_disposition="do_not_call")
    other = timed_contact(engine, A, phone=phone)
    heard: list[int] = []
    engine.subscribe(lambda event: heard.append(event.contact.id))

    assert fire(engine, clock, 120) == 1

    assert engine.get_contact(cid).state is S.BLACKLISTED
    assert engine.get_contact(other).state is S.BLACKLISTED
    assert sorted(heard) == sorted([cid, other])
    assert_history_continuous(engine, other)


def test_an_assignment_not_accepted_in_time_goes_back_to_the_list(engine: Engine, clock: VirtualClock) -> None:
    cid = timed_contact(engine, P, S.OPERATOR_ASSIGNED)

    assert fire(engine, clock, 299) == 0
    assert fire(engine, clock, 1) == 1

    contact = engine.get_contact(cid)
    assert contact.state is S.READY and contact.operator_id is None and contact.attempts == 0
    entry = last(engine, cid)
    assert (entry.trigger, entry.actor, entry.note) == ("release", "scheduler", "the operator did not accept in time")


# In-flight recovery: (mode, the state it is stuck in, the limit, the state it ends in).
IN_FLIGHT = {
    "dialing, agentless": (A, S.DIALING, 120, S.RETRY_SCHEDULED),
    "dialing, preview": (P, S.DIALING, 120, S.RETRY_SCHEDULED),
    "dialing, predictive": (D, S.DIALING, 120, S.RETRY_SCHEDULED),
    "call in progress, agentless": (A, S.CALL_IN_PROGRESS, 7200, S.RETRY_SCHEDULED),
    "call in progress, progressive": (G, S.CALL_IN_PROGRESS, 7200, S.AFTER_CALL_WORK),
    "client waiting for an operator, predictive": (D, S.AWAITING_OPERATOR, 60, S.RETRY_SCHEDULED),
}


@pytest.mark.parametrize("case", list(IN_FLIGHT))
def test_a_call_stuck_past_its_limit_ends_as_unknown_and_is_never_redialed_while_it_might_be_live(
    engine: Engine, clock: VirtualClock, case: str
) -> None:
    mode, stuck, limit, expected = IN_FLIGHT[case]
    cid = timed_contact(engine, mode, stuck)
    dialed_at = next(e.at for e in engine.history(cid) if e.trigger == "dial")
    stuck_in = engine.get_contact(cid).state
    assert stuck_in is stuck

    assert fire(engine, clock, limit - 1) == 0
    assert fire(engine, clock, 1) == 1

    contact = engine.get_contact(cid)
    assert contact.state is expected
    assert contact.last_outcome is Outcome.UNKNOWN
    ended = [e for e in engine.history(cid) if e.from_state is stuck_in][-1]
    assert (ended.trigger, ended.actor, ended.outcome) == ("call_ended", "scheduler", Outcome.UNKNOWN)
    assert ended.note is not None and f"no event for the call within the {stuck_in.value} limit" in ended.note
    if expected is S.RETRY_SCHEDULED:
        live_until = dialed_at + timedelta(seconds=7200)
        assert contact.next_attempt_at is not None and contact.next_attempt_at >= live_until
        clock.set(live_until - timedelta(seconds=1))
        assert Scheduler(engine).run_pending() == 0
        assert engine.get_contact(cid).state is S.RETRY_SCHEDULED, "no redial while the call might be live"
    assert_history_continuous(engine, cid)


def test_a_waiting_client_s_call_recovered_passes_canceled_by_client_with_outcome_unknown(
    engine: Engine, clock: VirtualClock
) -> None:
    cid = timed_contact(engine, D, S.AWAITING_OPERATOR)
    fire(engine, clock, 60)
    ended, decided = engine.history(cid)[-2:]
    assert (ended.from_state, ended.to_state, ended.outcome) == (S.AWAITING_OPERATOR, S.CANCELED_BY_CLIENT,
                                                                  Outcome.UNKNOWN)
    assert (decided.trigger, decided.to_state, decided.actor) == ("decide", S.RETRY_SCHEDULED, "scheduler")


@pytest.mark.parametrize("mode", [P, G])
def test_waiting_for_an_operator_before_any_call_has_no_timer(
    engine: Engine, clock: VirtualClock, mode: DialMode
) -> None:
    cid = timed_contact(engine, mode, S.AWAITING_OPERATOR)
    assert engine.get_contact(cid).due_at is None
    assert fire(engine, clock, 86400) == 0
    assert engine.get_contact(cid).state is S.AWAITING_OPERATOR


def test_a_personal_callback_opens_to_everyone_after_its_grace(engine: Engine, clock: VirtualClock) -> None:
    cid = timed_contact(engine, P, S.AFTER_CALL_WORK)
    campaign_id = engine.get_contact(cid).campaign_id
    callback_at = clock.now + timedelta(hours=1)
    engine.wrap_up(cid, "callback", callback_at=callback_at, personal=True)

    assert fire(engine, clock, 3600) == 1  # the callback comes due: ready, for op1 only
    assert engine.get_contact(cid).state is S.READY
    assert engine.assign_next(campaign_id, "op2") is None
    assert fire(engine, clock, 899) == 0
    assert engine.get_contact(cid).callback_operator_id == "op1"

    assert fire(engine, clock, 1) == 1
    contact = engine.get_contact(cid)
    assert contact.callback_operator_id is None and contact.due_at is None
    claimed = engine.assign_next(campaign_id, "op2")
    assert claimed is not None and claimed.id == cid
    assert_history_continuous(engine, cid)


def test_a_personal_callback_taken_by_its_operator_has_nothing_left_to_fire(
    engine: Engine, clock: VirtualClock
) -> None:
    cid = timed_contact(engine, P, S.AFTER_CALL_WORK)
    campaign_id = engine.get_contact(cid).campaign_id
    engine.wrap_up(cid, "callback", callback_at=clock.now + timedelta(hours=1), personal=True)
    fire(engine, clock, 3600)
    claimed = engine.assign_next(campaign_id, "op1")
    assert claimed is not None and claimed.id == cid
    engine.accept(cid)
    engine.dial(cid)
    assert fire(engine, clock, 100) == 0  # neither the grace nor the dial limit is due
    assert engine.get_contact(cid).state is S.DIALING


# -- re-checked under the lock -----------------------------------------------------


def test_a_contact_canceled_after_its_retry_came_due_is_not_fired(engine: Engine, clock: VirtualClock) -> None:
    cid = timed_contact(engine, A, S.RETRY_SCHEDULED)
    clock.advance(301)
    engine.cancel(cid)
    assert Scheduler(engine).run_pending() == 0
    assert engine.get_contact(cid).state is S.CANCELED_BY_ADMIN
    assert cid not in retry_due_entries(engine)


def test_an_assignment_accepted_after_it_timed_out_but_before_the_scheduler_ran_is_not_released(
    engine: Engine, clock: VirtualClock
) -> None:
    cid = timed_contact(engine, P, S.OPERATOR_ASSIGNED)
    clock.advance(301)  # the assignment is overdue ...
    engine.accept(cid)  # ... but the operator accepts before any scheduler runs
    assert Scheduler(engine).run_pending() == 0
    assert engine.get_contact(cid).state is S.BEFORE_CALL_WORK
    assert fire(engine, clock, 30) == 1  # the new countdown is what fires
    assert engine.get_contact(cid).state is S.DIALING


def test_a_stale_due_time_in_a_state_with_no_timer_is_cleared_without_firing(
    engine: Engine, clock: VirtualClock
) -> None:
    cid = timed_contact(engine, A, S.SUCCESS)
    db = engine.database
    with db.transaction() as conn:  # as a bug or a hand edit might leave it
        db.execute(conn, "UPDATE ds_contact SET due_at = ? WHERE id = ?", (clock.now.timestamp(), cid))
    entries = len(engine.history(cid))
    assert Scheduler(engine).run_pending() == 0
    assert engine.get_contact(cid).due_at is None
    assert len(engine.history(cid)) == entries


def test_a_contact_whose_rule_raises_is_put_off_and_the_others_still_fire(
    engine: Engine, clock: VirtualClock, caplog: pytest.LogCaptureFixture
) -> None:
    ids = seed_retries(engine, 5, delay=60)
    bad = ids[0]  # the first in due order, ahead of every other in each batch
    db = engine.database
    with db.transaction() as conn:  # a corrupt row, as a bug or a hand edit might leave it
        db.execute(conn, "UPDATE ds_contact SET data = ? WHERE id = ?", ("{not json", bad))
    clock.advance(60)
    with caplog.at_level(logging.INFO, logger="dialstate.scheduler"):
        assert Scheduler(engine, batch_size=2).run_pending() == 4
    assert any(f"contact {bad} (state retry_scheduled) failed" in r.getMessage() for r in caplog.records)
    with db.transaction() as conn:  # repaired
        db.execute(conn, "UPDATE ds_contact SET data = NULL WHERE id = ?", (bad,))
    assert engine.get_contact(bad).state is S.RETRY_SCHEDULED
    assert engine.get_contact(bad).due_at == clock.now + timedelta(seconds=POISON_RETRY_SECONDS)
    assert_history_continuous(engine, bad)

    assert fire(engine, clock, POISON_RETRY_SECONDS) == 1
    assert engine.get_contact(bad).state is S.READY


def test_a_raising_subscriber_undoes_nothing_the_scheduler_fired(
    engine: Engine, clock: VirtualClock, caplog: pytest.LogCaptureFixture
) -> None:
    ids = seed_retries(engine, 3, delay=60)

    def boom(event: TransitionEvent) -> None:
        raise RuntimeError("the dialer is down")

    engine.subscribe(boom)
    assert fire(engine, clock, 60) == 3
    assert all(engine.get_contact(cid).state is S.READY for cid in ids)
    assert "the transition stands" in caplog.text


# -- restart -----------------------------------------------------------------------


def test_everything_that_came_due_while_no_scheduler_ran_fires_on_the_first_run_however_late(
    engine: Engine, clock: VirtualClock
) -> None:
    retry = timed_contact(engine, A, S.RETRY_SCHEDULED)
    countdown = timed_contact(engine, P, S.BEFORE_CALL_WORK)
    assigned = timed_contact(engine, G, S.OPERATOR_ASSIGNED, operator="op2")
    wrapping = timed_contact(engine, D, S.AFTER_CALL_WORK, operator="op3")

    assert fire(engine, clock, timedelta(days=3).total_seconds()) == 4

    assert {cid: engine.get_contact(cid).state for cid in (retry, countdown, assigned, wrapping)} == {
        retry: S.READY, countdown: S.DIALING, assigned: S.READY, wrapping: S.SUCCESS,
    }
    assert engine.get_contact(countdown).due_at == clock.now + timedelta(seconds=120), \
        "a timer set by a late firing counts from when it fired"


def test_the_scheduler_rejects_settings_it_cannot_use(sqlite_engine: Engine) -> None:
    from dialstate import DialstateError

    for bad in ({"batch_size": 0}, {"batch_size": 2.5}, {"sweep_seconds": 0}, {"sweep_seconds": "1"}):
        with pytest.raises(DialstateError, match=next(iter(bad))):
            Scheduler(sqlite_engine, **bad)  # type: ignore[arg-type]
