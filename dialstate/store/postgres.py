"""What is particular to PostgreSQL: connecting with psycopg, executemany through a
cursor, COPY, and the import's inserts (ids from the sequence, rows by COPY)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy.engine import URL

from dialstate.errors import DatabaseBusy, DatabaseUnavailable, DialstateError, InvalidArgument, WriteConflict
from dialstate.store.feed import Transaction
from dialstate.store.ops import Work, all_rows, copy, count, found_among, many
from dialstate.store.statements import queries

Q = queries("postgresql")
#: Seconds to wait for a server to answer a new connection.
CONNECT_TIMEOUT = 10
#: What a server says when trying again later will not help.
_FINAL_CONNECT_ERRORS = ("does not exist", "authentication failed", "no pg_hba.conf entry", "role")


class PostgresBackend:
    """A PostgreSQL database through psycopg 3."""

    name = "postgresql"
    #: Claims lock rows with SKIP LOCKED: a claimer that lost some candidates to another
    #: claimer looks again, a few rounds at most.
    claim_rounds = 4

    def __init__(self, url: URL, lock_timeout: float) -> None:
        import psycopg

        #: How long a statement waits for a row or table lock before failing.
        self.lock_timeout = lock_timeout
        self.conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.display = url.render_as_string(hide_password=True)
        self.integrity_errors: tuple[type[BaseException], ...] = (psycopg.IntegrityError,)
        self.errors: tuple[type[BaseException], ...] = (psycopg.Error,)

    def connect(self) -> Any:
        import psycopg

        return psycopg.connect(self.conninfo, **self.connect_options())

    def connect_options(self) -> dict[str, Any]:
        """How every connection is opened, blocking or async (the asyncio face's pool
        passes them to each connection it makes)."""
        return {"autocommit": False, "connect_timeout": CONNECT_TIMEOUT,
                "options": f"-c lock_timeout={int(self.lock_timeout * 1000)}"}

    @staticmethod
    def row_cache() -> None:
        """No cache of written rows: PostgreSQL has no cheap "did anyone else commit"."""
        return None

    def translate(self, exc: BaseException, *, committing: bool = False,
                  connecting: bool = False) -> DialstateError | None:
        """The `DialstateError` a driver error means (None: not the driver's)."""
        import psycopg
        from psycopg import errors

        text = " ".join(str(exc).split())
        if isinstance(exc, errors.LockNotAvailable):
            return DatabaseBusy(f"a lock was not granted within lock_timeout ({self.lock_timeout:g} s); "
                                f"nothing was written: {text}")
        if isinstance(exc, (errors.SerializationFailure, errors.DeadlockDetected, psycopg.IntegrityError)):
            return WriteConflict(text)
        if isinstance(exc, (psycopg.DataError, psycopg.ProgrammingError)):
            return InvalidArgument(f"the database refused a value: {text}")
        if isinstance(exc, psycopg.OperationalError):
            if connecting:
                final = any(words in text for words in _FINAL_CONNECT_ERRORS)
                return DatabaseUnavailable(f"cannot connect to {self.display}: {text}", retryable=not final)
            if committing:
                return DatabaseUnavailable(
                    f"the connection to {self.display} broke during the commit, which may have gone through: "
                    f"retry with the same idempotency_key ({text})", retryable=True)
            return DatabaseUnavailable(f"the connection to {self.display} broke; nothing of this call was "
                                       f"kept: {text}", retryable=True)
        if isinstance(exc, psycopg.Error):
            return DatabaseUnavailable(f"database error on {self.display}: {text}", retryable=False)
        return None

    @staticmethod
    def is_dead(conn: Any) -> bool:
        """Whether the server closed the connection (a restart, an administrator)."""
        return bool(conn.closed or conn.broken)

    @staticmethod
    def begin(conn: Any) -> None:
        """The transaction opens with its first statement."""

    @staticmethod
    def end_read(conn: Any) -> None:
        """End a read so the connection holds no snapshot."""
        conn.rollback()

    @staticmethod
    def executemany(conn: Any, sql: str, params: Sequence[Sequence[Any]]) -> int:
        with conn.cursor() as cur:
            cur.executemany(sql, params)
            return int(cur.rowcount)

    @staticmethod
    def copy(conn: Any, sql: str, params: Sequence[Sequence[Any]]) -> int:
        with conn.cursor() as cur, cur.copy(sql) as out:
            for row in params:
                out.write_row(row)
        return len(params)

    # -- the same, on an async connection (dialstate.store.aio) ---------------------------

    @staticmethod
    async def executemany_async(conn: Any, sql: str, params: Sequence[Sequence[Any]]) -> int:
        async with conn.cursor() as cur:
            await cur.executemany(sql, params)
            return int(cur.rowcount)

    @staticmethod
    async def copy_async(conn: Any, sql: str, params: Sequence[Sequence[Any]]) -> int:
        async with conn.cursor() as cur, cur.copy(sql) as out:
            for row in params:
                await out.write_row(row)
        return len(params)

    @staticmethod
    @contextmanager
    def import_cache(conn: Any) -> Iterator[None]:
        """Nothing to tune for a bulk load (so the asyncio face needs no async twin)."""
        yield

    # -- the transition feed ------------------------------------------------------------

    @staticmethod
    def reserve_entries(tx: Transaction, n: int) -> Work[int]:
        """Reserve `n` history entries: the first one's ordinal in this transaction
        (the positions are handed out at commit)."""
        return tx.take(n)
        yield  # pragma: no cover - makes this a generator

    @staticmethod
    def insert_entries(tx: Transaction, entries: list[tuple[Any, ...]]) -> Work[int]:
        """Insert history entries, each with its ordinal in the transaction; returns
        the first one's."""
        first = tx.take(len(entries))
        rows = [(*entry, first + i) for i, entry in enumerate(entries)]
        yield (count(Q["insert_entry"], rows[0]) if len(rows) == 1 else many(Q["insert_entry"], rows))
        return first

    @staticmethod
    async def commit_async(conn: Any, tx: Transaction) -> None:
        """`commit`, on an async connection."""
        if not tx.count:
            await conn.commit()
            return
        n = tx.count
        async with conn.pipeline():
            cur = await conn.execute(Q["feed_commit"], (n, n, n, n))
            await conn.commit()
        tx.base = int((await cur.fetchone())[0])

    @staticmethod
    def commit(conn: Any, tx: Transaction) -> None:
        """Take this transaction's feed positions, after every transaction that
        committed before it, and commit. Both go to the server in one pipeline, so the
        `ds_feed` row that orders the commits is locked only while the server runs
        them, whatever happens to this process meanwhile."""
        if not tx.count:
            conn.commit()
            return
        n = tx.count
        with conn.pipeline():
            cur = conn.execute(Q["feed_commit"], (n, n, n, n))
            conn.commit()
        tx.base = int(cur.fetchone()[0])

    @staticmethod
    def folding(tx: Transaction) -> None:
        """Nothing to run before committing: every transaction adds its own counters."""
        return None

    @staticmethod
    def fold_feed() -> Work[None]:
        """Nothing waits to be folded here (see the SQLite backend): every transaction
        adds its own counters."""
        return
        yield  # a unit of work that asks for nothing

    feed_folded = fold_feed

    #: Statistics are added as delta rows by each transition, folded by their readers.
    folds_stats = True
    counts_each_write = True
    #: Whether a big import refreshes the planner's statistics (`analyze_imported`).
    analyzes_imports = True

    # -- the import's inserts ----------------------------------------------------------

    @staticmethod
    def first_ids() -> Work[int | None]:
        """Ids come from the sequence, batch by batch."""
        return None
        yield  # pragma: no cover - makes this a generator

    @staticmethod
    def insert_contacts(batch: list[tuple[Any, ...]], size: int, first_id: int | None,
                        campaign_id: int) -> Work[tuple[list[int], set[int]]]:
        """Insert a batch's rows (each starting with its position, of `size`) by COPY
        into a temporary table: their numbers first, then the contacts whose numbers no
        other contact of the campaign has. Returns (the id of each position, the
        positions left out as duplicates)."""
        ids = [r[0] for r in (yield all_rows(Q["reserve_contact_ids"], (size,)))]
        yield count(Q["import_table"])
        yield copy(Q["copy_import_rows"], [(ids[row[0]], *row[1:]) for row in batch])
        yield count(Q["claim_imported_numbers"])
        inserted = yield count(Q["insert_imported"])
        yield count(Q["clear_import_table"])
        dropped: set[int] = set()
        if inserted != len(batch):
            batch_ids = [ids[row[0]] for row in batch]
            present = yield from found_among(Q["contacts_present"], (), batch_ids)
            dropped = {row[0] for row, cid in zip(batch, batch_ids, strict=True) if cid not in present}
        return ids, dropped

    @staticmethod
    def first_entries(tx: Transaction, ids: list[int], noted_at: list[int], noted: list[tuple[Any, ...]],
                      ready: list[int], actor: str | None, policy_version: int) -> Work[None]:
        """The first entries of a batch: `noted` (those with a note, of the positions
        `noted_at`), then those of the `ready` contacts, in that order in the
        transaction."""
        if noted:
            key = yield from PostgresBackend.reserve_entries(tx, len(noted))
            yield many(Q["insert_entry"], [(*entry, key + i) for i, entry in enumerate(noted)])
        if ready:
            first = yield from PostgresBackend.reserve_entries(tx, len(ready))
            yield count(Q["first_entries"], (actor, policy_version, first, ready))
