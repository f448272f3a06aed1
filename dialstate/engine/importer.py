"""`add_contacts`: streaming import in batches, one transaction for the whole call.

Each batch is prepared by a pure function (the caller's `adapt`, field checks, phone
parsing, zone resolution, repeats within the batch) into the very rows the contact
INSERT takes; a large input is prepared in worker processes, a bounded number of
batches ahead, while this process writes. Per batch the writer runs one contact
`executemany` (ids from the batch's first id, in input order; a number already in the
campaign is skipped by the unique index and reported after) and one set-wise INSERT of
the first history entries, all in the caller's one transaction.
"""

from __future__ import annotations

import json
import os
import pickle
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from operator import itemgetter
from typing import Any, NamedTuple

from dialstate.engine.base import INSERT_HISTORY, EngineBase, log
from dialstate.engine.snapshots import ImportReport
from dialstate.engine.states import ContactState
from dialstate.errors import CampaignNotFound, ConfigurationError, InvalidArgument, SkipRow
from dialstate.phones import phone_and_zones
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
#: become a `ready` contact; `result` is `invalid_record`, `blacklisted`, `duplicate`
#: or `skipped` (the `adapt` function refused it).
RejectHook = Callable[[int, object, str, str], Any]
#: `adapt(item)`: turns an input item of the caller's own shape into a phone string or
#: a contact dict; raises `SkipRow(reason)` to leave the item out.
Adapter = Callable[[Any], object]

_INSERT_READY_HISTORY = (
    "INSERT INTO ds_history (contact_id, seq, from_state, to_state, trigger, at, actor, attempt,"
    " call_id, outcome, raw_code, dialect, policy_version, note)"
    " SELECT id, 1, NULL, state, 'add', created_at, ?, 0, NULL, NULL, NULL, NULL, ?, NULL"
    " FROM ds_contact WHERE id IN ({})"
)
#: PostgreSQL takes the ids as one array: it plans a long IN list slowly.
_INSERT_READY_HISTORY_PG = _INSERT_READY_HISTORY.replace("IN ({})", "= ANY(?)")
#: SQLite: a row starts with its position in the batch, and `{first}` is the batch's
#: first id, so the rows the workers made go in untouched.
_INSERT_CONTACT = (
    "INSERT INTO ds_contact (id, campaign_id, phone, phone_key, state, version, seq, attempts,"
    " priority, timezone, zone_key, external_id, data, ready_since, created_at, updated_at)"
    " VALUES (? + {first}, ?, ?, ?, ?, 1, 1, 0, ?, ?, ?, ?, ?, ?, ?, ?)"
    # A number already in the campaign is not added again: the unique index finds it
    # while inserting (no lookup before), and the rows it left out are looked up after.
    " ON CONFLICT (campaign_id, phone_key) DO NOTHING"
)


class PreparedBatch(NamedTuple):
    """One batch of input items, checked, in the shape the writer needs (it crosses
    the process boundary once per batch, as plain tuples, which pickle cheaply).

    `rows` are the contact rows in input order, each starting with its position in
    the batch (its id is the batch's first id plus that), then the INSERT's columns:
    `ready` for a valid number, `invalid_record` (the reason in `invalid`) otherwise.
    A number repeated within the batch counts once; the repeats and the items `adapt`
    refused are in `rejected`.
    """

    rows: list[tuple[Any, ...]]
    #: The input offset of each row; None when every item became a row (row i is item i).
    offsets: list[int] | None
    #: (row position, why the number is invalid) of the `invalid_record` rows.
    invalid: list[tuple[int, str]]
    #: (input offset, result, reason) of the items that did not become rows, in order.
    rejected: list[tuple[int, str, str]]
    zone_keys: frozenset[str]


#: Positions in a prepared contact row.
POSITION, KEY, STATE, ZONE = 0, 3, 4, 7


@dataclass(frozen=True)
class ImportSettings:
    """What preparing a row needs of its campaign (picklable, for worker processes)."""

    region: str | None
    window: CallingWindow | None
    timezone: str
    at: datetime
    campaign_id: int = 0
    adapt: Adapter | None = None


#: One encoder for every row: `json.dumps` with options builds a new one per call.
_JSON = json.JSONEncoder(separators=(",", ":"), sort_keys=True)
_FIELD_SET = frozenset(FIELDS)


