"""Helpers of the asyncio face's tests: running a scenario, a loop-lag ticker, and
what PostgreSQL and the pool say about open transactions and connections."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

from dialstate.aio import AsyncEngine
from dialstate.testing import admin_conninfo

T = TypeVar("T")


def run(scenario: Coroutine[Any, Any, T]) -> T:
    """Run an async test scenario on a fresh event loop."""
    return asyncio.run(scenario)


class LagTicker:
    """Measures how late the event loop runs a task that asks to wake every `every`
    seconds: a loop blocked by a database call shows as lag."""

    def __init__(self, every: float = 0.002) -> None:
        self.every = every
        self.lags: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(self.every)
            self.lags.append(time.perf_counter() - before - self.every)

    def __enter__(self) -> LagTicker:
        self._task = asyncio.get_running_loop().create_task(self._tick())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()

    @property
    def worst(self) -> float:
        return max(self.lags, default=0.0)

    def percentile(self, p: float) -> float:
        ordered = sorted(self.lags)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else 0.0


def transactions_left_open(url: str) -> list[tuple[Any, ...]]:
    """Sessions on the test's PostgreSQL database idle inside a transaction (or stuck in
    an aborted one), other than the caller's own."""
    import psycopg

    with psycopg.connect(admin_conninfo(url), autocommit=True) as conn:
        return conn.execute(
            "SELECT pid, state, query FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%%'").fetchall()


async def assert_pool_intact(engine: AsyncEngine) -> None:
    """Every connection of the engine's PostgreSQL pool is back in it, and none is lost."""
    pool = engine.database.pool
    await pool.wait(timeout=10)  # a connection the pool replaced may still be on its way
    stats = pool.get_stats()
    assert stats["pool_size"] == engine.database.pool_size, stats
    assert stats["pool_available"] == engine.database.pool_size, stats
    assert stats.get("requests_waiting", 0) == 0, stats
