"""Pure policy decisions the engine asks for: retry delays, rolling caps, calling windows."""

from __future__ import annotations

from dialstate.policy.retry import DEFAULT_DELAYS, RetryPolicy
from dialstate.policy.window import HORIZON, CallingWindow, is_known_zone, validate_timezone

__all__ = [
    "DEFAULT_DELAYS",
    "HORIZON",
    "CallingWindow",
    "RetryPolicy",
    "is_known_zone",
    "validate_timezone",
]
