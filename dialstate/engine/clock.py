"""The engine's clock: the caller's (a virtual one in tests and simulations) or the
system's, always aware UTC."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from dialstate.errors import ConfigurationError

ClockSource = Callable[[], datetime]


def system_now() -> datetime:
    return datetime.now(UTC)


class Clock:
    def __init__(self, source: ClockSource | None = None) -> None:
        if source is not None and not callable(source):
            raise ConfigurationError(f"clock must be a callable returning an aware datetime, got {source!r}")
        self._source = source or system_now

    def now(self) -> datetime:
        """Now (aware)."""
        now = self._source()
        if not isinstance(now, datetime) or now.tzinfo is None:
            raise ConfigurationError(
                f"the engine's clock returned {now!r}; it must return a time-zone aware datetime")
        return now

    def epoch(self) -> float:
        """Now, in epoch seconds."""
        if self._source is system_now:  # on every transition: skip the datetime
            return time.time()
        return self.now().timestamp()
