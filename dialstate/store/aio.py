"""`AsyncDatabase`: the asyncio face's driver of units of work (`dialstate.store.ops`).

The units are the sync face's; only the I/O differs:
- PostgreSQL: psycopg's async connections in a `psycopg_pool.AsyncConnectionPool`;
  a unit runs with `await` on one pooled connection, as one transaction, so many
  coroutines share a few connections and no thread.
- SQLite: its driver blocks (a statement, a wait for the writer lock), so the sync
  `Database` runs the unit in a pool of worker threads; the event loop only awaits it.
  A unit's `pull` (the caller's input) is answered on the loop.

Cancellation: a transaction runs as a task of its own, which the caller awaits
through `asyncio.shield`. When the caller is cancelled, the transaction is stopped
at its next statement (a PostgreSQL statement running is cancelled on the server)
and rolled back; once it is committing, the commit is let finish. Either way the
caller waits until the connection is back in its pool, and then raises a plain
`CancelledError` (`asyncio.timeout` turns only that class into `TimeoutError`); when
the transaction had committed, the caller's `committed` callback hears of its result.
So a cancelled call leaves no transaction open, no connection out of its pool, and
every row it touched fully changed or unchanged.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from inspect import isawaitable
from typing import Any, TypeVar

from dialstate.errors import ConfigurationError, DatabaseUnavailable, EngineClosed
from dialstate.store.database import Database, WorkSource
from dialstate.store.feed import Transaction as FeedTransaction
from dialstate.store.ops import ALL, COPY, COUNT, MANY, ONE, PULL, TX, Work
from dialstate.store.postgres import PostgresBackend

T = TypeVar("T")

#: Answers a unit's `pull(request)` on the event loop (the caller's input).
AsyncSource = Callable[[Any], Awaitable[Any]]


class _Stopped(Exception):
    """Raised in a unit of work whose caller was cancelled: the transaction rolls back."""


class _Guard:
    """Where one transaction stands, for the caller that may have to stop it."""

    def __init__(self) -> None:
        #: Set when the caller is cancelled: the unit stops at its next operation.
        self.stop = threading.Event()
        #: Past the unit's last operation: the commit is not interrupted.
        self.committing = False
        #: A pull waiting on the event loop (SQLite's worker thread waits for it).
        self.pulling: Future[Any] | None = None


class AsyncDatabase:
    """One database for the asyncio face: `await run(work)`, `await read(work)`.

    `open()` prepares the schema (in a thread, once) and the connections; `run` and
    `read` open it on first use. `sync` is a blocking `Database` on the same URL: the
    statements, the backend and the schema come from it, SQLite's worker threads run
    units with it, and tools below the API (tests that corrupt a row) may use it.
    """

    def __init__(self, url: str, *, pool_size: int = 10, lock_timeout: float = 5.0) -> None:
        if isinstance(pool_size, bool) or not isinstance(pool_size, int) or not 1 <= pool_size <= 1000:
            raise ConfigurationError(f"pool_size must be an integer from 1 to 1000, got {pool_size!r}")
        self.sync = Database(url, lock_timeout=lock_timeout)
        self.q = self.sync.q
        self.backend = self.sync.backend
        self.is_pg = self.sync.is_pg
        self.integrity_errors = self.sync.integrity_errors
        self.pool_size = pool_size
        self._driver: _PgDriver | _ThreadDriver = _PgDriver(self) if self.is_pg else _ThreadDriver(self)
        self._state = "new"  # -> "open" -> "closed"
        self._opening: asyncio.Lock | None = None

    @property
    def display_url(self) -> str:
        return self.sync.display_url

    @property
    def before_commit(self) -> list[Callable[[], Any]]:
        """Hooks called inside each write transaction just before it commits (fault
        injection in tests). On PostgreSQL a hook may return an awaitable; on SQLite
        hooks run in the worker thread and must be plain."""
        return self.sync.before_commit

    @property
    def pool(self) -> Any:
        """PostgreSQL: the `psycopg_pool.AsyncConnectionPool` (None before `open`)."""
        return self._driver.pool if isinstance(self._driver, _PgDriver) else None

    async def open(self) -> None:
        """Prepare the schema (in a thread) and the connections; again is a no-op."""
        if self._state == "open":
            return
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self._state == "closed":
                raise EngineClosed()
            if self._state == "new":
                await asyncio.get_running_loop().run_in_executor(None, self._prepare_schema)
                await self._driver.open()
                self._state = "open"

    def _prepare_schema(self) -> None:
        self.sync.open()
        self.sync.sa_engine.dispose()  # its connection served the schema check only

    async def close(self) -> None:
        if self._state == "closed":
            return
        self._state = "closed"
        await self._driver.close()
        await asyncio.get_running_loop().run_in_executor(None, self.sync.close)

    async def run(self, work: WorkSource[T], source: AsyncSource | None = None, *, bulk: bool = False,
                  committed: Callable[[T], object] | None = None) -> T:
        """Run a unit of work (or a function making it: then a connection the server
        closed while idle is replaced and the unit run afresh) as one write
        transaction and commit it; roll back on any error, raised as a
        `DialstateError`. `await source(request)` answers the unit's `pull(request)`.
        When the caller is cancelled but the transaction committed all the same,
        `committed(result)` is called before the `CancelledError` is raised."""
        if self._state != "open":
            await self.open()
        return await _transaction(self._driver.run(work, source, write=True, bulk=bulk), committed)

    async def read(self, work: WorkSource[T]) -> T:
        """Run a unit of work that only reads, holding no snapshot after it."""
        if self._state != "open":
            await self.open()
        return await _transaction(self._driver.run(work, None, write=False, bulk=False), None)


#: How a driver runs one transaction: `run(guard)` does it; `stop(guard, task)`
#: asks it to stop early, the caller being cancelled.
Transaction = tuple[Callable[[_Guard], Awaitable[T]], Callable[[_Guard, "asyncio.Future[T]"], None]]


async def _transaction(transaction: Transaction[T], committed: Callable[[T], object] | None) -> T:
    """Run a driver's transaction as a task that the caller's cancellation cannot cut
    short: a cancelled caller stops it and waits for it to end all the same."""
    run, stop = transaction
    guard = _Guard()
    task = asyncio.ensure_future(run(guard))
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        # The caller was cancelled (or, when it is done cancelled, the transaction
        # itself, by the loop closing, say). The transaction may have ended already,
        # its result not yet delivered.
        if not task.done():
            stop(guard, task)
        while not task.done():
            try:
                await asyncio.wait([task])
            except asyncio.CancelledError:
                pass  # cancelled again: the transaction still ends first
        if not task.cancelled() and task.exception() is None and committed is not None:
            committed(task.result())
        raise


def _stoppable(work: Work[T], guard: _Guard) -> Work[T]:
    """`work`, stopped before its next operation, or before the commit, once
    `guard.stop` is set (a SQLite unit running in a worker thread has no other way to
    hear of a cancellation)."""
    result: Any = None
    try:
        while True:
            if guard.stop.is_set():
                raise _Stopped("the caller was cancelled")
            try:
                op = work.send(result)
            except StopIteration as end:
                if guard.stop.is_set():
                    raise _Stopped("the caller was cancelled") from None
                return end.value  # type: ignore[no-any-return]
            result = yield op
    finally:
        work.close()


class _PgDriver:
    """PostgreSQL: units run with `await` on connections of an async pool.

    psycopg's pipeline mode would send the BEGIN with the first statement, but its
    bookkeeping costs more CPU on the loop than the round trip saves: with 20
    coroutines on 10 connections it made a fourth fewer transitions a second.
    """

    def __init__(self, db: AsyncDatabase) -> None:
        assert isinstance(db.backend, PostgresBackend)
        self._db = db
        self._backend: PostgresBackend = db.backend
        self.pool: Any = None
        self._slots = asyncio.Semaphore(db.pool_size)

    async def open(self) -> None:
        from psycopg import AsyncConnection
        from psycopg_pool import AsyncConnectionPool

        backend = self._backend
        self.pool = AsyncConnectionPool(
            backend.conninfo, min_size=self._db.pool_size, max_size=self._db.pool_size, open=False,
            kwargs=backend.connect_options(), connection_class=AsyncConnection, name="dialstate")
        # The schema check has just reached the server: the connections are made in
        # the background, and the first call waits for one.
        await self.pool.open(wait=False)

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.close()

    def run(self, work: WorkSource[T], source: AsyncSource | None, *, write: bool, bulk: bool) -> Transaction[T]:
        # `bulk` tunes nothing on PostgreSQL (see PostgresBackend.import_cache).
        async def transaction(guard: _Guard) -> T:
            # Coroutines queue for a connection here rather than in the pool: a
            # semaphore hands a free slot over in one step, the pool's waiting
            # clients in several (about 15% less CPU a transition, measured with 50
            # coroutines on 10 connections).
            async with self._slots:
                for attempt in (1, 2):
                    if self._db._state == "closed":
                        raise EngineClosed()
                    pool = self.pool
                    conn = await pool.getconn()
                    tx = FeedTransaction()
                    try:
                        unit = work() if callable(work) else work
                        return await self._transaction(conn, unit, source, write, guard, tx)
                    except Exception as exc:
                        error = self._backend.translate(exc, committing=tx.committing)
                        if error is None:
                            raise
                        # A connection the server closed while it was idle in the pool
                        # (a restart): replaced, and the unit run afresh on another.
                        stale = tx.statements == 0 and self._backend.is_dead(conn)
                        if attempt == 1 and stale and callable(work) and isinstance(error, DatabaseUnavailable):
                            await pool.putconn(conn)
                            await pool.check()  # the others idle in the pool died with it: replace them too
                            conn = None
                            continue
                        raise error from exc
                    finally:
                        if conn is not None:
                            await pool.putconn(conn)  # the pool replaces a connection that broke
            raise AssertionError("unreachable")  # pragma: no cover

        return transaction, _cancel_unless_committing

    async def _transaction(self, conn: Any, work: Work[T], source: AsyncSource | None, write: bool,
                           guard: _Guard, tx: FeedTransaction) -> T:
        try:
            return await self._finish(conn, guard, write, await self._drive(conn, work, source, tx), tx)
        except BaseException:
            if not conn.closed:
                try:
                    await conn.rollback()
                except Exception:  # a dead connection: the pool replaces it
                    pass
            raise

    async def _finish(self, conn: Any, guard: _Guard, write: bool, result: T, tx: FeedTransaction) -> T:
        """Commit a write (after the hooks); end a read, which then holds no snapshot."""
        if not write:
            await conn.rollback()
            return result
        for hook in self._db.before_commit:
            outcome = hook()
            if isawaitable(outcome):
                await outcome
        guard.committing = tx.committing = True
        await self._backend.commit_async(conn, tx)
        return result

    async def _drive(self, conn: Any, work: Work[T], source: AsyncSource | None, tx: FeedTransaction) -> T:
        send = work.send
        backend = self._backend
        result: Any = None
        cur = conn.cursor()  # one for the unit's statements: a cursor each costs CPU on the loop
        try:
            while True:
                kind, sql, params = send(result)
                if kind == ONE:
                    result = await (await cur.execute(sql, params)).fetchone()
                elif kind == COUNT:
                    result = (await cur.execute(sql, params)).rowcount
                elif kind == ALL:
                    result = await (await cur.execute(sql, params)).fetchall()
                elif kind == MANY:
                    result = await backend.executemany_async(conn, sql, params) if params else 0
                elif kind == COPY:
                    result = await backend.copy_async(conn, sql, params)
                elif kind == PULL:
                    if source is None:  # pragma: no cover - a unit that pulls needs a source
                        raise RuntimeError("this unit of work reads the caller's input: give run() a source")
                    result = await source(params)
                    continue
                elif kind == TX:
                    result = tx
                    continue
                else:  # pragma: no cover
                    raise RuntimeError(f"unknown operation {kind!r}")
                tx.statements += 1
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        finally:
            work.close()
            await cur.close()


def _cancel_unless_committing(guard: _Guard, task: asyncio.Future[Any]) -> None:
    """Stop a PostgreSQL transaction whose caller was cancelled, unless it commits:
    psycopg cancels a statement in flight on the server, and the transaction rolls
    back."""
    if not guard.committing:
        task.cancel()


class _ThreadDriver:
    """SQLite: the sync `Database` runs each unit in one of `pool_size` worker threads
    (each with its own connection), off the event loop."""

    def __init__(self, db: AsyncDatabase) -> None:
        self._db = db
        self._executor: ThreadPoolExecutor | None = None

    async def open(self) -> None:
        self._executor = ThreadPoolExecutor(self._db.pool_size, thread_name_prefix="dialstate-sqlite")

    async def close(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            await asyncio.get_running_loop().run_in_executor(None, executor.shutdown)

    def run(self, work: WorkSource[T], source: AsyncSource | None, *, write: bool, bulk: bool) -> Transaction[T]:
        loop = asyncio.get_running_loop()
        executor = self._executor
        sync = self._db.sync

        def in_thread(guard: _Guard) -> T:
            unit = _stoppable(work() if callable(work) else work, guard)
            if not write:
                return sync.read(unit)
            return sync.run(unit, None if source is None else pulling(guard), bulk=bulk)

        def pulling(guard: _Guard) -> Callable[[Any], Any]:
            assert source is not None

            def pull(request: Any) -> Any:
                # The worker thread waits while the loop makes the next batch.
                future = asyncio.run_coroutine_threadsafe(_on_the_loop(source, request), loop)
                guard.pulling = future
                if guard.stop.is_set():
                    future.cancel()
                try:
                    return future.result()
                finally:
                    guard.pulling = None

            return pull

        def stop(guard: _Guard, task: asyncio.Future[T]) -> None:
            guard.stop.set()
            if guard.pulling is not None:
                guard.pulling.cancel()

        async def run(guard: _Guard) -> T:
            return await loop.run_in_executor(executor, in_thread, guard)

        return run, stop


async def _on_the_loop(source: AsyncSource, request: Any) -> Any:
    """`await source(request)`, called on the event loop (not in the worker thread)."""
    return await source(request)
