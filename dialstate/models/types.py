"""Column types shared by the tables.

Times are stored as UTC epoch seconds in a double column: the same sortable value on
SQLite and PostgreSQL, cheap for the lean SQL layer to write, and exact to the
microsecond for centuries. Through SQLModel/SQLAlchemy they read back as aware
UTC datetimes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator


def to_epoch(value: datetime) -> float:
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: dialstate needs time-zone aware times")
    return value.timestamp()


def from_epoch(value: float | None) -> datetime | None:
    if value is None:
        return None
    return datetime.fromtimestamp(value, UTC)


class UtcEpoch(TypeDecorator[datetime]):
    impl = sa.Double
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> float | None:
        if value is None or isinstance(value, (int, float)):
            return value
        return to_epoch(value)

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> datetime | None:
        return from_epoch(value)


class JsonText(TypeDecorator[Any]):
    """JSON kept as text, so the lean layer reads and writes one format on both engines."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> str | None:
        if value is None or isinstance(value, str):
            return value
        return json.dumps(value, separators=(",", ":"), sort_keys=True)

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> Any:
        return None if value is None else json.loads(value)
