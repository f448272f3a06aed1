"""`dialstate db upgrade` on a database that dialstate 0.1.0 wrote (revision 0001), with
contacts of every dial mode in every state they can rest in: each keeps its number,
state, attempts, due times and history; the upgraded database then works like a new
one (the feed, the statistics, duplicate numbers, the scheduler), on SQLite and on
PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from alembic import command

from dialstate import ContactState, DialMode, Engine
from dialstate.store import schema
from dialstate.store.database import Database
from dialstate.testing import VirtualClock
from tests.support import assert_history_continuous, resting_states, walk_to
from tests.support.cli import run

S = ContactState
CALLBACK = VirtualClock().now + timedelta(hours=2)
#: The tables of revision 0001, parents first.
TABLES_0001 = ("ds_campaign", "ds_retry_policy", "ds_campaign_zone", "ds_contact", "ds_history",
               "ds_blacklist", "ds_idempotency")
#: What a snapshot keeps that the upgrade must not change.
KEPT = ("campaign_id", "phone", "state", "version", "attempts", "next_attempt_at", "due_at", "operator_id",
        "callback_operator_id", "call_id", "last_outcome", "priority", "timezone", "external_id", "data", "zones",
        "created_at", "updated_at")


def contacts_in_every_state(url: str, clock: VirtualClock) -> list[int]:
    """Contacts of each mode in each state they can rest in, made by today's engine."""
    with Engine(url, clock=clock) as engine:
        ids = []
        for mode in DialMode:
            campaign = engine.create_campaign(f"{mode.value} campaign", mode=mode, default_region="US",
                                              timezone="America/New_York")
            # (canceled_by_client rests only where abandoned calls get no retry)
            for state in [s for s in resting_states(mode) if s is not S.CANCELED_BY_CLIENT]:
                ids.append(walk_to(engine, campaign.id, state, call_id=f"call-{mode.value}-{state.value}"))
        # A callback made with an idempotency key (the key must still answer after).
        ids.append(walk_to(engine, engine.campaigns()[0].id, S.AFTER_CALL_WORK))
        engine.wrap_up(ids[-1], "callback", callback_at=CALLBACK, idempotency_key="wrap-1")
        return ids


def written_by_0_1_0(source: str, url: str) -> None:
    """A database at revision 0001 holding the 0001 columns of `source`'s rows, as
    dialstate 0.1.0 kept them (no alembic_version: 0.1.0 did not stamp one)."""
    db = Database(url)
    try:
        with schema.locked(db) as conn:
            config = schema.alembic_config()
            config.attributes["connection"] = conn
            command.upgrade(config, "0001")
            conn.exec_driver_sql("DROP TABLE alembic_version")
            old = sa.MetaData()
            old.reflect(conn, only=TABLES_0001)
            with sa.create_engine(source).connect() as src:
                for name in TABLES_0001:
                    table = old.tables[name]
                    columns = [c.name for c in table.columns]
                    query = f"SELECT {', '.join(columns)} FROM {name}"
                    if name == "ds_blacklist":
                        query += " WHERE campaign_id = 0"
                    found = [dict(zip(columns, r, strict=True)) for r in src.exec_driver_sql(query)]
                    if found:
                        conn.execute(table.insert(), found)
            if db.backend.name == "postgresql":  # ids were copied: the sequences follow
                for name in ("ds_campaign", "ds_contact"):
                    conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                         f"(SELECT MAX(id) FROM {name}))")
    finally:
        db.close()


def test_db_upgrade_keeps_every_contact_of_a_0_1_0_database_and_the_result_works(
        new_database: Callable[[], str], tmp_path: Path) -> None:
    clock = VirtualClock()
    source = f"sqlite:///{tmp_path / 'today.db'}"
    ids = contacts_in_every_state(source, clock)
    url = new_database()
    written_by_0_1_0(source, url)

    upgraded = run("db", "upgrade", "--db", url)
    assert upgraded.exit_code == 0, upgraded.output
    assert f"to revision {schema.HEAD}" in upgraded.stdout

    with Engine(source, clock=clock) as before, Engine(url, clock=clock) as after:
        for cid in [c.id for campaign in before.campaigns() for c in before.contacts(campaign.id)]:
            was, now = before.get_contact(cid), after.get_contact(cid)
            assert {k: getattr(now, k) for k in KEPT} == {k: getattr(was, k) for k in KEPT}, cid
            assert [e.to_dict() | {"position": None, "phone": None} for e in after.history(cid)] == [
                e.to_dict() | {"position": None, "phone": None} for e in before.history(cid)]
            assert_history_continuous(after, cid)
        # The feed holds every old entry once, in a position order that keeps each
        # contact's entries in sequence.
        everyone = [c.id for campaign in after.campaigns() for c in after.contacts(campaign.id)]
        assert set(ids) <= set(everyone)
        feed = after.events(0, 10_000)
        assert len(feed) == sum(len(after.history(cid)) for cid in everyone)
        assert [e.position for e in feed] == sorted({e.position for e in feed})
        for cid in everyone:
            assert [e.entry.seq for e in feed if e.contact.id == cid] == [e.seq for e in after.history(cid)]
        # Statistics count the upgraded contacts.
        for campaign in after.campaigns():
            assert after.campaign_stats(campaign.id).by_state == before.campaign_stats(campaign.id).by_state
        # Their numbers stay taken in their campaigns.
        one = after.get_contact(ids[0])
        report = after.add_contacts(one.campaign_id, [one.phone, "+1 212 555 0199"])
        assert (report.added, report.duplicates) == (1, 1)
        # The idempotency key of an old call still answers with its snapshot, writing nothing.
        wrapped = ids[-1]
        assert after.wrap_up(wrapped, "callback", callback_at=CALLBACK, idempotency_key="wrap-1") == \
            before.get_contact(wrapped)
        assert len(after.history(wrapped)) == len(before.history(wrapped))
        # Due times fire as they would have: the scheduler does the same in both.
        clock.advance(hours=3)
        fired_before = sorted((c.id, c.state) for c in before.fire_due(1000))
        fired_after = sorted((c.id, c.state) for c in after.fire_due(1000))
        assert fired_after == fired_before and fired_after
        new = after.events(feed[-1].position, 10_000)
        assert new and all(e.position > feed[-1].position for e in new)
        assert after.get_contact(wrapped).state is S.READY  # its callback came due
