"""The checks of the API's arguments: a bad value raises `InvalidArgument` naming what
was wrong and what is allowed, before anything is read or written."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from dialstate.engine.settings import UNSET
from dialstate.errors import ConfigurationError, InvalidArgument
from dialstate.policy import validate_timezone


def check_id(name: str, value: object) -> int:
    """A row id: a whole number >= 1."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value < 2**63:
        raise InvalidArgument(f"{name} must be an id (a whole number >= 1), got {value!r}")
    return value


def check_text(name: str, value: object) -> str:
    """Non-empty text without NUL characters."""
    if not isinstance(value, str) or not value.strip() or "\x00" in value:
        raise InvalidArgument(f"{name} must be non-empty text (without NUL characters), got {value!r}")
    return value


def check_optional_text(name: str, value: object) -> str | None:
    return None if value is None else check_text(name, value)


def check_actor(value: object) -> str | None:
    return check_optional_text("actor", value)


def check_callables(**functions: object) -> None:
    """Hooks the caller gives (None, or callables)."""
    for name, function in functions.items():
        if function is not None and not callable(function):
            raise InvalidArgument(f"{name} must be a function or None, got {function!r}")


def check_limit(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgument(f"{name} must be a whole number >= 1, got {value!r}")
    return value


#: A signed 32-bit integer: what the priority column holds.
PRIORITY_RANGE = (-(2**31), 2**31 - 1)


def check_priority(value: object, where: str = "priority") -> int:
    if type(value) is int and PRIORITY_RANGE[0] <= value <= PRIORITY_RANGE[1]:
        return value  # the usual case, at a glance (an import checks every row)
    if isinstance(value, bool) or not isinstance(value, int) or not PRIORITY_RANGE[0] <= value <= PRIORITY_RANGE[1]:
        raise InvalidArgument(f"{where} must be an integer from {PRIORITY_RANGE[0]} to {PRIORITY_RANGE[1]}, "
                              f"got {value!r}")
    return value


def check_data(value: object, where: str = "data") -> dict[str, Any] | None:
    """A contact's `data`: a JSON object (text keys, finite numbers), or None."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InvalidArgument(f"{where} must be a mapping (a JSON object), got {type(value).__name__}")
    try:
        text = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(f"{where} must be JSON: text keys, and values that are text, finite numbers, "
                              f"booleans, None, lists or mappings ({exc})") from None
    return json.loads(text)  # type: ignore[no-any-return]


def check_external_id(value: object, where: str = "external_id") -> str | None:
    if value is None:
        return None
    if type(value) is str and "\x00" not in value and value.strip():
        return value  # the usual case, at a glance (an import checks every row)
    if not isinstance(value, (str, int)) or isinstance(value, bool) or str(value).strip() == "" or "\x00" in str(value):
        raise InvalidArgument(f"{where} must be non-empty text (without NUL characters) or None, got {value!r}")
    return str(value)


def check_contact_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """The fields `update_contact` may change, checked (UNSET ones left out)."""
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if value is UNSET:
            continue
        if name == "priority":
            out[name] = check_priority(value)
        elif name == "data":
            out[name] = check_data(value)
        elif name == "external_id":
            out[name] = check_external_id(value)
        elif name == "timezone":
            if value is not None:
                try:
                    validate_timezone(value)  # type: ignore[arg-type]
                except ConfigurationError as exc:
                    raise InvalidArgument(str(exc)) from None
            out[name] = value
        else:  # pragma: no cover - the faces pass these four only
            raise InvalidArgument(f"update_contact cannot change {name!r}")
    if not out:
        raise InvalidArgument("update_contact needs at least one of priority=, data=, timezone=, external_id=")
    return out