def prepare(item: object, settings: ImportSettings, index: int) -> tuple[Any, ...]:
    """(phone as stored, E.164 or None, why it is invalid or None, priority, time zone,
    zone key, external id, data as JSON) of one input item; a malformed item raises."""
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
    return (
        e164 if e164 is not None else ("" if raw is None else str(raw)),
        e164, reason, priority, tz, "|".join(zones),
        None if external_id is None else str(external_id), data_text,
    )


def prepare_batch(items: Sequence[object], settings: ImportSettings, start: int) -> PreparedBatch:
    """The contact rows of `items` (input indexes from `start`), ready to insert but for
    the batch's first id, with the invalid numbers and the repeats within the batch set
    apart."""
    campaign_id, now, adapt = settings.campaign_id, settings.at.timestamp(), settings.adapt
    ready, invalid_state = S.READY.value, S.INVALID_RECORD.value
    rows: list[tuple[Any, ...]] = []
    offsets: list[int] = []
    invalid: list[tuple[int, str]] = []
    rejected: list[tuple[int, str, str]] = []
    seen: set[str] = set()
    zone_keys: set[str] = set()
    for offset, item in enumerate(items):
        if adapt is not None:
            try:
                item = adapt(item)
            except SkipRow as exc:
                rejected.append((offset, "skipped", str(exc)))
                continue
        phone, key, reason, priority, tz, zone_key, external_id, data = prepare(item, settings, start + offset)
        if key is not None:
            if key in seen:
                rejected.append((offset, "duplicate", f"{key} is already in the campaign"))
                continue
            seen.add(key)
        position = len(rows)
        if reason is None:
            rows.append((position, campaign_id, phone, key, ready, priority, tz, zone_key, external_id, data,
                         now, now, now))
        else:
            invalid.append((position, reason))
            rows.append((position, campaign_id, phone, key, invalid_state, priority, tz, zone_key, external_id,
                         data, None, now, now))
        offsets.append(offset)
        zone_keys.add(zone_key)
    return PreparedBatch(rows, offsets if rejected else None, invalid, rejected, frozenset(zone_keys))


