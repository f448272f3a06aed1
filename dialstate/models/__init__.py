"""Table definitions (SQLModel)."""

from dialstate.models.tables import (
    SCHEMA_VERSION,
    BlacklistRow,
    CampaignRow,
    CampaignZoneRow,
    ContactRow,
    HistoryRow,
    IdempotencyRow,
    RetryPolicyRow,
    SchemaInfoRow,
)

__all__ = [
    "SCHEMA_VERSION",
    "BlacklistRow",
    "CampaignRow",
    "CampaignZoneRow",
    "ContactRow",
    "HistoryRow",
    "IdempotencyRow",
    "RetryPolicyRow",
    "SchemaInfoRow",
]
