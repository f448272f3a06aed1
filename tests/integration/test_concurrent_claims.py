"""Concurrency (spec section 3, claiming; issue 2): claims never hand one contact to
two callers and racing triggers never lose an update or write a transition twice —
threads on SQLite, processes on PostgreSQL. Also the order of claims."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from dialstate import (
    ConcurrentUpdate,
    Contact,
    ContactState,
    DialMode,
    Engine,
    InvalidTransition,
    Outcome,
)
from dialstate.testing import VirtualClock
from tests.support.invariants import assert_history_continuous

S = ContactState
THREADS = 8
PROCS = Path(__file__).parent / "procs"
ROOT = Path(__file__).resolve().parents[2]


def phones(n: int, start: int = 0) -> list[str]:
    return [f"+1 212 {200 + (start + i) // 10000:03d} {(start + i) % 10000:04d}" for i in range(n)]


def new_campaign(engine: Engine, mode: DialMode, n: int) -> tuple[int, list[int]]:
    campaign = engine.create_campaign(f"{mode.value} race", mode=mode).id
    return campaign, list(engine.add_contacts(campaign, phones(n)).contact_ids)


def run_threads(work: Callable[[int], Any]) -> list[Any]:
    """Run `work(i)` on THREADS threads that start together; return their results."""
    barrier = threading.Barrier(THREADS)

    def start(i: int) -> Any:
        barrier.wait()
        return work(i)

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(start, range(THREADS)))


def triggers_in_history(engine: Engine, contact_id: int) -> Counter[str]:
    return Counter(e.trigger for e in engine.history(contact_id))


# -- SQLite, threads -------------------------------------------------------------------


@pytest.mark.parametrize("engines", ["one-engine-per-thread", "one-shared-engine"])
def test_threads_calling_assign_next_never_get_the_same_contact(
    sqlite_engine: Engine, sqlite_url: str, clock: VirtualClock, engines: str
) -> None:
    campaign, ids = new_campaign(sqlite_engine, DialMode.PREVIEW, 300)
    own = engines == "one-engine-per-thread"
    per_thread = [Engine(sqlite_url, clock=clock) if own else sqlite_engine for _ in range(THREADS)]

    def claim_all(i: int) -> list[int]:
        engine, got = per_thread[i], []
        while (contact := engine.assign_next(campaign, f"op{i}")) is not None:
            assert contact.state is S.OPERATOR_ASSIGNED and contact.operator_id == f"op{i}"
            got.append(contact.id)
        return got

    try:
        results = run_threads(claim_all)
    finally:
        if own:
            for engine in per_thread:
                engine.close()
    claimed = [cid for got in results for cid in got]
    assert len(claimed) == len(set(claimed)), "a contact was handed out twice"
    assert sorted(claimed) == sorted(ids), "every contact is handed out"
    assert sum(1 for got in results if got) > 1, "the threads really competed"
    for cid in ids:
        assert triggers_in_history(sqlite_engine, cid) == Counter({"add": 1, "assign_operator": 1})
    assert sqlite_engine.campaign_stats(campaign)["operator_assigned"] == 300


def test_threads_calling_dial_next_never_get_the_same_contact(
    sqlite_engine: Engine, sqlite_url: str, clock: VirtualClock
) -> None:
    campaign, ids = new_campaign(sqlite_engine, DialMode.PREDICTIVE, 300)
    per_thread = [Engine(sqlite_url, clock=clock) for _ in range(THREADS)]

    def claim_all(i: int) -> list[Contact]:
        got: list[Contact] = []
        while batch := per_thread[i].dial_next(campaign, 7):
            assert len(batch) <= 7
            got.extend(batch)
        return got

    try:
        results = run_threads(claim_all)
    finally:
        for engine in per_thread:
            engine.close()
    claimed = [c for got in results for c in got]
    assert len({c.id for c in claimed}) == len(claimed) == len(ids)
    assert len({c.call_id for c in claimed}) == len(ids), "each call has its own id"
    for contact in claimed:
        stored = sqlite_engine.get_contact(contact.id)
        assert (stored.state, stored.call_id, stored.attempts) == (S.DIALING, contact.call_id, 1)
        assert triggers_in_history(sqlite_engine, contact.id) == Counter({"add": 1, "dial": 1})


# (name, mode, how a ready contact gets to the racing state, the racing trigger)
RACES: list[tuple[str, DialMode, list[Callable[[Engine, int], object]], Callable[[Engine, int], object]]] = [
    ("assign_operator", DialMode.PREVIEW, [], lambda e, c: e.assign_operator(c, "op")),
    ("accept", DialMode.PREVIEW, [lambda e, c: e.assign_operator(c, "op1")], lambda e, c: e.accept(c)),
    ("dial", DialMode.AGENTLESS, [], lambda e, c: e.dial(c)),
    ("answered", DialMode.AGENTLESS, [lambda e, c: e.dial(c)], lambda e, c: e.answered(c)),
    ("call_ended", DialMode.AGENTLESS, [lambda e, c: e.dial(c)], lambda e, c: e.call_ended(c, Outcome.BUSY)),
    ("cancel", DialMode.PREDICTIVE, [], lambda e, c: e.cancel(c)),
]


@pytest.mark.parametrize(("name", "mode", "path", "race"), RACES, ids=[r[0] for r in RACES])
def test_threads_racing_one_trigger_on_one_contact_let_exactly_one_win(
    engine: Engine, name: str, mode: DialMode,
    path: list[Callable[[Engine, int], object]], race: Callable[[Engine, int], object],
) -> None:
    # one Engine shared by the threads: each thread has its own database connection
    _, (cid,) = new_campaign(engine, mode, 1)
    for step in path:
        step(engine, cid)
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
    _, ids = new_campaign(engine, DialMode.PREVIEW, 15)
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
    campaign = engine.create_campaign("twice", mode=DialMode.PREDICTIVE).id
    numbers = phones(3000)
    barrier = threading.Barrier(2)

    def load(_: int) -> tuple[int, int]:
        barrier.wait()
        report = engine.add_contacts(campaign, numbers)
        return report.added, report.duplicates

    with ThreadPoolExecutor(2) as pool:
        reports = list(pool.map(load, range(2)))
    assert sum(added for added, _ in reports) == 3000
    assert sum(duplicates for _, duplicates in reports) == 3000
    assert engine.campaign_stats(campaign).total == 3000


# -- the order of claims ----------------------------------------------------------------


def test_assign_next_hands_out_higher_priority_first_then_the_earliest_ready(
    engine: Engine, clock: VirtualClock
) -> None:
    campaign = engine.create_campaign("order", mode=DialMode.PREVIEW).id

    def add(number: str, priority: int) -> int:
        clock.advance(10)
        return engine.add_contacts(campaign, [{"phone": number, "priority": priority}]).contact_ids[0]

    a = add("+1 212 555 0001", 0)
    b = add("+1 212 555 0002", 5)
    e = add("+1 212 555 0003", 0)
    c = add("+1 212 555 0004", 0)
    d = add("+1 212 555 0005", 5)
    clock.advance(10)
    engine.assign_operator(e, "op9")
    engine.reject(e)  # back on the list now: it became ready last
    clock.advance(10)
    order = []
    while (got := engine.assign_next(campaign, "op1")) is not None:
        order.append(got.id)
    assert order == [b, d, a, c, e]


def test_dial_next_takes_higher_priority_first_then_the_earliest_ready_in_each_batch(
    engine: Engine, clock: VirtualClock
) -> None:
    campaign = engine.create_campaign("order", mode=DialMode.PREDICTIVE).id

    def add(number: str, priority: int) -> int:
        clock.advance(10)
        return engine.add_contacts(campaign, [{"phone": number, "priority": priority}]).contact_ids[0]

    retried = add("+1 212 555 0001", 0)
    urgent_retried = add("+1 212 555 0002", 9)
    engine.dial(retried)
    engine.dial(urgent_retried)
    low_early = add("+1 212 555 0003", 0)
    mid = add("+1 212 555 0004", 3)
    low_late = add("+1 212 555 0005", 0)
    engine.call_ended(retried, Outcome.BUSY)
    engine.call_ended(urgent_retried, Outcome.BUSY)
    clock.advance(600)
    engine.retry_due(retried)  # created first, ready again last
    engine.retry_due(urgent_retried)
    first = [c.id for c in engine.dial_next(campaign, 3)]
    rest = [c.id for c in engine.dial_next(campaign, 3)]
    assert first == [urgent_retried, mid, low_early]
    assert rest == [low_late, retried]


def test_a_blacklisted_or_invalid_contact_is_never_claimed(engine: Engine) -> None:
    campaign = engine.create_campaign("skip", mode=DialMode.PREDICTIVE).id
    engine.blacklist_phone("+1 212 555 0001")
    ids = engine.add_contacts(campaign, ["+1 212 555 0001", "junk", "+1 212 555 0003"]).contact_ids
    assert [c.id for c in engine.dial_next(campaign, 10)] == [ids[2]]
    assert engine.dial_next(campaign, 10) == []


# -- PostgreSQL, processes ---------------------------------------------------------------


def run_processes(script: str, argv_per_process: list[list[str]], timeout: float = 60) -> list[dict[str, Any]]:
    """Start one process per argv, wait until each has opened its engine, let them all
    go at once, and return each one's last line (JSON)."""
    procs = [
        subprocess.Popen(
            [sys.executable, str(PROCS / script), *argv], cwd=ROOT, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        for argv in argv_per_process
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if line.strip() != "READY":
                _, err = proc.communicate(timeout=timeout)
                pytest.fail(f"{script} did not start: {line!r}\n{err}")
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        results = []
        for proc in procs:
            out, err = proc.communicate(timeout=timeout)
            assert proc.returncode == 0, f"{script} failed:\n{err}"
            results.append(json.loads(out.strip().splitlines()[-1]))
        return results
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def assert_seq_unique_and_continuous(engine: Engine, contact_id: int) -> None:
    seqs = [e.seq for e in engine.history(contact_id)]
    assert len(seqs) == len(set(seqs)), f"contact {contact_id}: duplicate seq {seqs}"
    assert_history_continuous(engine, contact_id)


@pytest.mark.pg
def test_processes_claiming_with_dial_next_take_every_contact_exactly_once(pg_engine: Engine, pg_url: str) -> None:
    campaign, ids = new_campaign(pg_engine, DialMode.PREDICTIVE, 2000)
    results = run_processes("claimer.py", [["--db", pg_url, "--campaign", str(campaign), "--limit", "10"]] * 4)
    claimed = [tuple(c) for r in results for c in r["claimed"]]
    contact_ids = [cid for cid, _ in claimed]
    assert len(contact_ids) == len(set(contact_ids)), "a contact was claimed twice"
    assert sorted(contact_ids) == sorted(ids), "every contact is claimed"
    assert len({call for _, call in claimed}) == len(ids)
    assert sum(1 for r in results if r["claimed"]) > 1, "the processes really competed"
    stats = pg_engine.campaign_stats(campaign)
    assert (stats["dialing"], stats["ready"]) == (2000, 0)
    for cid in ids[::50]:
        assert triggers_in_history(pg_engine, cid) == Counter({"add": 1, "dial": 1})
        assert_seq_unique_and_continuous(pg_engine, cid)


@pytest.mark.pg
def test_processes_racing_the_same_triggers_lose_no_update_and_write_each_transition_once(
    pg_engine: Engine, pg_url: str
) -> None:
    campaign, ids = new_campaign(pg_engine, DialMode.AGENTLESS, 150)
    argv = ["--db", pg_url, "--contacts", ",".join(map(str, ids))]
    results = run_processes("racer.py", [argv] * 4)
    wins = Counter((cid, trigger) for r in results for cid, trigger in r["won"])
    assert set(wins.values()) == {1}, "each transition is won exactly once"
    assert len(wins) == 3 * len(ids)
    for cid in ids:
        contact = pg_engine.get_contact(cid)
        entries = pg_engine.history(cid)
        assert contact.state is S.SUCCESS
        assert [e.trigger for e in entries] == ["add", "dial", "answered", "call_ended"]
        assert contact.version == len(entries), "no lost update: one version per transition"
        assert_seq_unique_and_continuous(pg_engine, cid)
    assert pg_engine.campaign_stats(campaign)["success"] == len(ids)
