"""Spec section 11: failures stay typed and nothing is lost. Whatever the input or the
database does, only `DialstateError` subclasses leave a public method, and a refused
call writes nothing."""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import pickle
import signal
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from dialstate import (
    CallingWindow,
    Contact,
    DatabaseBusy,
    DatabaseUnavailable,
    DialMode,
    DialstateError,
    Engine,
    EngineClosed,
    IdempotencyConflict,
    RetryPolicy,
)
from dialstate.scheduler import Scheduler
from dialstate.testing import VirtualClock, admin_conninfo
from tests.support.walk import new_campaign, new_contact, walk_to

NUL = "a\x00b"
NAN = float("nan")
BIG = 10**20


def database_state(engine: Engine) -> tuple[Any, ...]:
    """What a refused call must leave as it was: the feed's end, every campaign and
    its statistics, the blacklist."""
    campaigns = engine.campaigns()
    return (
        [e.position for e in engine.events(0, 10_000)],
        [(c, engine.campaign_stats(c.id)) for c in campaigns],
        engine.blacklist(),
    )


#: Every public method with arguments it must refuse: (name, call, what is wrong).
def bad_calls(campaign: int, contact: int) -> list[tuple[str, Callable[[Engine], Any]]]:
    return [
        ("get_contact(True)", lambda e: e.get_contact(True)),  # type: ignore[arg-type]
        ("get_contact('1')", lambda e: e.get_contact("1")),  # type: ignore[arg-type]
        ("get_contact(-1)", lambda e: e.get_contact(-1)),
        ("get_contact(huge)", lambda e: e.get_contact(BIG)),
        ("history(None)", lambda e: e.history(None)),  # type: ignore[arg-type]
        ("find_call(NUL)", lambda e: e.find_call(NUL)),
        ("find_contacts(phone=NUL)", lambda e: e.find_contacts(campaign, phone=NUL)),
        ("find_contacts(external_id=NaN)", lambda e: e.find_contacts(external_id=NAN)),  # type: ignore[arg-type]
        ("assign_operator(NUL)", lambda e: e.assign_operator(contact, NUL)),
        ("assign_operator(42)", lambda e: e.assign_operator(contact, 42)),  # type: ignore[arg-type]
        ("accept(key='')", lambda e: e.accept(contact, idempotency_key="")),
        ("accept(key=NUL)", lambda e: e.accept(contact, idempotency_key=NUL)),
        ("accept(actor=NUL)", lambda e: e.accept(contact, actor=NUL)),
        ("dial(call_id=NUL)", lambda e: e.dial(contact, call_id=NUL)),
        ("dial(call_id=1.5)", lambda e: e.dial(contact, call_id=1.5)),  # type: ignore[arg-type]
        ("dial_failed(reason=NUL)", lambda e: e.dial_failed(contact, NUL)),
        ("answered(operator_id=NUL)", lambda e: e.answered(contact, operator_id=NUL)),
        ("call_ended(NaN)", lambda e: e.call_ended(contact, NAN)),  # type: ignore[arg-type]
        ("call_ended(NUL)", lambda e: e.call_ended(contact, NUL)),
        ("call_ended(dialect=NUL)", lambda e: e.call_ended(contact, "486", dialect=NUL)),
        ("wrap_up(NUL)", lambda e: e.wrap_up(contact, NUL)),
        ("wrap_up(callback_at='tomorrow')", lambda e: e.wrap_up(contact, "callback",
                                                                 callback_at="tomorrow")),  # type: ignore[arg-type]
        ("wrap_up(callback_at=naive)", lambda e: e.wrap_up(contact, "callback", callback_at=datetime(2026, 3, 3))),
        ("wrap_up(personal='yes')", lambda e: e.wrap_up(contact, "success", personal="yes")),  # type: ignore[arg-type]
        ("update_phone(NUL)", lambda e: e.update_phone(contact, NUL)),
        ("update_phone(None)", lambda e: e.update_phone(contact, None)),  # type: ignore[arg-type]
        ("update_contact(priority=huge)", lambda e: e.update_contact(contact, priority=BIG)),
        ("update_contact(data=NaN)", lambda e: e.update_contact(contact, data={"x": NAN})),
        ("update_contact(data=set)", lambda e: e.update_contact(contact, data={"x": {1, 2}})),
        ("update_contact(timezone=NUL)", lambda e: e.update_contact(contact, timezone=NUL)),
        ("assign_next(NUL)", lambda e: e.assign_next(campaign, NUL)),
        ("dial_next(limit=0)", lambda e: e.dial_next(campaign, 0)),
        ("dial_next(limit=NaN)", lambda e: e.dial_next(campaign, NAN)),  # type: ignore[arg-type]
        ("contacts(limit=0)", lambda e: e.contacts(campaign, limit=0)),
        ("contacts(after_id=-1)", lambda e: e.contacts(campaign, after_id=-1)),
        ("contacts(state=NUL)", lambda e: e.contacts(campaign, NUL)),
        ("events(limit=0)", lambda e: e.events(0, 0)),
        ("events(after=NaN)", lambda e: e.events(NAN)),  # type: ignore[arg-type]
        ("create_campaign(NUL)", lambda e: e.create_campaign(NUL)),
        ("create_campaign(max_call_seconds=inf)", lambda e: e.create_campaign("x", max_call_seconds=math.inf)),
        ("create_campaign(dial_timeout_seconds=NaN)", lambda e: e.create_campaign("x", dial_timeout_seconds=NAN)),
        ("create_campaign(timezone=NUL)", lambda e: e.create_campaign("x", timezone=NUL)),
        ("create_campaign(default_region=1)", lambda e: e.create_campaign("x", default_region=1)),  # type: ignore[arg-type]
        ("create_campaign(bare_numbers='guess')", lambda e: e.create_campaign("x", bare_numbers="guess")),
        ("update_campaign(name=NUL)", lambda e: e.update_campaign(campaign, name=NUL)),
        ("update_campaign(max_delay)", lambda e: e.update_campaign(campaign, max_call_seconds=-1)),
        ("update_retry_policy(None)", lambda e: e.update_retry_policy(campaign, None)),  # type: ignore[arg-type]
        ("retry_policy(version=0)", lambda e: e.retry_policy(campaign, 0)),
        ("get_campaign(1.0)", lambda e: e.get_campaign(1.0)),  # type: ignore[arg-type]
        ("campaign_stats(True)", lambda e: e.campaign_stats(True)),  # type: ignore[arg-type]
        ("pause_campaign('1')", lambda e: e.pause_campaign("1")),  # type: ignore[arg-type]
        ("cancel_campaign(actor=NUL)", lambda e: e.cancel_campaign(campaign, actor=NUL)),
        ("blacklist_phone(NUL)", lambda e: e.blacklist_phone(NUL)),
        ("blacklist_phone('')", lambda e: e.blacklist_phone("")),
        ("blacklist_phone(note=NUL)", lambda e: e.blacklist_phone("+12125550100", NUL)),
        ("unblacklist_phone(hello)", lambda e: e.unblacklist_phone("hello")),
        ("add_contacts(priority=huge)",
         lambda e: e.add_contacts(campaign, [{"phone": "+12125550111", "priority": BIG}])),
        ("add_contacts(data=NaN)", lambda e: e.add_contacts(campaign, [{"phone": "+12125550112", "data": {"x": NAN}}])),
        ("add_contacts(external_id=NUL)", lambda e: e.add_contacts(campaign, [{"phone": "+12125550113",
                                                                              "external_id": NUL}])),
        ("add_contacts(a string)", lambda e: e.add_contacts(campaign, "+12125550114")),
        ("add_contacts(42)", lambda e: e.add_contacts(campaign, 42)),  # type: ignore[arg-type]
        ("add_contacts(on_reject=1)", lambda e: e.add_contacts(campaign, [], on_reject=1)),  # type: ignore[arg-type]
        ("subscribe(scope=NUL)", lambda e: e.subscribe(print, scope=NUL)),
        ("fire_batch(0)", lambda e: e.fire_batch(0)),
    ]


