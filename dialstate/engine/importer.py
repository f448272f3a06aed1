"""`add_contacts`: streaming import in batches, one transaction for the whole call.

Each batch is prepared by a pure function (phone parsing, zone resolution, field
checks) that can run in worker processes; the writes are two `executemany` per batch
(contacts, then their first history entries) with ids allocated up front.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any

from dialstate.engine.base import INSERT_HISTORY, EngineBase
from dialstate.engine.phones import parse_phone
from dialstate.engine.snapshots import ImportReport
from dialstate.engine.states import ContactState
from dialstate.errors import CampaignNotFound, ConfigurationError, InvalidArgument
from dialstate.policy import CallingWindow, resolve_zones, validate_timezone

S = ContactState
BATCH = 2000
FIELDS = ("phone", "external_id", "priority", "timezone", "data")

_INSERT_CONTACT = (
    "INSERT INTO ds_contact (id, campaign_id, phone, phone_key, state, version, seq, attempts,"
    " priority, timezone, zone_key, external_id, data, ready_since, created_at, updated_at)"
    " VALUES (?, ?, ?, ?, ?, 1, 1, 0, ?, ?, ?, ?, ?, ?, ?, ?)"
)


@dataclass(frozen=True, slots=True)
class Prepared:
    """One input row, checked: the phone as stored, its key (E.164 or None) and why
    it is invalid when it is."""

    phone: str
    phone_key: str | None
    reason: str | None
    priority: int
    timezone: str | None
    zone_key: str
    external_id: str | None
    data: str | None


@dataclass(frozen=True)
class ImportSettings:
    """What preparing a row needs of its campaign (picklable, for worker processes)."""

    region: str | None
    window: CallingWindow | None
    timezone: str
    at: datetime


def prepare(item: object, settings: ImportSettings, index: int) -> Prepared:
    if isinstance(item, Mapping):
        unknown = set(item) - set(FIELDS)
        if unknown:
            raise InvalidArgument(
                f"contact #{index}: unknown field(s) {sorted(unknown)}; allowed: {', '.join(FIELDS)}"
                " (put anything else in 'data')"
            )
        raw = item.get("phone")
        priority = item.get("priority") or 0
        tz = item.get("timezone") or None
        external_id = item.get("external_id")
        data = item.get("data")
    else:
        raw, priority, tz, external_id, data = item, 0, None, None, None
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise InvalidArgument(f"contact #{index}: priority must be an integer, got {priority!r}")
    if tz is not None:
        try:
            validate_timezone(tz)
        except ConfigurationError as exc:
            raise InvalidArgument(f"contact #{index}: {exc}") from None
    if data is not None and not isinstance(data, Mapping):
        raise InvalidArgument(f"contact #{index}: data must be a mapping, got {type(data).__name__}")
    try:
        data_text = json.dumps(data, separators=(",", ":"), sort_keys=True) if data else None
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(f"contact #{index}: data is not JSON-serializable ({exc})") from None
    e164, reason = parse_phone(raw, settings.region)
    zones = resolve_zones(settings.window, tz, e164, settings.timezone, at=settings.at)
    return Prepared(
        phone=e164 if e164 is not None else ("" if raw is None else str(raw)),
        phone_key=e164, reason=reason, priority=priority, timezone=tz,
        zone_key="|".join(zones), external_id=None if external_id is None else str(external_id),
        data=data_text,
    )


def prepare_batch(items: Sequence[object], settings: ImportSettings, start: int) -> list[Prepared]:
    return [prepare(item, settings, start + i) for i, item in enumerate(items)]


def batches(items: Iterable[object], size: int = BATCH) -> Iterator[list[object]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


class ImportMixin(EngineBase):
    def add_contacts(self, campaign_id: int, contacts: Iterable[object], *,
                     actor: str | None = None) -> ImportReport:
        """Add contacts (phone strings or dicts with `phone, external_id, priority,
        timezone, data`), streaming in batches, in one transaction."""
        if isinstance(contacts, (str, bytes, Mapping)):
            raise InvalidArgument("contacts must be an iterable of phone numbers or dicts, not a single one")
        db = self._db
        now = self.now().timestamp()
        with db.transaction() as conn:
            row = db.execute(conn, "SELECT policy_version FROM ds_campaign WHERE id = ?", (campaign_id,)).fetchone()
            if row is None:
                raise CampaignNotFound(campaign_id)
            cfg = self._config(conn, campaign_id, row[0])
            settings = ImportSettings(cfg.default_region, cfg.window, cfg.timezone, self.now())
            prepared_batches = self._prepared(contacts, settings)
            report = self._write_batches(conn, campaign_id, cfg.policy_version, prepared_batches, now, actor)
        return report

    def _prepared(self, contacts: Iterable[object], settings: ImportSettings) -> Iterator[list[Prepared]]:
        start = 0
        for chunk in batches(contacts):
            yield prepare_batch(chunk, settings, start)
            start += len(chunk)

    def _write_batches(self, conn: Any, campaign_id: int, policy_version: int,
                       prepared_batches: Iterable[list[Prepared]], now: float,
                       actor: str | None) -> ImportReport:
        db = self._db
        added = invalid = blacklisted = duplicates = 0
        ids: list[int] = []
        zone_keys: set[str] = set()
        next_id = None if db.is_pg else db.execute(conn, "SELECT COALESCE(MAX(id), 0) FROM ds_contact").fetchone()[0] + 1
        for batch in prepared_batches:
            keys = list({p.phone_key for p in batch if p.phone_key})
            existing = self._existing(conn, "SELECT phone_key FROM ds_contact WHERE campaign_id = ? AND phone_key IN ({})",
                                      (campaign_id,), keys)
            banned = self._existing(conn, "SELECT phone FROM ds_blacklist WHERE phone IN ({})", (), keys)
            keep: list[Prepared] = []
            for p in batch:
                if p.phone_key is not None:
                    if p.phone_key in existing:
                        duplicates += 1
                        continue
                    existing.add(p.phone_key)
                keep.append(p)
            if not keep:
                continue
            if next_id is None:
                new_ids = [r[0] for r in db.execute(
                    conn, "SELECT nextval(pg_get_serial_sequence('ds_contact', 'id')) FROM generate_series(1, ?)",
                    (len(keep),),
                ).fetchall()]
            else:
                new_ids = list(range(next_id, next_id + len(keep)))
                next_id += len(keep)
            contact_rows, history_rows = [], []
            for cid, p in zip(new_ids, keep, strict=True):
                if p.reason is not None:
                    state, note = S.INVALID_RECORD, p.reason
                    invalid += 1
                elif p.phone_key in banned:
                    state, note = S.BLACKLISTED, "the number is on the blacklist"
                    blacklisted += 1
                else:
                    state, note = S.READY, None
                ready_since = now if state is S.READY else None
                contact_rows.append((
                    cid, campaign_id, p.phone, p.phone_key, state.value, p.priority, p.timezone,
                    p.zone_key, p.external_id, p.data, ready_since, now, now,
                ))
                history_rows.append((
                    cid, 1, None, state.value, "add", now, actor, 0, None, None, None, None,
                    policy_version, note,
                ))
                if p.zone_key not in zone_keys:
                    zone_keys.add(p.zone_key)
                    self._add_zone_key(conn, campaign_id, p.zone_key)
            db.executemany(conn, _INSERT_CONTACT, contact_rows)
            db.executemany(conn, INSERT_HISTORY, history_rows)
            added += len(keep)
            ids.extend(new_ids)
        return ImportReport(added, invalid, blacklisted, duplicates, ids)

    def _existing(self, conn: Any, sql: str, params: tuple[Any, ...], keys: list[str]) -> set[str]:
        found: set[str] = set()
        db = self._db
        for i in range(0, len(keys), 500):
            part = keys[i:i + 500]
            found.update(r[0] for r in db.execute(conn, sql.format(db.placeholders(len(part))), (*params, *part)).fetchall())
        return found

    def _add_zone_key(self, conn: Any, campaign_id: int, zone_key: str) -> None:
        self._db.execute(
            conn,
            "INSERT INTO ds_campaign_zone (campaign_id, zone_key) VALUES (?, ?)"
            " ON CONFLICT (campaign_id, zone_key) DO NOTHING",
            (campaign_id, zone_key),
        )
