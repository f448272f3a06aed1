"""The options that set a new campaign's settings, shared by `campaigns create` and
`import --new` (`--window 09:00-20:00`, `--max-attempts 3`, `--settings FILE` ...):
declared once, given to each command by `settings_options`, and read into the
campaign file's tree (dialstate.cli.campaign_file), over the file's own values.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any

import typer

from dialstate import DialMode, RetryPolicy
from dialstate.cli.campaign_file import (
    MEANINGS,
    SCALARS,
    Given,
    Key,
    Origin,
    create_arguments,
    read_campaign_file,
)
from dialstate.cli.errors import UsageProblem
from dialstate.engine.lifecycle import TIMER_SETTINGS
from dialstate.errors import ConfigurationError

_POLICY = RetryPolicy()  # its defaults, for the help

PANEL = "Campaign settings (a new campaign only)"

_TIMER_HELP = {
    "before_call_work_seconds": "The operator's countdown before the call is placed on its own",
    "after_call_work_seconds": "The operator's wrap-up time; then the default disposition applies",
    "assign_timeout_seconds": "An assigned contact the operator does not accept goes back to ready after",
    "dial_timeout_seconds": "A dial with no answer or end event is ended (outcome unknown) after",
    "max_call_seconds": "A call with no end event is ended (outcome unknown) after",
    "operator_wait_seconds": "An answered predictive call waiting for an operator is ended after",
    "callback_grace_seconds": "A personal callback its operator has not taken opens to all after",
}


#: Each option's parameter name and the option as typed.
_FLAGS: dict[str, str] = {}


def _option(name: str, kind: Any, flag: str, help: str, **extra: Any) -> inspect.Parameter:
    _FLAGS[name] = flag
    info = typer.Option(flag, help=help, rich_help_panel=PANEL, show_default=False, **extra)
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None,
                             annotation=Annotated[kind, info])


OPTIONS: tuple[inspect.Parameter, ...] = (
    _option("settings_file", Path | None, "--settings", "A campaign file, .toml or .json (its keys are in this "
            "help); the options below override it.", exists=True, dir_okay=False, metavar="FILE"),
    _option("mode", DialMode | None, "--mode", "The dial mode (default preview).", case_sensitive=False),
    _option("region", str | None, "--region", "The region national numbers are read in (e.g. DE)."),
    _option("timezone", str | None, "--timezone", "The campaign's time zone, for numbers that give none "
            "(an IANA name such as Europe/Berlin; default UTC)."),
    _option("window", str | None, "--window", "Calling hours in each contact's local time, e.g. 09:00-20:00. "
            "Without a window the campaign dials around the clock.", metavar="START-END"),
    _option("days", str | None, "--days", "The days the window is open, e.g. mon-fri or mon-fri,sat "
            "(default every day).", metavar="DAYS"),
    _option("holidays", list[str] | None, "--holiday", "A local date with no calls (repeatable).",
            metavar="YYYY-MM-DD"),
    _option("max_attempts", int | None, "--max-attempts", "Counted attempts before a contact is exhausted "
            f"(default {_POLICY.max_attempts})."),
    _option("retry_delays", list[str] | None, "--retry-delay", "How long to wait before retrying an outcome, "
            "e.g. busy=300, no_answer=30m, voicemail=none (no retry); repeatable.", metavar="OUTCOME=SECONDS"),
    _option("uncounted", list[str] | None, "--uncounted", "An outcome whose attempts do not count toward "
            f"--max-attempts (default {', '.join(sorted(_POLICY.uncounted))}); repeatable.", metavar="OUTCOME"),
    _option("backoff", float | None, "--backoff", "Multiply the delay by this for each counted attempt "
            f"(>= 1; default {_POLICY.backoff:g})."),
    _option("max_delay", str | None, "--max-delay", "The longest delay of a retry (seconds, or 30m, 2h, 1d).",
            metavar="SECONDS"),
    _option("jitter", float | None, "--jitter", "Spread each delay by ± this fraction (0 <= jitter < 1)."),
    _option("rolling_limits", list[str] | None, "--rolling-limit", "At most COUNT counted attempts in any "
            "PERIOD (seconds, or 2h, 1d), e.g. 4/2d; repeatable.", metavar="COUNT/PERIOD"),
    *(_option(name, float | None, "--" + name.replace("_", "-"),
              f"{_TIMER_HELP.get(name, name.replace('_', ' ').capitalize())} (seconds; default {default:g}).",
              min=0, metavar="SECONDS")
      for name, default in TIMER_SETTINGS.items()),
    _option("dispositions", list[str] | None, "--disposition", "A wrap-up disposition of this campaign, beside "
            f"the defaults, and what it means ({MEANINGS}); repeatable.", metavar="NAME=MEANING"),
    _option("default_disposition", str | None, "--default-disposition", "The disposition a timed-out "
            "wrap-up gets (default success)."),
)


class CampaignOptions:
    """The campaign-setting options as one command received them."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = dict(values)
        self._given: Given = {}

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def given(self) -> list[str]:
        """The options given on the command line, as typed (`--mode`, `--window` ...)."""
        return [_FLAGS[name] for name, value in self._values.items() if value not in (None, [], ())]

    def arguments(self) -> dict[str, Any]:
        """The keyword arguments of `Engine.create_campaign` (and of
        `create_campaign_with_contacts`) that the file and the options make."""
        path = self["settings_file"]
        from_file = read_campaign_file(path) if path is not None else {}
        self._given = {**from_file, **self._flat(from_file)}
        return create_arguments(self._given)

    def blame(self, exc: ConfigurationError) -> Exception:
        """An error of `create_campaign` about a setting it checks itself (a region, a
        timer, the default disposition), said of the option or file key that gave it."""
        text = str(exc)
        for key, (_, origin) in self._given.items():
            if text.startswith(("default_region" if key == ("region",) else key[-1]) + " "):
                return origin.error(text)
        return exc

    def _flat(self, from_file: Given) -> Given:
        """The options as key paths of the campaign file."""
        out: Given = {}

        def put(key: Key, value: Any, name: str) -> None:
            if value not in (None, [], ()):
                out[key] = (value, Origin(option=_FLAGS[name]))

        for name in SCALARS:
            put((name,), self[name], name)
        if self["window"] is not None:
            start, sep, end = self["window"].partition("-")
            if not sep or not start.strip() or not end.strip():
                raise UsageProblem(f"--window: {self['window']!r} is not START-END in local time, e.g. 09:00-20:00")
            put(("calling_window", "start"), start.strip(), "window")
            put(("calling_window", "end"), end.strip(), "window")
        put(("calling_window", "days"), self["days"], "days")
        put(("calling_window", "holidays"), self["holidays"], "holidays")
        shaped = [_FLAGS[n] for n in ("days", "holidays") if self[n]]
        if shaped and self["window"] is None and not any(key[0] == "calling_window" for key in from_file):
            verb = "shape" if len(shaped) > 1 else "shapes"
            raise UsageProblem(f"{' and '.join(shaped)} {verb} a calling window: give its hours with "
                               "--window START-END (or calling_window in --settings)")
        for name in ("max_attempts", "backoff", "max_delay", "jitter", "uncounted", "rolling_limits"):
            put(("retry_policy", name), self[name], name)
        for item in self["retry_delays"] or ():
            outcome, value = _pair(item, "--retry-delay", "OUTCOME=SECONDS, e.g. busy=300 or voicemail=none")
            out[("retry_policy", "delays", outcome.lower())] = (value, Origin(option="--retry-delay"))
        for name in TIMER_SETTINGS:
            put(("timers", name), self[name], name)
        for item in self["dispositions"] or ():
            name, meaning = _pair(item, "--disposition", f"NAME=MEANING, the meaning one of {MEANINGS}")
            out[("dispositions", name)] = (meaning, Origin(option="--disposition"))
        return out


def settings_options(command: Callable[..., None]) -> Callable[..., None]:
    """Give a typer command the campaign-setting options.

    Typer sees each option as a parameter of its own (placed before `--db`); the
    command receives them together, as a `CampaignOptions` in its `settings` parameter.
    """
    signature = inspect.signature(command, eval_str=True)
    own = [p for p in signature.parameters.values() if p.name != "settings"]
    at = next((i for i, p in enumerate(own) if p.name == "db"), len(own))
    params = [*own[:at], *OPTIONS, *(p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own[at:])]

    @functools.wraps(command)
    def with_settings(*args: Any, **kwargs: Any) -> None:
        values = {p.name: kwargs.pop(p.name) for p in OPTIONS}
        command(*args, settings=CampaignOptions(values), **kwargs)

    with_settings.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    with_settings.__annotations__ = {p.name: p.annotation for p in params}
    return with_settings


def _pair(item: str, option: str, form: str) -> tuple[str, str]:
    name, sep, value = item.partition("=")
    if not sep or not name.strip() or not value.strip():
        raise UsageProblem(f"{option}: {item!r} is not {form}")
    return name.strip(), value.strip()

