"""Seeding due retries, and counting how each fired, for the scheduler tests."""

from __future__ import annotations

import itertools
import uuid

from dialstate import DialMode, Engine, Outcome, RetryPolicy

_numbers = itertools.count(1)


def fresh_phone() -> str:
    """A valid, unused Berlin number."""
    return f"+49 30 3{next(_numbers):07d}"


def seed_retries(engine: Engine, n: int, *, delay: float = 60.0) -> list[int]:
    """`n` agentless contacts dialed and ended busy: each in `retry_scheduled`, due
    `delay` seconds after the engine's clock now. Returns their ids."""
    campaign = engine.create_campaign(
        f"retries {uuid.uuid4().hex[:8]}", mode=DialMode.AGENTLESS,
        retry_policy=RetryPolicy(delays={Outcome.BUSY: delay}),
    )
    ids = engine.add_contacts(campaign.id, [fresh_phone() for _ in range(n)]).contact_ids
    engine.dial_next(campaign.id, n)
    for cid in ids:
        engine.call_ended(cid, Outcome.BUSY)
    return ids


def retry_due_entries(engine: Engine) -> dict[int, list[str | None]]:
    """For each contact, the actors of its `retry_due` history entries."""
    db = engine.database
    with db.reading() as conn:
        rows = db.execute(conn, "SELECT contact_id, actor FROM ds_history WHERE trigger = 'retry_due'").fetchall()
    out: dict[int, list[str | None]] = {}
    for cid, actor in rows:
        out.setdefault(cid, []).append(actor)
    return out


def states(engine: Engine, ids: list[int]) -> dict[str, int]:
    """How many of `ids` are in each state."""
    out: dict[str, int] = {}
    for cid in ids:
        state = engine.get_contact(cid).state.value
        out[state] = out.get(state, 0) + 1
    return out
