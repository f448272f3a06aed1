"""Invariants that many tests check: history continuity, no lost contact."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import UTC

from dialstate import Engine


def assert_history_continuous(engine: Engine, contact_id: int) -> None:
    """seq runs 1..n; each entry starts where the last ended; the last is the state."""
    entries = engine.history(contact_id)
    contact = engine.get_contact(contact_id)
    assert entries, f"contact {contact_id} has no history"
    seqs = [e.seq for e in entries]
    assert len(seqs) == len(set(seqs)), f"contact {contact_id}: duplicate seq {seqs}"
    assert seqs == list(range(1, len(entries) + 1))
    assert entries[0].from_state is None
    for before, after in itertools.pairwise(entries):
        assert after.from_state == before.to_state, (contact_id, before, after)
        assert after.at >= before.at
    for e in entries:
        assert e.at.tzinfo is not None and e.at.utcoffset() == UTC.utcoffset(None)
    assert entries[-1].to_state == contact.state, (contact_id, entries[-1], contact.state)


def assert_no_contact_lost(engine: Engine, campaign_id: int, contact_ids: Iterable[int]) -> None:
    """The campaign holds exactly these contacts, each once: listed, counted in its
    stats (by state, adding up), and each with a continuous history."""
    expected = sorted(contact_ids)
    listed = [c.id for c in engine.contacts(campaign_id)]
    assert sorted(listed) == expected, f"campaign {campaign_id} lost or gained contacts"
    stats = engine.campaign_stats(campaign_id)
    assert stats.total == sum(stats.by_state.values()) == len(expected)
    for contact_id in expected:
        assert_history_continuous(engine, contact_id)
