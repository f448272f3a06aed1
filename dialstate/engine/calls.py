"""`Call`: one public API call as the faces run it.

The `Api` (dialstate.engine.api) checks a call's arguments and returns a `Call`; the
sync `Engine` and the asyncio `AsyncEngine` run it, each with its own I/O, the same
way: build the unit of work, run it as one transaction (a write, or a read), on a
lost race try the call's `recover` (an idempotent replay, a poisoned timer put off),
then tell the subscribers of what committed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from dialstate.engine.snapshots import Contact
from dialstate.store.feed import Transaction
from dialstate.store.ops import Work

T = TypeVar("T")


@dataclass
class Done(Generic[T]):
    """What a unit of work returns: the caller's value, and who must hear of what once
    it committed: (snapshot, history rows) of contacts it changed, and (contact id,
    seq) of contacts a bulk move changed (read back for their subscribers)."""

    value: T
    #: (snapshot, history rows, the first row's ordinal in `tx`) of each contact written.
    events: list[tuple[Contact, list[tuple[Any, ...]], int]] = field(default_factory=list)
    moved: list[tuple[int, int]] = field(default_factory=list)
    #: The transaction's place in the feed (the entries' positions, once committed).
    tx: Transaction | None = None


@dataclass
class Call(Generic[T]):
    """How to run one API call."""

    #: Builds the unit of work (afresh for each run).
    work: Callable[[], Work[Done[T]]]
    #: Whether it writes (one write transaction) or only reads.
    write: bool = True
    #: Where a unit that pulls its input gets it (`add_contacts`), and whether the
    #: connection should be tuned for a bulk load.
    source: Any = None
    bulk: bool = False
    #: After the call raised: a call that answers instead, or None to let it raise.
    recover: Callable[[BaseException], Call[T] | None] | None = None
    #: After the call failed, whatever the error (forget what a rolled-back unit made).
    cleanup: Callable[[], None] | None = None


def read(work: Callable[[], Work[T]]) -> Call[T]:
    """A call that only reads and tells nobody."""
    return Call(lambda: done(work()), write=False)


def write(work: Callable[[], Work[T]]) -> Call[T]:
    """A call that writes and tells nobody (campaign settings, say)."""
    return Call(lambda: done(work()))


def done(work: Work[T]) -> Work[Done[T]]:
    """`work` with nothing to tell anyone once it committed."""
    return Done((yield from work))
