"""Helpers for testing code that embeds dialstate (and for dialstate's own tests).

- `VirtualClock`: time that moves only when the test (or a simulation) moves it; pass
  it as the engine's `clock`.
- `memory_engine(clock)`: an `Engine` on a private in-memory SQLite database, gone
  when the engine is closed.
- `scratch_pg_database(url)`: a throw-away PostgreSQL database, for tests that need
  several processes on one database.

A test of your own, with pytest::

    from datetime import timedelta

    from dialstate import DialMode, Outcome
    from dialstate.scheduler import Scheduler
    from dialstate.testing import VirtualClock, memory_engine

    def test_a_busy_number_is_called_again_five_minutes_later():
        clock = VirtualClock()
        with memory_engine(clock) as engine:
            campaign = engine.create_campaign("Test", mode=DialMode.AGENTLESS)
            (contact_id,) = engine.add_contacts(campaign.id, ["+1 212 555 0100"]).contact_ids
            engine.dial(contact_id)
            engine.call_ended(contact_id, Outcome.BUSY)
            clock.advance(minutes=5)
            assert Scheduler(engine).run_pending() == 1
            assert engine.get_contact(contact_id).state == "ready"
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    from dialstate.engine.engine import Engine

__all__ = ["VirtualClock", "admin_conninfo", "memory_engine", "scratch_pg_database"]

#: Where a `VirtualClock` starts when given no start: a Monday, 10:00 UTC.
DEFAULT_START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


class VirtualClock:
    """Aware UTC time that moves only when told to; an engine's `clock`.

    Tests move it by hand (`advance`, `set`); a simulation moves it forward to the
    epoch second of its next event (`move_to`, `seconds`). Calling the clock returns
    the current time, which is what the engine does.
    """

    def __init__(self, start: datetime | None = None) -> None:
        """Start at `start` (aware; any zone, kept as UTC), by default `DEFAULT_START`."""
        start = DEFAULT_START if start is None else start
        self._now = _aware_utc(start, "start")
        # The epoch seconds last given to `move_to`, kept exactly: a datetime holds
        # only microseconds, and a simulation that schedules by epoch seconds must see
        # the very numbers it gave (None: read them off `now`).
        self._seconds: float | None = None

    def __call__(self) -> datetime:
        """The current time (the engine's `clock` interface)."""
        return self._now

    @property
    def now(self) -> datetime:
        """The current time, aware UTC."""
        return self._now

    @property
    def seconds(self) -> float:
        """The current time as epoch seconds."""
        return self._now.timestamp() if self._seconds is None else self._seconds

    def advance(self, seconds: float = 0, **timedelta_kwargs: float) -> datetime:
        """Move forward by `seconds` and any `timedelta` arguments (`minutes=5`,
        `days=1`, ...); returns the new time."""
        self._now += timedelta(seconds=seconds, **timedelta_kwargs)
        self._seconds = None
        return self._now

    def set(self, when: datetime) -> datetime:
        """Jump to `when` (aware), forward or backward; returns the new time."""
        self._now = _aware_utc(when, "when")
        self._seconds = None
        return self._now

    def move_to(self, seconds: float) -> None:
        """Move to the epoch second `seconds` if it is later than now; the clock
        never goes backwards this way (a simulation's events can only be late)."""
        if seconds > self.seconds:
            self._now = datetime.fromtimestamp(seconds, UTC)
            self._seconds = seconds

    def __repr__(self) -> str:
        return f"VirtualClock({self._now.isoformat()})"


def _aware_utc(when: datetime, name: str) -> datetime:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"the virtual clock needs an aware datetime as {name}, got the naive {when!r}")
    return when.astimezone(UTC)


def memory_engine(clock: Callable[[], datetime] | None = None) -> Engine:
    """An `Engine` on a private in-memory SQLite database, for your own tests.

    Each call gives a new, empty database that lives as long as the engine: no file
    to clean up, nothing shared between tests. `clock` is the engine's clock (a
    `VirtualClock`, say); by default the real one. Use it as a context manager or
    `close()` it. For tests of several threads or processes, use a database file or
    `scratch_pg_database` instead: an in-memory database serializes its writers.
    """
    from dialstate.engine.engine import Engine

    return Engine("sqlite://", clock=clock)


def admin_conninfo(url: str) -> str:
    """A psycopg connection string for a SQLAlchemy PostgreSQL URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def scratch_pg_database(url: str, prefix: str = "dialstate_scratch", connect_timeout: int = 5) -> Iterator[str]:
    """A fresh PostgreSQL database on the server of `url`, dropped on exit; yields its URL.

    Raises the driver's OperationalError when no server answers.
    """
    import psycopg

    base = make_url(url)
    conninfo = admin_conninfo(url)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=connect_timeout) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name, drivername="postgresql+psycopg").render_as_string(hide_password=False)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
