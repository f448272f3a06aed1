"""Spec section 14: on SQLite the engine's calls run off the event loop, so the loop
is never blocked by a database call or a lock wait."""

from __future__ import annotations

import asyncio
import sqlite3
import time

import pytest

from dialstate import ContactState, DialMode, Engine
from dialstate.aio import AsyncEngine
from tests.support.aio import LagTicker, run


def test_the_loop_keeps_ticking_while_a_call_waits_for_a_sqlite_lock_held_elsewhere(sqlite_url: str) -> None:
    async def scenario() -> None:
        async with AsyncEngine(sqlite_url, lock_timeout=5.0) as engine:
            campaign = await engine.create_campaign("lag", mode=DialMode.AGENTLESS, default_region="US")
            (cid,) = (await engine.add_contacts(campaign.id, ["+1 212 555 0100"])).contact_ids
            other = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
            other.execute("BEGIN EXCLUSIVE")  # another process holds the writer lock
            try:
                with LagTicker() as ticker:
                    started = time.perf_counter()
                    dialing = asyncio.ensure_future(engine.dial(cid))
                    await asyncio.sleep(1.0)
                    assert not dialing.done(), "the call should be waiting for the lock"
                    other.execute("COMMIT")
                    contact = await dialing
                    waited = time.perf_counter() - started
            finally:
                other.close()
            assert contact.state is ContactState.DIALING
            assert waited >= 1.0
            assert len(ticker.lags) > 100, "the ticker should have run all along"
            # A call on the loop would have stalled it for the whole second.
            assert ticker.worst < 0.2, f"the loop stalled for {ticker.worst * 1000:.0f} ms"

    run(scenario())


def test_a_call_that_waits_longer_than_the_lock_timeout_fails_as_on_the_sync_face(sqlite_url: str) -> None:
    with Engine(sqlite_url, lock_timeout=0.3) as sync:
        campaign = sync.create_campaign("busy", mode=DialMode.AGENTLESS, default_region="US")
        first, second = sync.add_contacts(campaign.id, ["+1 212 555 0100", "+1 212 555 0101"]).contact_ids
        other = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        try:
            with pytest.raises(Exception) as on_the_sync_face:
                sync.dial(first)

            async def scenario() -> None:
                async with AsyncEngine(sqlite_url, lock_timeout=0.3) as engine:
                    with LagTicker() as ticker, pytest.raises(type(on_the_sync_face.value)) as raised:
                        await engine.dial(second)
                    assert str(raised.value) == str(on_the_sync_face.value)
                    assert ticker.worst < 0.2

            run(scenario())
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert sync.get_contact(second).state is ContactState.READY
