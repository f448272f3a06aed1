"""Invariants that many tests check: history continuity, no lost contact."""

from __future__ import annotations

import itertools
from datetime import UTC

from dialstate import Engine


def assert_history_continuous(engine: Engine, contact_id: int) -> None:
    """seq runs 1..n; each entry starts where the last ended; the last is the state."""
    entries = engine.history(contact_id)
    contact = engine.get_contact(contact_id)
    assert entries, f"contact {contact_id} has no history"
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    assert entries[0].from_state is None
    for before, after in itertools.pairwise(entries):
        assert after.from_state == before.to_state, (contact_id, before, after)
        assert after.at >= before.at
    for e in entries:
        assert e.at.tzinfo is not None and e.at.utcoffset() == UTC.utcoffset(None)
    assert entries[-1].to_state == contact.state, (contact_id, entries[-1], contact.state)
