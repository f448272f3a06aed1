"""The one write path: a guarded state change, its history entries, its counters.

`write` applies moves decided for single contacts (a trigger, a timer, a claim):
one UPDATE per contact guarded by its version, built from the columns the move
changes; the history INSERTs, each entry taking its place in the transition feed;
and, where the backend keeps them so, the campaign counters the moves change (on
SQLite the counters are the history's sums: dialstate/store/sql/stats.sql). `bulk_move` moves every contact a
`where` clause chooses set-wise (cancel a campaign, blacklist a number), one entry
each. Both run inside the caller's unit of work.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from operator import itemgetter
from typing import Any

from dialstate.engine.change import ALWAYS_WRITTEN, Move
from dialstate.errors import ConcurrentUpdate
from dialstate.store import counters
from dialstate.store.counters import Deltas
from dialstate.store.feed import Transaction
from dialstate.store.ops import Work, all_rows, count, many, transaction
from dialstate.store.postgres import PostgresBackend
from dialstate.store.rows import CONTACT_COLUMNS, CONTACT_JSON
from dialstate.store.sqlite import SqliteBackend
from dialstate.store.statements import Queries, expand

Backend = SqliteBackend | PostgresBackend

#: What a bulk move clears: whatever ties a contact to an operator or a time.
BULK_CLEARS = ("next_attempt_at", "operator_id", "callback_operator_id", "personal_until")
#: The columns that say a contact's numbers and their zones (`ds_number` and the zone
#: sets follow them).
_NUMBER_COLUMNS = frozenset({"phone_key", "numbers", "zone_key"})

_OTHERS = tuple(c for c in CONTACT_COLUMNS if c not in ALWAYS_WRITTEN)
_ORDER = {c: i for i, c in enumerate(_OTHERS)}
#: (backend's queries, columns) -> (the guarded UPDATE setting them, what takes their
#: values from a row).
_UPDATES: dict[tuple[int, tuple[str, ...]], tuple[str, Callable[[dict[str, Any]], tuple[Any, ...]]]] = {}


def changed_columns(move: Move) -> tuple[str, ...]:
    """The columns the UPDATE of `move` sets: those always written and, of those it
    touched, the ones whose value changed (in table order: one statement per set)."""
    touched = move.touched
    if not touched:
        return ALWAYS_WRITTEN
    before, after = move.before, move.after
    changed = []
    for c in touched:  # a plain loop: no comprehension's function to make (once a move)
        if c in _ORDER and after[c] != before[c]:
            changed.append(c)
    if not changed:
        return ALWAYS_WRITTEN
    changed.sort(key=_ORDER.__getitem__)
    return (*ALWAYS_WRITTEN, *changed)


def update_statement(q: Queries, columns: tuple[str, ...]) -> tuple[str, Callable[[dict[str, Any]], tuple[Any, ...]]]:
    """The guarded UPDATE that sets `columns`, and what takes their values from a row,
    JSON ones encoded (cached per backend and column set)."""
    key = (id(q), columns)
    found = _UPDATES.get(key)
    if found is None:
        mark = q.mark
        sets = ", ".join(f"{c} = {mark}" for c in columns)
        found = _UPDATES[key] = (f"UPDATE ds_contact SET {sets} WHERE id = {mark} AND version = {mark}",
                                 _values_of(columns))
    return found


def _values_of(columns: tuple[str, ...]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """What takes the values of `columns` (always more than one) from a row, in order."""
    plain = itemgetter(*columns)
    if CONTACT_JSON.isdisjoint(columns):
        return plain  # type: ignore[return-value]
    return lambda row: tuple(json.dumps(v) if c in CONTACT_JSON and v is not None else v
                             for c, v in zip(columns, plain(row), strict=True))


def write(q: Queries, backend: Backend, moves: Sequence[Move], tx: Transaction | None = None) -> Work[Transaction]:
    """Write each move's row (guarded by the version it was read at), its entries (each
    move's `first_ordinal` set to its first entry's place in the transaction) and the
    counters they change; `tx` is the unit's transaction, when it has asked for it
    already. A contact another writer changed first raises `ConcurrentUpdate`: the
    caller's transaction then writes nothing."""
    groups: dict[tuple[str, ...], list[Move]] = {}
    for move in moves:
        groups.setdefault(changed_columns(move), []).append(move)
    for columns, group in groups.items():
        sql, values = update_statement(q, columns)
        # Each row's values, then the id and the version it was read at.
        params = [(*values(m.after), m.before["id"], m.before["version"]) for m in group]
        written = yield (count(sql, params[0]) if len(params) == 1 else many(sql, params))
        if written != len(params):
            first = group[0]
            trigger = first.entries[0][4] if first.entries else "?"
            raise ConcurrentUpdate(first.before["id"], trigger, first.before["version"])
    for move in moves:
        if not move.touched.isdisjoint(_NUMBER_COLUMNS):
            yield from _index_numbers(q, move)
    if tx is None:
        tx = yield transaction()
    entries = [entry for move in moves for entry in move.entries]
    if entries:
        ordinal = yield from backend.insert_entries(tx, entries)
        for move in moves:
            move.first_ordinal = ordinal
            ordinal += len(move.entries)
    if backend.counts_each_write:
        yield from add_counters(q, _deltas(moves))
    return tx