def test_bad_input_to_any_public_method_raises_a_dialstate_error_and_writes_nothing(engine: Engine) -> None:
    campaign = new_campaign(engine, DialMode.PREVIEW, default_region="US")
    contact = walk_to(engine, campaign, "after_call_work")
    before = database_state(engine)
    escaped = []
    for name, call in bad_calls(campaign, contact):
        try:
            call(engine)
        except DialstateError:
            pass
        except BaseException as exc:
            escaped.append(f"{name}: {type(exc).__module__}.{type(exc).__name__}: {exc}")
        else:
            escaped.append(f"{name}: accepted")
        assert database_state(engine) == before, f"{name} wrote something"
    assert escaped == []


# -- the database: unreachable, missing, locked, restarted, closed ------------------------


def test_an_engine_on_a_sqlite_path_in_a_missing_directory_is_refused_and_makes_no_directory(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "dir" / "x.db"
    with pytest.raises(DatabaseUnavailable, match="does not exist") as raised:
        Engine(f"sqlite:///{missing}")
    assert raised.value.retryable is False
    assert not (tmp_path / "no").exists()


def test_an_engine_on_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DatabaseUnavailable, match="directory") as raised:
        Engine(f"sqlite:///{tmp_path}")
    assert raised.value.retryable is False


def test_an_engine_on_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not sqlite at all" * 200)
    with pytest.raises(DatabaseUnavailable, match="not a database"):
        Engine(f"sqlite:///{junk}")


