"""A campaign's settings as the engine uses them, parsed once and cached."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from dialstate.engine.decisions import DEFAULT_DISPOSITIONS, Meaning
from dialstate.engine.states import ContactState, DialMode
from dialstate.errors import ConfigurationError
from dialstate.policy import CallingWindow, RetryPolicy

S = ContactState

#: Campaign timer settings and their defaults (spec sections 0 and 7).
TIMER_DEFAULTS: Mapping[str, float] = {
    "before_call_work_seconds": 30.0,
    "after_call_work_seconds": 120.0,
    "assign_timeout_seconds": 300.0,
    "dial_timeout_seconds": 120.0,
    "max_call_seconds": 7200.0,
    "operator_wait_seconds": 60.0,
    "callback_grace_seconds": 900.0,
}


@dataclass(frozen=True)
class CampaignConfig:
    id: int
    mode: DialMode
    timezone: str
    default_region: str | None
    window: CallingWindow | None
    policy: RetryPolicy
    policy_version: int
    dispositions: Mapping[str, Meaning]
    default_disposition: str
    timers: Mapping[str, float]

    @classmethod
    def from_row(cls, row: Mapping[str, Any], policy: RetryPolicy) -> CampaignConfig:
        window = row["calling_window"]
        return cls(
            id=row["id"],
            mode=DialMode(row["mode"]),
            timezone=row["timezone"],
            default_region=row["default_region"],
            window=CallingWindow.from_json(window) if window else None,
            policy=policy,
            policy_version=row["policy_version"],
            dispositions={**DEFAULT_DISPOSITIONS, **{k: Meaning(v) for k, v in (row["dispositions"] or {}).items()}},
            default_disposition=row["default_disposition"],
            timers={name: float(row[name]) for name in TIMER_DEFAULTS},
        )

    def due_at(self, state: str, now: float, next_attempt_at: float | None,
               personal_until: float | None) -> float | None:
        """When the scheduler must next look at a contact that just entered `state`."""
        if state == "retry_scheduled":
            return next_attempt_at
        if state == "ready":
            return personal_until
        seconds = self._timeouts.get(state)
        return None if seconds is None else now + seconds

    @cached_property
    def _timeouts(self) -> dict[str, float]:
        """How long a contact may stay in each timed state."""
        t = self.timers
        out = {
            "before_call_work": t["before_call_work_seconds"],
            "after_call_work": t["after_call_work_seconds"],
            "operator_assigned": t["assign_timeout_seconds"],
            "dialing": t["dial_timeout_seconds"],
            "call_in_progress": t["max_call_seconds"],
        }
        if self.mode is DialMode.PREDICTIVE:
            # The client is on the line; in the operator-first modes no call exists yet.
            out["awaiting_operator"] = t["operator_wait_seconds"]
        return out


def validate_timers(values: Mapping[str, Any]) -> dict[str, float]:
    out = {}
    for name, default in TIMER_DEFAULTS.items():
        value = values.get(name, default)
        if value is None:
            value = default
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ConfigurationError(f"{name} must be a number of seconds >= 0, got {value!r}")
        out[name] = float(value)
    return out


def validate_dispositions(dispositions: Mapping[str, Any] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, meaning in (dispositions or {}).items():
        if not isinstance(name, str) or not name.strip():
            raise ConfigurationError(f"a disposition name must be non-empty text, got {name!r}")
        try:
            out[name] = Meaning(meaning).value
        except ValueError:
            allowed = ", ".join(m.value for m in Meaning)
            raise ConfigurationError(
                f"disposition {name!r} has meaning {meaning!r}; allowed meanings: {allowed}"
            ) from None
    return out
