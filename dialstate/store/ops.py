"""Units of work that do no I/O themselves: the shared core of the sync and async faces.

A unit of work is a generator. It yields an `Op` (a statement to run, or a request
for the next batch of the caller's input), receives the result, and finally returns
its value. A driver runs it inside one transaction: `Database.run` with a blocking
connection, the asyncio face with an async one. The decisions, the statements and
their order are written once, here and in the engine; only the I/O differs.

    row = yield one(q["select_contact"], (contact_id,))
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any, TypeVar

T = TypeVar("T")

#: What a statement's result is: one row (or None), all rows, the rows changed, the
#: rows changed by running it once per parameter row, rows copied in (PostgreSQL
#: COPY), or the next item of the caller's input (None at its end).
#: TX answers the driver's `dialstate.store.feed.Transaction` for this unit.
ONE, ALL, COUNT, MANY, COPY, PULL, TX = range(7)

#: (kind, SQL text, parameters)
Op = tuple[int, str, Any]
Work = Generator[Op, Any, T]


def one(sql: str, params: Sequence[Any] = ()) -> Op:
    return (ONE, sql, params)


def all_rows(sql: str, params: Sequence[Any] = ()) -> Op:
    return (ALL, sql, params)


def count(sql: str, params: Sequence[Any] = ()) -> Op:
    return (COUNT, sql, params)


def many(sql: str, params: Sequence[Sequence[Any]]) -> Op:
    return (MANY, sql, params)


def copy(sql: str, params: Sequence[Sequence[Any]]) -> Op:
    return (COPY, sql, params)


def pull(request: Any = None) -> Op:
    """Ask the driver's source for the next item of the caller's input (`request`
    tells the source how to make it)."""
    return (PULL, "", request)


def transaction() -> Op:
    """Ask the driver for this transaction's place in the feed (a `Transaction`)."""
    return (TX, "", None)


def found_among(sql: str, prefix: Sequence[Any], keys: Sequence[Any], chunk: int = 500) -> Work[set[Any]]:
    """The values of `keys` that `sql` finds: its first column, for `prefix` followed by
    a list of keys (its `?*`, or `%s*`), asked `chunk` keys at a time."""
    from dialstate.store.statements import expand

    found: set[Any] = set()
    for i in range(0, len(keys), chunk):
        part = keys[i:i + chunk]
        found.update(r[0] for r in (yield all_rows(expand(sql, len(part)), (*prefix, *part))))
    return found


def value(row: Sequence[Any] | None) -> Any:
    """The first column of a row read with `one`, or None when there was no row."""
    return None if row is None else row[0]


def done(result: T) -> Work[T]:
    """A unit of work that runs nothing and returns `result`."""
    return result
    yield  # pragma: no cover - makes this a generator