@pytest.mark.pg
def test_an_engine_on_a_missing_postgresql_database_is_refused_for_good(pg_url: str) -> None:
    from sqlalchemy.engine import make_url

    url = make_url(pg_url).set(database="dialstate_missing_db").render_as_string(hide_password=False)
    with pytest.raises(DatabaseUnavailable, match="does not exist") as raised:
        Engine(url)
    assert raised.value.retryable is False
    assert isinstance(raised.value.__cause__, Exception)


def test_an_engine_on_a_server_that_does_not_answer_may_be_retried() -> None:
    with pytest.raises(DatabaseUnavailable) as raised:
        Engine("postgresql+psycopg://postgres@127.0.0.1:1/none")  # nothing listens on port 1
    assert raised.value.retryable is True


def test_a_sqlite_lock_held_past_lock_timeout_raises_database_busy_and_writes_nothing(
    sqlite_url: str, clock: VirtualClock
) -> None:
    engine = Engine(sqlite_url, clock=clock, lock_timeout=0.2)
    try:
        campaign = new_campaign(engine, DialMode.PREDICTIVE, default_region="US")
        contact = new_contact(engine, campaign)
        holder = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            with pytest.raises(DatabaseBusy, match="lock"):
                engine.dial(contact)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert engine.get_contact(contact).state == "ready"
        assert engine.dial(contact).state == "dialing"
    finally:
        engine.close()


@pytest.mark.pg
def test_a_postgresql_row_lock_held_past_lock_timeout_raises_database_busy(pg_engine: Engine, pg_url: str,
                                                                          clock: VirtualClock) -> None:
    import psycopg

    campaign = new_campaign(pg_engine, DialMode.PREDICTIVE, default_region="US")
    contact = new_contact(pg_engine, campaign)
    impatient = Engine(pg_url, clock=clock, lock_timeout=0.2)
    try:
        with psycopg.connect(admin_conninfo(pg_url)) as holder:
            holder.execute("SELECT 1 FROM ds_contact WHERE id = %s FOR UPDATE", (contact,))
            with pytest.raises(DatabaseBusy):
                impatient.dial(contact)
        assert impatient.dial(contact).state == "dialing"
    finally:
        impatient.close()


def _terminate_sessions(pg_url: str) -> None:
    """As a server restart would: every session of the database ends."""
    import psycopg

    with psycopg.connect(admin_conninfo(pg_url), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                      " WHERE datname = current_database() AND pid <> pg_backend_pid()")


@pytest.mark.pg
def test_after_the_server_dropped_its_sessions_the_next_call_of_an_idle_engine_simply_works(
    pg_engine: Engine, pg_url: str
) -> None:
    campaign = new_campaign(pg_engine, DialMode.PREDICTIVE, default_region="US")
    contact = new_contact(pg_engine, campaign)
    _terminate_sessions(pg_url)
    assert pg_engine.dial(contact).state == "dialing"
    _terminate_sessions(pg_url)
    assert pg_engine.get_contact(contact).state == "dialing"


@pytest.mark.pg
def test_a_call_whose_session_is_ended_mid_transaction_raises_database_unavailable_and_changes_nothing(
    pg_engine: Engine, pg_url: str
) -> None:
    campaign = new_campaign(pg_engine, DialMode.PREDICTIVE, default_region="US")
    contact = new_contact(pg_engine, campaign)
    pg_engine.database.before_commit.append(lambda: _terminate_sessions(pg_url))
    with pytest.raises(DatabaseUnavailable) as raised:
        pg_engine.dial(contact, idempotency_key="dial-1")
    pg_engine.database.before_commit.clear()
    assert raised.value.retryable is True
    assert pg_engine.get_contact(contact).state == "ready"
    assert pg_engine.dial(contact, idempotency_key="dial-1").state == "dialing"  # the retry does it once
    assert pg_engine.dial(contact, idempotency_key="dial-1").attempts == 1


def test_a_retry_with_the_same_idempotency_key_after_a_commit_returns_the_stored_result(engine: Engine) -> None:
    contact = walk_to(engine, DialMode.PREDICTIVE, "dialing", default_region="US")
    first = engine.call_ended(contact, "busy", idempotency_key="end-1")
    assert engine.call_ended(contact, "busy", idempotency_key="end-1") == first
    assert len(engine.history(contact)) == 3


