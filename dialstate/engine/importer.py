"""`add_contacts`: a streaming import in batches, one transaction for the whole call.

The caller's items are prepared batch by batch (`dialstate.engine.prepare`, in
worker processes for a large input) and reach the unit of work through `pull()`.
Per batch the unit marks the blacklisted numbers, inserts the rows as they came
(ids in input order; a number already in the campaign is left out by the unique
index and reported as a duplicate after), and writes the first history entries
set-wise. The backend's own ways (SQLite's executemany with ids from the batch's
first id, PostgreSQL's COPY) live in `dialstate.store.sqlite` and `.postgres`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterable, Iterable, Mapping
from operator import itemgetter
from typing import Any

from dialstate.engine.clock import Clock
from dialstate.engine.configs import Configs
from dialstate.engine.prepare import (
    EXTERNAL_ID,
    KEY,
    NULL,
    POSITION,
    STATE,
    ZONE,
    Adapter,
    ImportSettings,
    PreparedBatch,
    RejectHook,
)
from dialstate.engine.runner import banned_among
from dialstate.engine.settings import CANCELED
from dialstate.engine.snapshots import ImportReport
from dialstate.engine.states import ContactState
from dialstate.errors import CampaignNotFound, InvalidArgument
from dialstate.store import writer
from dialstate.store.feed import Transaction
from dialstate.store.ops import Work, count, found_among, many, one, pull, transaction
from dialstate.store.postgres import PostgresBackend
from dialstate.store.sqlite import SqliteBackend
from dialstate.store.statements import Queries

S = ContactState
#: Inputs longer than this are prepared in worker processes (starting them costs
#: more than parsing a few thousand numbers here).
PARALLEL_AFTER = 20_000
#: The first key of the PostgreSQL advisory lock an import holds on its campaign.
IMPORT_LOCK = 7411301

#: The contacts an import takes: an iterable, or (the asyncio face) an async iterable.
ContactItems = Iterable[object] | AsyncIterable[object]
#: What a batch source gives the unit: (start index, input items, prepared batch).
Batch = tuple[int, list[object], PreparedBatch]


#: Contacts an import adds before it refreshes the planner's statistics (PostgreSQL).
ANALYZE_AFTER = 10_000


class Importer:
    def __init__(self, q: Queries, configs: Configs, clock: Clock, backend: SqliteBackend | PostgresBackend) -> None:
        self._q = q
        self._configs = configs
        self._clock = clock
        self._backend = backend

    def unit(self, campaign_id: int, actor: str | None, on_reject: RejectHook | None,
             adapt: Adapter | None) -> Work[ImportReport]:
        """Import into `campaign_id`. The first `pull()` sends the `ImportSettings`
        the batches must be prepared with; each pull returns the next `Batch`, None
        at the end."""
        q = self._q
        at = self._clock.now()
        now = at.timestamp()
        found = yield one(q["campaign_status"], (campaign_id,))
        if found is None:
            raise CampaignNotFound(campaign_id)
        if found[0] == CANCELED:
            raise InvalidArgument(f"campaign {campaign_id} is canceled: contacts cannot be added to it")
        yield one(q["lock_campaign_imports"], (IMPORT_LOCK, campaign_id))
        cfg = yield from self._configs.get(campaign_id, found[1], found[2])
        settings = ImportSettings(cfg.default_region, cfg.window, cfg.timezone, at, campaign_id, adapt,
                                  cfg.settings.bare_numbers)
        next_id = yield from self._backend.first_ids()
        report = _Tally()
        zone_keys: set[str] = set()
        #: With unique external ids: those this call added (a repeat is a duplicate too).
        external_ids: set[str] | None = set() if cfg.settings.unique_external_ids else None
        while (batch := (yield pull(settings))) is not None:
            start, items, prepared = batch
            written = yield from self._write_batch(campaign_id, prepared, next_id, now, actor, cfg.policy_version,
                                                   external_ids)
            if next_id is not None:
                next_id += len(prepared.rows)
            ids, told, zones = written
            for zone_key in zones - zone_keys:
                zone_keys.add(zone_key)
                yield count(q["add_zone_key"], (campaign_id, zone_key))
            report.count(ids, told)
            if on_reject is not None:
                for offset, result, reason in told:
                    on_reject(start + offset, items[offset], result, reason)
        added = report.report()
        if added.added >= ANALYZE_AFTER and self._backend.analyzes_imports:
            # Fresh planner statistics, so that lookups by number or external id use
            # their indexes at once (not after autovacuum's next pass, if ever).
            yield count(q["analyze_imported"])
        return added

    def _write_batch(self, campaign_id: int, batch: PreparedBatch, first_id: int | None, now: float,
                     actor: str | None, policy_version: int, external_ids: set[str] | None,
                     ) -> Work[tuple[list[int], list[tuple[int, str, str]], frozenset[str]]]:
        """Write one batch: (ids added in input order, what `on_reject` hears in input
        order as (offset, result, reason), the zone keys of the contacts added)."""
        q = self._q
        backend = self._backend
        rows, offsets, rejected, zones = batch.rows, batch.offsets, batch.rejected, batch.zone_keys
        notes = [(position, S.INVALID_RECORD.value, reason) for position, reason in batch.invalid]
        if external_ids is not None and rows:
            repeats = yield from _external_id_repeats(q, campaign_id, rows, external_ids)
            if repeats:
                rejected = sorted([*rejected, *(
                    (position if offsets is None else offsets[position], "duplicate",
                     f"external id {external_id!r} is already in the campaign")
                    for position, external_id in sorted(repeats.items()))])
                rows = [row for row in rows if row[POSITION] not in repeats]
                notes = [note for note in notes if note[0] not in repeats]
        several = batch.several
        if several and rows:  # a contact any of whose numbers the campaign has is a duplicate
            extra = {key: position for position, (_, keys) in several.items() for key in keys}
            taken = yield from found_among(q["numbers_taken"], (campaign_id,), sorted(extra))
            if taken:
                out = {extra[key]: key for key in sorted(taken)}
                rejected = sorted([*rejected, *(
                    (position if offsets is None else offsets[position], "duplicate",
                     f"{key} is already in the campaign") for position, key in sorted(out.items()))])
                rows = [row for row in rows if row[POSITION] not in out]
                notes = [note for note in notes if note[0] not in out]
        banned: set[str] = set()
        if rows and (yield one(q["blacklist_not_empty"])) is not None:
            keys = [row[KEY] for row in rows if row[KEY]]
            keys += [key for position, (_, more) in several.items() for key in more]
            banned = set((yield from banned_among(q, campaign_id, keys, now)))
            if banned:
                # A contact is blacklisted when every valid number it has is.
                parked = {row[POSITION] for row in rows if row[KEY] in banned and all(
                    key in banned for key in several.get(row[POSITION], ("", []))[1])}
                rows, notes = _blacklist(rows, notes, parked, now)
        size = len(batch.rows)
        new_ids, dropped = ((yield from backend.insert_contacts(rows, size, first_id, campaign_id)) if rows
                            else ([], set()))
        inserted = [row for row in rows if row[POSITION] not in dropped] if dropped else rows
        if dropped:  # another contact of the campaign has the number
            by_position = {row[POSITION]: row for row in rows}
            rejected = sorted([*rejected, *(
                (position if offsets is None else offsets[position], "duplicate",
                 f"{by_position[position][KEY]} is already in the campaign") for position in sorted(dropped))])
            notes = [note for note in notes if note[0] not in dropped]
            zones = frozenset(row[ZONE] for row in inserted)
        positions = list(map(itemgetter(POSITION), inserted))
        kept = [new_ids[position] for position in positions]
        if several:  # the other numbers of contacts with several
            present = set(positions)
            yield many(q["claim_number"], [(campaign_id, key, new_ids[position]) for position in several
                                           if position in present for key in several[position][1]])
        if banned:  # the blacklisted contacts wait for the entries that hold them to expire
            yield many(q["blacklist_due"].replace("<<where>>", q["where_number"]),
                       [(now, now, now, now, campaign_id, key) for key in sorted(banned)])
        # The first entry of every ready contact is written by the database from the
        # rows just inserted; the others carry a note and are written from here.
        tx: Transaction = yield transaction()
        # The batch counts its own entries (below), after those that wait.
        yield from backend.fold_feed()
        if kept:
            noted_at = [position for position, _, _ in notes]
            noted = [(new_ids[position], 1, None, state, "add", now, actor, 0, None, None, None, None, policy_version,
                      note, None) for position, state, note in notes]
            skip = set(noted_at)
            ready_ids = [new_ids[position] for position in positions if position not in skip] if notes else kept
            yield from backend.first_entries(tx, new_ids, noted_at, noted, ready_ids, actor, policy_version)
        # What each entry (none -> its state, `add`) adds to the counters.
        by_state = Counter(map(itemgetter(STATE), inserted))
        yield from writer.add_counters(q, Counter({(campaign_id, "s", state): n for state, n in by_state.items()}))
        yield from backend.feed_folded()
        told = [*rejected, *((position if offsets is None else offsets[position], state, note)
                             for position, state, note in notes)]
        return kept, sorted(told, key=itemgetter(0)), zones


class _Tally:
    """The counts of an import's report."""

    def __init__(self) -> None:
        self.added = self.invalid = self.blacklisted = self.duplicates = self.skipped = 0
        self.ids: list[int] = []

    def count(self, ids: list[int], told: list[tuple[int, str, str]]) -> None:
        self.added += len(ids)
        self.ids.extend(ids)
        for _, result, _ in told:
            if result == "duplicate":
                self.duplicates += 1
            elif result == "skipped":
                self.skipped += 1
            elif result == S.BLACKLISTED:
                self.blacklisted += 1
            else:
                self.invalid += 1

    def report(self) -> ImportReport:
        return ImportReport(self.added, self.invalid, self.blacklisted, self.duplicates, self.ids, self.skipped)


