"""The initial tables: campaigns, retry policies, zones, contacts, history, blacklist,
idempotency keys, schema info.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

Until the first release this revision may be regenerated when the models change;
after it, every change gets a new revision (and `HEAD` in dialstate/models/schema.py).
Types are spelled as the database sees them (times are epoch doubles, JSON is text),
so the migration does not depend on the model code of the day.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TEXT = sa.String  # SQLModel's AutoString: VARCHAR without a length
TIME = sa.Double  # dialstate.models.types.UtcEpoch
JSON = sa.Text  # dialstate.models.types.JsonText


def upgrade() -> None:
    op.create_table(
        "ds_blacklist",
        sa.Column("phone", TEXT(), nullable=False),
        sa.Column("note", TEXT(), nullable=True),
        sa.Column("created_at", TIME(), nullable=False),
        sa.PrimaryKeyConstraint("phone"),
    )
    op.create_table(
        "ds_campaign",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", TEXT(), nullable=False),
        sa.Column("mode", TEXT(), nullable=False),
        sa.Column("status", TEXT(), nullable=False),
        sa.Column("timezone", TEXT(), nullable=False),
        sa.Column("default_region", TEXT(), nullable=True),
        sa.Column("calling_window", JSON(), nullable=True),
        sa.Column("dispositions", JSON(), nullable=False),
        sa.Column("default_disposition", TEXT(), nullable=False),
        sa.Column("policy_version", sa.Integer(), nullable=False),
        sa.Column("before_call_work_seconds", sa.Float(), nullable=False),
        sa.Column("after_call_work_seconds", sa.Float(), nullable=False),
        sa.Column("assign_timeout_seconds", sa.Float(), nullable=False),
        sa.Column("dial_timeout_seconds", sa.Float(), nullable=False),
        sa.Column("max_call_seconds", sa.Float(), nullable=False),
        sa.Column("operator_wait_seconds", sa.Float(), nullable=False),
        sa.Column("callback_grace_seconds", sa.Float(), nullable=False),
        sa.Column("created_at", TIME(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "ds_idempotency",
        sa.Column("key", TEXT(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("trigger", TEXT(), nullable=False),
        sa.Column("snapshot", JSON(), nullable=False),
        sa.Column("created_at", TIME(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "ds_schema_info",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "ds_campaign_zone",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("zone_key", TEXT(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["ds_campaign.id"]),
        sa.PrimaryKeyConstraint("campaign_id", "zone_key"),
    )
    op.create_table(
        "ds_contact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("phone", TEXT(), nullable=False),
        sa.Column("phone_key", TEXT(), nullable=True),
        sa.Column("state", TEXT(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TIME(), nullable=True),
        sa.Column("due_at", TIME(), nullable=True),
        sa.Column("operator_id", TEXT(), nullable=True),
        sa.Column("callback_operator_id", TEXT(), nullable=True),
        sa.Column("personal_until", TIME(), nullable=True),
        sa.Column("call_id", TEXT(), nullable=True),
        sa.Column("last_outcome", TEXT(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("timezone", TEXT(), nullable=True),
        sa.Column("zone_key", TEXT(), nullable=False),
        sa.Column("external_id", TEXT(), nullable=True),
        sa.Column("data", JSON(), nullable=True),
        sa.Column("ready_since", TIME(), nullable=True),
        sa.Column("created_at", TIME(), nullable=False),
        sa.Column("updated_at", TIME(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["ds_campaign.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("campaign_id", "phone_key", name="uq_ds_contact_phone"),
    )
    op.create_index(
        "ix_ds_contact_due_at", "ds_contact", ["due_at"],
        sqlite_where=sa.text("due_at IS NOT NULL"),
        postgresql_where=sa.text("due_at IS NOT NULL"),
    )
    op.create_index(
        "ix_ds_contact_claim", "ds_contact",
        ["campaign_id", sa.text("priority DESC"), "ready_since", "id"],
        sqlite_where=sa.text("state = 'ready'"),
        postgresql_where=sa.text("state = 'ready'"),
    )
    op.create_index(
        "ix_ds_contact_zone_claim", "ds_contact",
        ["campaign_id", "zone_key", sa.text("priority DESC"), "ready_since", "id"],
        sqlite_where=sa.text("state = 'ready'"),
        postgresql_where=sa.text("state = 'ready'"),
    )
    op.create_table(
        "ds_retry_policy",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("policy", JSON(), nullable=False),
        sa.Column("created_at", TIME(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["ds_campaign.id"]),
        sa.PrimaryKeyConstraint("campaign_id", "version"),
    )
    op.create_table(
        "ds_history",
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("from_state", TEXT(), nullable=True),
        sa.Column("to_state", TEXT(), nullable=False),
        sa.Column("trigger", TEXT(), nullable=False),
        sa.Column("at", TIME(), nullable=False),
        sa.Column("actor", TEXT(), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("call_id", TEXT(), nullable=True),
        sa.Column("outcome", TEXT(), nullable=True),
        sa.Column("raw_code", TEXT(), nullable=True),
        sa.Column("dialect", TEXT(), nullable=True),
        sa.Column("policy_version", sa.Integer(), nullable=True),
        sa.Column("note", TEXT(), nullable=True),
        sa.ForeignKeyConstraint(["contact_id"], ["ds_contact.id"]),
        sa.PrimaryKeyConstraint("contact_id", "seq"),
        sqlite_with_rowid=False,
    )
    info = sa.table("ds_schema_info", sa.column("id", sa.Integer()), sa.column("version", sa.Integer()))
    op.bulk_insert(info, [{"id": 1, "version": 1}])


def downgrade() -> None:
    for table in ("ds_history", "ds_retry_policy", "ds_contact", "ds_campaign_zone", "ds_schema_info",
                  "ds_idempotency", "ds_campaign", "ds_blacklist"):
        op.drop_table(table)
