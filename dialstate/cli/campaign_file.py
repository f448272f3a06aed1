"""A new campaign's settings as a tree of the campaign file's shape: the file itself
(`--settings FILE.toml|.json`), read; and the check of every value, which makes the
arguments of `Engine.create_campaign`.

The settings are held flat, key path -> (value, where it came from), so that the
options (dialstate.cli.campaign_options) can override the file key by key. Each value
is checked alone by the library's own settings classes (`CallingWindow`,
`RetryPolicy`), so an error names the option or the file key that holds the bad
value, and says what is allowed.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from dialstate import CallingWindow, DialMode, Meaning, RetryPolicy
from dialstate.cli.errors import UsageProblem
from dialstate.engine.lifecycle import TIMER_SETTINGS
from dialstate.errors import CliError
from dialstate.policy import validate_timezone

Key = tuple[str, ...]

WINDOW_FIELDS = tuple(f.name for f in fields(CallingWindow) if f.init)
POLICY_FIELDS = tuple(f.name for f in fields(RetryPolicy) if f.init)
#: The campaign file's tables and their keys (None: any name, as in dispositions).
SECTIONS: Mapping[str, tuple[str, ...] | None] = {
    "calling_window": WINDOW_FIELDS, "retry_policy": POLICY_FIELDS, "timers": tuple(TIMER_SETTINGS),
    "dispositions": None,
}
SCALARS = ("mode", "region", "timezone", "default_disposition")
FILE_KEYS = (*SCALARS, *SECTIONS)

FILE_FORMAT = """\
A campaign file (--settings, .toml or .json; every key optional, options override it):

\b
    mode = "predictive"      # preview (default), progressive, predictive, agentless
    region = "DE"            # to read national numbers
    timezone = "Europe/Berlin"
    default_disposition = "success"
    \\[calling_window]         # none: calls around the clock
    start = "09:00"
    end = "20:00"
    days = "mon-fri"
    holidays = ["2026-12-25"]
    \\[retry_policy]
    max_attempts = 5
    backoff = 2.0
    max_delay = "1d"         # seconds, or with a unit: 90s, 30m, 2h, 1d
    jitter = 0.1
    uncounted = ["congestion"]
    rolling_limits = ["4/2d"] # or [[4, 172800]]: count and period
    \\[retry_policy.delays]    # per outcome; "none": no retry
    busy = 300
    voicemail = "none"
    \\[timers]                 # seconds: before_call_work_seconds, after_call_work_seconds, ...
    after_call_work_seconds = 90
    \\[dispositions]           # name = meaning (success, callback, retry, do_not_call, invalid, final)
    sale = "success"
"""

_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([smhd]?)\s*", re.IGNORECASE)
_DURATION_FORMS = "seconds (300), or a number with a unit: 90s, 30m, 2h, 1d"
_NO_RETRY = ("none", "never", "no")
MEANINGS = ", ".join(m.value for m in Meaning)


@dataclass(frozen=True)
class Origin:
    """Where a setting came from: an option, or a key of the campaign file."""

    option: str | None = None
    file: Path | None = None
    key: str = ""

    def error(self, message: str) -> Exception:
        """A usage error (exit 2) for an option; a runtime error (exit 1) for the file."""
        if self.option is not None:
            return UsageProblem(f"{self.option}: {message}")
        return CliError(f"{self.file}: {self.key}: {message}")


Given = dict[Key, tuple[Any, Origin]]


# -- the campaign file ---------------------------------------------------------------------------

def read_campaign_file(path: Path) -> Given:
    """The file's settings as key paths (unknown keys and tables in the wrong shape
    are errors that name them)."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            with open(path, "rb") as binary:
                data: Any = tomllib.load(binary)
        elif suffix == ".json":
            with open(path, encoding="utf-8") as text:
                data = json.load(text)
        else:
            raise UsageProblem(f"--settings: {path} is not a campaign file: give a .toml or .json file")
    except tomllib.TOMLDecodeError as exc:
        raise CliError(f"{path}: not valid TOML: {exc}") from None
    except json.JSONDecodeError as exc:
        raise CliError(f"{path}: not valid JSON: {exc}") from None
    except UnicodeDecodeError as exc:
        raise CliError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if not isinstance(data, dict):
        raise CliError(f"{path}: a campaign file holds an object of settings ({', '.join(FILE_KEYS)})")
    out: Given = {}
    for key, value in data.items():
        origin = Origin(file=path, key=key)
        if key in SCALARS:
            out[(key,)] = (value, origin)
            continue
        if key not in SECTIONS:
            raise origin.error(f"unknown key; a campaign file has {', '.join(FILE_KEYS)}")
        allowed = SECTIONS[key]
        if not isinstance(value, dict):
            raise origin.error(f"{value!r} is not a table of {', '.join(allowed or ('name = meaning',))}")
        for name, item in value.items():
            inner = Origin(file=path, key=f"{key}.{name}")
            if allowed is not None and name not in allowed:
                raise inner.error(f"unknown key; {key} has {', '.join(allowed)}")
            if (key, name) != ("retry_policy", "delays"):
                out[(key, name)] = (item, inner)
                continue
            if not isinstance(item, dict):
                raise inner.error(f"{item!r} is not a table of outcome = seconds (or \"none\": no retry)")
            for outcome, seconds in item.items():
                out[(key, name, str(outcome).lower())] = (seconds, Origin(file=path, key=f"{inner.key}.{outcome}"))
    return out


