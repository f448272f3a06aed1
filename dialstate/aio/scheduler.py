"""`AsyncScheduler`: the scheduler of spec section 7 on the event loop.

The same design as the sync `Scheduler` (`dialstate.scheduler.core`): the due times
live in the contact rows; APScheduler (here its `AsyncIOScheduler`) is only this
process's alarm clock, one `date` job armed for the earliest due time plus an
`interval` sweep; firing exactly once is the database's job. The settings' checks,
the alarm's bookkeeping and the log lines are shared (`dialstate.scheduler.alarm`);
the runs are coroutines, one at a time under an `asyncio.Lock`.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC
from types import TracebackType
from typing import TYPE_CHECKING

from apscheduler.executors.asyncio import AsyncIOExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from dialstate.errors import InvalidArgument
from dialstate.scheduler.alarm import JOB_DEFAULTS, Alarm, add_sweep, check_settings, last_batch, log, log_batch

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from dialstate.aio.engine import AsyncEngine
    from dialstate.engine.snapshots import TransitionEvent


class AsyncScheduler:
    """Fires every due timer of an `AsyncEngine`'s contacts.

    `await run_pending()` fires what is due now (tests and simulations, with a virtual
    clock); `start()`, a plain call on the running loop, and `await shutdown()` run it
    in the background in real time. The settings are the sync `Scheduler`'s.
    """

    def __init__(self, engine: AsyncEngine, *, batch_size: int = 200, sweep_seconds: float = 1.0,
                 busy_backoff_seconds: float = 0.05) -> None:
        check_settings(batch_size, sweep_seconds, busy_backoff_seconds)
        self.engine = engine
        self.batch_size = batch_size
        self.sweep_seconds = float(sweep_seconds)
        self.busy_backoff_seconds = float(busy_backoff_seconds)
        self._fired_total = 0
        #: One firing loop at a time (run_pending, the alarm and the sweep share it);
        #: made on first use, on the loop that uses it.
        self._run_lock: asyncio.Lock | None = None
        self._aps: AsyncIOScheduler | None = None
        self._alarm_clock = Alarm(self.sweep_seconds, self.busy_backoff_seconds)
        self._stopping = False
        self._unsubscribe: Callable[[], None] | None = None

    @property
    def fired_total(self) -> int:
        """How many contacts this scheduler has fired since it was made."""
        return self._fired_total

    @property
    def running(self) -> bool:
        """Whether the background scheduler is started."""
        return self._aps is not None

    def _lock(self) -> asyncio.Lock:
        if self._run_lock is None:
            self._run_lock = asyncio.Lock()
        return self._run_lock

    # -- firing --------------------------------------------------------------------

    async def run_pending(self) -> int:
        """Fire everything due at the engine's clock now, batch after batch, until a
        batch comes back short; returns how many contacts it fired."""
        async with self._lock():
            fired, _ = await self._fire_all(stoppable=False)
        return fired

    async def _fire_all(self, *, stoppable: bool) -> tuple[int, int]:
        """The firing loop (under the run lock): (contacts fired, rows the last batch
        took). A `stoppable` (background) run ends early after a batch when shut down."""
        total = 0
        while True:
            started = time.perf_counter()
            batch = await self.engine.fire_batch(self.batch_size)
            total += len(batch.fired)
            self._fired_total += len(batch.fired)
            log_batch(batch, time.perf_counter() - started)
            if last_batch(batch, self.batch_size) or (stoppable and self._stopping):
                return total, batch.selected

    # -- background ----------------------------------------------------------------

    def start(self) -> None:
        """Run in the background on the running event loop until `await shutdown()`.

        Fires at once whatever came due while no scheduler ran, however late. As with
        the sync `Scheduler`, the alarm follows the engine's clock as an offset from
        real time: start() is for engines whose clock runs in real time.
        """
        if self._aps is not None:
            raise InvalidArgument("this AsyncScheduler is already started; call shutdown() first")
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise InvalidArgument("AsyncScheduler.start() must be called on the running event loop") from None
        self._stopping = False
        aps = AsyncIOScheduler(event_loop=loop, jobstores={"default": MemoryJobStore()},
                               executors={"default": AsyncIOExecutor()}, job_defaults=JOB_DEFAULTS, timezone=UTC)
        self._aps = aps
        self._alarm_clock.reset()
        add_sweep(aps, self._sweep, self.sweep_seconds)
        self._unsubscribe = self.engine.subscribe(self._on_event)
        aps.start()
        log.info("scheduler started on the event loop (batch %d, sweep every %.2f s)", self.batch_size,
                 self.sweep_seconds)

    async def shutdown(self, wait: bool = True) -> None:
        """Stop the background scheduler. With `wait`, the batch being fired finishes
        first (a run stops after its current batch); without it, that batch's call is
        cancelled, which rolls it back whole or lets its commit finish."""
        self._stopping = True
        aps, self._aps = self._aps, None
        self._alarm_clock.reset()
        if aps is None:
            return
        unsubscribe, self._unsubscribe = self._unsubscribe, None
        if unsubscribe is not None:
            unsubscribe()
        # No job may come due while APScheduler stops (see the sync Scheduler).
        aps.remove_all_jobs()
        if wait:
            async with self._lock():
                pass  # the run in progress has ended
        aps.shutdown(wait=False)  # cancels the runs still waiting for the lock
        await asyncio.sleep(0)  # AsyncIOScheduler stops in a callback on the loop
        log.info("scheduler stopped (%d fired in all)", self._fired_total)

    async def __aenter__(self) -> AsyncScheduler:
        self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.shutdown()

    async def _alarm(self) -> None:
        # An alarm always runs (after a sweep in progress, if any): it was armed for
        # something due, possibly heard of after that sweep read the database.
        await self._background_run(wait=True)

    async def _sweep(self) -> None:
        # A sweep finding a run in progress has nothing to add: that run loops until
        # nothing is due and then re-arms from the database.
        await self._background_run(wait=False)

    async def _background_run(self, *, wait: bool) -> None:
        """One run from APScheduler: fire, then re-arm the alarm. Never raises: an
        error (the database away, say) is logged and the run is tried again later."""
        lock = self._lock()
        if not wait and lock.locked():
            return
        async with lock:
            if self._stopping:
                return
            self._alarm_clock.run_started()
            failed, idle, next_due = False, False, None
            try:
                _, last_selected = await self._fire_all(stoppable=True)
                idle = last_selected == 0
                next_due = await self.engine.next_due_at()
            except Exception:
                failed = True
                log.exception("scheduler run failed; trying again in %.2f s", self.sweep_seconds)
            try:
                self._rearm(next_due, failed=failed, idle=idle)
            except Exception:  # the sweep still runs: the next one re-arms
                log.exception("could not re-arm the scheduler's alarm")
                self._alarm_clock.running = False

    def _rearm(self, next_due: datetime | None, *, failed: bool, idle: bool) -> None:
        now = self.engine.now().timestamp()
        target = self._alarm_clock.run_ended(next_due, now, failed=failed, idle=idle)
        if self._aps is not None:
            self._alarm_clock.arm(self._aps, self._alarm, target, now)

    def _on_event(self, event: TransitionEvent) -> None:
        """A transition committed by this engine: wake up earlier if it is due sooner."""
        due = event.contact.due_at
        if due is None or self._aps is None:
            return
        when = self._alarm_clock.heard(due.timestamp())
        if when is not None:
            self._alarm_clock.arm(self._aps, self._alarm, when, self.engine.now().timestamp())
