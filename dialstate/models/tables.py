"""The tables, declared once with SQLModel.

The contact row is the truth: its `state`, its `version` (the compare-and-set guard),
its current `call_id`, its numbers with their own state, and the due times the
scheduler needs (`next_attempt_at`, `due_at`). Nothing due lives only in memory.

A few structures serve one backend only (declared for both, created where used):
the transition feed's positions are `ds_history.position` on SQLite (one writer: a
position per entry in commit order), and `ds_history.tx`/`ordinal` with `ds_commit`
on PostgreSQL (a transaction's entries get their positions when it commits).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from dialstate.models.types import JsonText, UtcEpoch

#: Bumped whenever the tables change; the engine refuses an older database.
SCHEMA_VERSION = 3


#: Indexes that exist on one backend only: the name -> that backend.
BACKEND_ONLY_INDEXES = {"ix_ds_history_position": "sqlite", "ix_ds_history_tx": "postgresql"}


def _backend_index(name: str, *columns: str, **kw: Any) -> sa.Index:
    return sa.Index(name, *columns, **kw).ddl_if(dialect=BACKEND_ONLY_INDEXES[name])


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
    #: How bare digits (no +, no trunk prefix) are read: check, national or international.
    bare_numbers: str = "check"
    #: Whether an external id already in the campaign makes a contact a duplicate.
    unique_external_ids: bool = False
    #: Bumped by each `update_campaign`: the engine's cache of the settings follows it.
    settings_version: int = 1
    created_at: datetime | None = _time(nullable=False)


class CampaignChangeRow(SQLModel, table=True):
    """One setting changed by `update_campaign`: who, when, old and new (as JSON)."""

    __tablename__ = "ds_campaign_change"
    __table_args__ = (sa.Index("ix_ds_campaign_change_campaign", "campaign_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="ds_campaign.id")
    at: datetime | None = _time(nullable=False)
    actor: str | None = None
    setting: str
    old: str | None = None
    new: str | None = None


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
        # Finding a CRM's contact (every campaign, or one).
        sa.Index(
            "ix_ds_contact_external_id", "external_id", "campaign_id",
            sqlite_where=sa.text("external_id IS NOT NULL"), postgresql_where=sa.text("external_id IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="ds_campaign.id")
    #: The number of the current or last call, else the first one: as given when invalid.
    phone: str
    #: That number in E.164 (None when it is not a valid number).
    phone_key: str | None = None
    #: The contact's numbers in order, each with its own state (JSON), when it has
    #: several; NULL for a contact with one number, which the columns describe.
    numbers: list[dict[str, Any]] | None = Field(default=None, sa_type=JsonText)
    #: When the contact was last dialed.
    last_attempt_at: datetime | None = _time()
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


class NumberRow(SQLModel, table=True):
    """Each valid number of each contact, once per campaign: the duplicate check, and
    finding a number's contacts (a lookup, the blacklist). A contact's own numbers are
    read from its row, so nothing indexes them by contact: an import writes one B-tree
    per number (on SQLite a WITHOUT ROWID table). `contact_id` has no foreign key: on
    PostgreSQL an import claims a batch's numbers before it inserts the contacts that
    got theirs."""

    __tablename__ = "ds_number"
    __table_args__ = {"sqlite_with_rowid": False}

    campaign_id: int = Field(primary_key=True, foreign_key="ds_campaign.id")
    phone_key: str = Field(primary_key=True)
    contact_id: int


class HistoryRow(SQLModel, table=True):
    """One transition. Keyed by (contact, seq), which also makes a second entry for the
    same step impossible; on SQLite a WITHOUT ROWID table, so each entry writes one
    B-tree for its key (and one for its feed position) instead of a table and indexes."""

    __tablename__ = "ds_history"
    __table_args__ = (
        # The feed on SQLite: entries in commit order.
        _backend_index("ix_ds_history_position", "position", unique=True),
        # The feed on PostgreSQL: a transaction's entries in the order it wrote them.
        _backend_index("ix_ds_history_tx", "tx", "ordinal"),
        # Finding the contact of a call, past ones too (a late webhook).
        sa.Index(
            "ix_ds_history_call", "call_id",
            sqlite_where=sa.text("trigger IN ('dial', 'dial_failed')"),
            postgresql_where=sa.text("trigger IN ('dial', 'dial_failed')"),
        ),
        {"sqlite_with_rowid": False},
    )

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
    #: The number dialed, on the entries of a dial and of a call's end.
    phone: str | None = None
    #: SQLite: the entry's position in the transition feed.
    position: int | None = Field(default=None, sa_type=sa.BigInteger)
    #: PostgreSQL: the transaction that wrote the entry, and the entry's place in it.
    tx: int | None = Field(default=None, sa_type=sa.BigInteger)
    ordinal: int | None = None


class CommitRow(SQLModel, table=True):
    """PostgreSQL: the feed positions a committed transaction's entries took,
    `base` .. `last` (= base + n - 1), handed out in commit order."""

    __tablename__ = "ds_commit"
    __table_args__ = (sa.Index("ix_ds_commit_last", "last"),)

    tx: int = Field(primary_key=True, sa_type=sa.BigInteger)
    base: int = Field(sa_type=sa.BigInteger)
    n: int
    last: int = Field(sa_type=sa.BigInteger)


class FeedRow(SQLModel, table=True):
    """PostgreSQL: the next feed position (one row; its lock orders the commits)."""

    __tablename__ = "ds_feed"

    id: int = Field(default=1, primary_key=True)
    next: int = Field(default=1, sa_type=sa.BigInteger)


class ConsumerRow(SQLModel, table=True):
    """Where a named subscriber of the feed stopped."""

    __tablename__ = "ds_consumer"

    name: str = Field(primary_key=True)
    position: int = Field(default=0, sa_type=sa.BigInteger)
    updated_at: datetime | None = _time(nullable=False)


class StatRow(SQLModel, table=True):
    """A campaign's counters, kept in the transitions' own transactions: contacts by
    state (`kind` s), finished attempts by outcome (o), answered calls (a)."""

    __tablename__ = "ds_stat"

    campaign_id: int = Field(primary_key=True, foreign_key="ds_campaign.id")
    kind: str = Field(primary_key=True)
    key: str = Field(primary_key=True)
    n: int = Field(default=0, sa_type=sa.BigInteger)


class StatDeltaRow(SQLModel, table=True):
    """PostgreSQL: a transaction's changes to the counters, added as rows of their own
    (concurrent transitions never wait for a shared counter row) and folded into
    `ds_stat` now and then (`campaign_stats` reads both)."""

    __tablename__ = "ds_stat_delta"
    __table_args__ = (sa.Index("ix_ds_stat_delta_campaign", "campaign_id"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger)
    campaign_id: int
    kind: str
    key: str
    n: int = Field(sa_type=sa.BigInteger)


class BlacklistRow(SQLModel, table=True):
    """A number never to call: everywhere (`campaign_id` 0) or in one campaign, for
    good or until `expires_at`."""

    __tablename__ = "ds_blacklist"
    __table_args__ = (
        sa.Index("ix_ds_blacklist_expires", "expires_at",
                 sqlite_where=sa.text("expires_at IS NOT NULL"), postgresql_where=sa.text("expires_at IS NOT NULL")),
    )

    phone: str = Field(primary_key=True)
    campaign_id: int = Field(default=0, primary_key=True)
    expires_at: datetime | None = _time()
    note: str | None = None
    actor: str | None = None
    created_at: datetime | None = _time(nullable=False)


class IdempotencyRow(SQLModel, table=True):
    """A trigger call made with an idempotency key, and the snapshot it returned."""

    __tablename__ = "ds_idempotency"

    key: str = Field(primary_key=True)
    contact_id: int
    trigger: str
    #: What the call was asked to do (its arguments), so a reuse for something else is refused.
    fingerprint: str | None = None
    snapshot: dict[str, Any] = Field(sa_type=JsonText)
    created_at: datetime | None = _time(nullable=False)


class SchemaInfoRow(SQLModel, table=True):
    __tablename__ = "ds_schema_info"

    id: int = Field(default=1, primary_key=True)
    version: int
