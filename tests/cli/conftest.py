"""Fixtures of the command-line tests: a database file (not there yet, or made), one
campaign in it, a database on each backend, and an empty one on each backend.

Errors reach the user as one line on stderr, exit code 1 for runtime errors and 2 for
usage errors, and never as a traceback unless `--debug`
(`tests.support.cli.assert_one_line_error`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dialstate import DialMode, Engine
from dialstate.testing import VirtualClock


@pytest.fixture
def db(sqlite_url: str) -> str:
    """A SQLite database that does not exist yet (commands that write make it)."""
    return sqlite_url


@pytest.fixture
def made_db(db: str) -> str:
    """The SQLite database, made (with its tables, and nothing in them)."""
    Engine(db).close()
    return db


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def any_db(request: pytest.FixtureRequest) -> str:
    """A database on each backend: a SQLite file not made yet; the session's PostgreSQL
    database, emptied."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("empty_pg_url"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database that exists but has no tables yet, on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "empty.db"
        path.touch()
        return f"sqlite:///{path}"
    return str(request.getfixturevalue("new_pg_database")())


@pytest.fixture
def campaign(db: str, clock: VirtualClock) -> int:
    """A preview campaign with three contacts, one of them called once (busy)."""
    with Engine(db, clock=clock) as engine:
        cid = engine.create_campaign("Winter renewals", DialMode.PREVIEW, default_region="DE",
                                     timezone="Europe/Berlin").id
        ids = engine.add_contacts(cid, ["+49 30 1234567", {"phone": "030 7654321", "external_id": "crm-2",
                                                           "data": {"name": "Ada"}}, "not a number"]).contact_ids
        engine.assign_operator(ids[0], "op1")
        engine.accept(ids[0])
        engine.dial(ids[0], call_id="call-1")
        engine.call_ended(ids[0], "486", "sip", call_id="call-1")
    return cid
