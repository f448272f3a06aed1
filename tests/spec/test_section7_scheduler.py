"""Spec section 7: the scheduler fires every timer from the due times in the contact
rows, once, never early, re-checked under the lock, and survives restarts.

Most tests drive `Scheduler.run_pending` with the virtual clock, on SQLite and on
PostgreSQL; the tests at the end run the background scheduler in real time.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dialstate import ContactState, DialMode, Engine, Outcome, TransitionEvent
from dialstate.engine.timers import POISON_RETRY_SECONDS
from dialstate.scheduler import Scheduler
from dialstate.scheduler.worker import run_worker
from dialstate.testing import VirtualClock
from tests.support.invariants import assert_history_continuous
from tests.support.retries import fresh_phone, retry_due_entries, seed_retries

S = ContactState
P, G, D, A = DialMode.PREVIEW, DialMode.PROGRESSIVE, DialMode.PREDICTIVE, DialMode.AGENTLESS
TIMERS = {
    "before_call_work_seconds": 30, "after_call_work_seconds": 120, "assign_timeout_seconds": 300,
    "dial_timeout_seconds": 120, "max_call_seconds": 7200, "operator_wait_seconds": 60,
    "callback_grace_seconds": 900,
}


def new_contact(engine: Engine, mode: DialMode, phone: str | None = None, **settings: Any) -> int:
    campaign = engine.create_campaign(f"{mode.value} {fresh_phone()}", mode=mode, **{**TIMERS, **settings})
    return engine.add_contacts(campaign.id, [phone or fresh_phone()]).contact_ids[0]


def fire(engine: Engine, clock: VirtualClock, seconds: float) -> int:
    clock.advance(seconds)
    return Scheduler(engine).run_pending()


def last(engine: Engine, cid: int) -> Any:
    return engine.history(cid)[-1]


# -- each timer rule ---------------------------------------------------------------


def test_a_retry_fires_when_its_time_has_come_and_not_a_second_before(engine: Engine, clock: VirtualClock) -> None:
    cid = new_contact(engine, A)
    engine.dial(cid)
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
    cid = new_contact(engine, mode)
    engine.assign_operator(cid, "op1")
    engine.accept(cid)
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
    cid = new_contact(engine, P, default_disposition=disposition)
    for step in (lambda: engine.assign_operator(cid, "op1"), lambda: engine.accept(cid),
                 lambda: engine.dial(cid), lambda: engine.answered(cid),
                 lambda: engine.call_ended(cid, Outcome.COMPLETED)):
        step()

    assert fire(engine, clock, 119) == 0
    assert fire(engine, clock, 1) == 1

    assert engine.get_contact(cid).state is expected
    entry = last(engine, cid)
    assert (entry.from_state, entry.trigger, entry.actor) == (S.AFTER_CALL_WORK, "wrap_up", "scheduler")
    assert entry.note is not None and entry.note.startswith(f"after-call work timed out; disposition {disposition}")
    assert_history_continuous(engine, cid)


def test_a_do_not_call_default_blacklists_the_number_in_every_campaign(engine: Engine, clock: VirtualClock) -> None:
    phone = fresh_phone()
    cid = new_contact(engine, P, phone=phone, default_disposition="do_not_call")
    other = new_contact(engine, A, phone=phone)
    for step in (lambda: engine.assign_operator(cid, "op1"), lambda: engine.accept(cid),
                 lambda: engine.dial(cid), lambda: engine.answered(cid),
                 lambda: engine.call_ended(cid, Outcome.COMPLETED)):
        step()
    heard: list[int] = []
    engine.subscribe(lambda event: heard.append(event.contact.id))

    assert fire(engine, clock, 120) == 1

    assert engine.get_contact(cid).state is S.BLACKLISTED
    assert engine.get_contact(other).state is S.BLACKLISTED
    assert sorted(heard) == sorted([cid, other])
    assert_history_continuous(engine, other)


def test_an_assignment_not_accepted_in_time_goes_back_to_the_list(engine: Engine, clock: VirtualClock) -> None:
    cid = new_contact(engine, P)
    engine.assign_operator(cid, "op1")

    assert fire(engine, clock, 299) == 0
    assert fire(engine, clock, 1) == 1

    contact = engine.get_contact(cid)
    assert contact.state is S.READY and contact.operator_id is None and contact.attempts == 0
    entry = last(engine, cid)
    assert (entry.trigger, entry.actor, entry.note) == ("release", "scheduler", "the operator did not accept in time")


# In-flight recovery: (mode, how to get there, the limit, the state it ends in).
IN_FLIGHT = {
    "dialing, agentless": (A, ["dial"], 120, S.RETRY_SCHEDULED),
    "dialing, preview": (P, ["assign", "accept", "dial"], 120, S.RETRY_SCHEDULED),
    "dialing, predictive": (D, ["dial"], 120, S.RETRY_SCHEDULED),
    "call in progress, agentless": (A, ["dial", "answered"], 7200, S.RETRY_SCHEDULED),
    "call in progress, progressive": (G, ["assign", "accept", "dial", "answered"], 7200, S.AFTER_CALL_WORK),
    "client waiting for an operator, predictive": (D, ["dial", "answered"], 60, S.RETRY_SCHEDULED),
}
STEPS: dict[str, Callable[[Engine, int], object]] = {
    "assign": lambda e, c: e.assign_operator(c, "op1"),
    "accept": lambda e, c: e.accept(c),
    "dial": lambda e, c: e.dial(c),
    "answered": lambda e, c: e.answered(c),
}


@pytest.mark.parametrize("case", list(IN_FLIGHT))
def test_a_call_stuck_past_its_limit_ends_as_unknown_and_is_never_redialed_while_it_might_be_live(
    engine: Engine, clock: VirtualClock, case: str
) -> None:
    mode, steps, limit, expected = IN_FLIGHT[case]
    cid = new_contact(engine, mode)
    for step in steps:
        STEPS[step](engine, cid)
    dialed_at = next(e.at for e in engine.history(cid) if e.trigger == "dial")
    stuck_in = engine.get_contact(cid).state

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
    cid = new_contact(engine, D)
    engine.dial(cid)
    engine.answered(cid)
    fire(engine, clock, 60)
    ended, decided = engine.history(cid)[-2:]
    assert (ended.from_state, ended.to_state, ended.outcome) == (S.AWAITING_OPERATOR, S.CANCELED_BY_CLIENT,
                                                                  Outcome.UNKNOWN)
    assert (decided.trigger, decided.to_state, decided.actor) == ("decide", S.RETRY_SCHEDULED, "scheduler")


@pytest.mark.parametrize("mode", [P, G])
def test_waiting_for_an_operator_before_any_call_has_no_timer(
    engine: Engine, clock: VirtualClock, mode: DialMode
) -> None:
    cid = new_contact(engine, mode)
    engine.wait_for_operator(cid)
    assert engine.get_contact(cid).due_at is None
    assert fire(engine, clock, 86400) == 0
    assert engine.get_contact(cid).state is S.AWAITING_OPERATOR


def test_a_personal_callback_opens_to_everyone_after_its_grace(engine: Engine, clock: VirtualClock) -> None:
    cid = new_contact(engine, P)
    campaign_id = engine.get_contact(cid).campaign_id
    for step in (lambda: engine.assign_operator(cid, "op1"), lambda: engine.accept(cid),
                 lambda: engine.dial(cid), lambda: engine.answered(cid),
                 lambda: engine.call_ended(cid, Outcome.COMPLETED)):
        step()
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
    cid = new_contact(engine, P)
    campaign_id = engine.get_contact(cid).campaign_id
    for step in (lambda: engine.assign_operator(cid, "op1"), lambda: engine.accept(cid),
                 lambda: engine.dial(cid), lambda: engine.answered(cid),
                 lambda: engine.call_ended(cid, Outcome.COMPLETED)):
        step()
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
    cid = new_contact(engine, A)
    engine.dial(cid)
    engine.call_ended(cid, Outcome.BUSY)
    clock.advance(301)
    engine.cancel(cid)
    assert Scheduler(engine).run_pending() == 0
    assert engine.get_contact(cid).state is S.CANCELED_BY_ADMIN
    assert cid not in retry_due_entries(engine)


def test_an_assignment_accepted_after_it_timed_out_but_before_the_scheduler_ran_is_not_released(
    engine: Engine, clock: VirtualClock
) -> None:
    cid = new_contact(engine, P)
    engine.assign_operator(cid, "op1")
    clock.advance(301)  # the assignment is overdue ...
    engine.accept(cid)  # ... but the operator accepts before any scheduler runs
    assert Scheduler(engine).run_pending() == 0
    assert engine.get_contact(cid).state is S.BEFORE_CALL_WORK
    assert fire(engine, clock, 30) == 1  # the new countdown is what fires
    assert engine.get_contact(cid).state is S.DIALING


def test_a_stale_due_time_in_a_state_with_no_timer_is_cleared_without_firing(
    engine: Engine, clock: VirtualClock
) -> None:
    cid = new_contact(engine, A)
    engine.dial(cid)
    engine.call_ended(cid, Outcome.COMPLETED)
    db = engine.database
    with db.transaction() as conn:  # as a bug or a hand edit might leave it
        db.execute(conn, "UPDATE ds_contact SET due_at = ? WHERE id = ?", (clock.now.timestamp(), cid))
    entries = len(engine.history(cid))
    assert Scheduler(engine).run_pending() == 0
    assert engine.get_contact(cid).due_at is None
    assert len(engine.history(cid)) == entries


def test_a_contact_whose_rule_raises_is_put_off_and_the_others_still_fire(
    engine: Engine, clock: VirtualClock, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    ids = seed_retries(engine, 5, delay=60)
    bad = ids[0]  # the first in due order, ahead of every other in each batch
    rule = engine._timer_change

    def broken(row: dict[str, Any], *args: Any) -> Any:
        if row["id"] == bad:
            raise ValueError("a corrupt row")
        return rule(row, *args)

    monkeypatch.setattr(engine, "_timer_change", broken)
    clock.advance(60)
    with caplog.at_level(logging.INFO, logger="dialstate.scheduler"):
        assert Scheduler(engine, batch_size=2).run_pending() == 4
    assert engine.get_contact(bad).state is S.RETRY_SCHEDULED
    assert engine.get_contact(bad).due_at == clock.now + timedelta(seconds=POISON_RETRY_SECONDS)
    assert any(f"contact {bad} (state retry_scheduled) failed" in r.getMessage() for r in caplog.records)
    assert_history_continuous(engine, bad)

    monkeypatch.setattr(engine, "_timer_change", rule)
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
    retry = new_contact(engine, A)
    engine.dial(retry)
    engine.call_ended(retry, Outcome.BUSY)
    countdown = new_contact(engine, P)
    engine.assign_operator(countdown, "op1")
    engine.accept(countdown)
    assigned = new_contact(engine, G)
    engine.assign_operator(assigned, "op2")
    wrapping = new_contact(engine, D)
    engine.dial(wrapping)
    engine.answered(wrapping, operator_id="op3")
    engine.call_ended(wrapping, Outcome.COMPLETED)

    assert fire(engine, clock, timedelta(days=3).total_seconds()) == 4

    assert {cid: engine.get_contact(cid).state for cid in (retry, countdown, assigned, wrapping)} == {
        retry: S.READY, countdown: S.DIALING, assigned: S.READY, wrapping: S.SUCCESS,
    }
    assert engine.get_contact(countdown).due_at == clock.now + timedelta(seconds=120), \
        "a timer set by a late firing counts from when it fired"


# -- the background scheduler, in real time ----------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def live_url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    """A database URL on each backend, emptied, for engines on the real clock."""
    if request.param == "sqlite":
        return sqlite_url
    request.getfixturevalue("pg_engine")  # empties the session's PostgreSQL database
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def live(live_url: str) -> Iterator[Engine]:
    engine = Engine(live_url)
    yield engine
    engine.close()


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def lateness(engine: Engine, cid: int, delay: float) -> float:
    """Seconds from when the retry was due to when the scheduler fired it."""
    entries = engine.history(cid)
    ended = next(e for e in entries if e.trigger == "call_ended")
    fired = next(e for e in entries if e.trigger == "retry_due")
    return (fired.at - ended.at).total_seconds() - delay


def test_the_background_scheduler_fires_retries_a_second_ahead_on_time(live: Engine) -> None:
    scheduler = Scheduler(live, sweep_seconds=30)  # only the alarm could fire these in time
    scheduler.start()
    try:
        ids = seed_retries(live, 20, delay=1.0)
        wait_until(lambda: len(retry_due_entries(live)) == 20, timeout=10)
    finally:
        scheduler.shutdown()
    late = [lateness(live, cid, 1.0) for cid in ids]
    assert all(0 <= x < 0.5 for x in late), late
    assert all(actors == ["scheduler"] for actors in retry_due_entries(live).values())


def test_an_earlier_timer_scheduled_in_this_process_wakes_the_scheduler_early(live: Engine) -> None:
    later = seed_retries(live, 1, delay=60)[0]
    with Scheduler(live, sweep_seconds=30) as scheduler:
        time.sleep(0.2)  # the start-up sweep has armed the alarm for `later`, a minute away
        sooner = seed_retries(live, 1, delay=0.5)[0]
        wait_until(lambda: sooner in retry_due_entries(live), timeout=5)
        assert scheduler.running
    assert 0 <= lateness(live, sooner, 0.5) < 0.5
    assert live.get_contact(later).state is S.RETRY_SCHEDULED


def test_the_sweep_finds_what_another_process_scheduled(live: Engine, live_url: str) -> None:
    other = Engine(live_url)  # its transitions are not heard by `live`'s subscribers
    try:
        with Scheduler(live, sweep_seconds=0.2):
            time.sleep(0.1)
            cid = seed_retries(other, 1, delay=0.5)[0]
            wait_until(lambda: cid in retry_due_entries(live), timeout=5)
        assert 0 <= lateness(live, cid, 0.5) < 0.2 + 0.3
    finally:
        other.close()


def test_start_fires_at_once_what_came_due_while_no_scheduler_ran(live: Engine, live_url: str) -> None:
    yesterday = Engine(live_url, clock=lambda: datetime.now(UTC) - timedelta(days=1))
    try:
        ids = seed_retries(yesterday, 30, delay=300)  # due almost a day ago
    finally:
        yesterday.close()
    started = time.monotonic()
    with Scheduler(live, sweep_seconds=30):
        wait_until(lambda: len(retry_due_entries(live)) == 30, timeout=5)
    assert time.monotonic() - started < 2
    assert all(live.get_contact(cid).state is S.READY for cid in ids)


def test_a_failing_run_is_logged_and_the_scheduler_keeps_going(
    live: Engine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    fire_batch = live._fire_batch
    failures = [2]

    def flaky(limit: int) -> Any:
        if failures[0]:
            failures[0] -= 1
            raise sqlite3.OperationalError("database is locked")
        return fire_batch(limit)

    ids = seed_retries(live, 5, delay=0.1)
    monkeypatch.setattr(live, "_fire_batch", flaky)
    with Scheduler(live, sweep_seconds=0.2):
        wait_until(lambda: len(retry_due_entries(live)) == 5, timeout=5)
    assert all(live.get_contact(cid).state is S.READY for cid in ids)
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR][:2] == [
        "scheduler run failed; trying again in 0.20 s"] * 2


def test_shutdown_finishes_the_batch_being_fired_and_starts_no_other(
    live: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = seed_retries(live, 20, delay=0.01)
    time.sleep(0.05)  # all due before the start, so every batch is full
    write = live._write
    in_batch = threading.Event()

    def slow(*args: Any, **kwargs: Any) -> Any:
        in_batch.set()
        time.sleep(0.05)
        return write(*args, **kwargs)

    monkeypatch.setattr(live, "_write", slow)
    scheduler = Scheduler(live, batch_size=5, sweep_seconds=30)
    scheduler.start()
    assert in_batch.wait(5)
    scheduler.shutdown(wait=True)
    fired = len(retry_due_entries(live))
    assert fired == scheduler.fired_total and fired in (5, 10, 15)
    time.sleep(0.3)
    assert len(retry_due_entries(live)) == fired, "nothing fires after shutdown"
    assert sum(live.get_contact(cid).state is S.READY for cid in ids) == fired


def test_run_worker_fires_in_the_foreground_until_told_to_stop(
    live_url: str, live: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    stop = threading.Event()
    status: list[int] = []
    worker = threading.Thread(target=lambda: status.append(run_worker(live_url, batch_size=50, sweep_seconds=0.2,
                                                                        stop_event=stop)))
    with caplog.at_level(logging.INFO, logger="dialstate.scheduler"):
        worker.start()
        try:
            ids = seed_retries(live, 120, delay=0.5)
            wait_until(lambda: len(retry_due_entries(live)) == 120, timeout=10)
        finally:
            stop.set()
            worker.join(10)
    assert status == [0]
    assert all(live.get_contact(cid).state is S.READY for cid in ids)
    messages = [r.getMessage() for r in caplog.records if r.name == "dialstate.scheduler"]
    assert sum(int(m.split()[1]) for m in messages if m.startswith("fired ")) == 120
    assert messages[-1] == "worker stopped"


def test_the_scheduler_rejects_settings_it_cannot_use(sqlite_engine: Engine) -> None:
    from dialstate import DialstateError

    for bad in ({"batch_size": 0}, {"batch_size": 2.5}, {"sweep_seconds": 0}, {"sweep_seconds": "1"}):
        with pytest.raises(DialstateError, match=next(iter(bad))):
            Scheduler(sqlite_engine, **bad)  # type: ignore[arg-type]


@pytest.mark.pg
def test_the_scheduler_reconnects_after_the_database_dropped_its_connections(
    pg_engine: Engine, pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    live = Engine(pg_url)
    ids = seed_retries(live, 10, delay=1.0)
    with Scheduler(live, sweep_seconds=0.2):
        time.sleep(0.3)  # the scheduler's threads have connected
        conninfo = make_url(pg_url).set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(conninfo, autocommit=True) as admin:  # as a server restart would
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                          " WHERE datname = current_database() AND pid <> pg_backend_pid()")
        checker = Engine(pg_url)
        try:
            wait_until(lambda: len(retry_due_entries(checker)) == 10, timeout=10)
            assert all(checker.get_contact(cid).state is S.READY for cid in ids)
        finally:
            checker.close()
    live.close()
    assert "the database connection was lost; reconnecting on the next run" in caplog.text