def batches(items: Iterable[object], size: int = BATCH) -> Iterator[list[object]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def prepared_batches(items: Iterable[object], settings: ImportSettings, *, workers: int | None = None,
                     parallel_after: int | None = None) -> Iterator[tuple[int, list[object], PreparedBatch]]:
    """(start index, input items, prepared batch) per batch, in input order.

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
    if count < 2 or context is None or not _picklable(settings):
        for chunk in chunks:
            yield start, chunk, prepare_batch(chunk, settings, start)
            start += len(chunk)
        return
    with ProcessPoolExecutor(count, mp_context=context) as pool:
        pending: deque[tuple[int, list[object], Future[PreparedBatch]]] = deque()
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


def _picklable(settings: ImportSettings) -> bool:
    """Whether the settings (with the caller's `adapt`) can go to a worker process; a
    lambda or a nested function cannot, and its batches are then prepared here."""
    try:
        pickle.dumps(settings)
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        log.warning("add_contacts: adapt=%r cannot be sent to worker processes (%s); preparing every batch in "
                    "this process (slower: pass a module-level function or class instance)", settings.adapt, exc)
        return False
    return True


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


class ImportMixin(EngineBase):
    def add_contacts(self, campaign_id: int, contacts: Iterable[object], *,
                     actor: str | None = None, on_reject: RejectHook | None = None,
                     adapt: Adapter | None = None) -> ImportReport:
        """Add contacts (phone strings or dicts with `phone, external_id, priority,
        timezone, data`), streaming in batches, in one transaction.

        `on_reject(index, item, result, reason)` hears, in input order, of every item
        that did not become a `ready` contact (`invalid_record`, `blacklisted`,
        `duplicate`, or `skipped`).

        `adapt(item)`, when given, turns each item of the caller's own shape (a CSV
        row, a database record) into a phone string or a contact dict, and may raise
        `SkipRow(reason)` to leave it out. It runs where the items are prepared: in
        worker processes for a large input, so it must pickle (a module-level function,
        or an instance of a module-level class).
        """
        check_contacts(contacts)
        with self._db.transaction() as conn:
            return self._import_into(conn, campaign_id, contacts, actor, on_reject, adapt)

    def _import_into(self, conn: Any, campaign_id: int, contacts: Iterable[object], actor: str | None,
                     on_reject: RejectHook | None, adapt: Adapter | None) -> ImportReport:
        """`add_contacts` within the caller's transaction."""
        db = self._db
        at = self.now()
        with _import_cache(db, conn):
            row = db.execute(conn, "SELECT policy_version FROM ds_campaign WHERE id = ?", (campaign_id,)).fetchone()
            if row is None:
                raise CampaignNotFound(campaign_id)
            if db.is_pg:
                # Imports into one campaign take turns, so each sees the numbers the
                # other added (SQLite's writer lock already serializes them).
                db.execute(conn, "SELECT pg_advisory_xact_lock(?, ?)", (IMPORT_LOCK, campaign_id))
            cfg = self._config(conn, campaign_id, row[0])
            settings = ImportSettings(cfg.default_region, cfg.window, cfg.timezone, at, campaign_id, adapt)
            return self._write_batches(conn, campaign_id, cfg.policy_version,
                                       prepared_batches(contacts, settings), at.timestamp(), actor, on_reject)

    def _write_batches(self, conn: Any, campaign_id: int, policy_version: int,
                       batches_: Iterable[tuple[int, list[object], PreparedBatch]], now: float,
                       actor: str | None, on_reject: RejectHook | None) -> ImportReport:
        """Write the prepared batches: per batch, the blacklisted numbers are marked,
        the rows go in as they came from the workers (ids in input order), and those
        whose number was in the campaign already (added before, or by an earlier batch)
        are found missing after the insert and reported as duplicates."""
        db = self._db
        added = invalid = blacklisted = duplicates = skipped = 0
        ids: list[int] = []
        zone_keys: set[str] = set()
        next_id = None
        if not db.is_pg:
            next_id = db.execute(conn, "SELECT COALESCE(MAX(id), 0) FROM ds_contact").fetchone()[0] + 1
        banned_state = S.BLACKLISTED.value
        for start, items, batch in batches_:
            rows, offsets, rejected, zones = batch.rows, batch.offsets, batch.rejected, batch.zone_keys
            notes = [(position, S.INVALID_RECORD.value, reason) for position, reason in batch.invalid]
            invalid += len(notes)
            if rows and db.execute(conn, "SELECT 1 FROM ds_blacklist LIMIT 1").fetchone() is not None:
                banned = self._existing(conn, "SELECT phone FROM ds_blacklist WHERE phone IN ({})", (),
                                        [row[KEY] for row in rows if row[KEY] is not None])
                if banned:
                    rows, notes = _blacklist(rows, notes, banned, now)
            new_ids, dropped = self._insert_contacts(conn, rows, next_id)
            if next_id is not None:
                next_id += len(new_ids)
            if dropped:  # their numbers were in the campaign already
                rejected = sorted([*rejected, *(
                    (position if offsets is None else offsets[position], "duplicate",
                     f"{rows[position][KEY]} is already in the campaign") for position in sorted(dropped))])
                notes = [note for note in notes if note[0] not in dropped]
                zones = frozenset(row[ZONE] for row in rows if row[POSITION] not in dropped)
            for _, result, _ in rejected:
                if result == "duplicate":
                    duplicates += 1
                else:
                    skipped += 1
            blacklisted += sum(1 for _, state, _ in notes if state == banned_state)
            if on_reject is not None:
                told = [*rejected, *((position if offsets is None else offsets[position], state, note)
                                     for position, state, note in notes)]
                for offset, result, reason in sorted(told, key=itemgetter(0)):
                    on_reject(start + offset, items[offset], result, reason)
            for zone_key in zones - zone_keys:
                zone_keys.add(zone_key)
                self._add_zone_key(conn, campaign_id, zone_key)
            kept = new_ids if not dropped else [cid for position, cid in enumerate(new_ids)
                                                if position not in dropped]
            # The first entry of every ready contact, written by the database from the
            # rows just inserted (looked up by primary key); the others carry a note.
            if notes:
                db.executemany(conn, INSERT_HISTORY, [
                    (new_ids[position], 1, None, state, "add", now, actor, 0, None, None, None, None,
                     policy_version, note)
                    for position, state, note in notes
                ])
                noted = {position for position, _, _ in notes}
                ready_ids = [new_ids[row[POSITION]] for row in rows
                             if row[POSITION] not in noted and row[POSITION] not in dropped]
            else:
                ready_ids = kept
            if ready_ids:
                if db.is_pg:
                    db.execute(conn, _INSERT_READY_HISTORY_PG, (actor, policy_version, ready_ids))
                else:
                    db.execute(conn, _INSERT_READY_HISTORY.format(db.placeholders(len(ready_ids))),
                               (actor, policy_version, *ready_ids))
            added += len(kept)
            ids.extend(kept)
        return ImportReport(added, invalid, blacklisted, duplicates, ids, skipped)

    def _insert_contacts(self, conn: Any, rows: list[tuple[Any, ...]], next_id: int | None,
                         ) -> tuple[list[int], set[int]]:
        """Insert a batch's rows: (the id of each row position, the positions the
        unique index left out because their number is in the campaign already).
        `next_id` is the batch's first id on SQLite; PostgreSQL takes them from the
        sequence."""
        db = self._db
        if not rows:
            return [], set()
        if next_id is None:
            new_ids = [r[0] for r in db.execute(
                conn, "SELECT nextval(pg_get_serial_sequence('ds_contact', 'id')) FROM generate_series(1, ?)",
                (len(rows),),
            ).fetchall()]
            inserted = _copy_contacts(conn, [(new_ids[row[POSITION]], *row[1:]) for row in rows])
        else:
            new_ids = list(range(next_id, next_id + len(rows)))
            inserted = db.executemany(conn, _INSERT_CONTACT.format(first=int(next_id)), rows)
        if inserted == len(rows):
            return new_ids, set()
        present = self._existing(conn, "SELECT id FROM ds_contact WHERE id IN ({})", (), new_ids)
        return new_ids, {position for position, cid in enumerate(new_ids) if cid not in present}

    def _existing(self, conn: Any, sql: str, params: tuple[Any, ...], keys: Sequence[Any]) -> set[Any]:
        """The values of `keys` the query (`{}` the place of the list) finds."""
        found: set[Any] = set()
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


#: PostgreSQL: a batch goes into a temporary table by COPY (per row, far less work in
#: the client than a parameterized INSERT), then into ds_contact in one statement.
_COPY_COLUMNS = ("id bigint, campaign_id integer, phone text, phone_key text, state text, priority integer,"
                 " timezone text, zone_key text, external_id text, data text, ready_since double precision,"
                 " created_at double precision, updated_at double precision")
_FROM_COPY = (
    "INSERT INTO ds_contact (id, campaign_id, phone, phone_key, state, version, seq, attempts, priority,"
    " timezone, zone_key, external_id, data, ready_since, created_at, updated_at)"
    " SELECT id, campaign_id, phone, phone_key, state, 1, 1, 0, priority, timezone, zone_key, external_id,"
    " data, ready_since, created_at, updated_at FROM ds_import_contact"
    " ON CONFLICT (campaign_id, phone_key) DO NOTHING"
)


def _copy_contacts(conn: Any, rows: list[tuple[Any, ...]]) -> int:
    """Insert contact rows (id first) on PostgreSQL; returns how many went in (a number
    already in the campaign is left out by the unique index)."""
    with conn.cursor() as cur:
        cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS ds_import_contact ({_COPY_COLUMNS}) ON COMMIT DROP")
        with cur.copy("COPY ds_import_contact FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cur.execute(_FROM_COPY)
        inserted = int(cur.rowcount)
        cur.execute("TRUNCATE ds_import_contact")
    return inserted


def check_contacts(contacts: object) -> None:
    if isinstance(contacts, (str, bytes, Mapping)):
        raise InvalidArgument("contacts must be an iterable of phone numbers or dicts, not a single one")


def _blacklist(rows: list[tuple[Any, ...]], notes: list[tuple[int, str, str]], banned: set[str], now: float,
               ) -> tuple[list[tuple[Any, ...]], list[tuple[int, str, str]]]:
    """The batch with its blacklisted numbers in `blacklisted`, noted."""
    state, note = S.BLACKLISTED.value, "the number is on the blacklist"
    marked = [row if row[KEY] not in banned else (*row[:STATE], state, *row[STATE + 1:-3], None, now, now)
              for row in rows]
    more = [(row[POSITION], state, note) for row in rows if row[KEY] in banned]
    return marked, sorted([*notes, *more])
