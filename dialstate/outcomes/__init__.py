"""Call outcomes (spec section 4): the canonical vocabulary and ``normalize``, which
reads any switch's or vendor's code as one of its values."""

from __future__ import annotations

from dialstate.outcomes._outcome import Outcome, OutcomeGroup
from dialstate.outcomes.normalize import (
    OperatorLegCode,
    dialects,
    normalize,
    register_dialect,
)

__all__ = [
    "OperatorLegCode",
    "Outcome",
    "OutcomeGroup",
    "dialects",
    "normalize",
    "register_dialect",
]
