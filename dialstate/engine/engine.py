"""`Engine`: the public API, assembled from the engine's parts."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from dialstate.engine.base import Clock
from dialstate.engine.campaigns import CampaignsMixin
from dialstate.engine.claims import ClaimsMixin
from dialstate.engine.config import CampaignConfig
from dialstate.engine.importer import Adapter, ImportMixin, RejectHook, check_contacts
from dialstate.engine.snapshots import Campaign, ImportReport
from dialstate.engine.timers import TimersMixin

#: How often a retry time is re-adjusted for rolling limits and the calling window
#: before giving up on making both agree (they converge in one or two rounds).
_MAX_ROUNDS = 16


class Engine(TimersMixin, ClaimsMixin, CampaignsMixin, ImportMixin):
    """Runs campaigns whose contacts are state machines persisted in SQL.

    `Engine(url="sqlite:///dialstate.db", clock=None)`: SQLite by default (a file, in
    WAL mode with a busy timeout), PostgreSQL (`postgresql+psycopg://...`) for several
    processes. `clock` returns an aware datetime, so tests and simulations control time.
    The tables are created when missing.
    """

    def __init__(self, url: str = "sqlite:///dialstate.db", clock: Clock | None = None) -> None:
        super().__init__(url, clock)

    def create_campaign_with_contacts(
        self, name: str, contacts: Iterable[object], *, actor: str | None = None,
        on_reject: RejectHook | None = None, adapt: Adapter | None = None, **settings: Any,
    ) -> tuple[Campaign, ImportReport]:
        """`create_campaign(name, **settings)` and `add_contacts(contacts, actor=,
        on_reject=, adapt=)` in one transaction: when the import fails (a bad item, an
        error raised by `contacts` or `adapt`, an interrupt) there is no campaign
        either. Returns (the campaign, the import report)."""
        check_contacts(contacts)
        columns, policy = self._campaign_columns(name, **settings)
        campaign_id = None
        try:
            with self._db.transaction() as conn:
                campaign_id = self._insert_campaign(conn, columns, policy)
                report = self._import_into(conn, campaign_id, contacts, actor, on_reject, adapt)
        except BaseException:
            if campaign_id is not None:  # rolled back: SQLite gives the id out again
                self._forget_campaign(campaign_id)
            raise
        return self.get_campaign(campaign_id), report

    def _prepare_schema(self) -> None:
        """Create an empty database (stamped at the newest migration); refuse one whose
        schema is older than this code (`SchemaOutOfDate`: run `dialstate db upgrade`)."""
        from dialstate.models.schema import prepare_schema

        prepare_schema(self._db)

    def _retry_time(self, conn: Any, row: dict[str, Any], cfg: CampaignConfig, wanted: float,
                    counted: bool) -> float:
        """The earliest time at or after `wanted` that keeps the policy's rolling caps
        and falls inside the contact's calling window."""
        policy, window = cfg.policy, cfg.window
        if not policy.rolling_limits and window is None:
            return wanted
        times = self._attempt_times(conn, row, counted) if policy.rolling_limits else []
        zones = tuple(row["zone_key"].split("|")) if row["zone_key"] else (cfg.timezone,)
        t = datetime.fromtimestamp(wanted, UTC)
        for _ in range(_MAX_ROUNDS):
            before = t
            if policy.rolling_limits:
                t = policy.earliest_allowed(times, t)
            if window is not None:
                opening = window.next_opening(zones, t)
                if opening is not None:
                    t = opening
            if t == before:
                break
        return t.timestamp()

    def _attempt_times(self, conn: Any, row: dict[str, Any], counted: bool) -> list[datetime]:
        """When the contact's counted attempts were made (a congested attempt, not
        counted, is redialed under the same attempt number: its last dial counts)."""
        rows = self._db.execute(
            conn,
            "SELECT attempt, MAX(at) FROM ds_history WHERE contact_id = ? AND trigger = 'dial' GROUP BY attempt",
            (row["id"],),
        ).fetchall()
        current = row["attempts"] if not counted else None
        return [datetime.fromtimestamp(at, UTC) for attempt, at in rows if attempt != current]
