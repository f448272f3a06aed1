"""The contact rows a SQLite connection wrote last, so that its next trigger on one of
them skips reading the row again.

A trigger reads the contact with its campaign's status and versions and its blacklist
fact (`select_contact`), about a tenth of its time. When this connection's previous
transaction wrote that very row, the row as written is what the read would return,
unless something else wrote since. SQLite says when that may be:

- `PRAGMA data_version` changes when another connection (thread or process) commits;
  the cache holds rows for one value of it, read inside the transaction that wrote
  them (the writer lock was held, so nothing came between);
- a write on this connection that did not keep its row here (a campaign change, a
  blacklist entry, a bulk move, an import, a raw statement, a rollback) empties it.

Only rows whose facts cannot change with time alone are kept: a contact with one
number that is not on the blacklist (an entry's expiry would change the fact). A
trigger keeps the row it wrote; a claim (`assign_next`, `dial_next`) the rows it took,
whose numbers are not on the blacklist (adding an entry moves the ready contacts that
have its number). The guarded UPDATE checks the version read, cached or not.
"""

from __future__ import annotations

from itertools import islice
from typing import TYPE_CHECKING, Any

from dialstate.store.ops import Work, one
from dialstate.store.statements import Queries

if TYPE_CHECKING:
    from dialstate.store.feed import Transaction

#: Rows one connection keeps at most.
MAX_ROWS = 1024


class RowCache:
    """The rows of one connection's latest writes, valid for one `data_version`."""

    __slots__ = ("_rows", "_version")

    def __init__(self) -> None:
        self._rows: dict[int, dict[str, Any]] = {}
        self._version: int | None = None

    def get(self, contact_id: int, version: int) -> dict[str, Any] | None:
        """The row of `contact_id` as this connection last wrote it (a copy), if no
        other connection committed since (`version`: `data_version` now)."""
        if version != self._version:
            self.clear()
            return None
        row = self._rows.get(contact_id)
        return None if row is None else dict(row)

    def keep(self, rows: list[dict[str, Any]] | None, version: int | None) -> None:
        """After a commit: keep the rows it wrote (read and written under `version`);
        None (a transaction that wrote something else) empties the cache."""
        if rows is None or version is None:
            self.clear()
            return
        kept = self._rows
        if version != self._version:
            kept.clear()
            self._version = version
        for row in rows:
            kept[row["id"]] = row
        if len(kept) > MAX_ROWS:
            # The oldest quarter goes at once (a dict keeps the order rows came in). The
            # dict is built anew: deleting its first entries one by one would leave holes
            # that every later look for the oldest walks over.
            self._rows = dict(islice(kept.items(), len(kept) - MAX_ROWS * 3 // 4, None))

    def clear(self) -> None:
        self._rows.clear()
        self._version = None


def keepable(row: dict[str, Any]) -> bool:
    """Whether a row written by a trigger or a claim may be kept: one number, not on
    the blacklist (facts that time alone cannot change)."""
    return row["numbers"] is None and row["blacklisted"] is None


def data_version(q: Queries, tx: Transaction) -> Work[int]:
    """The `data_version` of a SQLite write transaction (read once; the writer lock
    keeps it while the transaction runs)."""
    if tx.data_version is None:
        tx.data_version = int((yield one(q["data_version"]))[0])
    return tx.data_version


def keep_written(q: Queries, tx: Transaction, rows: list[dict[str, Any]]) -> Work[None]:
    """Have the connection keep the rows a transaction wrote, when every one of them
    may be kept (else the cache is emptied at the commit, as after any other write)."""
    if tx.rows is not None and all(keepable(row) for row in rows):
        yield from data_version(q, tx)
        tx.kept = rows
