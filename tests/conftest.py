"""Shared fixtures: a virtual clock, engines on SQLite files and on PostgreSQL, new
empty PostgreSQL databases, and a dialect registry a test may add to.

The engine fixtures run each test through both faces of the engine: the sync
`Engine` and the asyncio `AsyncEngine` (through `tests.support.faces.SyncFace`), with
ids such as `sqlite-sync` and `postgresql-async`. A test that needs a sync-only
feature says so with `@pytest.mark.sync_only("why")`.

PostgreSQL tests use `DIALSTATE_TEST_PG_URL` (default: the local server); each test
session gets a fresh database of its own, dropped at the end. They skip with the
reason when no server answers, and fail instead when `DIALSTATE_REQUIRE_PG=1`.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from dialstate import Engine
from dialstate.testing import VirtualClock, admin_conninfo, scratch_pg_database
from tests.support.faces import FACES, open_engine

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
#: Tables a test starts without rows in (the schema's own records stay).
KEPT_TABLES = ("ds_schema_info", "ds_feed")


@pytest.fixture
def clock() -> VirtualClock:
    """The engines' clock, at Monday 2026-03-02 10:00 UTC until the test moves it."""
    return VirtualClock()


def _pg_admin_url() -> str:
    return os.environ.get("DIALSTATE_TEST_PG_URL", DEFAULT_PG_URL)


def _pg_unavailable(reason: str) -> None:
    if os.environ.get("DIALSTATE_REQUIRE_PG") == "1":
        pytest.fail(f"PostgreSQL is required (DIALSTATE_REQUIRE_PG=1) but {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL tests skipped: {reason} (set DIALSTATE_TEST_PG_URL)")


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session."""
    import psycopg

    try:
        database = scratch_pg_database(_pg_admin_url(), prefix="dialstate_test", connect_timeout=3)
        url = database.__enter__()
    except psycopg.OperationalError as exc:  # no server: skip (or fail when required)
        _pg_unavailable(f"no server answers at {_pg_admin_url()} ({exc})")
    try:
        yield url
    finally:
        database.__exit__(None, None, None)


@pytest.fixture
def new_pg_database(pg_url: str) -> Iterator[Callable[[], str]]:
    """Makes new, empty PostgreSQL databases on the session's server (dropped afterwards)."""
    with ExitStack() as made:
        yield lambda: made.enter_context(scratch_pg_database(pg_url, prefix="dialstate_empty"))


def _truncate_pg(url: str) -> None:
    import psycopg

    with psycopg.connect(admin_conninfo(url), autocommit=True) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE 'ds\\_%%'")
            if r[0] not in KEPT_TABLES]
        if tables:
            conn.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
            conn.execute("UPDATE ds_feed SET next = 1")


def _engine_through(request: pytest.FixtureRequest, face: str, url: str, clock: VirtualClock) -> Iterator[Engine]:
    only = request.node.get_closest_marker("sync_only")
    if face != "sync" and only is not None:
        pytest.skip(f"sync face only: {only.args[0] if only.args else only.kwargs.get('reason', '')}")
    engine = open_engine(face, url, clock)
    yield engine
    engine.close()


def _faces(backend: str, *marks: pytest.MarkDecorator) -> list[Any]:
    """(backend, face) parameters, with ids such as `sqlite-async`."""
    return [pytest.param((backend, face), marks=marks, id=f"{backend}-{face}") for face in FACES]


@pytest.fixture
def empty_pg_url(pg_url: str) -> str:
    """The session's PostgreSQL database, emptied for this test."""
    _truncate_pg(pg_url)
    return pg_url


@pytest.fixture(params=_faces("postgresql", pytest.mark.pg))
def pg_engine(request: pytest.FixtureRequest, empty_pg_url: str, clock: VirtualClock) -> Iterator[Engine]:
    """The engine on PostgreSQL, through each face."""
    yield from _engine_through(request, request.param[1], empty_pg_url, clock)


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'dialstate.db'}"


@pytest.fixture(params=_faces("sqlite"))
def sqlite_engine(request: pytest.FixtureRequest, sqlite_url: str, clock: VirtualClock) -> Iterator[Engine]:
    """The engine on a SQLite file, through each face."""
    yield from _engine_through(request, request.param[1], sqlite_url, clock)


@pytest.fixture(params=[*_faces("sqlite"), *_faces("postgresql", pytest.mark.pg)])
def engine(request: pytest.FixtureRequest, clock: VirtualClock) -> Iterator[Engine]:
    """The engine on each backend, SQLite (a file) and PostgreSQL, through each face."""
    backend, face = request.param
    url = request.getfixturevalue("empty_pg_url" if backend == "postgresql" else "sqlite_url")
    yield from _engine_through(request, face, url, clock)


@pytest.fixture
def other(engine: Engine, clock: VirtualClock) -> Iterator[Engine]:
    """A second (sync) engine on the `engine` fixture's database: what another process
    would do."""
    second = Engine(engine.url if "sqlite" in engine.url else engine.database.url.render_as_string(False),
                    clock=clock)
    yield second
    second.close()


@pytest.fixture
def isolated_dialects(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let a test register dialects without leaking them into other tests."""
    module = importlib.import_module("dialstate.outcomes.normalize")  # the function shares its name
    # A private seam: dialstate has no public way to unregister a dialect (only to
    # replace one), so the registry itself is swapped for a copy for the test.
    monkeypatch.setattr(module, "_REGISTRY", dict(module._REGISTRY))
