"""A write transaction's place in the transition feed.

Every history entry a transaction writes takes the next ordinal of that transaction;
its feed position is the transaction's `base` plus its ordinal. How `base` is found
is the backend's (see `SqliteBackend.feed_base` and `PostgresBackend.finish`):
SQLite has one writer at a time, so the base is the next free position when the
transaction writes its first entry; on PostgreSQL transactions commit in another
order than they start, so the base is handed out at the very end, under the one
row lock of `ds_feed` that orders the commits.
"""

from __future__ import annotations

from typing import Any

from dialstate.store.ops import Work, one
from dialstate.store.rowcache import RowCache
from dialstate.store.statements import Queries


class Transaction:
    """What the driver tells a unit about its write transaction: its place in the feed
    (how many entries it wrote, and once known the position of its first), and on
    SQLite the connection's cache of the rows it wrote last."""

    __slots__ = ("base", "committing", "count", "data_version", "first", "kept", "rows", "statements")

    def __init__(self) -> None:
        self.count = 0
        self.base: int | None = None
        #: SQLite, while `base` is not looked up: the first entry's (contact id, seq).
        self.first: tuple[int, int] | None = None
        #: Statements run so far (a connection that fails its first one was dead before).
        self.statements = 0
        #: Whether the commit was under way (when it fails, it may have gone through).
        self.committing = False
        #: SQLite: the rows this connection wrote last (`dialstate.store.rowcache`),
        #: the `data_version` read inside this transaction, and the rows it keeps.
        self.rows: RowCache | None = None
        self.data_version: int | None = None
        self.kept: list[dict[str, Any]] | None = None

    def take(self, n: int) -> int:
        """Reserve `n` ordinals; returns the first."""
        first = self.count
        self.count += n
        return first

    @property
    def unplaced(self) -> bool:
        """Whether the positions of its entries are still to be looked up (SQLite
        finds them when they are asked for: `place`)."""
        return self.base is None and self.first is not None

    def position(self, ordinal: int) -> int | None:
        """The feed position of the entry with `ordinal` (once the base is known)."""
        return None if self.base is None else self.base + ordinal


def place(q: Queries, tx: Transaction) -> Work[None]:
    """After the commit, the feed positions of a transaction's entries, where its
    writes did not need them (SQLite: a read of the first one's). The driver runs it
    when a subscriber listens; a face again if one subscribed meanwhile."""
    first = tx.first
    if tx.base is None and first is not None:
        tx.base = int((yield one(q["entry_position"], first))[0])
