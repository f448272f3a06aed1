"""The blacklist of numbers never to call (spec section 3)."""

from __future__ import annotations

from dialstate.engine.calls import Done
from dialstate.engine.clock import Clock
from dialstate.engine.runner import blacklist_number
from dialstate.engine.states import ContactState
from dialstate.phones import blacklist_key
from dialstate.store import writer
from dialstate.store.ops import Work, all_rows, count
from dialstate.store.statements import Queries
from dialstate.store.writer import Backend

S = ContactState


class Blacklist:
    def __init__(self, q: Queries, backend: Backend, clock: Clock) -> None:
        self._q = q
        self._backend = backend
        self._clock = clock

    def add(self, phone: str, note: str | None, region: str | None, actor: str | None) -> Work[Done[int]]:
        """Blacklist a number; its waiting contacts become `blacklisted` now, those in a
        call at the call's end. The value is how many contacts moved now."""
        key = blacklist_key(phone, region)
        moved = yield from blacklist_number(self._q, self._backend, key, self._clock.epoch(), actor,
                                            note or "number blacklisted")
        return Done(len(moved), moved=moved)

    def remove(self, phone: str, region: str | None, actor: str | None) -> Work[Done[int]]:
        """Take a number off the blacklist; its `blacklisted` contacts go back to `ready`."""
        q = self._q
        key = blacklist_key(phone, region)
        yield count(q["blacklist_remove"], (key, 0))
        moved = yield from writer.bulk_move(q, self._backend, "where_number", (key,), (S.BLACKLISTED.value,), S.READY,
                                            "unblacklist", self._clock.epoch(), actor, "number taken off the blacklist")
        return Done(len(moved), moved=moved)

    def entries(self) -> Work[list[tuple[str, str | None]]]:
        """The blacklisted numbers with their notes."""
        return [(r[0], r[3]) for r in (yield all_rows(self._q["blacklist_entries"]))]
