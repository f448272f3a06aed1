"""What is particular to PostgreSQL: connecting with psycopg, executemany through a
cursor, COPY, and the import's inserts (ids from the sequence, rows by COPY)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy.engine import URL

from dialstate.store.ops import Work, all_rows, copy, count
from dialstate.store.statements import queries

Q = queries("postgresql")


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
        self.integrity_errors: tuple[type[BaseException], ...] = (psycopg.IntegrityError,)
        self.errors: tuple[type[BaseException], ...] = (psycopg.Error,)

    def connect(self) -> Any:
        import psycopg

        return psycopg.connect(self.conninfo, **self.connect_options())

    def connect_options(self) -> dict[str, Any]:
        """How every connection is opened, blocking or async (the asyncio face's pool
        passes them to each connection it makes)."""
        return {"autocommit": False, "options": f"-c lock_timeout={int(self.lock_timeout * 1000)}"}

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

    # -- the import's inserts ----------------------------------------------------------

    @staticmethod
    def first_ids() -> Work[int | None]:
        """Ids come from the sequence, batch by batch."""
        return None
        yield  # pragma: no cover - makes this a generator

    @staticmethod
    def insert_contacts(batch: list[tuple[Any, ...]], first_id: int | None) -> Work[tuple[list[int], int]]:
        """Insert a batch's rows (each starting with its position) by COPY into a
        temporary table and one INSERT ... SELECT: (the id of each position, how many
        went in)."""
        ids = [r[0] for r in (yield all_rows(Q["reserve_contact_ids"], (len(batch),)))]
        yield count(Q["import_table"])
        yield copy(Q["copy_import_rows"], [(ids[row[0]], *row[1:]) for row in batch])
        inserted = yield count(Q["insert_imported"])
        yield count(Q["clear_import_table"])
        return ids, int(inserted)

    @staticmethod
    def first_entries(ids: list[int], actor: str | None, policy_version: int) -> Work[None]:
        yield count(Q["first_entries"], (actor, policy_version, ids))
