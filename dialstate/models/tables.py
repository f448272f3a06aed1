"""The tables, declared once with SQLModel.

The contact row is the truth: its `state`, its `version` (the compare-and-set guard),
its current `call_id` and the due times the scheduler needs (`next_attempt_at`,
`due_at`). Nothing due lives only in memory.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from dialstate.models.types import JsonText, UtcEpoch

#: Bumped whenever the tables change; the engine refuses an older database.
SCHEMA_VERSION = 1


def _time(nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_column_kwargs={}, sa_type=UtcEpoch, nullable=nullable, index=index)


def _ready_index(name: str, *lead: str) -> sa.Index:
    """An index of `ready` contacts in claim order (priority, then readiness) after `lead`."""
    where = sa.text("state = 'ready'")
    return sa.Index(name, *lead, sa.text("priority DESC"), "ready_since", "id",
                    sqlite_where=where, postgresql_where=where)


class CampaignRow(SQLModel, table=True):
    __tablename__ = "ds_campaign"

    id: int | None = Field(default=None, primary_key=True)
    name: str
    mode: str
    status: str = "running"
    timezone: str = "UTC"
    default_region: str | None = None
    calling_window: dict[str, Any] | None = Field(default=None, sa_type=JsonText)
    dispositions: dict[str, str] = Field(default_factory=dict, sa_type=JsonText)
    default_disposition: str = "success"
    policy_version: int = 1
    before_call_work_seconds: float = 30.0
    after_call_work_seconds: float = 120.0
    assign_timeout_seconds: float = 300.0
    dial_timeout_seconds: float = 120.0
    max_call_seconds: float = 7200.0
    operator_wait_seconds: float = 60.0
    callback_grace_seconds: float = 900.0
    created_at: datetime | None = _time(nullable=False)


class RetryPolicyRow(SQLModel, table=True):
    """Every version of a campaign's retry policy; history entries point at one."""

    __tablename__ = "ds_retry_policy"

    campaign_id: int = Field(primary_key=True, foreign_key="ds_campaign.id")
    version: int = Field(primary_key=True)
    policy: dict[str, Any] = Field(sa_type=JsonText)
    created_at: datetime | None = _time(nullable=False)


class CampaignZoneRow(SQLModel, table=True):
    """The distinct zone sets of a campaign's contacts, so claiming can test the
    calling window once per zone set instead of once per contact."""

    __tablename__ = "ds_campaign_zone"

    campaign_id: int = Field(primary_key=True, foreign_key="ds_campaign.id")
    zone_key: str = Field(primary_key=True)


class ContactRow(SQLModel, table=True):
    __tablename__ = "ds_contact"
    __table_args__ = (
        # One valid number once per campaign; invalid numbers have phone_key NULL.
        sa.UniqueConstraint("campaign_id", "phone_key", name="uq_ds_contact_phone"),
        # Claiming: ready contacts of a campaign by priority, then readiness.
        # Partial: only entering or leaving `ready` touches them, not every transition.
        _ready_index("ix_ds_contact_claim", "campaign_id"),
        # Claiming under a calling window: the first contacts of each open zone set.
        _ready_index("ix_ds_contact_zone_claim", "campaign_id", "zone_key"),
        # The scheduler's work list: only contacts waiting for a time are in it.
        sa.Index(
            "ix_ds_contact_due_at", "due_at",
            sqlite_where=sa.text("due_at IS NOT NULL"), postgresql_where=sa.text("due_at IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="ds_campaign.id")
    phone: str
    phone_key: str | None = None
    state: str
    version: int = 1
    seq: int = 1
    attempts: int = 0
    next_attempt_at: datetime | None = _time()
    due_at: datetime | None = _time()
    operator_id: str | None = None
    callback_operator_id: str | None = None
    personal_until: datetime | None = _time()
    call_id: str | None = None
    last_outcome: str | None = None
    priority: int = 0
    timezone: str | None = None
    zone_key: str = ""
    external_id: str | None = None
    data: dict[str, Any] | None = Field(default=None, sa_type=JsonText)
    ready_since: datetime | None = _time()
    created_at: datetime | None = _time(nullable=False)
    updated_at: datetime | None = _time(nullable=False)


class HistoryRow(SQLModel, table=True):
    """One transition. Keyed by (contact, seq), which also makes a second entry for the
    same step impossible; on SQLite a WITHOUT ROWID table, so each entry writes one
    B-tree instead of a table and an index."""

    __tablename__ = "ds_history"
    __table_args__ = {"sqlite_with_rowid": False}

    contact_id: int = Field(primary_key=True, foreign_key="ds_contact.id")
    seq: int = Field(primary_key=True)
    from_state: str | None = None
    to_state: str
    trigger: str
    at: datetime | None = _time(nullable=False)
    actor: str | None = None
    attempt: int = 0
    call_id: str | None = None
    outcome: str | None = None
    raw_code: str | None = None
    dialect: str | None = None
    policy_version: int | None = None
    note: str | None = None


class BlacklistRow(SQLModel, table=True):
    __tablename__ = "ds_blacklist"

    phone: str = Field(primary_key=True)
    note: str | None = None
    created_at: datetime | None = _time(nullable=False)


class IdempotencyRow(SQLModel, table=True):
    """A trigger call made with an idempotency key, and the snapshot it returned."""

    __tablename__ = "ds_idempotency"

    key: str = Field(primary_key=True)
    contact_id: int
    trigger: str
    snapshot: dict[str, Any] = Field(sa_type=JsonText)
    created_at: datetime | None = _time(nullable=False)


class SchemaInfoRow(SQLModel, table=True):
    __tablename__ = "ds_schema_info"

    id: int = Field(default=1, primary_key=True)
    version: int
