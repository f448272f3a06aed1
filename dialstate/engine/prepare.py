"""Preparing an import's batches: pure functions from input items to the rows the
contact INSERT takes (the caller's `adapt`, field checks, phone parsing, zone
resolution, repeats within the batch). A large input is prepared in worker
processes, a bounded number of batches ahead, while the importer writes.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import pickle
import signal
import threading
from collections import deque
from collections.abc import AsyncIterable, Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from types import MappingProxyType
from typing import Any, NamedTuple

from dialstate.engine.checks import check_external_id, check_priority
from dialstate.engine.states import ContactState
from dialstate.errors import ConfigurationError, InvalidArgument, SkipRow
from dialstate.phones import phone_and_zones
from dialstate.policy import CallingWindow, validate_timezone

S = ContactState
log = logging.getLogger("dialstate")
BATCH = 2000
FIELDS = ("phone", "phones", "external_id", "priority", "timezone", "data")
#: What one of several numbers (`"phones": [...]`) may say of itself.
NUMBER_FIELDS = ("phone", "label", "timezone")
#: The most numbers one contact may have.
MAX_NUMBERS = 10
#: Batches handed to the workers ahead of the writer, per worker: bounds memory.
AHEAD_PER_WORKER = 2

#: `on_reject(index, item, result, reason)`: told of each input item that did not
#: become a `ready` contact; `result` is `invalid_record`, `blacklisted`, `duplicate`
#: or `skipped` (the `adapt` function refused it).
RejectHook = Callable[[int, object, str, str], Any]
#: `adapt(item)`: turns an input item of the caller's own shape into a phone string or
#: a contact dict; raises `SkipRow(reason)` to leave the item out.
Adapter = Callable[[Any], object]

class PreparedBatch(NamedTuple):
    """One batch of input items, checked, in the shape the writer needs (it crosses
    the process boundary once per batch, as plain tuples, which pickle cheaply).

    `rows` are the contact rows in input order, each starting with its position in
    the batch (its id is the batch's first id plus that), then the INSERT's columns
    (`NULL` for a missing time zone, external id, data or numbers): `ready` for a
    valid number, `invalid_record` (the reason in `invalid`) otherwise.
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
    #: Contacts given several numbers: row position -> (the `numbers` column as JSON,
    #: their valid numbers but the first, which the row's key holds).
    several: Mapping[int, tuple[str, list[str]]] = MappingProxyType({})


#: Positions in a prepared contact row.
POSITION, KEY, STATE, ZONE, EXTERNAL_ID = 0, 3, 4, 7, 8
#: What stands for NULL in a prepared row's time zone, external id, data and numbers,
#: none of which is ever empty: the sqlite3 module spends ~0.6 µs on every None it
#: binds (a failed adapter lookup), four a row; the INSERT turns '' back into NULL.
NULL = ""


@dataclass(frozen=True)
class ImportSettings:
    """What preparing a row needs of its campaign (picklable, for worker processes)."""

    region: str | None
    window: CallingWindow | None
    timezone: str
    at: datetime
    campaign_id: int = 0
    adapt: Adapter | None = None
    #: How bare digits are read (the campaign's `bare_numbers`).
    bare_numbers: str = "check"


#: One encoder for every row: `json.dumps` with options builds a new one per call.
_JSON = json.JSONEncoder(separators=(",", ":"), sort_keys=True, allow_nan=False)
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
        if "phones" in item:
            if "phone" in item:
                raise InvalidArgument(f"contact #{index}: give phone= or phones=, not both")
            return _several(item, settings, index)
        raw = item.get("phone")
        priority, tz, external_id, data_text = _fields(item, index)
    else:
        raw, priority, tz, external_id, data_text = item, 0, None, None, None
    e164, reason, zones = phone_and_zones(raw, settings.region, settings.window, tz, settings.timezone,
                                          settings.at, settings.bare_numbers)
    return (
        e164 if e164 is not None else ("" if raw is None else str(raw)),
        e164, reason, priority, tz, "|".join(zones),
        external_id, data_text, None,
    )


def _fields(item: Mapping[str, Any], index: int) -> tuple[int, str | None, str | None, str | None]:
    """(priority, time zone, external id, data as JSON) of a contact dict, checked."""
    try:
        priority = check_priority(item.get("priority") or 0)
        external_id = check_external_id(item.get("external_id"))
    except InvalidArgument as exc:  # named here, not built for every row
        raise InvalidArgument(f"contact #{index}: {exc}") from None
    tz = item.get("timezone") or None
    if tz is not None:
        try:
            validate_timezone(tz)
        except ConfigurationError as exc:
            raise InvalidArgument(f"contact #{index}: {exc}") from None
    data = item.get("data")
    if data is not None and type(data) is not dict and not isinstance(data, Mapping):
        raise InvalidArgument(f"contact #{index}: data must be a mapping, got {type(data).__name__}")
    try:
        data_text = _JSON.encode(data) if data else None
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(f"contact #{index}: data is not JSON-serializable ({exc})") from None
    return priority, tz, external_id, data_text


def read_numbers(phones: object, settings: ImportSettings, contact_tz: str | None, where: str,
                 ) -> list[dict[str, Any]]:
    """A contact's numbers (`"phones"`: strings or {"phone", "label", "timezone"}), each
    read and zoned on its own; an invalid one is kept, marked with its reason."""
    from dialstate.engine.numbers import new_number

    if isinstance(phones, (str, bytes, Mapping)) or not isinstance(phones, Sequence):
        raise InvalidArgument(f"{where}: phones must be a list of numbers or {{'phone', 'label', 'timezone'}} "
                              f"dicts, got {phones!r}")
    if not 1 <= len(phones) <= MAX_NUMBERS:
        raise InvalidArgument(f"{where}: phones holds {len(phones)} numbers; a contact has 1 to {MAX_NUMBERS}")
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, given in enumerate(phones):
        label = tz = None
        raw: object = given
        if isinstance(given, Mapping):
            unknown = set(given) - set(NUMBER_FIELDS)
            if unknown or "phone" not in given:
                raise InvalidArgument(f"{where}: phones[{i}] must have 'phone' and may have 'label' and 'timezone'"
                                      f"{f', not {sorted(unknown)}' if unknown else ''}")
            raw, label, tz = given["phone"], given.get("label"), given.get("timezone") or None
            if label is not None and (not isinstance(label, str) or "\x00" in label):
                raise InvalidArgument(f"{where}: phones[{i}] label must be text, got {label!r}")
            if tz is not None:
                try:
                    validate_timezone(tz)
                except ConfigurationError as exc:
                    raise InvalidArgument(f"{where}: phones[{i}]: {exc}") from None
        e164, reason, zones = phone_and_zones(raw, settings.region, settings.window, tz or contact_tz,
                                              settings.timezone, settings.at, settings.bare_numbers)
        if e164 is not None and e164 in seen:
            raise InvalidArgument(f"{where}: phones[{i}] repeats {e164}")
        if e164 is not None:
            seen.add(e164)
        out.append(new_number(e164 if e164 is not None else ("" if raw is None else str(raw)), label, tz,
                              "|".join(zones), reason))
    return out


def _several(item: Mapping[str, Any], settings: ImportSettings, index: int) -> tuple[Any, ...]:
    """`prepare` of a contact given `"phones"`: its first valid number is the row's."""
    from dialstate.engine.numbers import zone_key_of

    priority, tz, external_id, data_text = _fields(item, index)
    numbers = read_numbers(item["phones"], settings, tz, f"contact #{index}")
    first = next((n for n in numbers if n["valid"]), None)
    if first is None:
        reasons = "; ".join(f"{n['phone']!r}: {n['reason']}" for n in numbers)
        return (numbers[0]["phone"], None, f"no valid number ({reasons})", priority, tz, numbers[0]["zones"],
                external_id, data_text, numbers)
    return (first["phone"], first["phone"], None, priority, tz, zone_key_of(numbers), external_id, data_text,
            numbers)


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
    several: dict[int, tuple[str, list[str]]] = {}
    for offset, item in enumerate(items):
        if adapt is not None:
            try:
                item = adapt(item)
            except SkipRow as exc:
                rejected.append((offset, "skipped", str(exc)))
                continue
        phone, key, reason, priority, tz, zone_key, external_id, data, numbers = prepare(item, settings,
                                                                                         start + offset)
        position = len(rows)
        numbers_text = NULL
        if numbers is None:
            if key is not None:
                if key in seen:
                    rejected.append((offset, "duplicate", f"{key} is already in the campaign"))
                    continue
                seen.add(key)
        else:
            keys = [n["phone"] for n in numbers if n["valid"]]
            repeated = next((k for k in keys if k in seen), None)
            if repeated is not None:
                rejected.append((offset, "duplicate", f"{repeated} is already in the campaign"))
                continue
            seen.update(keys)
            numbers_text = _JSON.encode(numbers)
            several[position] = (numbers_text, keys[1:])
        tz, external_id, data = tz or NULL, NULL if external_id is None else external_id, data or NULL
        if reason is None:
            rows.append((position, campaign_id, phone, key, ready, priority, tz, zone_key, external_id, data,
                         numbers_text, now, now, now))
        else:
            invalid.append((position, reason))
            rows.append((position, campaign_id, phone, key, invalid_state, priority, tz, zone_key, external_id,
                         data, numbers_text, None, now, now))
        offsets.append(offset)
        zone_keys.add(zone_key)
    return PreparedBatch(rows, offsets if rejected else None, invalid, rejected, frozenset(zone_keys), several)


def batches(items: Iterable[object], size: int = BATCH) -> Iterator[list[object]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def prepared_batches(items: Iterable[object], settings: ImportSettings, *, parallel_after: int,
                     workers: int | None = None) -> Iterator[tuple[int, list[object], PreparedBatch]]:
    """(start index, input items, prepared batch) per batch, in input order.

    The first `parallel_after` items are prepared here; when more follow, the rest go
    to a pool of worker processes with at most `AHEAD_PER_WORKER` batches per worker
    in flight, so memory stays bounded whatever the input's length.
    """
    chunks = batches(items)
    start = 0
    serial = parallel_after
    for chunk in chunks:
        yield start, chunk, prepare_batch(chunk, settings, start)
        start += len(chunk)
        if start >= serial:
            break
    else:
        return
    pool, count = worker_pool(settings, workers)
    if pool is None:
        for chunk in chunks:
            yield start, chunk, prepare_batch(chunk, settings, start)
            start += len(chunk)
        return
    pending: deque[tuple[int, list[object], Future[PreparedBatch]]] = deque()
    finished = False
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
        finished = True
    finally:
        # An import that stops early (an error, an interrupt) does not wait for the
        # batches its workers are still preparing.
        pool.shutdown(wait=finished, cancel_futures=True)


def _ignore_interrupts() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def worker_pool(settings: ImportSettings, workers: int | None = None) -> tuple[ProcessPoolExecutor | None, int]:
    """A pool of worker processes to prepare batches in, and its size; (None, 1) when
    there is one core, when this process must not fork, or when `adapt` cannot be
    sent to another process."""
    count = workers if workers is not None else min(os.cpu_count() or 1, 8)
    context = _fork_context()
    if count < 2 or context is None or not _picklable(settings):
        return None, 1
    # The workers leave Ctrl-C to this process: it stops the import (and so them).
    return ProcessPoolExecutor(count, mp_context=context, initializer=_ignore_interrupts), count


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


class QuietHeap:
    """Keeps the objects that lived before an import out of the garbage collector's
    passes while it runs (`gc.freeze`) and gives them back after (`gc.unfreeze`).

    An import allocates rows by the thousand, so the collector's full passes come
    every few batches, and each walks every object the process had before: 0.1-0.3 s
    of a 200,000-row import. (Worker processes forked meanwhile inherit them frozen,
    as `gc.freeze` recommends before a fork.) Left alone when the process has frozen
    objects of its own or turned the collector off: what it froze stays frozen.
    """

    def __init__(self) -> None:
        self._frozen = False

    def freeze(self) -> None:
        if not self._frozen and gc.isenabled() and gc.get_freeze_count() == 0:
            gc.freeze()
            self._frozen = True

    def thaw(self) -> None:
        if self._frozen:
            self._frozen = False
            gc.unfreeze()


class BatchSource:
    """Where an import's unit of work pulls its prepared batches from: the caller's
    items, prepared with the settings the unit's first pull sends (in worker processes
    for a large input). Close it after the import: that stops the workers."""

    def __init__(self, items: Iterable[object], parallel_after: int) -> None:
        if not isinstance(items, Iterable) and isinstance(items, AsyncIterable):
            raise InvalidArgument("contacts is an async iterable: import it with dialstate.aio.AsyncEngine")
        self._items = items
        self._parallel_after = parallel_after
        self._batches: Iterator[tuple[int, list[object], PreparedBatch]] | None = None
        self._heap = QuietHeap()

    def __call__(self, settings: ImportSettings) -> tuple[int, list[object], PreparedBatch] | None:
        if self._batches is None:
            self._heap.freeze()
            self._batches = prepared_batches(self._items, settings, parallel_after=self._parallel_after)
        return next(self._batches, None)

    def close(self) -> None:
        batches = self._batches
        try:
            if batches is not None and hasattr(batches, "close"):
                batches.close()
        finally:
            self._heap.thaw()
