"""`Database`: the connections of one database, and the driver that runs a unit of
work (`dialstate.store.ops`) as one transaction on this thread's connection.

Each statement through SQLAlchemy Core costs tens of microseconds; units of work go
straight to the DBAPI connection (sqlite3 or psycopg). SQLAlchemy still owns the
table definitions, schema creation and migrations (`sa_engine`).
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from dialstate.errors import ConfigurationError, DatabaseUnavailable, EngineClosed
from dialstate.store.feed import Transaction, place
from dialstate.store.ops import ALL, COPY, COUNT, MANY, ONE, PULL, TX, Work
from dialstate.store.postgres import PostgresBackend
from dialstate.store.rowcache import RowCache
from dialstate.store.sqlite import SqliteBackend
from dialstate.store.statements import queries

T = TypeVar("T")
#: A unit of work, or a function that makes one afresh (so it can be run again).
WorkSource = Work[T] | Callable[[], Work[T]]

#: Connections a forked child inherited: never used again and never closed there (a
#: psycopg connection closed in the child would end its parent's session).
_INHERITED: list[Any] = []


class Database:
    """One database: its backend, its named statements, one DBAPI connection per thread."""

    def __init__(self, url: str, *, lock_timeout: float = 5.0) -> None:
        try:
            self.url: URL = make_url(url)
        except Exception as exc:  # sqlalchemy raises ArgumentError with little context
            raise ConfigurationError(
                f"malformed database URL {url!r}: expected sqlite:///PATH or "
                "postgresql+psycopg://USER@HOST:PORT/DB"
            ) from exc
        if isinstance(lock_timeout, bool) or not isinstance(lock_timeout, (int, float)) \
                or not 0 < lock_timeout < 86400:
            raise ConfigurationError(f"lock_timeout must be a number of seconds > 0 (and below a day), "
                                     f"got {lock_timeout!r}")
        name = self.url.get_backend_name()
        if name not in ("sqlite", "postgresql"):
            raise ConfigurationError(
                f"unsupported database {name!r} in {url!r}: dialstate runs on sqlite or postgresql")
        self.backend: SqliteBackend | PostgresBackend
        if name == "postgresql":
            self.url = self.url.set(drivername="postgresql+psycopg")
            self.backend = PostgresBackend(self.url, lock_timeout)
            self.sa_engine = sa.create_engine(self.url, pool_pre_ping=True)
        else:
            self.backend = SqliteBackend(self.url, lock_timeout)
            self.sa_engine = sa.create_engine("sqlite://", creator=self.backend.connect, poolclass=sa.pool.QueuePool)
        self.is_pg = name == "postgresql"
        #: Every named statement as this backend runs it.
        self.q = queries(name)
        self.integrity_errors = self.backend.integrity_errors
        self._local = threading.local()
        self._lock = threading.Lock()
        self._pid = os.getpid()
        #: Every open connection with the thread that owns it.
        self._connections: list[tuple[threading.Thread, Any]] = []
        #: Called inside each write transaction just before it commits (fault injection
        #: in tests: a hook that sleeps holds the transaction open; one that raises
        #: rolls it back).
        self.before_commit: list[Callable[[], None]] = []
        #: Whether someone listens for the feed positions of what commits (a face's
        #: subscribers): SQLite's are then looked up right after the commit, in the
        #: same thread (else nobody pays for them).
        self.wants_positions: Callable[[], bool] = lambda: False
        self.closed = False
        _after_fork.add(self)

    def open(self) -> None:
        """Connect, and make the schema ready (created when empty, refused when old):
        raises `DatabaseUnavailable` when the database cannot be reached or used."""
        from sqlalchemy.exc import DBAPIError

        from dialstate.store.schema import prepare_schema

        self.connection()
        try:
            prepare_schema(self)
        except DBAPIError as exc:
            error = self.backend.translate(exc.orig if exc.orig is not None else exc, connecting=True)
            if error is None:
                raise
            raise error from exc

    @property
    def display_url(self) -> str:
        return self.url.render_as_string(hide_password=True)

    # -- connections -----------------------------------------------------------------

    def connection(self) -> Any:
        """This thread's DBAPI connection (opened on first use, and again when the
        server closed it)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and self.is_pg and (conn.closed or conn.broken):
            self._forget(lambda thread, c: c is conn)
            conn = None
        if conn is None:
            # Close what ended threads left open, so a program that calls from
            # short-lived threads does not pile up connections.
            self._forget(lambda thread, c: not thread.is_alive())
            try:
                conn = self.backend.connect()
            except Exception as exc:
                error = self.backend.translate(exc, connecting=True)
                if error is None:
                    raise
                raise error from exc
            self._local.conn = conn
            self._local.rows = self.backend.row_cache()
            with self._lock:
                self._connections.append((threading.current_thread(), conn))
        return conn

    def _forget(self, which: Callable[[threading.Thread, Any], bool]) -> None:
        with self._lock:
            gone = [c for t, c in self._connections if which(t, c)]
            self._connections = [(t, c) for t, c in self._connections if not which(t, c)]
        for c in gone:
            try:
                c.close()
            except Exception:  # pragma: no cover - closing a broken connection
                pass

    def _forked(self) -> None:
        """In a forked child: drop the parent's connections without closing them."""
        with self._lock:
            _INHERITED.extend(c for _, c in self._connections)
            self._connections = []
        self._local = threading.local()
        self._pid = os.getpid()
        self.sa_engine.dispose(close=False)

    def close(self) -> None:
        """Close every connection; later calls raise `EngineClosed`."""
        self.closed = True
        self._forget(lambda thread, c: True)
        self._local = threading.local()
        self.sa_engine.dispose()
        _after_fork.discard(self)

    # -- running units of work -------------------------------------------------------

    def run(self, work: WorkSource[T], source: Callable[[Any], Any] | None = None, *, bulk: bool = False) -> T:
        """Run a unit of work as one write transaction and commit it; roll back on any
        error, raised as a `DialstateError`. `work` is the unit, or a function making it
        (then a connection the server closed while idle is replaced and the unit run
        afresh). `source(request)` answers the unit's `pull(request)` (the caller's
        input); `bulk` tunes the connection for a large load while it runs."""
        return self._attempt(work, lambda conn, unit, tx: self._write(conn, unit, source, bulk, tx))

    def read(self, work: WorkSource[T]) -> T:
        """Run a unit of work that only reads, holding no snapshot after it."""
        return self._attempt(work, self._read)

    def _write(self, conn: Any, work: Work[T], source: Callable[[Any], Any] | None, bulk: bool,
               tx: Transaction) -> T:
        backend = self.backend
        rows = tx.rows = self._row_cache()
        backend.begin(conn)
        try:
            if bulk:
                with backend.import_cache(conn):
                    result = self._drive(conn, work, source, tx)
            else:
                result = self._drive(conn, work, source, tx)
            folding = backend.folding(tx)
            if folding is not None:
                self._drive(conn, folding, None, tx)
            for hook in self.before_commit:
                hook()
        except BaseException:
            self.rollback(conn)
            raise
        tx.committing = True
        try:
            backend.commit(conn, tx)
        except BaseException:
            self.rollback(conn)
            raise
        if rows is not None:
            rows.keep(tx.kept, tx.data_version)
        if self.wants_positions() and tx.unplaced:
            self._place(conn, tx)
        return result

    def _place(self, conn: Any, tx: Transaction) -> None:
        """The feed positions of a committed transaction's entries, read in the
        committing thread (an awaited read after the commit could be cancelled). A
        failure leaves them to the face: the transaction committed all the same."""
        try:
            self._drive(conn, place(self.q, tx), None, Transaction())
        except Exception:  # pragma: no cover - a connection that died just after its commit
            pass

    def _read(self, conn: Any, work: Work[T], tx: Transaction) -> T:
        try:
            return self._drive(conn, work, None, tx)
        finally:
            try:
                self.backend.end_read(conn)
            except Exception:  # a dead connection: the error that killed it is the one to raise
                pass

    def _attempt(self, work: WorkSource[T], run: Callable[[Any, Work[T], Transaction], T]) -> T:
        """Run once, and once more on a fresh connection when the first statement found
        this thread's connection dead (the server restarted while it was idle)."""
        for attempt in (1, 2):
            if self.closed:
                raise EngineClosed()
            unit = work() if callable(work) else work
            tx = Transaction()
            conn = None
            try:
                conn = self.connection()
                return run(conn, unit, tx)
            except Exception as exc:
                error = self.backend.translate(exc, committing=tx.committing)
                if error is None:
                    raise
                stale = conn is not None and tx.statements == 0 and self.backend.is_dead(conn)
                if stale:
                    self._forget(_is(conn))
                    _without(self._local)
                if attempt == 1 and stale and callable(work) and isinstance(error, DatabaseUnavailable):
                    continue
                raise error from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _drive(self, conn: Any, work: Work[T], source: Callable[[Any], Any] | None, tx: Transaction) -> T:
        send = work.send
        execute = conn.execute
        backend = self.backend
        result: Any = None
        try:
            while True:
                kind, sql, params = send(result)
                # The kinds in the order a trigger asks for them most.
                if kind == COUNT:
                    result = execute(sql, params).rowcount
                elif kind == ONE:
                    result = execute(sql, params).fetchone()
                elif kind == TX:
                    result = tx
                    continue
                elif kind == ALL:
                    result = execute(sql, params).fetchall()
                elif kind == MANY:
                    result = backend.executemany(conn, sql, params) if params else 0
                elif kind == COPY:
                    result = backend.copy(conn, sql, params)
                elif kind == PULL:
                    if source is None:  # pragma: no cover - a unit that pulls needs a source
                        raise RuntimeError("this unit of work reads the caller's input: give run() a source")
                    result = source(params)
                    continue
                else:  # pragma: no cover
                    raise RuntimeError(f"unknown operation {kind!r}")
                tx.statements += 1
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        finally:
            work.close()

    def _row_cache(self) -> RowCache | None:
        """This thread's connection's cache of the rows it wrote (SQLite files)."""
        return getattr(self._local, "rows", None)

    def rollback(self, conn: Any) -> None:
        rows = self._row_cache()
        if rows is not None:
            rows.clear()
        try:
            conn.rollback()
        except Exception:  # a dead connection: the error that killed it is the one to raise
            pass

    # -- plain statements (schema tools, tests that corrupt rows on purpose) ---------------

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """One write transaction on this thread's connection; yields the connection."""
        conn = self.connection()
        rows = self._row_cache()
        if rows is not None:  # what it writes is not known here
            rows.clear()
        self.backend.begin(conn)
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
            self.backend.end_read(conn)

    def execute(self, conn: Any, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run one statement written with `?` placeholders."""
        if self.is_pg:
            sql = sql.replace("%", "%%").replace("?", "%s")
        return conn.execute(sql, params)


def _is(conn: Any) -> Callable[[threading.Thread, Any], bool]:
    return lambda thread, c: c is conn


def _without(local: threading.local) -> threading.local:
    """A thread's connection slot emptied (the others' kept)."""
    if hasattr(local, "conn"):
        del local.conn
    if hasattr(local, "rows"):
        del local.rows
    return local


class _AfterFork:
    """The databases of this process, told when it forks (weakly held)."""

    def __init__(self) -> None:
        self._dbs: weakref.WeakSet[Database] = weakref.WeakSet()
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._in_child)

    def add(self, db: Database) -> None:
        self._dbs.add(db)

    def discard(self, db: Database) -> None:
        self._dbs.discard(db)

    def _in_child(self) -> None:
        for db in list(self._dbs):
            db._forked()


_after_fork = _AfterFork()
