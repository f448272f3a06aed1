"""Spec sections 7 and 14: `AsyncScheduler` fires due timers on the event loop:
`await run_pending()` at the engine's clock, or `start()` / `await shutdown()` in real
time with APScheduler's asyncio scheduler as the alarm clock."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest

from dialstate import ContactState, DialMode, Engine, InvalidArgument, Outcome, RetryPolicy
from dialstate.aio import AsyncEngine, AsyncScheduler
from dialstate.testing import VirtualClock
from tests.support import new_phones
from tests.support.aio import run

S = ContactState


async def seed_retries(engine: AsyncEngine, n: int, delay: float) -> list[int]:
    """`n` agentless contacts dialed and ended busy, each due `delay` seconds from now."""
    campaign = await engine.create_campaign("retries", mode=DialMode.AGENTLESS, default_region="DE",
                                            retry_policy=RetryPolicy(delays={Outcome.BUSY: delay}))
    ids = (await engine.add_contacts(campaign.id, new_phones(n, "DE"))).contact_ids
    await engine.dial_next(campaign.id, n)
    await asyncio.gather(*(engine.call_ended(cid, Outcome.BUSY) for cid in ids))
    return ids


async def states(engine: AsyncEngine, ids: list[int]) -> set[S]:
    return {(await engine.get_contact(cid)).state for cid in ids}


def test_run_pending_fires_what_is_due_at_the_engines_clock_batch_after_batch(url: str) -> None:
    clock = VirtualClock()

    async def scenario() -> None:
        async with AsyncEngine(url, clock=clock) as engine:
            ids = await seed_retries(engine, 5, delay=60)
            scheduler = AsyncScheduler(engine, batch_size=2)
            clock.advance(59)
            assert await scheduler.run_pending() == 0
            clock.advance(1)
            assert await scheduler.run_pending() == 5
            assert await states(engine, ids) == {S.READY}
            assert scheduler.fired_total == 5
            assert await scheduler.run_pending() == 0

    run(scenario())


def test_the_background_scheduler_fires_retries_on_time_from_its_alarm(url: str) -> None:
    async def scenario() -> None:
        async with AsyncEngine(url) as engine:
            scheduler = AsyncScheduler(engine, sweep_seconds=30)  # only the alarm can fire these in time
            scheduler.start()
            try:
                later = await seed_retries(engine, 1, delay=60)
                await asyncio.sleep(0.2)  # the start-up sweep has armed the alarm a minute away
                sooner = await seed_retries(engine, 10, delay=0.5)
                deadline = time.monotonic() + 5
                while await states(engine, sooner) != {S.READY}:
                    assert time.monotonic() < deadline, "the alarm did not fire in time"
                    await asyncio.sleep(0.05)
                assert scheduler.running
            finally:
                await scheduler.shutdown()
            assert not scheduler.running
            for cid in sooner:
                entries = await engine.history(cid)
                ended = next(e for e in entries if e.trigger == "call_ended")
                fired = next(e for e in entries if e.trigger == "retry_due")
                assert 0 <= (fired.at - ended.at).total_seconds() - 0.5 < 0.5
                assert fired.actor == "scheduler"
            assert await states(engine, later) == {S.RETRY_SCHEDULED}

    run(scenario())


def test_the_sweep_finds_what_another_process_scheduled_and_what_came_due_while_stopped(url: str) -> None:
    yesterday = Engine(url, clock=lambda: datetime.now(UTC) - timedelta(days=1))
    try:
        campaign = yesterday.create_campaign("old", mode=DialMode.AGENTLESS, default_region="DE")
        old = yesterday.add_contacts(campaign.id, new_phones(3, "DE")).contact_ids
        yesterday.dial_next(campaign.id, 3)
        for cid in old:
            yesterday.call_ended(cid, Outcome.BUSY)  # due almost a day ago
    finally:
        yesterday.close()

    async def scenario() -> None:
        async with AsyncEngine(url) as engine, AsyncScheduler(engine, sweep_seconds=0.2):
            deadline = time.monotonic() + 5
            while await states(engine, old) != {S.READY}:
                assert time.monotonic() < deadline
                await asyncio.sleep(0.05)

    run(scenario())


def test_shutdown_lets_the_batch_in_progress_commit_and_nothing_fires_after(url: str) -> None:
    async def scenario() -> None:
        async with AsyncEngine(url) as engine:
            first = await seed_retries(engine, 3, delay=0.1)
            later = await seed_retries(engine, 3, delay=0.6)
            await asyncio.sleep(0.15)
            committing = asyncio.Event()
            loop = asyncio.get_running_loop()

            def slow_commit() -> object:  # the batch holds its transaction open a while
                loop.call_soon_threadsafe(committing.set)
                if engine.database.is_pg:
                    return asyncio.sleep(0.3)
                time.sleep(0.3)  # SQLite: in the worker thread
                return None

            engine.database.before_commit.append(slow_commit)
            scheduler = AsyncScheduler(engine, sweep_seconds=30)
            scheduler.start()
            await committing.wait()
            await scheduler.shutdown()
            engine.database.before_commit.clear()
            assert await states(engine, first) == {S.READY}, "the batch in progress should have committed"
            await asyncio.sleep(0.6)
            assert await states(engine, later) == {S.RETRY_SCHEDULED}, "a stopped scheduler fired"
            assert await AsyncScheduler(engine).run_pending() == 3

    run(scenario())


def test_the_scheduler_refuses_a_second_start_and_a_start_off_the_loop(sqlite_url: str) -> None:
    async def scenario() -> AsyncScheduler:
        async with AsyncEngine(sqlite_url) as engine:
            scheduler = AsyncScheduler(engine)
            scheduler.start()
            with pytest.raises(InvalidArgument, match="already started"):
                scheduler.start()
            await scheduler.shutdown()
            await scheduler.shutdown()  # again: a no-op
            return scheduler

    scheduler = run(scenario())
    with pytest.raises(InvalidArgument, match="running event loop"):
        scheduler.start()
    for bad in ({"batch_size": 0}, {"sweep_seconds": 0}, {"busy_backoff_seconds": "1"}):
        with pytest.raises(InvalidArgument, match=next(iter(bad))):
            AsyncScheduler(scheduler.engine, **bad)  # type: ignore[arg-type]
