"""`Scheduler`: fires what the contact rows say is due (spec section 7).

The due times live in the database (`ds_contact.due_at`, written with the transition
that set them), so nothing is lost when a process dies. APScheduler is only the alarm
clock of this process: one `date` job armed for the earliest due time and re-armed
after each run, moved earlier when this process schedules something sooner, and an
`interval` sweep for what other processes scheduled. No retry is ever an APScheduler
job; several scheduler processes share the work through the engine's row locks.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC
from types import TracebackType
from typing import TYPE_CHECKING

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from dialstate.errors import EngineClosed, InvalidArgument
from dialstate.scheduler.alarm import (
    JOB_DEFAULTS,
    Alarm,
    add_sweep,
    check_settings,
    last_batch,
    log,
    log_batch,
)

if TYPE_CHECKING:
    from datetime import datetime

    from dialstate.engine.engine import Engine
    from dialstate.engine.snapshots import TransitionEvent


class Scheduler:
    """Fires every due timer of an engine's contacts: retries, countdowns, wrap-ups,
    in-flight recovery, personal callbacks opening to everyone.

    `run_pending()` fires what is due now (tests and simulations, with a virtual
    clock); `start()` / `shutdown()` run it in the background in real time.
    """

    def __init__(self, engine: Engine, *, batch_size: int = 200, sweep_seconds: float = 1.0,
                 busy_backoff_seconds: float = 0.05) -> None:
        """`batch_size`: contacts per transaction. `sweep_seconds`: how often the
        background scheduler looks for what other processes scheduled.
        `busy_backoff_seconds`: how long to wait when everything due is being fired
        by another process (its rows are locked) before looking again."""
        check_settings(batch_size, sweep_seconds, busy_backoff_seconds)
        self.engine = engine
        self.batch_size = batch_size
        self.sweep_seconds = float(sweep_seconds)
        self.busy_backoff_seconds = float(busy_backoff_seconds)
        self._fired_total = 0
        #: One firing loop at a time (run_pending, the alarm and the sweep share it).
        self._run_lock = threading.Lock()
        #: Guards the alarm state below; taken after `_run_lock`, never before it.
        self._arm_lock = threading.Lock()
        self._aps: BackgroundScheduler | None = None
        self._alarm_clock = Alarm(self.sweep_seconds, self.busy_backoff_seconds)
        self._stopping = threading.Event()
        self._unsubscribe: Callable[[], None] | None = None

    # -- firing --------------------------------------------------------------------

    @property
    def fired_total(self) -> int:
        """How many contacts this scheduler has fired since it was made."""
        return self._fired_total

    def run_pending(self) -> int:
        """Fire everything due at the engine's clock now, batch after batch, until a
        batch comes back short; returns how many contacts it fired."""
        with self._run_lock:
            fired, _ = self._fire_all(stoppable=False)
        return fired

    def _fire_all(self, *, stoppable: bool) -> tuple[int, int]:
        """The firing loop (under `_run_lock`): (contacts fired, rows the last batch
        took). A `stoppable` (background) run ends early after a batch when shut down."""
        total = 0
        while True:
            started = time.perf_counter()
            batch = self.engine.fire_batch(self.batch_size)
            total += len(batch.fired)
            self._fired_total += len(batch.fired)
            log_batch(batch, time.perf_counter() - started)
            if last_batch(batch, self.batch_size):
                return total, batch.selected
            if stoppable and self._stopping.is_set():  # shutting down: this batch was the last
                return total, batch.selected

    # -- background ----------------------------------------------------------------

    def start(self) -> None:
        """Run in the background on APScheduler until `shutdown()`.

        Fires at once whatever came due while no scheduler ran, however late. The
        alarm follows the engine's clock as an offset from real time, so start() is
        for engines whose clock runs in real time (the default clock).
        """
        if self._aps is not None:
            raise InvalidArgument("this Scheduler is already started; call shutdown() first")
        self._stopping.clear()
        aps = BackgroundScheduler(
            jobstores={"default": MemoryJobStore()},
            # The alarm, the sweep and a re-armed alarm waiting for the run lock.
            executors={"default": ThreadPoolExecutor(max_workers=4)},
            job_defaults=JOB_DEFAULTS,
            timezone=UTC,
        )
        with self._arm_lock:
            self._aps = aps
            self._alarm_clock.reset()
        add_sweep(aps, self._sweep, self.sweep_seconds)
        self._unsubscribe = self.engine.subscribe(self._on_event)
        aps.start()
        log.info("scheduler started (batch %d, sweep every %.2f s)", self.batch_size, self.sweep_seconds)

    def shutdown(self, wait: bool = True) -> None:
        """Stop the background scheduler. With `wait`, the batch being fired finishes
        first (a run stops after its current batch); without it, the run is left to
        finish on its own. Either way a batch is one transaction, never half done."""
        self._stopping.set()  # a run in progress stops after its current batch
        with self._arm_lock:
            aps, self._aps = self._aps, None
            self._alarm_clock.reset()
        if aps is None:
            return
        unsubscribe, self._unsubscribe = self._unsubscribe, None
        if unsubscribe is not None:
            unsubscribe()
        # No job may come due while APScheduler stops: in 3.11 a date job processed
        # after the state turned to stopped makes its main thread die on JobLookupError.
        aps.remove_all_jobs()
        aps.shutdown(wait=wait)
        log.info("scheduler stopped (%d fired in all)", self._fired_total)

    @property
    def running(self) -> bool:
        """Whether the background scheduler is started."""
        return self._aps is not None

    def __enter__(self) -> Scheduler:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.shutdown()

    def _alarm(self) -> None:
        # An alarm always runs (waiting for a sweep in progress, if any): it was armed
        # for something due, possibly heard of after that sweep read the database.
        self._background_run(wait=True)

    def _sweep(self) -> None:
        # A sweep finding a run in progress has nothing to add: that run loops until
        # nothing is due and then re-arms from the database.
        self._background_run(wait=False)

    def _background_run(self, *, wait: bool) -> None:
        """One run from APScheduler: fire, then re-arm the alarm. Never raises: an
        error (the database away, say) is logged and the run is tried again later."""
        if not self._run_lock.acquire(blocking=wait):
            return
        try:
            if self._stopping.is_set():
                return
            with self._arm_lock:
                self._alarm_clock.run_started()
            failed, idle, next_due = False, False, None
            try:
                _, last_selected = self._fire_all(stoppable=True)
                idle = last_selected == 0
                next_due = self.engine.next_due_at()
            except EngineClosed:
                log.info("the engine was closed: the scheduler stops")
                with self._arm_lock:
                    self._alarm_clock.running = False
                # Not from this thread: shutting down waits for the run this thread is in.
                threading.Thread(target=self.shutdown, kwargs={"wait": False}, daemon=True).start()
                return
            except Exception:
                failed = True
                log.exception("scheduler run failed; trying again in %.2f s", self.sweep_seconds)
            try:
                self._rearm(next_due, failed=failed, idle=idle)
            except Exception:  # the sweep still runs: the next one re-arms
                log.exception("could not re-arm the scheduler's alarm")
                with self._arm_lock:
                    self._alarm_clock.running = False
        finally:
            self._run_lock.release()

    def _rearm(self, next_due: datetime | None, *, failed: bool, idle: bool) -> None:
        now = self.engine.now().timestamp()
        with self._arm_lock:
            target = self._alarm_clock.run_ended(next_due, now, failed=failed, idle=idle)
            if self._aps is not None:
                self._alarm_clock.arm(self._aps, self._alarm, target, now)

    def _on_event(self, event: TransitionEvent) -> None:
        """A transition committed in this process: wake up earlier if it is due sooner."""
        due = event.contact.due_at
        if due is None:
            return
        with self._arm_lock:
            if self._aps is None:
                return
            when = self._alarm_clock.heard(due.timestamp())
            if when is not None:
                self._alarm_clock.arm(self._aps, self._alarm, when, self.engine.now().timestamp())