def number_keys(row: dict[str, Any]) -> frozenset[str]:
    """The valid numbers (E.164) of a contact row."""
    numbers = row["numbers"]
    if numbers:
        return frozenset(n["phone"] for n in numbers if n["valid"])
    return frozenset((row["phone_key"],)) if row["phone_key"] else frozenset()


def _index_numbers(q: Queries, move: Move) -> Work[None]:
    """Keep `ds_number` (a contact's numbers, unique in its campaign) and the campaign's
    zone sets in step with a move that changes them."""
    before, after = move.before, move.after
    if after["phone_key"] == before["phone_key"] and after["numbers"] == before["numbers"]:
        keys = None
    else:
        keys = number_keys(after)
    if keys is not None and keys != (old := number_keys(before)):
        if old:
            yield count(expand(q["drop_numbers"], len(old)), (before["campaign_id"], before["id"], *sorted(old)))
        yield many(q["add_number"], [(after["campaign_id"], key, after["id"]) for key in sorted(keys)])
    if after["zone_key"] != before["zone_key"]:  # a new number's zones: claims test them
        yield count(q["add_zone_key"], (after["campaign_id"], after["zone_key"]))


def _deltas(moves: Iterable[Move]) -> Deltas:
    deltas: Deltas = Counter()
    for move in moves:
        campaign_id = move.before["campaign_id"]
        for entry in move.entries:
            counters.add_entry(deltas, campaign_id, entry[2], entry[3], entry[4], entry[9])
    return deltas


def add_counters(q: Queries, deltas: Deltas) -> Work[None]:
    """Add the campaign counters' changes (in one statement)."""
    params = counters.rows(deltas)
    if len(params) == 1:
        yield count(q["stat_add"], params[0])
    elif params:
        yield many(q["stat_add"], params)


def bulk_move(q: Queries, backend: Backend, where: str, params: Sequence[Any], from_states: Sequence[str],
              to_state: str, trigger: str, now: float, actor: str | None, note: str) -> Work[list[tuple[int, int]]]:
    """Move every contact that `q[where]` (with `params`) chooses and that is in one
    of `from_states` to `to_state`, set-wise, one history entry each. Returns
    (contact id, seq of its new entry) of each contact moved."""
    def sql(name: str) -> str:
        return expand(q[name].replace("<<where>>", q[where]), len(from_states))

    states = tuple(from_states)
    moved = [(r[0], r[1] + 1) for r in (yield all_rows(sql("move_select"), (*params, *states)))]
    if not moved:
        return []
    tx: Transaction = yield transaction()
    first = yield from backend.reserve_entries(tx, len(moved))
    yield count(sql("move_history"), (to_state, trigger, now, actor, note, first, *params, *states))
    if backend.counts_each_write:
        yield count(sql("move_stat_out"), (*params, *states))
        yield count(sql("move_stat_in"), (to_state, *params, *states))
    update = sql("move_update").replace("<<clears>>", ", ".join(f"{c} = NULL" for c in BULK_CLEARS))
    yield count(update, (to_state, now, now if to_state == "ready" else None, *params, *states))
    return moved
