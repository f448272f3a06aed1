"""The one write path: a guarded state change and its history entries.

`write` applies moves decided for single contacts (a trigger, a timer, a claim):
one UPDATE per contact guarded by its version, built from the columns the move
changes, and the history INSERTs. `bulk_move` moves every contact a `where` clause
chooses set-wise (cancel a campaign, blacklist a number), one entry each. Both run
inside the caller's unit of work.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from dialstate.engine.change import ALWAYS_WRITTEN, Move
from dialstate.errors import ConcurrentUpdate
from dialstate.store.ops import Work, all_rows, count, many
from dialstate.store.rows import CONTACT_COLUMNS
from dialstate.store.statements import Queries, expand

#: What a bulk move clears: whatever ties a contact to an operator or a time.
BULK_CLEARS = ("next_attempt_at", "operator_id", "callback_operator_id", "personal_until")

_ALWAYS = frozenset(ALWAYS_WRITTEN)
_UPDATES: dict[tuple[int, tuple[str, ...]], str] = {}


def changed_columns(move: Move) -> tuple[str, ...]:
    """The columns the UPDATE of `move` sets: those always written and those it changes."""
    before, after = move.before, move.after
    return tuple(c for c in CONTACT_COLUMNS if c in _ALWAYS or after[c] != before[c])


def update_statement(q: Queries, columns: tuple[str, ...]) -> str:
    """The guarded UPDATE that sets `columns` (cached per backend and column set)."""
    key = (id(q), columns)
    sql = _UPDATES.get(key)
    if sql is None:
        mark = q.mark
        sets = ", ".join(f"{c} = {mark}" for c in columns)
        sql = _UPDATES[key] = f"UPDATE ds_contact SET {sets} WHERE id = {mark} AND version = {mark}"
    return sql


def _value(column: str, value: Any) -> Any:
    return json.dumps(value) if column == "data" and value is not None else value


def write(q: Queries, moves: Sequence[Move]) -> Work[None]:
    """Write each move's row (guarded by the version it was read at) and its entries.
    A contact another writer changed first raises `ConcurrentUpdate`: the caller's
    transaction then writes nothing."""
    groups: dict[tuple[str, ...], list[Move]] = {}
    for move in moves:
        groups.setdefault(changed_columns(move), []).append(move)
    for columns, group in groups.items():
        sql = update_statement(q, columns)
        params = [(*(_value(c, m.after[c]) for c in columns), m.before["id"], m.before["version"]) for m in group]
        written = yield (count(sql, params[0]) if len(params) == 1 else many(sql, params))
        if written != len(params):
            first = group[0]
            trigger = first.entries[0][4] if first.entries else "?"
            raise ConcurrentUpdate(first.before["id"], trigger, first.before["version"])
    entries = [e for m in moves for e in m.entries]
    if len(entries) == 1:
        yield count(q["insert_entry"], entries[0])
    elif entries:
        yield many(q["insert_entry"], entries)


def bulk_move(q: Queries, where: str, params: Sequence[Any], from_states: Sequence[str],
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
    yield count(sql("move_history"), (to_state, trigger, now, actor, note, *params, *states))
    update = sql("move_update").replace("<<clears>>", ", ".join(f"{c} = NULL" for c in BULK_CLEARS))
    yield count(update, (to_state, now, now if to_state == "ready" else None, *params, *states))
    return moved
