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
import re
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any, NamedTuple

from phonenumbers import PhoneMetadata, PhoneNumber, PhoneNumberType, region_code_for_country_code
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE, is_number_type_geographical
from phonenumbers.timezone import UNKNOWN_TIMEZONE, time_zones_for_geographical_number, time_zones_for_number

from dialstate.engine.base import INSERT_HISTORY, EngineBase
from dialstate.engine.phones import parse_phone
from dialstate.engine.snapshots import ImportReport
from dialstate.engine.states import ContactState
from dialstate.errors import CampaignNotFound, ConfigurationError, InvalidArgument
from dialstate.policy import CallingWindow, resolve_zones, validate_timezone

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


# -- phone numbers, fast ---------------------------------------------------------------
#
# `parse_phone` and `resolve_zones` are the reference; together they parse each number
# twice (once to validate, once more for its zones) and phonenumbers' `parse` is most
# of an import's time. A number written in international form (`+49 30 1234567`) is
# read here without `parse`: its country code is looked up and the rest taken as the
# national number whenever `parse` could do nothing else with it (no leading zero, no
# national prefix to strip), then typed once for validity and zones together. Anything
# else, and every invalid number (for the reference's reason text), takes the reference
# path. A number in national form is read the same way when the campaign's region has
# a plain national prefix to strip. tests/test_cli.py checks both give the same results.

_INTERNATIONAL = re.compile(r"\+[1-9][0-9]{6,16}")
_DIGITS = re.compile(r"[0-9]+")
_rules: dict[str, tuple[str, str | None, re.Pattern[str] | None] | None] = {}
_prefix_patterns: dict[str, re.Pattern[str]] = {}
_zone_filter: dict[tuple[str, ...], tuple[str, ...]] = {}


def phone_and_zones(raw: object, region: str | None, window: CallingWindow | None, tz: str | None,
                    campaign_tz: str, at: datetime) -> tuple[str | None, str | None, tuple[str, ...]]:
    """(E.164 or None, why it is invalid or None, the zones its window is checked in):
    what `parse_phone` and `resolve_zones` give, computed faster."""
    fast = None
    if isinstance(raw, str):
        fast = _read_international(raw) if raw.lstrip().startswith("+") else _read_national(raw, region)
    if fast is None:
        e164, reason = parse_phone(raw, region)
        if e164 is None:
            return None, reason, resolve_zones(window, tz, None, campaign_tz, at=at)
        fast = _read_international(e164)
        if fast is None:  # pragma: no cover - a canonical number the fast path declines
            return e164, None, resolve_zones(window, tz, e164, campaign_tz, at=at)
    e164, number, ntype = fast
    if tz is not None and tz.strip():
        return e164, None, (validate_timezone(tz),)
    zones = _number_zones(number, ntype)
    if not zones:
        return e164, None, (validate_timezone(campaign_tz),)
    if window is None or len(zones) == 1:
        return e164, None, zones
    # Several zones under a window: whether they share open time is resolve_zones' call.
    return e164, None, resolve_zones(window, None, e164, campaign_tz, at=at)


def _read_international(text: str) -> tuple[str, Any, int] | None:
    """(E.164, the number, its type) for a valid number in international form that
    `phonenumbers.parse` would read the same way; None to take the reference path."""
    compact = text.strip().replace(" ", "").replace("-", "")
    if not _INTERNATIONAL.fullmatch(compact):
        return None
    for length in (1, 2, 3):
        country = int(compact[1:1 + length])
        if country in COUNTRY_CODE_TO_REGION_CODE:
            break
    else:
        return None
    national = compact[1 + length:]
    if national.startswith("0"):  # a leading zero is kept (Italy) or stripped: parse decides
        return None
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(country, region_code_for_country_code(country))
    if metadata is None:
        return None
    prefix = metadata.national_prefix_for_parsing
    if prefix:  # parse would try to strip a national prefix here: let it
        pattern = _prefix_patterns.get(prefix)
        if pattern is None:
            pattern = _prefix_patterns[prefix] = re.compile(prefix)
        if pattern.match(national):
            return None
    number = PhoneNumber(country_code=country, national_number=int(national))
    ntype = _number_type(country, national)
    if ntype == PhoneNumberType.UNKNOWN:  # invalid: the reference path words the reason
        return None
    return compact, number, ntype


# -- phonenumbers' number_type, with its patterns compiled once ---------------------------
# `phonenumbers.number_type` walks up to a dozen number descriptions per number through
# several calls each (a regex-cache lookup per pattern): most of an import's CPU. The
# same walk, in the same order, over precompiled patterns gives the same answers
# (tests/test_cli.py compares the fast reading with `parse_phone` for every region).

_Matcher = tuple[frozenset[int] | None, "re.Pattern[str] | None"] | None
_TYPED_DESCS = (
    (PhoneNumberType.PREMIUM_RATE, "premium_rate"), (PhoneNumberType.TOLL_FREE, "toll_free"),
    (PhoneNumberType.SHARED_COST, "shared_cost"), (PhoneNumberType.VOIP, "voip"),
    (PhoneNumberType.PERSONAL_NUMBER, "personal_number"), (PhoneNumberType.PAGER, "pager"),
    (PhoneNumberType.UAN, "uan"), (PhoneNumberType.VOICEMAIL, "voicemail"),
)
_type_tables: dict[int, Any] = {}
_leading: dict[str, re.Pattern[str]] = {}


