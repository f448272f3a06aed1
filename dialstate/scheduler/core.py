"""`Scheduler`: fires what the contact rows say is due (spec section 7).

The due times live in the database (`ds_contact.due_at`, written with the transition
that set them), so nothing is lost when a process dies. APScheduler is only the alarm
clock of this process: one `date` job armed for the earliest due time and re-armed
after each run, moved earlier when this process schedules something sooner, and an
`interval` sweep for what other processes scheduled. No retry is ever an APScheduler
job; several scheduler processes share the work through the engine's row locks.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from dialstate.errors import EngineClosed, InvalidArgument

if TYPE_CHECKING:
    from dialstate.engine.engine import Engine
    from dialstate.engine.snapshots import TransitionEvent
    from dialstate.engine.timers import FiredBatch

log = logging.getLogger("dialstate.scheduler")

ALARM_JOB = "dialstate-alarm"
SWEEP_JOB = "dialstate-sweep"

#: Alarm runs that may overlap in APScheduler's eyes. The firing loop itself runs one
#: at a time under `Scheduler._run_lock`; the headroom only keeps APScheduler from
#: dropping an alarm that a run re-armed for "now" a moment before that run returned
#: (APScheduler counts the run as live until its thread has returned).
_ALARM_INSTANCES = 3


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
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise InvalidArgument(f"batch_size must be a positive integer, got {batch_size!r}")
        for name, value in (("sweep_seconds", sweep_seconds), ("busy_backoff_seconds", busy_backoff_seconds)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise InvalidArgument(f"{name} must be a number of seconds > 0, got {value!r}")
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
        self._armed_at: float | None = None  # engine time the alarm is set for
        self._running = False  # a background run is between its first batch and re-arming
        self._wanted: float | None = None  # earliest due time heard of during that run
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
            _log_batch(batch, time.perf_counter() - started)
            if batch.selected < self.batch_size and not batch.deferred:
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
            # Nothing dropped after downtime or a slow run: every late wake-up runs once.
            job_defaults={"misfire_grace_time": None, "coalesce": True},
            timezone=UTC,
        )
        with self._arm_lock:
            self._aps, self._armed_at, self._running, self._wanted = aps, None, False, None
        # The first sweep runs at once: it is the catch-up after a restart. A sweep
        # that comes while a long run goes on returns at once (see `_sweep`); two
        # instances let it do so instead of APScheduler warning that it skipped one.
        aps.add_job(self._sweep, IntervalTrigger(seconds=self.sweep_seconds, timezone=UTC), id=SWEEP_JOB,
                    max_instances=2, next_run_time=datetime.now(UTC))
        self._unsubscribe = self.engine.subscribe(self._on_event)
        aps.start()
        log.info("scheduler started (batch %d, sweep every %.2f s)", self.batch_size, self.sweep_seconds)

    def shutdown(self, wait: bool = True) -> None:
        """Stop the background scheduler. With `wait`, the batch being fired finishes
        first (a run stops after its current batch); without it, the run is left to
        finish on its own. Either way a batch is one transaction, never half done."""
        self._stopping.set()  # a run in progress stops after its current batch
        with self._arm_lock:
            aps, self._aps, self._armed_at = self._aps, None, None
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
                # Anything committed before this point is in the database that the
                # run reads after its last batch; only later events need remembering.
                self._running, self._wanted = True, None
            failed, idle, next_due = False, False, None
            try:
                _, last_selected = self._fire_all(stoppable=True)
                idle = last_selected == 0
                next_due = self.engine.next_due_at()
            except EngineClosed:
                log.info("the engine was closed: the scheduler stops")
                with self._arm_lock:
                    self._running = False
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
                    self._running = False
        finally:
            self._run_lock.release()

    def _rearm(self, next_due: datetime | None, *, failed: bool, idle: bool) -> None:
        now = self.engine.now().timestamp()
        target = next_due.timestamp() if next_due is not None else None
        if failed:
            target = now + self.sweep_seconds
        elif target is not None and target <= now and idle:
            # Due but not taken: another process holds those rows; look again shortly
            # instead of spinning until it commits.
            target = now + self.busy_backoff_seconds
        with self._arm_lock:
            self._running = False
            if self._wanted is not None and (target is None or self._wanted < target):
                target = self._wanted
            self._wanted = None
            self._arm(target, now)

    def _on_event(self, event: TransitionEvent) -> None:
        """A transition committed in this process: wake up earlier if it is due sooner."""
        due = event.contact.due_at
        if due is None:
            return
        when = due.timestamp()
        with self._arm_lock:
            if self._aps is None:
                return
            if self._running:
                if self._wanted is None or when < self._wanted:
                    self._wanted = when
                return
            if self._armed_at is None or when < self._armed_at:
                self._arm(when, self.engine.now().timestamp())

    def _arm(self, when: float | None, now: float) -> None:
        """Set the alarm for engine time `when` (under `_arm_lock`); None disarms it."""
        aps = self._aps
        if aps is None:
            return
        if when is None:
            if self._armed_at is not None:
                try:
                    aps.remove_job(ALARM_JOB)
                except JobLookupError:  # it already rang
                    pass
            self._armed_at = None
            return
        run_date = datetime.now(UTC) + timedelta(seconds=max(0.0, when - now))
        aps.add_job(self._alarm, DateTrigger(run_date=run_date, timezone=UTC), id=ALARM_JOB,
                    replace_existing=True, max_instances=_ALARM_INSTANCES)
        self._armed_at = when


def _log_batch(batch: FiredBatch, seconds: float) -> None:
    """One line per batch: how many fired, by the state they were in."""
    if not batch.fired and not batch.deferred:
        log.debug("nothing due (%d rows taken) in %.3f s", batch.selected, seconds)
        return
    by_state = Counter(state for state, _ in batch.fired)
    detail = ", ".join(f"{state} {count}" for state, count in sorted(by_state.items()))
    deferred = f"; {batch.deferred} put off after an error" if batch.deferred else ""
    log.info("fired %d due contacts in %.3f s: %s%s", len(batch.fired), seconds, detail or "none", deferred)