def test_an_idempotency_key_reused_with_other_arguments_is_refused_naming_both(engine: Engine) -> None:
    contact = walk_to(engine, DialMode.PREDICTIVE, "dialing", default_region="US", call_id="C-1")
    engine.call_ended(contact, "busy", call_id="C-1", idempotency_key="hook-7")
    with pytest.raises(IdempotencyConflict) as raised:
        engine.call_ended(contact, "completed", call_id="C-OTHER", idempotency_key="hook-7")
    message = str(raised.value)
    assert "outcome='busy'" in message and "outcome='completed'" in message and "C-OTHER" in message
    assert len(engine.history(contact)) == 3


def test_close_ends_the_engine_later_calls_raise_engine_closed(sqlite_url: str, clock: VirtualClock) -> None:
    engine = Engine(sqlite_url, clock=clock)
    campaign = new_campaign(engine, default_region="US")
    engine.close()
    for call in (lambda: engine.get_campaign(campaign), lambda: engine.add_contacts(campaign, ["+12125550100"]),
                 engine.campaigns, lambda: engine.events(0)):
        with pytest.raises(EngineClosed):
            call()  # type: ignore[operator]
    reopened = Engine(sqlite_url, clock=clock)
    assert reopened.campaign_stats(campaign).total == 0
    reopened.close()


def test_a_running_scheduler_stops_when_its_engine_is_closed(sqlite_url: str) -> None:
    engine = Engine(sqlite_url)
    scheduler = Scheduler(engine, sweep_seconds=0.05)
    scheduler.start()
    engine.close()
    from tests.support.waiting import wait_until

    wait_until(lambda: not scheduler.running, timeout=5)


# -- fork ---------------------------------------------------------------------------------


@pytest.mark.sync_only("an event loop and its threads do not survive fork: AsyncEngine is made after it")
def test_an_engine_made_before_fork_works_in_the_children_and_in_the_parent(engine: Engine) -> None:
    import os

    campaign = new_campaign(engine, DialMode.PREDICTIVE, default_region="US")
    contacts = [new_contact(engine, campaign) for _ in range(3)]
    engine.get_contact(contacts[0])  # its connection is open in the parent
    read, write = os.pipe()
    pids = []
    for contact in contacts:
        pid = os.fork()
        if pid == 0:  # the child
            signal.alarm(30)  # a child that hangs must not hang the test run
            try:
                attempts = engine.dial(contact).attempts
                os.write(write, f"{attempts}\n".encode())
            finally:
                os._exit(0)
        pids.append(pid)
    for pid in pids:
        os.waitpid(pid, 0)
    os.close(write)
    with os.fdopen(read) as lines:
        assert lines.read().split() == ["1", "1", "1"]
    assert {engine.get_contact(c).state for c in contacts} == {"dialing"}
    assert engine.dial_next(campaign, 5) == []


# -- snapshots ------------------------------------------------------------------------------


def test_snapshots_are_plain_data_that_pickle_copy_and_turn_into_json(engine: Engine) -> None:
    campaign = new_campaign(engine, DialMode.PREDICTIVE, default_region="US",
                            calling_window=CallingWindow("00:00", "24:00"), retry_policy=RetryPolicy(max_attempts=3))
    contact = new_contact(engine, campaign, {"phone": "+12125550100", "data": {"tags": ["a", "b"], "n": {"x": 1}}})
    engine.dial_next(campaign, 1)
    events = engine.events(0, 10)
    snapshots: list[Any] = [engine.get_contact(contact), engine.history(contact)[-1], engine.get_campaign(campaign),
                            events[-1], engine.campaign_stats(campaign)]
    for snapshot in snapshots:
        assert pickle.loads(pickle.dumps(snapshot)) == snapshot
        assert copy.copy(snapshot) == snapshot and copy.deepcopy(snapshot) == snapshot
        assert json.loads(json.dumps(snapshot.to_dict())) == snapshot.to_dict()
    data = engine.get_contact(contact).data
    assert json.loads(json.dumps(data)) == {"tags": ["a", "b"], "n": {"x": 1}}
    with pytest.raises(TypeError):
        data["tags"] = []  # type: ignore[index]
    with pytest.raises(AttributeError):
        snapshots[0].state = "success"
    # A contact the engine hands out is a Contact like one built by its constructor.
    handed = snapshots[0]
    assert type(handed) is Contact
    assert Contact(**{f.name: getattr(handed, f.name) for f in dataclasses.fields(Contact)}) == handed


def test_a_callback_time_far_away_still_fits(engine: Engine, clock: VirtualClock) -> None:
    contact = walk_to(engine, DialMode.PREVIEW, "after_call_work", default_region="US")
    far = datetime(9000, 1, 1, tzinfo=UTC)
    assert engine.wrap_up(contact, "callback", callback_at=far).next_attempt_at == far