def _external_id_repeats(q: Queries, campaign_id: int, rows: list[tuple[Any, ...]],
                         seen: set[str]) -> Work[dict[int, str]]:
    """The rows (position -> external id) whose external id the campaign, or an earlier
    row of this import, has already; the others' ids join `seen`."""
    given = [(row[POSITION], row[EXTERNAL_ID]) for row in rows if row[EXTERNAL_ID] != NULL]
    taken = yield from found_among(q["external_ids_in_campaign"], (campaign_id,), sorted({e for _, e in given}))
    repeats: dict[int, str] = {}
    for position, external_id in given:
        if external_id in taken or external_id in seen:
            repeats[position] = external_id
        else:
            seen.add(external_id)
    return repeats


def check_contacts(contacts: object) -> None:
    """An iterable (or, for the asyncio face, an async iterable) of contacts."""
    if isinstance(contacts, (str, bytes, Mapping)) or not isinstance(contacts, (Iterable, AsyncIterable)):
        raise InvalidArgument("contacts must be an iterable of phone numbers or dicts, not a single one")


def _blacklist(rows: list[tuple[Any, ...]], notes: list[tuple[int, str, str]], parked: set[int], now: float,
               ) -> tuple[list[tuple[Any, ...]], list[tuple[int, str, str]]]:
    """The batch with the rows at `parked` positions in `blacklisted`, noted."""
    state, note = S.BLACKLISTED.value, "the number is on the blacklist"
    marked = [row if row[POSITION] not in parked else (*row[:STATE], state, *row[STATE + 1:-3], None, now, now)
              for row in rows]
    more = [(row[POSITION], state, note) for row in rows if row[POSITION] in parked]
    return marked, sorted([*notes, *more])
