"""The virtual clock the simulated day runs on (the engine's `clock=`): the one of
`dialstate.testing`, which moves forward to each event's epoch second (`move_to`)."""

from __future__ import annotations

from dialstate.testing import VirtualClock

__all__ = ["VirtualClock"]
