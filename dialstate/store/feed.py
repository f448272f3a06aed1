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


class Transaction:
    """The feed of one write transaction: how many entries it wrote, and (once known)
    the position of its first."""

    __slots__ = ("base", "count")

    def __init__(self) -> None:
        self.count = 0
        self.base: int | None = None

    def take(self, n: int) -> int:
        """Reserve `n` ordinals; returns the first."""
        first = self.count
        self.count += n
        return first

    def position(self, ordinal: int) -> int | None:
        """The feed position of the entry with `ordinal` (once the base is known)."""
        return None if self.base is None else self.base + ordinal
