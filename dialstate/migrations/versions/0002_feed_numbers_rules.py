"""dialstate 0.2.0: the transition feed, several numbers per contact, campaign changes,
scoped and expiring blacklist entries, counters for campaign statistics, bound
idempotency keys.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26

Every contact of a 0.1.0 database keeps its number (now its only number: the
`ds_number` row that makes it unique in its campaign), its history, attempts and due
times. Its history entries get feed positions in the order they happened; the
entries of its dials and call ends get the number dialed when it never changed (a
contact whose number was corrected keeps those entries without one). Blacklist
entries become entries for every campaign, without expiry. Statistics counters
start from the rows as they are.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TEXT = sa.String
TIME = sa.Double
JSON = sa.Text
CLAIM_INDEXES = ("ix_ds_contact_claim", "ix_ds_contact_zone_claim")


def _claim_indexes() -> None:
    """The indexes of ready contacts in claim order, as revision 0001 made them."""
    ready = sa.text("state = 'ready'")
    op.create_index("ix_ds_contact_claim", "ds_contact", ["campaign_id", sa.text("priority DESC"), "ready_since", "id"],
                    sqlite_where=ready, postgresql_where=ready)
    op.create_index("ix_ds_contact_zone_claim", "ds_contact",
                    ["campaign_id", "zone_key", sa.text("priority DESC"), "ready_since", "id"],
                    sqlite_where=ready, postgresql_where=ready)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table("ds_campaign") as batch:
        batch.add_column(sa.Column("bare_numbers", TEXT(), nullable=False, server_default="check"))
        batch.add_column(sa.Column("unique_external_ids", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("settings_version", sa.Integer(), nullable=False, server_default="1"))
    op.create_table(
        "ds_campaign_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("at", TIME(), nullable=False),
        sa.Column("actor", TEXT(), nullable=True),
        sa.Column("setting", TEXT(), nullable=False),
        sa.Column("old", TEXT(), nullable=True),
        sa.Column("new", TEXT(), nullable=True),
        sa.ForeignKeyConstraint(["campaign_id"], ["ds_campaign.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ds_campaign_change_campaign", "ds_campaign_change", ["campaign_id", "id"])

    # Numbers: one row per valid number, the uniqueness the contact row kept so far.
    op.create_table(
        "ds_number",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("phone_key", TEXT(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["ds_campaign.id"]),
        sa.PrimaryKeyConstraint("campaign_id", "phone_key"),
    )
    op.create_index("ix_ds_number_contact", "ds_number", ["contact_id"])
    op.execute("INSERT INTO ds_number (campaign_id, phone_key, contact_id)"
               " SELECT campaign_id, phone_key, id FROM ds_contact WHERE phone_key IS NOT NULL")
    # SQLite rebuilds the table to drop the constraint, and would lose the claim
    # indexes' DESC: they are made again after it.
    for name in CLAIM_INDEXES:
        op.drop_index(name, "ds_contact")
    with op.batch_alter_table("ds_contact") as batch:
        batch.drop_constraint("uq_ds_contact_phone", type_="unique")
        batch.add_column(sa.Column("numbers", JSON(), nullable=True))
        batch.add_column(sa.Column("last_attempt_at", TIME(), nullable=True))
    _claim_indexes()
    op.create_index(
        "ix_ds_contact_external_id", "ds_contact", ["external_id", "campaign_id"],
        sqlite_where=sa.text("external_id IS NOT NULL"), postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.execute("UPDATE ds_contact SET last_attempt_at = (SELECT MAX(h.at) FROM ds_history h"
               " WHERE h.contact_id = ds_contact.id AND h.trigger = 'dial') WHERE attempts > 0")

    # History: the number dialed, and the feed's positions.
    with op.batch_alter_table("ds_history") as batch:
        batch.add_column(sa.Column("phone", TEXT(), nullable=True))
        batch.add_column(sa.Column("position", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("tx", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("ordinal", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE ds_history SET phone = (SELECT c.phone_key FROM ds_contact c WHERE c.id = ds_history.contact_id)"
        " WHERE trigger IN ('dial', 'dial_failed', 'call_ended') AND NOT EXISTS (SELECT 1 FROM ds_history u"
        " WHERE u.contact_id = ds_history.contact_id AND u.trigger = 'update_phone')"
    )
    order = "row_number() OVER (ORDER BY at, contact_id, seq)"
    if dialect == "postgresql":
        op.execute(f"UPDATE ds_history SET tx = 0, ordinal = r.rn - 1 FROM (SELECT contact_id, seq, {order} AS rn"
                   " FROM ds_history) r WHERE ds_history.contact_id = r.contact_id AND ds_history.seq = r.seq")
        op.create_index("ix_ds_history_tx", "ds_history", ["tx", "ordinal"])
    else:
        op.execute(f"UPDATE ds_history SET position = r.rn FROM (SELECT contact_id, seq, {order} AS rn"
                   " FROM ds_history) r WHERE ds_history.contact_id = r.contact_id AND ds_history.seq = r.seq")
        op.create_index("ix_ds_history_position", "ds_history", ["position"], unique=True)
    op.create_index(
        "ix_ds_history_call", "ds_history", ["call_id"],
        sqlite_where=sa.text("trigger IN ('dial', 'dial_failed')"),
        postgresql_where=sa.text("trigger IN ('dial', 'dial_failed')"),
    )
    op.create_table(
        "ds_commit",
        sa.Column("tx", sa.BigInteger(), nullable=False),
        sa.Column("base", sa.BigInteger(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("last", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tx"),
    )
    op.create_index("ix_ds_commit_last", "ds_commit", ["last"])
    op.create_table(
        "ds_feed",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("next", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute("INSERT INTO ds_feed (id, next) SELECT 1, COUNT(*) + 1 FROM ds_history")
    if dialect == "postgresql":
        op.execute("INSERT INTO ds_commit (tx, base, n, last) SELECT 0, 1, COUNT(*), COUNT(*) FROM ds_history"
                   " HAVING COUNT(*) > 0")
    op.create_table(
        "ds_consumer",
        sa.Column("name", TEXT(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", TIME(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )

    # Statistics counters, from the rows as they are.
    op.create_table(
        "ds_stat",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("kind", TEXT(), nullable=False),
        sa.Column("key", TEXT(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["ds_campaign.id"]),
        sa.PrimaryKeyConstraint("campaign_id", "kind", "key"),
    )
    op.create_table(
        "ds_stat_delta",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("kind", TEXT(), nullable=False),
        sa.Column("key", TEXT(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ds_stat_delta_campaign", "ds_stat_delta", ["campaign_id"])
    op.execute("INSERT INTO ds_stat (campaign_id, kind, key, n)"
               " SELECT campaign_id, 's', state, COUNT(*) FROM ds_contact GROUP BY campaign_id, state")
    op.execute("INSERT INTO ds_stat (campaign_id, kind, key, n)"
               " SELECT c.campaign_id, 'o', h.outcome, COUNT(*) FROM ds_history h JOIN ds_contact c"
               " ON c.id = h.contact_id WHERE h.outcome IS NOT NULL AND h.trigger IN ('call_ended', 'dial_failed')"
               " GROUP BY c.campaign_id, h.outcome")
    op.execute("INSERT INTO ds_stat (campaign_id, kind, key, n)"
               " SELECT c.campaign_id, 'a', '', COUNT(*) FROM ds_history h JOIN ds_contact c"
               " ON c.id = h.contact_id WHERE h.trigger = 'answered' GROUP BY c.campaign_id")
    if dialect == "sqlite":  # the counters hold every entry so far (dialstate/store/sql/stats.sql)
        op.execute("INSERT INTO ds_consumer (name, position, updated_at)"
                   " SELECT '', COALESCE(MAX(position), 0), CAST(strftime('%s', 'now') AS REAL) FROM ds_history")

    # The blacklist: entries for every campaign (0), without expiry, as they were.
    op.rename_table("ds_blacklist", "ds_blacklist_0001")
    if dialect == "postgresql":  # the new table's primary key takes the old one's name
        op.execute("ALTER TABLE ds_blacklist_0001 RENAME CONSTRAINT ds_blacklist_pkey TO ds_blacklist_0001_pkey")
    op.create_table(
        "ds_blacklist",
        sa.Column("phone", TEXT(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("expires_at", TIME(), nullable=True),
        sa.Column("note", TEXT(), nullable=True),
        sa.Column("actor", TEXT(), nullable=True),
        sa.Column("created_at", TIME(), nullable=False),
        sa.PrimaryKeyConstraint("phone", "campaign_id"),
    )
    op.create_index(
        "ix_ds_blacklist_expires", "ds_blacklist", ["expires_at"],
        sqlite_where=sa.text("expires_at IS NOT NULL"), postgresql_where=sa.text("expires_at IS NOT NULL"),
    )
    op.execute("INSERT INTO ds_blacklist (phone, campaign_id, expires_at, note, actor, created_at)"
               " SELECT phone, 0, NULL, note, NULL, created_at FROM ds_blacklist_0001")
    op.drop_table("ds_blacklist_0001")

    with op.batch_alter_table("ds_idempotency") as batch:
        batch.add_column(sa.Column("fingerprint", TEXT(), nullable=True))
    op.execute("UPDATE ds_schema_info SET version = 2 WHERE id = 1")


def downgrade() -> None:
    """Back to 0.1.0's tables: only a database whose contacts have one number each,
    with no two contacts of a campaign on one number, can go back."""
    op.execute("UPDATE ds_schema_info SET version = 1 WHERE id = 1")
    with op.batch_alter_table("ds_idempotency") as batch:
        batch.drop_column("fingerprint")
    op.rename_table("ds_blacklist", "ds_blacklist_0002")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE ds_blacklist_0002 RENAME CONSTRAINT ds_blacklist_pkey TO ds_blacklist_0002_pkey")
    op.create_table(
        "ds_blacklist",
        sa.Column("phone", TEXT(), nullable=False),
        sa.Column("note", TEXT(), nullable=True),
        sa.Column("created_at", TIME(), nullable=False),
        sa.PrimaryKeyConstraint("phone"),
    )
    op.execute("INSERT INTO ds_blacklist (phone, note, created_at) SELECT phone, MIN(note), MIN(created_at)"
               " FROM ds_blacklist_0002 GROUP BY phone")
    op.drop_table("ds_blacklist_0002")
    op.drop_index("ix_ds_stat_delta_campaign", "ds_stat_delta")
    for table in ("ds_stat_delta", "ds_stat", "ds_consumer", "ds_feed", "ds_commit"):
        op.drop_table(table)
    op.drop_index("ix_ds_history_call", "ds_history")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_ds_history_tx", "ds_history")
    else:
        op.drop_index("ix_ds_history_position", "ds_history")
    with op.batch_alter_table("ds_history") as batch:
        for column in ("ordinal", "tx", "position", "phone"):
            batch.drop_column(column)
    op.drop_index("ix_ds_contact_external_id", "ds_contact")
    for name in CLAIM_INDEXES:
        op.drop_index(name, "ds_contact")
    with op.batch_alter_table("ds_contact") as batch:
        batch.drop_column("last_attempt_at")
        batch.drop_column("numbers")
        batch.create_unique_constraint("uq_ds_contact_phone", ["campaign_id", "phone_key"])
    _claim_indexes()
    op.drop_index("ix_ds_number_contact", "ds_number")
    op.drop_table("ds_number")
    op.drop_index("ix_ds_campaign_change_campaign", "ds_campaign_change")
    op.drop_table("ds_campaign_change")
    with op.batch_alter_table("ds_campaign") as batch:
        for column in ("settings_version", "unique_external_ids", "bare_numbers"):
            batch.drop_column(column)
