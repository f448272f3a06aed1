"""Pure policy decisions the engine asks for: retry delays, rolling caps, calling windows."""

from __future__ import annotations

from dialstate.policy.retry import DEFAULT_DELAYS, RetryPolicy
from dialstate.policy.window import (
    HORIZON,
    CallingWindow,
    resolve_zones,
    validate_timezone,
    zones_for_number,
)

__all__ = [
    "DEFAULT_DELAYS",
    "HORIZON",
    "CallingWindow",
    "RetryPolicy",
    "resolve_zones",
    "validate_timezone",
    "zones_for_number",
]