def _matcher(desc: Any) -> _Matcher:
    if desc is None:
        return None
    pattern = desc.national_number_pattern
    lengths = frozenset(desc.possible_length) if desc.possible_length else None
    return lengths, (re.compile(pattern) if pattern else None)


def _matches(national: str, matcher: _Matcher) -> bool:
    if matcher is None:
        return False
    lengths, pattern = matcher
    if lengths is not None and len(national) not in lengths:
        return False
    return pattern is not None and pattern.fullmatch(national) is not None


def _type_in(national: str, metadata: Any) -> int:
    """`phonenumbers`' `_number_type_helper`, over the compiled table of `metadata`."""
    table = _type_tables.get(id(metadata))
    if table is None:
        table = _type_tables[id(metadata)] = (
            metadata, _matcher(metadata.general_desc),
            tuple((t, _matcher(getattr(metadata, name))) for t, name in _TYPED_DESCS),
            _matcher(metadata.fixed_line), _matcher(metadata.mobile),
            bool(metadata.same_mobile_and_fixed_line_pattern),
        )
    _, general, typed, fixed, mobile, same = table
    if not _matches(national, general):
        return PhoneNumberType.UNKNOWN
    for ntype, matcher in typed:
        if _matches(national, matcher):
            return ntype
    if _matches(national, fixed):
        both = same or _matches(national, mobile)
        return PhoneNumberType.FIXED_LINE_OR_MOBILE if both else PhoneNumberType.FIXED_LINE
    if not same and _matches(national, mobile):
        return PhoneNumberType.MOBILE
    return PhoneNumberType.UNKNOWN


def _number_type(country: int, national: str) -> int:
    """`phonenumbers.number_type` for a number without an Italian leading zero."""
    regions = COUNTRY_CODE_TO_REGION_CODE.get(country)
    if not regions:
        return PhoneNumberType.UNKNOWN
    region = regions[0] if len(regions) == 1 else None
    if region is None:  # several regions share the code (+1, +7 ...): the first that fits
        for candidate in regions:
            metadata = PhoneMetadata.metadata_for_region(candidate.upper(), None)
            if metadata is None:
                continue
            if metadata.leading_digits is not None:
                lead = _leading.get(metadata.leading_digits)
                if lead is None:
                    lead = _leading[metadata.leading_digits] = re.compile(metadata.leading_digits)
                if lead.match(national):
                    region = candidate
                    break
            elif _type_in(national, metadata) != PhoneNumberType.UNKNOWN:
                region = candidate
                break
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(country, region)  # type: ignore[arg-type]  # None is fine, as in number_type
    if metadata is None:
        return PhoneNumberType.UNKNOWN
    return _type_in(national, metadata)


def _read_national(text: str, region: str | None) -> tuple[str, Any, int] | None:
    """`_read_international` for a number in the national form of `region` (`030 1234567`
    in DE), when `parse` could only read it one way: the region's national prefix is a
    plain digit string, and the number starts neither with the international dialling
    prefix nor with the country code (parse would try those readings)."""
    rules = _national_rules(region) if region else None
    if rules is None:
        return None
    country, prefix, idd = rules
    compact = text.strip().replace(" ", "").replace("-", "")
    if not _DIGITS.fullmatch(compact) or compact.startswith(country) or (idd is not None and idd.match(compact)):
        return None
    if prefix and compact.startswith(prefix):
        compact = compact[len(prefix):]
    return _read_international(f"+{country}{compact}")


def _national_rules(region: str) -> tuple[str, str | None, re.Pattern[str] | None] | None:
    """(country code, national prefix, international prefix pattern) of a region whose
    national prefix is a plain digit string without a transform rule; else None."""
    if region in _rules:
        return _rules[region]
    metadata = PhoneMetadata.metadata_for_region(region)
    rules = None
    if metadata is not None and metadata.country_code is not None:
        prefix = metadata.national_prefix_for_parsing
        if (prefix is None or _DIGITS.fullmatch(prefix)) and not metadata.national_prefix_transform_rule:
            idd = re.compile(metadata.international_prefix) if metadata.international_prefix else None
            rules = (str(metadata.country_code), prefix, idd)
    _rules[region] = rules
    return rules


def _number_zones(number: Any, ntype: int) -> tuple[str, ...]:
    """`dialstate.policy.zones_for_number` for a number already typed."""
    if is_number_type_geographical(ntype, number.country_code):
        found = tuple(time_zones_for_geographical_number(number))
    else:
        found = tuple(time_zones_for_number(number))
    zones = _zone_filter.get(found)
    if zones is None:
        zones = _zone_filter[found] = tuple(sorted(z for z in found if z != UNKNOWN_TIMEZONE and _known_zone(z)))
    return zones


def _known_zone(name: str) -> bool:
    try:
        validate_timezone(name)
    except ConfigurationError:
        return False
    return True


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
