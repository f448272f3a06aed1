"""Concurrency (spec section 3, claiming; issue 2): claims never hand one contact to
two callers and racing triggers never lose an update or write a transition twice —
threads on SQLite, processes on PostgreSQL.

The claimers compete by construction, not by luck: they claim in lock-step rounds
(threads meet at a barrier, processes wait for the test's next line), so that in
every round each of them claims while the others do, and the tests check what must
then hold (each got its share of the round) instead of hoping that the scheduling of
threads made them overlap.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Sequence, Sized
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest

from dialstate import (
    CallingWindow,
    ConcurrentUpdate,
    Contact,
    ContactState,
    DialMode,
    Engine,
    InvalidTransition,
    Outcome,
)
from dialstate.testing import VirtualClock
from tests.support import (
    assert_history_continuous,
    assert_no_contact_lost,
    new_campaign,
    new_contacts,
    phone_number,
    walk_to,
)
from tests.support.processes import Processes, read_line, result, send_line

S = ContactState
THREADS = 8
T = TypeVar("T")

#: Seconds a thread waits at a barrier for the others before the test fails.
BARRIER_TIMEOUT = 60


def campaign_of(engine: Engine, mode: DialMode, n: int) -> tuple[int, list[int]]:
    """A new campaign of `mode` with `n` contacts: (its id, their ids)."""
    campaign = new_campaign(engine, mode)
    return campaign, new_contacts(engine, campaign, *(phone_number(i) for i in range(n)))


def run_threads(work: Callable[[int], T], threads: int = THREADS) -> list[T]:
    """Runs `work(i)` on `threads` threads that start together; returns their results."""
    barrier = threading.Barrier(threads, timeout=BARRIER_TIMEOUT)

    def start(i: int) -> T:
        barrier.wait()
        return work(i)

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(start, range(threads)))


def claim_in_rounds(claim: Callable[[int], Sequence[T]], threads: int = THREADS) -> list[list[Sequence[T]]]:
    """Runs `claim(i)` on `threads` threads in lock-step rounds: each round starts for
    every thread at once (a barrier), and ends when every thread's claim has returned
    (a second barrier); the rounds go on until one in which nobody got anything.
    Returns, round by round, what each thread got."""
    barrier = threading.Barrier(threads, timeout=BARRIER_TIMEOUT)
    lock = threading.Lock()
    rounds: list[list[Sequence[T]]] = []

    def run(i: int) -> None:
        try:
            for number in range(1_000_000):
                barrier.wait()  # the round starts for every thread at once
                got = claim(i)
                with lock:
                    if len(rounds) == number:
                        rounds.append([() for _ in range(threads)])
                    rounds[number][i] = got
                barrier.wait()  # every claim of the round is in
                if not any(rounds[number]):
                    return
        except BaseException:
            barrier.abort()  # the other threads fail at once instead of waiting
            raise

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(run, range(threads)))
    return rounds


def assert_full_rounds(rounds: Sequence[Sequence[Sized]], contacts: int, batch: int) -> None:
    """While a round started with a full batch left for every claimer, each got one."""
    full = contacts // (batch * len(rounds[0]))
    assert full >= 2, "the test needs several rounds in which everybody claims"
    for number, got in enumerate(rounds[:full]):
        assert [len(g) for g in got] == [batch] * len(got), f"round {number}: {[len(g) for g in got]}"


def triggers_in_history(engine: Engine, contact_id: int) -> Counter[str]:
    return Counter(e.trigger for e in engine.history(contact_id))


# -- SQLite, threads -------------------------------------------------------------------


@pytest.mark.parametrize("engines", ["one-engine-per-thread", "one-shared-engine"])
def test_threads_calling_assign_next_never_get_the_same_contact(
    sqlite_engine: Engine, sqlite_url: str, clock: VirtualClock, engines: str
) -> None:
    campaign, ids = campaign_of(sqlite_engine, DialMode.PREVIEW, 300)
    own = engines == "one-engine-per-thread"
    per_thread = [Engine(sqlite_url, clock=clock) if own else sqlite_engine for _ in range(THREADS)]

    def claim_one(i: int) -> list[int]:
        contact = per_thread[i].assign_next(campaign, f"op{i}")
        if contact is None:
            return []
        assert contact.state is S.OPERATOR_ASSIGNED and contact.operator_id == f"op{i}"
        return [contact.id]

    try:
        rounds = claim_in_rounds(claim_one)
    finally:
        if own:
            for engine in per_thread:
                engine.close()
    claimed = [cid for got in rounds for mine in got for cid in mine]
    assert len(claimed) == len(set(claimed)), "a contact was handed out twice"
    assert sorted(claimed) == sorted(ids), "every contact is handed out"
    assert_full_rounds(rounds, len(ids), batch=1)
    for cid in ids:
        assert triggers_in_history(sqlite_engine, cid) == Counter({"add": 1, "assign_operator": 1})
    assert sqlite_engine.campaign_stats(campaign)["operator_assigned"] == 300
    assert_no_contact_lost(sqlite_engine, campaign, ids)


def test_threads_calling_dial_next_never_get_the_same_contact(
    sqlite_engine: Engine, sqlite_url: str, clock: VirtualClock
) -> None:
    campaign, ids = campaign_of(sqlite_engine, DialMode.PREDICTIVE, 300)
    per_thread = [Engine(sqlite_url, clock=clock) for _ in range(THREADS)]

    def claim_batch(i: int) -> list[Contact]:
        batch = per_thread[i].dial_next(campaign, 7)
        assert len(batch) <= 7
        return batch

    try:
        rounds = claim_in_rounds(claim_batch)
    finally:
        for engine in per_thread:
            engine.close()
    claimed = [c for got in rounds for mine in got for c in mine]
    assert len({c.id for c in claimed}) == len(claimed) == len(ids)
    assert len({c.call_id for c in claimed}) == len(ids), "each call has its own id"
    assert_full_rounds(rounds, len(ids), batch=7)
    for contact in claimed:
        stored = sqlite_engine.get_contact(contact.id)
        assert (stored.state, stored.call_id, stored.attempts) == (S.DIALING, contact.call_id, 1)
        assert triggers_in_history(sqlite_engine, contact.id) == Counter({"add": 1, "dial": 1})
    assert_no_contact_lost(sqlite_engine, campaign, ids)


# (trigger, mode, the state the race starts from, the racing call)
RACES: list[tuple[str, DialMode, ContactState, Callable[[Engine, int], object]]] = [
    ("assign_operator", DialMode.PREVIEW, S.READY, lambda e, c: e.assign_operator(c, "op")),
    ("accept", DialMode.PREVIEW, S.OPERATOR_ASSIGNED, lambda e, c: e.accept(c)),
    ("dial", DialMode.AGENTLESS, S.READY, lambda e, c: e.dial(c)),
    ("answered", DialMode.AGENTLESS, S.DIALING, lambda e, c: e.answered(c)),
    ("call_ended", DialMode.AGENTLESS, S.DIALING, lambda e, c: e.call_ended(c, Outcome.BUSY)),
    ("cancel", DialMode.PREDICTIVE, S.READY, lambda e, c: e.cancel(c)),
]


@pytest.mark.parametrize(("name", "mode", "state", "race"), RACES, ids=[r[0] for r in RACES])
def test_threads_racing_one_trigger_on_one_contact_let_exactly_one_win(
    engine: Engine, name: str, mode: DialMode, state: ContactState, race: Callable[[Engine, int], object],
) -> None:
    # one Engine shared by the threads: each thread has its own database connection
    cid = walk_to(engine, mode, state)
    before = engine.get_contact(cid)

    def attempt(i: int) -> str:
        try:
            race(engine, cid)
        except (InvalidTransition, ConcurrentUpdate) as exc:
            return type(exc).__name__
        return "won"

    results = run_threads(attempt)
    assert results.count("won") == 1, results
    assert triggers_in_history(engine, cid)[name] == 1
    assert engine.get_contact(cid).version == before.version + 1
    assert_history_continuous(engine, cid)


def test_threads_repeating_one_idempotent_call_all_get_the_one_snapshot(engine: Engine) -> None:
    # several rounds, as the race the key must absorb is a matter of timing
    _, ids = campaign_of(engine, DialMode.PREVIEW, 15)
    for cid in ids:

        def repeat(_: int, cid: int = cid) -> Contact:
            return engine.assign_operator(cid, "op1", idempotency_key=f"once-{cid}")

        results = run_threads(repeat)
        assert all(r == results[0] for r in results)
        assert triggers_in_history(engine, cid)["assign_operator"] == 1
        assert engine.get_contact(cid).version == 2


def test_two_imports_of_the_same_numbers_at_once_add_each_number_once_and_count_the_rest_as_duplicates(
    engine: Engine
) -> None:
    campaign = new_campaign(engine, DialMode.PREDICTIVE)
    numbers = [phone_number(i) for i in range(3000)]

    def load(_: int) -> tuple[int, int]:
        report = engine.add_contacts(campaign, numbers)
        return report.added, report.duplicates

    reports = run_threads(load, threads=2)
    assert sum(added for added, _ in reports) == 3000
    assert sum(duplicates for _, duplicates in reports) == 3000
    assert engine.campaign_stats(campaign).total == 3000


# -- PostgreSQL, processes ---------------------------------------------------------------


def claim_in_process_rounds(procs: list[Any]) -> list[list[list[list[Any]]]]:
    """Lets `claimer.py` processes claim in lock-step rounds: each round, every process
    is told to claim at once, and the next round starts when all have answered; until
    a round in which nobody got anything. Returns, round by round, what each claimed."""
    rounds = []
    while True:
        send_line(procs, "claim")
        got = [json.loads(read_line(proc))["claimed"] for proc in procs]
        rounds.append(got)
        if not any(got):
            send_line(procs, "stop")
            return rounds


@pytest.mark.pg
def test_processes_claiming_with_dial_next_take_every_contact_exactly_once(
    pg_engine: Engine, pg_url: str, processes: Processes
) -> None:
    campaign, ids = campaign_of(pg_engine, DialMode.PREDICTIVE, 2000)
    procs = [processes.script("claimer.py", "--db", pg_url, "--campaign", str(campaign), "--limit", "10", stdin=True)
             for _ in range(4)]
    rounds = claim_in_process_rounds(procs)
    totals = [result(proc)["claimed"] for proc in procs]
    claimed = [tuple(c) for got in rounds for mine in got for c in mine]
    assert sorted(claimed) == sorted(tuple(c) for mine in totals for c in mine)
    contact_ids = [cid for cid, _ in claimed]
    assert len(contact_ids) == len(set(contact_ids)), "a contact was claimed twice"
    assert sorted(contact_ids) == sorted(ids), "every contact is claimed"
    assert len({call for _, call in claimed}) == len(ids)
    assert_full_rounds(rounds, len(ids), batch=10)
    stats = pg_engine.campaign_stats(campaign)
    assert (stats["dialing"], stats["ready"]) == (2000, 0)
    for cid in ids[::50]:
        assert triggers_in_history(pg_engine, cid) == Counter({"add": 1, "dial": 1})
        assert_history_continuous(pg_engine, cid)  # seq unique, 1..n


@pytest.mark.pg
def test_processes_racing_the_same_triggers_lose_no_update_and_write_each_transition_once(
    pg_engine: Engine, pg_url: str, processes: Processes
) -> None:
    campaign, ids = campaign_of(pg_engine, DialMode.AGENTLESS, 150)
    procs = [processes.script("racer.py", "--db", pg_url, "--contacts", ",".join(map(str, ids)), stdin=True)
             for _ in range(4)]
    send_line(procs, "go")
    results = [result(proc) for proc in procs]
    wins = Counter((cid, trigger) for r in results for cid, trigger in r["won"])
    assert set(wins.values()) == {1}, "each transition is won exactly once"
    assert len(wins) == 3 * len(ids)
    for cid in ids:
        contact = pg_engine.get_contact(cid)
        entries = pg_engine.history(cid)
        assert contact.state is S.SUCCESS
        assert [e.trigger for e in entries] == ["add", "dial", "answered", "call_ended"]
        assert contact.version == len(entries), "no lost update: one version per transition"
        assert_history_continuous(pg_engine, cid)  # seq unique, 1..n
    assert pg_engine.campaign_stats(campaign)["success"] == len(ids)


def test_threads_claiming_contacts_with_several_numbers_take_each_once_on_one_of_its_numbers(
    engine: Engine, clock: VirtualClock
) -> None:
    """Threads sharing one engine claim contacts of three numbers in several zones, with
    a calling window: each contact once, each call on one of its own numbers whose
    window was open, and its attempt counted on that number."""
    window = CallingWindow("09:00", "21:00")
    campaign = new_campaign(engine, DialMode.AGENTLESS, calling_window=window, timezone="Europe/Berlin")
    people = [[phone_number(i), phone_number(i, "DE"), phone_number(1000 + i)] for i in range(200)]
    ids = engine.add_contacts(campaign, [{"phones": [{"phone": people[i][0], "timezone": "Asia/Tokyo"},
                                                     people[i][1], people[i][2]]} for i in range(200)]).contact_ids
    clock.set(datetime(2026, 3, 4, 12, 0, tzinfo=UTC))  # 13:00 in Berlin, 21:00 in Tokyo, 07:00 in New York

    rounds = claim_in_rounds(lambda i: engine.dial_next(campaign, 7))
    claimed = [c for got in rounds for mine in got for c in mine]
    assert sorted(c.id for c in claimed) == sorted(ids), "each contact claimed once"
    for contact in claimed:
        assert contact.phone.startswith("+49"), "only the Berlin numbers are open"
        (number,) = [n for n in contact.numbers if n.phone == contact.phone]
        assert number.attempts == 1 and sum(n.attempts for n in contact.numbers) == 1
    assert_no_contact_lost(engine, campaign, ids)
