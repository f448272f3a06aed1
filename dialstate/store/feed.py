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

    __slots__ = ("base", "committing", "count", "statements")

    def __init__(self) -> None:
        self.count = 0
        self.base: int | None = None
        #: Statements run so far (a connection that fails its first one was dead before).
        self.statements = 0
        #: Whether the commit was under way (when it fails, it may have gone through).
        self.committing = False

    def take(self, n: int) -> int:
        """Reserve `n` ordinals; returns the first."""
        first = self.count
        self.count += n
        return first

    def position(self, ordinal: int) -> int | None:
        """The feed position of the entry with `ordinal` (once the base is known)."""
        return None if self.base is None else self.base + ordinal
