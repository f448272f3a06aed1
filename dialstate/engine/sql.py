"""The lean SQL layer: DBAPI connections for the hot paths, on SQLite and PostgreSQL.

Each statement through SQLAlchemy Core costs tens of microseconds; the per-transition
write, claims and imports go straight to the driver. SQL is written once with `?`
placeholders and translated for psycopg. SQLAlchemy (SQLModel) still owns the table
definitions, schema creation and the simple reads.
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from dialstate.errors import ConfigurationError

BUSY_TIMEOUT_SECONDS = 30.0


class Database:
    """One database: a SQLAlchemy engine plus one raw connection per thread."""

    def __init__(self, url: str) -> None:
        try:
            self.url: URL = make_url(url)
        except Exception as exc:  # sqlalchemy raises ArgumentError with little context
            raise ConfigurationError(
                f"malformed database URL {url!r}: expected sqlite:///PATH or "
                "postgresql+psycopg://USER@HOST:PORT/DB"
            ) from exc
        backend = self.url.get_backend_name()
        if backend not in ("sqlite", "postgresql"):
            raise ConfigurationError(
                f"unsupported database {backend!r} in {url!r}: dialstate runs on sqlite or postgresql"
            )
        self.is_pg = backend == "postgresql"
        self.integrity_errors: tuple[type[BaseException], ...] = (sqlite3.IntegrityError,)
        self._local = threading.local()
        self._lock = threading.Lock()
        #: Every open connection with the thread that owns it.
        self._connections: list[tuple[threading.Thread, Any]] = []
        self._sql: dict[str, str] = {}
        if self.is_pg:
            import psycopg

            self.integrity_errors = (psycopg.IntegrityError,)
            self.url = self.url.set(drivername="postgresql+psycopg")
            self.sa_engine = sa.create_engine(self.url, pool_pre_ping=True)
        else:
            self._sqlite_target, self._sqlite_uri = self._sqlite_file(self.url)
            self.sa_engine = sa.create_engine(
                "sqlite://", creator=self._new_sqlite, poolclass=sa.pool.QueuePool
            )

    # -- connections -------------------------------------------------------------

    @staticmethod
    def _sqlite_file(url: URL) -> tuple[str, bool]:
        database = url.database
        if not database or database == ":memory:":
            # A private shared-cache memory database, so every connection sees it.
            return f"file:dialstate-{uuid.uuid4().hex}?mode=memory&cache=shared", True
        if database.startswith("file:"):
            return database, True
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        return str(Path(database).expanduser()), False

    def _new_sqlite(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self._sqlite_target,
            timeout=BUSY_TIMEOUT_SECONDS,
            isolation_level=None,  # we issue BEGIN IMMEDIATE / COMMIT ourselves
            check_same_thread=False,
            uri=self._sqlite_uri,
        )
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
        if not self._sqlite_uri:
            conn.execute("PRAGMA journal_mode = WAL")
            # Checkpoint every ~40 MB of WAL rather than every 4 MB: a contact row and
            # its index pages change several times within seconds, and each checkpoint
            # then copies them back once instead of several times. The file is cut back
            # to 64 MB after a checkpoint.
            conn.execute("PRAGMA wal_autocheckpoint = 10000")
            conn.execute("PRAGMA journal_size_limit = 67108864")
        conn.execute("PRAGMA synchronous = NORMAL")
        return conn

    def _new_pg(self) -> Any:
        import psycopg

        conninfo = self.url.set(drivername="postgresql").render_as_string(hide_password=False)
        return psycopg.connect(conninfo, autocommit=False)

    def connection(self) -> Any:
        """This thread's raw DBAPI connection (opened on first use)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and self.is_pg and (conn.closed or conn.broken):
            # The server restarted or the network dropped: open a new connection.
            self._forget(lambda thread, c: c is conn)
            conn = None
        if conn is None:
            # Close what threads that have ended left open, so a program that runs
            # calls from short-lived threads does not pile up connections.
            self._forget(lambda thread, c: not thread.is_alive())
            conn = self._new_pg() if self.is_pg else self._new_sqlite()
            self._local.conn = conn
            with self._lock:
                self._connections.append((threading.current_thread(), conn))
        return conn

    def connection_lost(self) -> bool:
        """Whether this thread's connection was closed under it (the next call
        opens a new one)."""
        conn = getattr(self._local, "conn", None)
        return conn is not None and bool(getattr(conn, "closed", False))

    def _forget(self, which: Any) -> None:
        with self._lock:
            gone = [(t, c) for t, c in self._connections if which(t, c)]
            self._connections = [(t, c) for t, c in self._connections if not which(t, c)]
        for _, c in gone:
            try:
                c.close()
            except Exception:  # pragma: no cover - closing a broken connection
                pass

    def close(self) -> None:
        self._forget(lambda thread, c: True)
        self._local = threading.local()
        self.sa_engine.dispose()

    # -- statements --------------------------------------------------------------

    def q(self, sql: str) -> str:
        """`sql` with `?` placeholders in this driver's paramstyle."""
        if not self.is_pg:
            return sql
        out = self._sql.get(sql)
        if out is None:
            out = self._sql[sql] = sql.replace("%", "%%").replace("?", "%s")
        return out

    def begin(self) -> Any:
        """Open a write transaction on this thread's connection and return it."""
        conn = self.connection()
        if not self.is_pg:
            conn.execute("BEGIN IMMEDIATE")
        return conn

    @staticmethod
    def rollback(conn: Any) -> None:
        try:
            conn.rollback()
        except Exception:  # a dead connection: the error that killed it is the one to raise
            pass

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """One write transaction on this thread's connection; yields the connection.

        SQLite takes the write lock up front (BEGIN IMMEDIATE) so a read-then-write
        never fails to upgrade; PostgreSQL opens its transaction on the first
        statement and relies on row guards and SKIP LOCKED.
        """
        conn = self.begin()
        try:
            yield conn
        except BaseException:
            self.rollback(conn)
            raise
        else:
            conn.commit()

    @contextmanager
    def reading(self) -> Iterator[Any]:
        """A read on this thread's connection, ended so it holds no snapshot."""
        conn = self.connection()
        try:
            yield conn
        finally:
            if self.is_pg:
                conn.rollback()

    def execute(self, conn: Any, sql: str, params: Sequence[Any] = ()) -> Any:
        if self.is_pg:
            sql = self.q(sql)
        return conn.execute(sql, params)

    def executemany(self, conn: Any, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        """Run `sql` once per row; returns the rows affected in all."""
        if self.is_pg:
            with conn.cursor() as cur:
                cur.executemany(self.q(sql), rows)
                return int(cur.rowcount)
        return int(conn.executemany(sql, rows).rowcount)

    def placeholders(self, n: int) -> str:
        return ",".join("?" * n)
