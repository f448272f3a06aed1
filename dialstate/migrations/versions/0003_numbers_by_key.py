"""dialstate 0.2.1: `ds_number` keyed by (campaign, number) alone.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26

A contact's numbers are found from the contact row itself (its number, or its
`numbers`), so the index of `ds_number` by contact goes: an import then writes one
B-tree per number, not three. On SQLite the table becomes a WITHOUT ROWID table, so
that its primary key is the table. Every row is kept.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

COLUMNS = "campaign_id, phone_key, contact_id"


def _rebuild(with_rowid: bool) -> None:
    """SQLite: `ds_number` made anew, with or without its rowid, its rows copied."""
    op.rename_table("ds_number", "ds_number_old")
    op.create_table(
        "ds_number",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("phone_key", sa.String(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["ds_campaign.id"]),
        sa.PrimaryKeyConstraint("campaign_id", "phone_key"),
        sqlite_with_rowid=with_rowid,
    )
    op.execute(f"INSERT INTO ds_number ({COLUMNS}) SELECT {COLUMNS} FROM ds_number_old")
    op.drop_table("ds_number_old")


def upgrade() -> None:
    op.drop_index("ix_ds_number_contact", "ds_number")
    if op.get_bind().dialect.name == "sqlite":
        _rebuild(with_rowid=False)
    op.execute("UPDATE ds_schema_info SET version = 3 WHERE id = 1")


def downgrade() -> None:
    op.execute("UPDATE ds_schema_info SET version = 2 WHERE id = 1")
    if op.get_bind().dialect.name == "sqlite":
        _rebuild(with_rowid=True)
    op.create_index("ix_ds_number_contact", "ds_number", ["contact_id"])
