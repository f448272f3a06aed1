"""A campaign's settings: one frozen object, validated where it is built.

`CampaignSettings` is what `create_campaign` checks and stores; `CampaignConfig` is
what every decision reads: the settings with the campaign's id and the retry policy
version in force, cached by the engine per (campaign, policy version).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from types import MappingProxyType
from typing import Any, Final

from dialstate.engine.decisions import DEFAULT_DISPOSITIONS, Meaning
from dialstate.engine.lifecycle import TIMER_SETTINGS, Timer, timer_for
from dialstate.engine.states import ContactState, DialMode
from dialstate.errors import ConfigurationError
from dialstate.phones import check_bare_numbers
from dialstate.policy import CallingWindow, RetryPolicy, validate_timezone

#: Campaign statuses.
RUNNING, PAUSED, CANCELED = "running", "paused", "canceled"


class Unset(Enum):
    """The value of an argument that was not given (where None means something)."""

    UNSET = "unset"

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = Unset.UNSET


@dataclass(frozen=True)
class CampaignSettings:
    """Everything `create_campaign` takes, checked: a bad value fails here, with a
    message that says what is allowed."""

    name: str
    mode: DialMode
    timezone: str
    default_region: str | None
    calling_window: CallingWindow | None
    #: The campaign's own dispositions (name -> meaning), beside the defaults.
    dispositions: Mapping[str, Meaning]
    default_disposition: str
    timers: Mapping[str, float]
    #: How bare digits are read (spec section 13): check, national or international.
    bare_numbers: str = "check"
    #: Whether an external id already in the campaign makes a contact a duplicate.
    unique_external_ids: bool = False

    @classmethod
    def build(cls, name: object, mode: object, calling_window: object, timezone: object,
              default_region: object, dispositions: object, default_disposition: object,
              timers: Mapping[str, object], bare_numbers: object = "check",
              unique_external_ids: object = False) -> CampaignSettings:
        if not isinstance(name, str) or not name.strip() or "\x00" in name:
            raise ConfigurationError(f"a campaign name must be non-empty text (without NUL characters), got {name!r}")
        try:
            dial_mode = DialMode(mode)  # type: ignore[arg-type]
        except ValueError:
            raise ConfigurationError(
                f"unknown dial mode {mode!r}; allowed: {', '.join(m.value for m in DialMode)}") from None
        if calling_window is not None and not isinstance(calling_window, CallingWindow):
            raise ConfigurationError(f"calling_window must be a CallingWindow or None, got {calling_window!r}")
        if not isinstance(timezone, str):
            raise ConfigurationError(f"timezone must be an IANA zone name such as 'Europe/Berlin', got {timezone!r}")
        validate_timezone(timezone)
        own = _dispositions(dispositions)
        allowed = {**DEFAULT_DISPOSITIONS, **own}
        if allowed.get(default_disposition) is Meaning.CALLBACK:  # type: ignore[call-overload]
            raise ConfigurationError(
                f"default_disposition {default_disposition!r} is a callback, which needs a time; "
                "the scheduler wraps up timed-out after-call work with it, so choose another")
        if not isinstance(default_disposition, str) or default_disposition not in allowed:
            raise ConfigurationError(
                f"default_disposition {default_disposition!r} is not one of this campaign's "
                f"dispositions: {', '.join(sorted(allowed))}")
        if not isinstance(unique_external_ids, bool):
            raise ConfigurationError(f"unique_external_ids must be True or False, got {unique_external_ids!r}")
        return cls(
            name=name.strip(), mode=dial_mode, timezone=timezone, default_region=_region(default_region),
            calling_window=calling_window, dispositions=MappingProxyType(own),
            default_disposition=default_disposition, timers=MappingProxyType(_timers(timers)),
            bare_numbers=check_bare_numbers(bare_numbers), unique_external_ids=unique_external_ids,
        )

    def columns(self) -> dict[str, Any]:
        """The campaign row's setting columns."""
        return {
            "name": self.name, "mode": self.mode.value, "timezone": self.timezone,
            "default_region": self.default_region,
            "calling_window": json.dumps(self.calling_window.to_json()) if self.calling_window else None,
            "dispositions": json.dumps({k: v.value for k, v in self.dispositions.items()}, sort_keys=True),
            "default_disposition": self.default_disposition, **self.timers,
            "bare_numbers": self.bare_numbers, "unique_external_ids": self.unique_external_ids,
        }

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> CampaignSettings:
        """The settings of a campaign row (its JSON columns decoded)."""
        window = row["calling_window"]
        return cls(
            name=row["name"], mode=DialMode(row["mode"]), timezone=row["timezone"],
            default_region=row["default_region"],
            calling_window=CallingWindow.from_json(window) if window else None,
            dispositions=MappingProxyType({k: Meaning(v) for k, v in (row["dispositions"] or {}).items()}),
            default_disposition=row["default_disposition"],
            timers=MappingProxyType({name: float(row[name]) for name in TIMER_SETTINGS}),
            bare_numbers=row["bare_numbers"], unique_external_ids=bool(row["unique_external_ids"]),
        )


