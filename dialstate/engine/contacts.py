"""Reading contacts: a snapshot, its history, and the events of contacts a bulk move
changed (read back after the commit, for their subscribers)."""

from __future__ import annotations

from dialstate.engine.clock import Clock
from dialstate.engine.snapshots import Contact, HistoryEntry, TransitionEvent, history_entry
from dialstate.errors import ContactNotFound
from dialstate.store import rows
from dialstate.store.ops import Work, all_rows, one
from dialstate.store.statements import Queries


class Contacts:
    def __init__(self, q: Queries, clock: Clock) -> None:
        self._q = q
        self._clock = clock

    def get(self, contact_id: int) -> Work[Contact]:
        found = yield one(self._q["select_contact"], (self._clock.epoch(), contact_id))
        if found is None:
            raise ContactNotFound(contact_id)
        return Contact.from_row(rows.contact(found))

    def history(self, contact_id: int) -> Work[list[HistoryEntry]]:
        """The contact's transitions, oldest first."""
        q = self._q
        found = yield all_rows(q["entries_of"], (contact_id,))
        if not found and (yield one(q["contact_exists"], (contact_id,))) is None:
            raise ContactNotFound(contact_id)
        return [history_entry(rows.history(r)) for r in found]

    def events(self, moved: list[tuple[int, int]]) -> Work[list[TransitionEvent]]:
        """The event of each (contact id, seq of its new entry) a bulk move made."""
        q = self._q
        out = []
        for contact_id, seq in moved:
            entry = yield one(q["entry"], (contact_id, seq))
            if entry is None:  # pragma: no cover - deleted meanwhile: nothing to tell
                continue
            contact = yield from self.get(contact_id)
            out.append(TransitionEvent(contact, history_entry(rows.history(entry))))
        return out
