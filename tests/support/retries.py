"""Due retries for the scheduler tests: seeding them, and reading how each fired."""

from __future__ import annotations

from collections import Counter

from dialstate import DialMode, Engine, Outcome, RetryPolicy
from tests.support.phones import new_phones
from tests.support.walk import new_campaign, new_contacts


def seed_retries(engine: Engine, n: int, *, delay: float = 60.0) -> list[int]:
    """`n` agentless contacts (Berlin numbers) dialed and ended busy: each in
    `retry_scheduled`, due `delay` seconds after the engine's clock now. Returns their ids."""
    campaign = new_campaign(engine, DialMode.AGENTLESS, name="retries",
                            retry_policy=RetryPolicy(delays={Outcome.BUSY: delay}))
    ids = new_contacts(engine, campaign, *new_phones(n, "DE"))
    engine.dial_next(campaign, n)
    for cid in ids:
        engine.call_ended(cid, Outcome.BUSY)
    return ids


def retry_due_entries(engine: Engine) -> dict[int, list[str | None]]:
    """For each contact of the database, the actors of its `retry_due` history entries
    (one query: the tests poll it while schedulers fire thousands)."""
    db = engine.database
    with db.reading() as conn:
        rows = db.execute(conn, "SELECT contact_id, actor FROM ds_history WHERE trigger = 'retry_due'").fetchall()
    out: dict[int, list[str | None]] = {}
    for cid, actor in rows:
        out.setdefault(cid, []).append(actor)
    return out


def count_by_state(engine: Engine, ids: list[int]) -> dict[str, int]:
    """How many of `ids` are in each state."""
    return dict(Counter(engine.get_contact(cid).state.value for cid in ids))
