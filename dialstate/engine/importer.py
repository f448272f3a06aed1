"""`add_contacts`: streaming import in batches, one transaction for the whole call.

Each batch is prepared by a pure function (phone parsing, zone resolution, field
checks); a large input is prepared in worker processes, a bounded number of batches
ahead, while this process writes. The writes are two `executemany` per batch
(contacts, then their first history entries) with ids allocated up front, all in the
caller's one transaction.
"""

from __future__ import annotations

import json
import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any, NamedTuple

from dialstate.engine.base import INSERT_HISTORY, EngineBase
from dialstate.engine.phones import phone_and_zones
from dialstate.engine.snapshots import ImportReport
from dialstate.engine.states import ContactState
from dialstate.errors import CampaignNotFound, ConfigurationError, InvalidArgument
from dialstate.policy import CallingWindow, validate_timezone

S = ContactState
BATCH = 2000
FIELDS = ("phone", "external_id", "priority", "timezone", "data")
#: Inputs longer than this are prepared in worker processes (starting them costs
#: more than parsing a few thousand numbers here).
PARALLEL_AFTER = 20_000
#: Batches handed to the workers ahead of the writer, per worker: bounds memory.
AHEAD_PER_WORKER = 2

#: `on_reject(index, item, result, reason)`: told of each input item that did not
#: become a `ready` contact; `result` is `invalid_record`, `blacklisted` or `duplicate`.
RejectHook = Callable[[int, object, str, str], Any]

_INSERT_READY_HISTORY = (
    "INSERT INTO ds_history (contact_id, seq, from_state, to_state, trigger, at, actor, attempt,"
    " call_id, outcome, raw_code, dialect, policy_version, note)"
    " SELECT id, 1, NULL, state, 'add', created_at, ?, 0, NULL, NULL, NULL, NULL, ?, NULL"
    " FROM ds_contact WHERE id IN ({})"
)
_INSERT_CONTACT = (
    "INSERT INTO ds_contact (id, campaign_id, phone, phone_key, state, version, seq, attempts,"
    " priority, timezone, zone_key, external_id, data, ready_since, created_at, updated_at)"
    " VALUES (?, ?, ?, ?, ?, 1, 1, 0, ?, ?, ?, ?, ?, ?, ?, ?)"
)


class Prepared(NamedTuple):
    """One input row, checked: the phone as stored, its key (E.164 or None) and why
    it is invalid when it is. (A tuple: it crosses process boundaries cheaply.)"""

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


#: One encoder for every row: `json.dumps` with options builds a new one per call.
_JSON = json.JSONEncoder(separators=(",", ":"), sort_keys=True)
_FIELD_SET = frozenset(FIELDS)


def prepare(item: object, settings: ImportSettings, index: int) -> Prepared:
    if type(item) is dict or isinstance(item, Mapping):
        if not _FIELD_SET.issuperset(item):
            unknown = set(item) - _FIELD_SET
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
        data_text = _JSON.encode(data) if data else None
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(f"contact #{index}: data is not JSON-serializable ({exc})") from None
    e164, reason, zones = phone_and_zones(raw, settings.region, settings.window, tz, settings.timezone,
                                          settings.at)
    return Prepared(
        e164 if e164 is not None else ("" if raw is None else str(raw)),
        e164, reason, priority, tz, "|".join(zones),
        None if external_id is None else str(external_id), data_text,
    )


def prepare_batch(items: Sequence[object], settings: ImportSettings, start: int) -> list[Prepared]:
    return [prepare(item, settings, start + i) for i, item in enumerate(items)]


