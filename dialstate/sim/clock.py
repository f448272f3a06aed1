"""The virtual clock the simulated day runs on (the engine's `clock=`)."""

from __future__ import annotations

from datetime import UTC, datetime


class VirtualClock:
    """Aware UTC time that only moves when the simulation moves it (never backwards)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("the virtual clock needs an aware start time")
        self._now = start.timestamp()

    def __call__(self) -> datetime:
        return datetime.fromtimestamp(self._now, UTC)

    @property
    def seconds(self) -> float:
        """Now, as epoch seconds."""
        return self._now

    def move_to(self, seconds: float) -> None:
        self._now = max(self._now, seconds)