# -- checking, and the arguments of create_campaign --------------------------------------------------

def create_arguments(given: Given) -> dict[str, Any]:
    """`Engine.create_campaign`'s keyword arguments from the settings given (only those)."""
    kwargs: dict[str, Any] = {}
    for (name,), (value, origin) in ((k, v) for k, v in given.items() if len(k) == 1):
        if name == "mode":
            try:
                value = DialMode(value.strip().lower() if isinstance(value, str) else value)
            except ValueError:
                raise origin.error(f"unknown dial mode {value!r}; one of {', '.join(m.value for m in DialMode)}") \
                    from None
        elif name == "timezone":
            _check(origin, validate_timezone, value)
        kwargs["default_region" if name == "region" else name] = value
    window = _window({k[1]: v for k, v in given.items() if k[0] == "calling_window"})
    if window is not None:
        kwargs["calling_window"] = window
    policy = _policy({k[1:]: v for k, v in given.items() if k[0] == "retry_policy"})
    if policy is not None:
        kwargs["retry_policy"] = policy
    dispositions = {k[1]: v for k, v in given.items() if k[0] == "dispositions"}
    for name, (meaning, origin) in dispositions.items():
        _check(origin, Meaning, meaning, message=f"disposition {name!r}: {meaning!r} is not a meaning; "
                                                 f"one of {MEANINGS}")
    if dispositions:
        kwargs["dispositions"] = {name: meaning for name, (meaning, _) in dispositions.items()}
    kwargs.update({k[1]: value for k, (value, _) in given.items() if k[0] == "timers"})
    return kwargs


def _window(given: dict[str, tuple[Any, Origin]]) -> CallingWindow | None:
    if not given:
        return None
    # start and end are checked alone against the widest partner; together afterwards
    partner = {"start": {"end": "24:00"}, "end": {"start": "00:00"}}
    for name, (value, origin) in given.items():
        _check(origin, CallingWindow, **{**partner.get(name, {}), name: value})
    first = (given.get("start") or given.get("end") or next(iter(given.values())))[1]
    return _check(first, CallingWindow, **{name: value for name, (value, _) in given.items()})


def _policy(given: dict[Key, tuple[Any, Origin]]) -> RetryPolicy | None:
    if not given:
        return None
    kwargs: dict[str, Any] = {}
    for key, (value, origin) in given.items():
        name = key[0]
        if name == "delays":
            delays = {key[1]: _convert(origin, delay, value)}
            _check(origin, RetryPolicy, delays=delays)
            kwargs.setdefault("delays", {}).update(delays)
            continue
        if name == "max_delay":
            value = _convert(origin, duration, value)
        elif name == "rolling_limits":
            value = _convert(origin, rolling_limits, value)
        _check(origin, RetryPolicy, **{name: value})
        kwargs[name] = value
    return _check(next(iter(given.values()))[1], RetryPolicy, **kwargs)


def _check(origin: Origin, build: Callable[..., Any], *args: Any, message: str | None = None, **kwargs: Any) -> Any:
    """`build(*args, **kwargs)`; its error (ConfigurationError and the like) as one
    line that says where the value came from."""
    try:
        return build(*args, **kwargs)
    except (ValueError, TypeError) as exc:
        raise origin.error(message or str(exc)) from None


def _convert(origin: Origin, convert: Callable[[Any], Any], value: Any) -> Any:
    try:
        return convert(value)
    except ValueError as exc:
        raise origin.error(str(exc)) from None


def duration(value: Any) -> Any:
    """Seconds from a number, or from text such as "300", "90s", "30m", "2h", "1d"
    (other values go on unchanged, for the settings class to refuse in its words)."""
    if isinstance(value, str):
        match = _DURATION.fullmatch(value)
        if match is None:
            raise ValueError(f"{value!r} is not a duration: {_DURATION_FORMS}")
        return float(match[1]) * _UNITS[match[2].lower()]
    return value


def delay(value: Any) -> Any:
    """A retry delay: a duration, or None (no retry) for null, "none" or "never"."""
    if value is None or (isinstance(value, str) and value.strip().lower() in _NO_RETRY):
        return None
    return duration(value)


def rolling_limits(value: Any) -> Any:
    """(count, seconds) pairs from "COUNT/PERIOD" text or [count, period] pairs."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        return value
    out = []
    for item in items:
        if isinstance(item, str):
            count, sep, period = item.partition("/")
            if not sep or not count.strip().isdigit():
                raise ValueError(f"{item!r} is not COUNT/PERIOD, e.g. 4/2d (at most 4 attempts in any 2 days)")
            out.append((int(count), duration(period)))
        elif isinstance(item, list | tuple) and len(item) == 2:
            out.append((item[0], duration(item[1])))
        else:
            out.append(item)
    return out