@dataclass(frozen=True)
class CampaignConfig:
    """A campaign's settings as one decision sees them: with its id and the retry
    policy version in force."""

    id: int
    settings: CampaignSettings
    policy: RetryPolicy
    policy_version: int
    #: The version of the settings (a change of settings is a new one).
    settings_version: int
    # The settings every decision reads, as plain attributes (a property per read
    # added up on the per-transition path).
    mode: DialMode = field(init=False, repr=False, compare=False)
    window: CallingWindow | None = field(init=False, repr=False, compare=False)
    timezone: str = field(init=False, repr=False, compare=False)
    default_region: str | None = field(init=False, repr=False, compare=False)
    timers: Mapping[str, float] = field(init=False, repr=False, compare=False)
    default_disposition: str = field(init=False, repr=False, compare=False)
    #: State -> (the column its due time is, or None; else the seconds from entering
    #: it) for the states timed in this mode: `due_at`, on every transition.
    _due: dict[str, tuple[str | None, float]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        s = self.settings
        due = {}
        for state in ContactState:
            timer = timer_for(state, s.mode)
            if timer is not None:
                due[state.value] = (timer.column, 0.0 if timer.setting is None else s.timers[timer.setting])
        for name, value in (("mode", s.mode), ("window", s.calling_window), ("timezone", s.timezone),
                            ("default_region", s.default_region), ("timers", s.timers),
                            ("default_disposition", s.default_disposition), ("_due", due)):
            object.__setattr__(self, name, value)

    @cached_property
    def dispositions(self) -> Mapping[str, Meaning]:
        """Every disposition this campaign allows: the defaults and its own."""
        return MappingProxyType({**DEFAULT_DISPOSITIONS, **self.settings.dispositions})

    def timer(self, state: ContactState | str) -> Timer | None:
        return timer_for(state, self.mode)

    def due_at(self, state: str, now: float, row: Mapping[str, Any]) -> float | None:
        """When the scheduler must next look at a contact that is in `state` now, with
        the column values of `row` (its timer's column, or its setting from `now`)."""
        due = self._due.get(state)
        if due is None:
            return None
        column, seconds = due
        return now + seconds if column is None else row[column]  # type: ignore[no-any-return]


def _timers(values: Mapping[str, object]) -> dict[str, float]:
    unknown = set(values) - set(TIMER_SETTINGS)
    if unknown:
        raise ConfigurationError(
            f"unknown campaign setting(s) {sorted(unknown)}; allowed: {sorted(TIMER_SETTINGS)}")
    out = {}
    for name, default in TIMER_SETTINGS.items():
        value = values.get(name, default)
        if value is None:
            value = default
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise ConfigurationError(f"{name} must be a finite number of seconds >= 0, got {value!r}")
        out[name] = float(value)
    return out


def _dispositions(dispositions: object) -> dict[str, Meaning]:
    if dispositions is None:
        return {}
    if not isinstance(dispositions, Mapping):
        raise ConfigurationError(f"dispositions must be a mapping of name -> meaning, got {dispositions!r}")
    out: dict[str, Meaning] = {}
    for name, meaning in dispositions.items():
        if not isinstance(name, str) or not name.strip():
            raise ConfigurationError(f"a disposition name must be non-empty text, got {name!r}")
        try:
            out[name] = Meaning(meaning)
        except ValueError:
            allowed = ", ".join(m.value for m in Meaning)
            raise ConfigurationError(
                f"disposition {name!r} has meaning {meaning!r}; allowed meanings: {allowed}") from None
    return out


def _region(region: object) -> str | None:
    import phonenumbers

    if region is None:
        return None
    if not isinstance(region, str) or region.upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise ConfigurationError(
            f"default_region {region!r} is not a region phonenumbers knows (use ISO 3166 codes like DE, US, GB)")
    return region.upper()
