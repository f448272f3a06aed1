"""The check both settings classes make of the JSON they are rebuilt from."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from dialstate.errors import ConfigurationError


def check_json_object(owner: str, data: Any, fields: Iterable[str]) -> None:
    """`data` must be a JSON object whose keys are all among `fields`."""
    if not isinstance(data, Mapping):
        raise ConfigurationError(f"{owner}.from_json: expected a JSON object, got {data!r}")
    allowed = tuple(fields)
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ConfigurationError(f"{owner}.from_json: unknown keys {unknown}; allowed: {', '.join(allowed)}")
