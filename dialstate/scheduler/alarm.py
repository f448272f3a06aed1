"""What both schedulers share (the sync `Scheduler` and `dialstate.aio.AsyncScheduler`):
their settings' checks, when a firing loop stops, the bookkeeping of when to wake up
next, setting APScheduler's alarm and sweep jobs, and a log line per batch. Each
drives its own APScheduler (threads, or the event loop) around these.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from dialstate.errors import InvalidArgument

if TYPE_CHECKING:
    from dialstate.engine.timers import FiredBatch

log = logging.getLogger("dialstate.scheduler")

ALARM_JOB = "dialstate-alarm"
SWEEP_JOB = "dialstate-sweep"
#: Nothing dropped after downtime or a slow run: every late wake-up runs once.
JOB_DEFAULTS = {"misfire_grace_time": None, "coalesce": True}

#: Alarm runs that may overlap in APScheduler's eyes. The firing loop itself runs one
#: at a time under the scheduler's run lock; the headroom only keeps APScheduler from
#: dropping an alarm that a run re-armed for "now" a moment before that run returned
#: (APScheduler counts the run as live until it has returned).
_ALARM_INSTANCES = 3


def check_settings(batch_size: object, sweep_seconds: object, busy_backoff_seconds: object) -> None:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InvalidArgument(f"batch_size must be a positive integer, got {batch_size!r}")
    for name, value in (("sweep_seconds", sweep_seconds), ("busy_backoff_seconds", busy_backoff_seconds)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise InvalidArgument(f"{name} must be a number of seconds > 0, got {value!r}")


def last_batch(batch: FiredBatch, batch_size: int) -> bool:
    """Whether a firing loop ends after `batch`: it came back short (nothing else was
    due and free) and put nothing off."""
    return batch.selected < batch_size and not batch.deferred


class Alarm:
    """When this process's scheduler wakes up next, in engine time (epoch seconds).
    The caller serializes the calls (a lock, or the event loop)."""

    def __init__(self, sweep_seconds: float, busy_backoff_seconds: float) -> None:
        self.sweep_seconds = sweep_seconds
        self.busy_backoff_seconds = busy_backoff_seconds
        self.armed_at: float | None = None  # engine time the alarm is set for
        self.running = False  # a background run is between its first batch and re-arming
        self.wanted: float | None = None  # earliest due time heard of during that run

    def reset(self) -> None:
        self.armed_at, self.running, self.wanted = None, False, None

    def run_started(self) -> None:
        # Anything committed before this point is in the database that the run reads
        # after its last batch; only later events need remembering.
        self.running, self.wanted = True, None

    def run_ended(self, next_due: datetime | None, now: float, *, failed: bool, idle: bool) -> float | None:
        """The time to arm for after a run: the next due time it read, or sooner."""
        target = next_due.timestamp() if next_due is not None else None
        if failed:
            target = now + self.sweep_seconds
        elif target is not None and target <= now and idle:
            # Due but not taken: another process holds those rows; look again shortly
            # instead of spinning until it commits.
            target = now + self.busy_backoff_seconds
        if self.wanted is not None and (target is None or self.wanted < target):
            target = self.wanted
        self.running, self.wanted = False, None
        return target

    def heard(self, when: float) -> float | None:
        """A transition due at `when` committed in this process: the time to arm for
        now, or None (a run in progress re-arms and remembers it; or the alarm is set
        earlier already)."""
        if self.running:
            if self.wanted is None or when < self.wanted:
                self.wanted = when
            return None
        if self.armed_at is None or when < self.armed_at:
            return when
        return None

    def arm(self, aps: BaseScheduler, ring: Callable[[], Any], when: float | None, now: float) -> None:
        """Set APScheduler's alarm job (`ring`) for engine time `when`; None disarms it."""
        if when is None:
            if self.armed_at is not None:
                try:
                    aps.remove_job(ALARM_JOB)
                except JobLookupError:  # it already rang
                    pass
            self.armed_at = None
            return
        run_date = datetime.now(UTC) + timedelta(seconds=max(0.0, when - now))
        aps.add_job(ring, DateTrigger(run_date=run_date, timezone=UTC), id=ALARM_JOB,
                    replace_existing=True, max_instances=_ALARM_INSTANCES)
        self.armed_at = when


def add_sweep(aps: BaseScheduler, sweep: Callable[[], Any], seconds: float) -> None:
    """The sweep job, for what other processes scheduled. Its first run is at once: it
    is the catch-up after a restart. A sweep that comes while a long run goes on
    returns at once; two instances let it do so instead of APScheduler warning that
    it skipped one."""
    aps.add_job(sweep, IntervalTrigger(seconds=seconds, timezone=UTC), id=SWEEP_JOB,
                max_instances=2, next_run_time=datetime.now(UTC))


def log_batch(batch: FiredBatch, seconds: float) -> None:
    """One line per batch: how many fired, by the state they were in."""
    if not batch.fired and not batch.deferred:
        log.debug("nothing due (%d rows taken) in %.3f s", batch.selected, seconds)
        return
    by_state = Counter(state for state, _ in batch.fired)
    detail = ", ".join(f"{state} {count}" for state, count in sorted(by_state.items()))
    deferred = f"; {batch.deferred} put off after an error" if batch.deferred else ""
    log.info("fired %d due contacts in %.3f s: %s%s", len(batch.fired), seconds, detail or "none", deferred)
