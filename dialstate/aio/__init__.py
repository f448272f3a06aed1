"""dialstate for asyncio programs (spec section 14).

    from dialstate.aio import AsyncEngine, AsyncScheduler

    async with AsyncEngine("postgresql+psycopg://user@host/db") as engine:
        contacts = await engine.dial_next(campaign_id, 20)

`AsyncEngine` has every public method of `Engine` as a coroutine, with the same
arguments, results and errors, over the same core: only the I/O differs (psycopg's
async pool on PostgreSQL, worker threads on SQLite, so the event loop never waits
for the database). `AsyncScheduler` fires the due timers on the event loop.
"""

from dialstate.aio.engine import AsyncEngine
from dialstate.aio.scheduler import AsyncScheduler

__all__ = ["AsyncEngine", "AsyncScheduler"]