def batches(items: Iterable[object], size: int = BATCH) -> Iterator[list[object]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def prepared_batches(items: Iterable[object], settings: ImportSettings, *, workers: int | None = None,
                     parallel_after: int | None = None) -> Iterator[tuple[int, list[object], list[Prepared]]]:
    """(start index, input items, prepared rows) per batch, in input order.

    The first `parallel_after` items are prepared here; when more follow, the rest go
    to a pool of worker processes with at most `AHEAD_PER_WORKER` batches per worker
    in flight, so memory stays bounded whatever the input's length.
    """
    chunks = batches(items)
    start = 0
    serial = PARALLEL_AFTER if parallel_after is None else parallel_after
    for chunk in chunks:
        yield start, chunk, prepare_batch(chunk, settings, start)
        start += len(chunk)
        if start >= serial:
            break
    else:
        return
    count = workers if workers is not None else min(os.cpu_count() or 1, 8)
    context = _fork_context()
    if count < 2 or context is None:
        for chunk in chunks:
            yield start, chunk, prepare_batch(chunk, settings, start)
            start += len(chunk)
        return
    with ProcessPoolExecutor(count, mp_context=context) as pool:
        pending: deque[tuple[int, list[object], Future[list[Prepared]]]] = deque()
        try:
            for chunk in chunks:
                pending.append((start, chunk, pool.submit(prepare_batch, chunk, settings, start)))
                start += len(chunk)
                if len(pending) >= count * AHEAD_PER_WORKER:
                    first, items_, future = pending.popleft()
                    yield first, items_, future.result()
            while pending:
                first, items_, future = pending.popleft()
                yield first, items_, future.result()
        finally:
            for _, _, future in pending:
                future.cancel()


def _fork_context() -> Any:
    """The `fork` start method when it is safe: workers then inherit the loaded phone
    metadata and start in milliseconds. A process with other threads (a scheduler
    running in the background, say) must not fork, and `spawn` would re-run an
    unguarded main script: such a process prepares its batches itself."""
    import multiprocessing

    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return None


#: The first key of the PostgreSQL advisory lock an import holds on its campaign.
IMPORT_LOCK = 7411301
#: SQLite page cache while importing (KiB): a big import inserts into indexes keyed by
#: phone numbers, whose pages the default 2 MB cache keeps evicting.
IMPORT_CACHE_KIB = 65536


@contextmanager
def _import_cache(db: Any, conn: Any) -> Iterator[None]:
    """A larger SQLite page cache for the import, the connection's own afterwards."""
    if db.is_pg:
        yield
        return
    before = conn.execute("PRAGMA cache_size").fetchone()[0]
    conn.execute(f"PRAGMA cache_size = -{IMPORT_CACHE_KIB}")
    try:
        yield
    finally:
        conn.execute(f"PRAGMA cache_size = {int(before)}")


def _by_phone_key(row: tuple[Any, ...]) -> str:
    return row[3] or ""


class ImportMixin(EngineBase):
    def add_contacts(self, campaign_id: int, contacts: Iterable[object], *,
                     actor: str | None = None, on_reject: RejectHook | None = None) -> ImportReport:
        """Add contacts (phone strings or dicts with `phone, external_id, priority,
        timezone, data`), streaming in batches, in one transaction.

        `on_reject(index, item, result, reason)` hears of every item that did not
        become a `ready` contact (`invalid_record`, `blacklisted` or `duplicate`).
        """
        if isinstance(contacts, (str, bytes, Mapping)):
            raise InvalidArgument("contacts must be an iterable of phone numbers or dicts, not a single one")
        db = self._db
        now = self.now().timestamp()
        with db.transaction() as conn, _import_cache(db, conn):
            row = db.execute(conn, "SELECT policy_version FROM ds_campaign WHERE id = ?", (campaign_id,)).fetchone()
            if row is None:
                raise CampaignNotFound(campaign_id)
            if db.is_pg:
                # Imports into one campaign take turns, so each sees the numbers the
                # other added (SQLite's writer lock already serializes them).
                db.execute(conn, "SELECT pg_advisory_xact_lock(?, ?)", (IMPORT_LOCK, campaign_id))
            cfg = self._config(conn, campaign_id, row[0])
            settings = ImportSettings(cfg.default_region, cfg.window, cfg.timezone, self.now())
            report = self._write_batches(conn, campaign_id, cfg.policy_version,
                                         prepared_batches(contacts, settings), now, actor, on_reject)
        return report

    def _write_batches(self, conn: Any, campaign_id: int, policy_version: int,
                       batches_: Iterable[tuple[int, list[object], list[Prepared]]], now: float,
                       actor: str | None, on_reject: RejectHook | None) -> ImportReport:
        db = self._db
        added = invalid = blacklisted = duplicates = 0
        ids: list[int] = []
        zone_keys: set[str] = set()
        next_id = None
        if not db.is_pg:
            next_id = db.execute(conn, "SELECT COALESCE(MAX(id), 0) FROM ds_contact").fetchone()[0] + 1
        ready, invalid_state, banned_state = S.READY.value, S.INVALID_RECORD.value, S.BLACKLISTED.value
        banned_note = "the number is on the blacklist"
        for start, items, batch in batches_:
            keys = list({p.phone_key for p in batch if p.phone_key})
            existing = self._existing(
                conn, "SELECT phone_key FROM ds_contact WHERE campaign_id = ? AND phone_key IN ({})",
                (campaign_id,), keys,
            )
            banned: set[str] = set()
            if db.execute(conn, "SELECT 1 FROM ds_blacklist LIMIT 1").fetchone() is not None:
                banned = self._existing(conn, "SELECT phone FROM ds_blacklist WHERE phone IN ({})", (), keys)
            keep: list[tuple[int, Prepared]] = []
            for offset, p in enumerate(batch):
                if p.phone_key is not None:
                    if p.phone_key in existing:
                        duplicates += 1
                        if on_reject is not None:
                            on_reject(start + offset, items[offset], "duplicate",
                                      f"{p.phone_key} is already in the campaign")
                        continue
                    existing.add(p.phone_key)
                keep.append((offset, p))
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
            ready_ids: list[int] = []
            for cid, (offset, p) in zip(new_ids, keep, strict=True):
                if p.reason is not None:
                    state, note = invalid_state, p.reason
                    invalid += 1
                elif banned and p.phone_key in banned:
                    state, note = banned_state, banned_note
                    blacklisted += 1
                else:
                    state, note = ready, None
                if note is not None and on_reject is not None:
                    on_reject(start + offset, items[offset], state, note)
                contact_rows.append((
                    cid, campaign_id, p.phone, p.phone_key, state, p.priority, p.timezone,
                    p.zone_key, p.external_id, p.data, now if state == ready else None, now, now,
                ))
                if note is None:
                    ready_ids.append(cid)
                else:  # the ready ones get their first entry set-wise, below
                    history_rows.append((
                        cid, 1, None, state, "add", now, actor, 0, None, None, None, None,
                        policy_version, note,
                    ))
                if p.zone_key not in zone_keys:
                    zone_keys.add(p.zone_key)
                    self._add_zone_key(conn, campaign_id, p.zone_key)
            # In phone order: the phone indexes then grow in runs instead of at random
            # pages (ids stay in input order).
            contact_rows.sort(key=_by_phone_key)
            db.executemany(conn, _INSERT_CONTACT, contact_rows)
            # The first entry of every ready contact, written by the database from the
            # rows just inserted (looked up by primary key).
            if ready_ids:
                db.execute(conn, _INSERT_READY_HISTORY.format(db.placeholders(len(ready_ids))),
                           (actor, policy_version, *ready_ids))
            if history_rows:
                db.executemany(conn, INSERT_HISTORY, history_rows)
            added += len(keep)
            ids.extend(new_ids)
        return ImportReport(added, invalid, blacklisted, duplicates, ids)

    def _existing(self, conn: Any, sql: str, params: tuple[Any, ...], keys: list[str]) -> set[str]:
        found: set[str] = set()
        db = self._db
        for i in range(0, len(keys), 500):
            part = keys[i:i + 500]
            rows = db.execute(conn, sql.format(db.placeholders(len(part))), (*params, *part)).fetchall()
            found.update(r[0] for r in rows)
        return found

    def _add_zone_key(self, conn: Any, campaign_id: int, zone_key: str) -> None:
        self._db.execute(
            conn,
            "INSERT INTO ds_campaign_zone (campaign_id, zone_key) VALUES (?, ?)"
            " ON CONFLICT (campaign_id, zone_key) DO NOTHING",
            (campaign_id, zone_key),
        )
