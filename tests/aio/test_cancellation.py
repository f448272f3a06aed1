"""Spec section 14: a coroutine cancelled mid-call leaves no transaction open and no
connection lost from the pool, and the contact's state is either fully changed or
unchanged. A call cancelled while it committed raises `CancelledError` too (as
`asyncio.timeout` expects); its change stands and the subscribers hear of it."""

from __future__ import annotations

import asyncio
import random
import sqlite3
import time
from typing import Any

import pytest

from dialstate import ContactState, DialMode, Engine, TransitionEvent
from dialstate.aio import AsyncEngine
from dialstate.testing import admin_conninfo
from tests.support import assert_history_continuous, new_phones
from tests.support.aio import assert_pool_intact, run, transactions_left_open

S = ContactState


async def ready_contacts(engine: AsyncEngine, n: int) -> list[int]:
    campaign = await engine.create_campaign("cancel", mode=DialMode.AGENTLESS, default_region="DE")
    return (await engine.add_contacts(campaign.id, new_phones(n, "DE"))).contact_ids


async def outcome_of(call: asyncio.Future[Any]) -> str:
    try:
        await call
    except asyncio.CancelledError:
        return "cancelled"
    return "finished"


async def assert_nothing_left_open(engine: AsyncEngine, url: str) -> None:
    if engine.database.is_pg:
        assert transactions_left_open(url) == []
        await assert_pool_intact(engine)


def test_calls_cancelled_at_any_moment_leave_each_contact_fully_changed_or_unchanged(url: str) -> None:
    rng = random.Random(14)

    async def scenario() -> dict[int, str]:
        async with AsyncEngine(url, pool_size=3) as engine:
            ids = await ready_contacts(engine, 60)
            heard: list[TransitionEvent] = []
            engine.subscribe(heard.append)
            outcomes: dict[int, str] = {}
            for i, cid in enumerate(ids):
                call = asyncio.ensure_future(engine.dial(cid))
                # At once (before any statement), then ever later, up to after the end.
                await asyncio.sleep(0 if i < 5 else rng.uniform(0, 0.004) if i < 55 else 0.5)
                call.cancel()
                outcomes[cid] = await outcome_of(call)
            await asyncio.sleep(0.05)  # what a cancelled call committed is told in the background
            await assert_nothing_left_open(engine, url)
            dialed = {e.contact.id for e in heard if e.entry.to_state is S.DIALING}
            return {cid: f"{how}, {'heard' if cid in dialed else 'unheard'}" for cid, how in outcomes.items()}

    outcomes = run(scenario())
    with Engine(url) as engine:
        changed = {cid: engine.get_contact(cid).state is S.DIALING for cid in outcomes}
        for cid, how in outcomes.items():
            # Fully changed (and heard of) or unchanged; a call that returned changed it.
            assert how in (("finished, heard", "cancelled, heard") if changed[cid] else ("cancelled, unheard",)), \
                (cid, how)
            assert len(engine.history(cid)) == (2 if changed[cid] else 1)
            assert_history_continuous(engine, cid)
    assert set(changed.values()) == {True, False}, "the cancellations should have landed both before and after"


@pytest.mark.pg
def test_a_call_cancelled_while_its_statement_waits_for_a_row_lock_is_cancelled_on_the_server(pg: str) -> None:
    import psycopg

    async def scenario() -> None:
        async with AsyncEngine(pg, pool_size=2, lock_timeout=5.0) as engine:
            (cid,) = await ready_contacts(engine, 1)
            with psycopg.connect(admin_conninfo(pg)) as locker:
                locker.execute("SELECT 1 FROM ds_contact WHERE id = %s FOR UPDATE", (cid,))
                call = asyncio.ensure_future(engine.dial(cid))
                await asyncio.sleep(0.3)
                assert not call.done(), "the call should be waiting for the row lock"
                started = time.perf_counter()
                call.cancel()
                assert await outcome_of(call) == "cancelled"
                assert time.perf_counter() - started < 1.0, "the statement should be cancelled, not waited for"
                assert len(transactions_left_open(pg)) == 1  # the locker's own, and no other
                locker.rollback()
            await assert_nothing_left_open(engine, pg)
            assert (await engine.get_contact(cid)).state is S.READY
            assert (await engine.dial(cid)).state is S.DIALING  # the engine goes on

    run(scenario())


@pytest.mark.pg
def test_a_call_cancelled_after_its_statements_and_before_its_commit_is_rolled_back(pg: str) -> None:
    async def scenario() -> None:
        async with AsyncEngine(pg, pool_size=2) as engine:
            (cid,) = await ready_contacts(engine, 1)
            holding = asyncio.Event()

            async def hold() -> None:  # every statement ran; the transaction is open
                holding.set()
                await asyncio.sleep(3600)

            engine.database.before_commit.append(hold)
            call = asyncio.ensure_future(engine.dial(cid))
            await holding.wait()
            assert len(transactions_left_open(pg)) == 1
            call.cancel()
            assert await outcome_of(call) == "cancelled"
            engine.database.before_commit.clear()
            await assert_nothing_left_open(engine, pg)
            assert (await engine.get_contact(cid)).state is S.READY

    run(scenario())


def test_a_call_cancelled_while_it_waits_for_the_sqlite_writer_lock_is_rolled_back(sqlite_url: str) -> None:
    async def scenario() -> None:
        async with AsyncEngine(sqlite_url, lock_timeout=5.0) as engine:
            (cid,) = await ready_contacts(engine, 1)
            other = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
            other.execute("BEGIN EXCLUSIVE")
            try:
                call = asyncio.ensure_future(engine.dial(cid))
                await asyncio.sleep(0.2)
                call.cancel()
                # SQLite cannot interrupt a wait for its lock: the cancelled call ends
                # when the wait does, then stops before its first statement.
                await asyncio.sleep(0.2)
                assert not call.done()
                other.execute("COMMIT")
                assert await outcome_of(call) == "cancelled"
            finally:
                other.close()
            assert (await engine.get_contact(cid)).state is S.READY
            assert len(await engine.history(cid)) == 1

    run(scenario())


def test_an_import_cancelled_while_it_waits_for_more_items_adds_nothing_and_closes_the_input(url: str) -> None:
    async def scenario() -> None:
        async with AsyncEngine(url, pool_size=2) as engine:
            campaign = await engine.create_campaign("stalled", default_region="DE")
            closed = asyncio.Event()

            async def stalling():  # type: ignore[no-untyped-def]
                try:
                    for phone in new_phones(2500, "DE"):  # more than a batch: the first is written
                        yield phone
                    await asyncio.sleep(3600)  # the CRM export stalls
                finally:
                    closed.set()

            call = asyncio.ensure_future(engine.add_contacts(campaign.id, stalling()))
            await asyncio.sleep(0.5)
            call.cancel()
            assert await outcome_of(call) == "cancelled"
            assert closed.is_set()
            assert (await engine.campaign_stats(campaign.id)).total == 0
            await assert_nothing_left_open(engine, url)

    run(scenario())


def test_a_timeout_around_a_call_raises_timeout_error_and_leaves_nothing_open(url: str) -> None:
    async def scenario() -> None:
        async with AsyncEngine(url, pool_size=2) as engine:
            ids = await ready_contacts(engine, 20)
            for cid in ids:
                try:
                    async with asyncio.timeout(0.001):
                        await engine.dial(cid)
                except TimeoutError:
                    pass
            await assert_nothing_left_open(engine, url)
            for cid in ids:
                contact = await engine.get_contact(cid)
                assert len(await engine.history(cid)) == (1 if contact.state is S.READY else 2)

    run(scenario())
