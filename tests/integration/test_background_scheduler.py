"""Spec section 7 in real time: the background scheduler (APScheduler as its alarm
clock) fires retries on time, wakes early for sooner timers, finds what other
processes scheduled, catches up after downtime, survives failing runs and lost
connections, and stops cleanly; `run_worker` runs it in the foreground."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from dialstate import ContactState, Engine
from dialstate.scheduler import Scheduler
from dialstate.scheduler.worker import run_worker
from dialstate.testing import admin_conninfo
from tests.support import retry_due_entries, seed_retries, wait_until

S = ContactState


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def live_url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    """A database URL on each backend, emptied, for engines on the real clock."""
    if request.param == "sqlite":
        return sqlite_url
    return str(request.getfixturevalue("empty_pg_url"))


@pytest.fixture
def live(live_url: str) -> Iterator[Engine]:
    engine = Engine(live_url)
    yield engine
    engine.close()


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
    live: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    failures = [2]

    def flaky_commit() -> None:  # the database fails the first two batches
        if failures[0]:
            failures[0] -= 1
            raise sqlite3.OperationalError("database is locked")

    ids = seed_retries(live, 5, delay=0.1)
    live.database.before_commit.append(flaky_commit)
    with Scheduler(live, sweep_seconds=0.2):
        wait_until(lambda: len(retry_due_entries(live)) == 5, timeout=5)
    assert all(live.get_contact(cid).state is S.READY for cid in ids)
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR][:2] == [
        "scheduler run failed; trying again in 0.20 s"] * 2


def test_shutdown_finishes_the_batch_being_fired_and_starts_no_other(live: Engine) -> None:
    ids = seed_retries(live, 20, delay=0.01)
    time.sleep(0.05)  # all due before the start, so every batch is full
    in_batch = threading.Event()

    def slow_commit() -> None:  # each batch holds its transaction open a while
        in_batch.set()
        time.sleep(0.25)

    live.database.before_commit.append(slow_commit)
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


@pytest.mark.pg
def test_the_scheduler_reconnects_after_the_database_dropped_its_connections(
    pg_engine: Engine, pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    import psycopg

    live = Engine(pg_url)
    ids = seed_retries(live, 10, delay=1.0)
    with Scheduler(live, sweep_seconds=0.2):
        time.sleep(0.3)  # the scheduler's threads have connected
        with psycopg.connect(admin_conninfo(pg_url), autocommit=True) as admin:  # as a server restart would
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                          " WHERE datname = current_database() AND pid <> pg_backend_pid()")
        checker = Engine(pg_url)
        try:
            wait_until(lambda: len(retry_due_entries(checker)) == 10, timeout=10)
            assert all(checker.get_contact(cid).state is S.READY for cid in ids)
        finally:
            checker.close()
    live.close()
    assert "scheduler run failed" not in caplog.text, "the dead idle connections were replaced before use"
