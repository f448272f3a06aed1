"""What is particular to SQLite: opening a file (WAL, a busy timeout, checkpoints),
the writer lock every write transaction takes up front, and the import's inserts."""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL

from dialstate.engine.prepare import KEY
from dialstate.errors import (
    DatabaseBusy,
    DatabaseUnavailable,
    DemoDatabaseInUse,
    DialstateError,
    InvalidArgument,
    WriteConflict,
)
from dialstate.store import counters
from dialstate.store.feed import Transaction
from dialstate.store.ops import Work, all_rows, count, many, one
from dialstate.store.rowcache import RowCache
from dialstate.store.statements import queries

#: Page cache while importing (KiB): a big import inserts into indexes keyed by phone
#: numbers, whose pages the default 2 MB cache keeps evicting.
IMPORT_CACHE_KIB = 65536

Q = queries("sqlite")
#: The counters fold the feed's entries in once this many are not folded yet, so a
#: reader adds about that many at most. A backend counts how many are waiting when it
#: first writes and again each time it wrote `COUNT_EVERY` entries (one read of two
#: index ends), not on every transition.
FOLD_EVERY = 1024
COUNT_EVERY = 64


class SqliteBackend:
    """A SQLite file (or a private in-memory database) opened the way dialstate needs."""

    name = "sqlite"
    #: Claims lock nothing: SQLite's writer lock already serializes them.
    claim_rounds = 1

    def __init__(self, url: URL, lock_timeout: float) -> None:
        #: How long a write waits for another connection's lock before failing.
        self.lock_timeout = lock_timeout
        #: Entries this backend wrote since it last counted those not folded yet (as
        #: if many, so that its first write transaction counts them).
        self._written = COUNT_EVERY
        database = url.database
        if not database or database == ":memory:":
            # A private shared-cache memory database, so every connection sees it.
            self.target, self.uri = f"file:dialstate-{uuid.uuid4().hex}?mode=memory&cache=shared", True
        elif database.startswith("file:"):
            self.target, self.uri = database, True
        else:
            path = Path(database).expanduser()
            # Never made here: a mistyped path must not become a new, empty database.
            if not path.parent.is_dir():
                raise DatabaseUnavailable(f"cannot open the SQLite database {path}: the directory {path.parent} "
                                          "does not exist", retryable=False)
            if path.is_dir():
                raise DatabaseUnavailable(f"cannot open the SQLite database {path}: it is a directory",
                                          retryable=False)
            self.target, self.uri = str(path), False
        self.integrity_errors: tuple[type[BaseException], ...] = (sqlite3.IntegrityError,)
        self.errors: tuple[type[BaseException], ...] = (sqlite3.Error,)

    def connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.target,
            timeout=self.lock_timeout,
            isolation_level=None,  # BEGIN IMMEDIATE / COMMIT are ours
            check_same_thread=False,
            uri=self.uri,
        )
        conn.execute(f"PRAGMA busy_timeout = {int(self.lock_timeout * 1000)}")
        if not self.uri:
            conn.execute("PRAGMA journal_mode = WAL")
            # Checkpoint every ~40 MB of WAL rather than every 4 MB: a contact row and
            # its index pages change several times within seconds, and each checkpoint
            # then copies them back once instead of several times. The file is cut back
            # to 64 MB after a checkpoint.
            conn.execute("PRAGMA wal_autocheckpoint = 10000")
            conn.execute("PRAGMA journal_size_limit = 67108864")
        conn.execute("PRAGMA synchronous = NORMAL")
        return conn

    def row_cache(self) -> RowCache | None:
        """A new connection's cache of the rows it writes (`dialstate.store.rowcache`);
        none for a memory database, whose connections share one cache of pages."""
        return None if self.uri else RowCache()

    def translate(self, exc: BaseException, *, committing: bool = False,
                  connecting: bool = False) -> DialstateError | None:
        """The `DialstateError` a driver error means (None: not the driver's)."""
        text = str(exc)
        if isinstance(exc, sqlite3.IntegrityError):
            return WriteConflict(text)
        if isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text):
            return DatabaseBusy(f"the SQLite database is locked by another connection (waited {self.lock_timeout:g} s "
                                f"as lock_timeout allows); nothing was written: {text}")
        if isinstance(exc, (sqlite3.InterfaceError, sqlite3.ProgrammingError, OverflowError)):
            return InvalidArgument(f"a value could not be stored: {text}")
        if isinstance(exc, sqlite3.DataError):
            return InvalidArgument(f"a value could not be stored: {text}")
        if isinstance(exc, sqlite3.Error):
            return DatabaseUnavailable(f"database error on the SQLite database {self.target}: {text}",
                                       retryable=False)
        return None

    @staticmethod
    def is_dead(conn: Any) -> bool:
        """A SQLite connection does not die while idle."""
        return False

    @staticmethod
    def begin(conn: Any) -> None:
        """Take the writer lock up front, so a read-then-write never fails to upgrade."""
        conn.execute("BEGIN IMMEDIATE")

    @staticmethod
    def end_read(conn: Any) -> None:
        """A read holds nothing after its statements: autocommit mode."""

    @staticmethod
    def executemany(conn: Any, sql: str, params: Sequence[Sequence[Any]]) -> int:
        return int(conn.executemany(sql, params).rowcount)

    @staticmethod
    def copy(conn: Any, sql: str, params: Sequence[Sequence[Any]]) -> int:
        raise NotImplementedError("COPY is PostgreSQL's")

    @staticmethod
    @contextmanager
    def import_cache(conn: Any) -> Iterator[None]:
        """A larger page cache for an import, the connection's own afterwards."""
        before = conn.execute("PRAGMA cache_size").fetchone()[0]
        conn.execute(f"PRAGMA cache_size = -{IMPORT_CACHE_KIB}")
        try:
            yield
        finally:
            conn.execute(f"PRAGMA cache_size = {int(before)}")

    # -- the transition feed ------------------------------------------------------------

    @staticmethod
    def reserve_entries(tx: Transaction, n: int) -> Work[int]:
        """Reserve `n` history entries: the value the first one's feed column takes
        (its position; the writer lock keeps the positions after the last ours)."""
        if tx.base is None:  # the entries written so far took the positions just before
            tx.base = int((yield one(Q["feed_base"]))[0]) - tx.count
        return tx.base + tx.take(n)

    @staticmethod
    def insert_entries(tx: Transaction, entries: list[tuple[Any, ...]]) -> Work[int]:
        """Insert history entries at the transaction's next positions; returns the
        first one's ordinal. A lone entry finds its position itself, and the position
        is looked up only if asked for (`Feed.positions`)."""
        n = len(entries)
        if tx.base is None and n == 1:
            ordinal = tx.take(1)
            if ordinal == 0:
                tx.first = entries[0][0], entries[0][1]
            yield count(Q["insert_next_entry"], entries[0])
            return ordinal
        key = yield from SqliteBackend.reserve_entries(tx, n)
        rows = [(*entry, key + i) for i, entry in enumerate(entries)]
        yield (count(Q["insert_entry"], rows[0]) if n == 1 else many(Q["insert_entry"], rows))
        return key - tx.base  # type: ignore[operator]

    @staticmethod
    def commit(conn: Any, tx: Transaction) -> None:
        conn.commit()

    def folding(self, tx: Transaction) -> Work[None] | None:
        """What a write transaction runs last, if anything: a fold of the feed into the
        counters once `FOLD_EVERY` entries wait, counted every `COUNT_EVERY` entries this
        backend writes (under the writer lock: this process's threads take turns)."""
        written = self._written + tx.count
        if tx.count and written >= COUNT_EVERY:
            return self._fold_if_waiting()
        self._written = written
        return None

    def _fold_if_waiting(self) -> Work[None]:
        if (yield one(Q["unfolded_count"]))[0] >= FOLD_EVERY:
            yield from self.fold_feed()
        self._written = 0

    @staticmethod
    def fold_feed() -> Work[None]:
        """Fold every entry that waits into the counters, and mark the feed folded up to
        the last. A unit that adds the counters of the entries it writes itself (an
        import knows them) runs this first, then `feed_folded` after its entries."""
        found = yield all_rows(Q["unfolded_entries"])
        if found:
            yield many(Q["stat_add"], counters.rows(counters.of_groups(found)))
        yield from SqliteBackend.feed_folded()

    @staticmethod
    def feed_folded() -> Work[None]:
        """Mark the feed folded up to its last entry (the writer lock is held): the
        counters hold every entry."""
        yield count(Q["feed_folded"], (time.time(),))

    #: Statistics counters are not folded by their readers here...
    folds_stats = False
    #: ... nor written by each transition: they are the history's sums.
    counts_each_write = False
    #: Whether a big import refreshes the planner's statistics (`analyze_imported`).
    analyzes_imports = False

    # -- the import's inserts ----------------------------------------------------------

    @staticmethod
    def first_ids() -> Work[int | None]:
        """The id the import's first row takes (the writer lock keeps it ours)."""
        return int((yield one(Q["next_contact_id"]))[0])

    @staticmethod
    def insert_contacts(rows: list[tuple[Any, ...]], size: int, first_id: int | None,
                        campaign_id: int) -> Work[tuple[list[int], set[int]]]:
        """Insert a batch's rows (each starting with its position, of `size`), then
        claim their numbers, and take out the contacts whose number another contact of
        the campaign has. Returns (the id of each position, the positions left out as
        duplicates)."""
        assert first_id is not None
        last = first_id + size - 1
        yield many(Q["insert_contact"].replace("<<first>>", str(int(first_id))), rows)
        claimed = yield count(Q["claim_inserted_numbers"], (first_id, last))
        dropped: set[int] = set()
        if claimed != len(rows) - list(map(itemgetter(KEY), rows)).count(None):
            found = yield all_rows(Q["drop_unclaimed"], (first_id, last))
            dropped = {cid - first_id for (cid,) in found}
        return list(range(first_id, first_id + size)), dropped

    @staticmethod
    def first_entries(tx: Transaction, ids: list[int], noted_at: list[int], noted: list[tuple[Any, ...]],
                      ready: list[int], actor: str | None, policy_version: int) -> Work[None]:
        """The first entries of a batch whose rows took `ids` (one per position, in
        order): `noted` (those with a note, of the positions `noted_at`) and those of
        the `ready` contacts. Each entry's feed position is the batch's first plus its
        row's position, so the database numbers nothing (a position left out, a
        duplicate, leaves a gap)."""
        first = yield from SqliteBackend.reserve_entries(tx, len(ids))
        if noted:
            yield many(Q["insert_entry"], [(*entry, first + at) for at, entry in zip(noted_at, noted, strict=True)])
        if ready:
            # Every row of the batch's ids in `ready` is one of `ready` (the noted ones
            # are `invalid_record` or `blacklisted`): checked by the count.
            written = yield count(Q["first_entries"], (actor, policy_version, first - ids[0], ready[0], ready[-1]))
            if written != len(ready):
                raise RuntimeError(f"an import wrote {written} first entries for {len(ready)} ready contacts")


def campaign_names_in_file(path: Path) -> list[str]:
    """The campaign names of a dialstate SQLite file, read without opening it as an
    engine (it may be of an older schema); [] for an empty file. Refuses a file that
    is not a dialstate database."""
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not tables:
                return []
            if "ds_campaign" not in tables:
                raise DemoDatabaseInUse(f"{path} is not a dialstate demo database; give the demo another --db")
            return [r[0] for r in conn.execute(Q["demo_campaign_names"])]
    except sqlite3.DatabaseError as exc:
        raise DemoDatabaseInUse(
            f"{path} is not a dialstate demo database ({exc}); give the demo another --db") from None
