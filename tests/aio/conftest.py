"""Fixtures of the asyncio face's own tests: a database URL on each backend, emptied,
and what they check below the API (PostgreSQL's sessions, a pool's connections)."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    """A database URL on each backend; the PostgreSQL one emptied for the test."""
    if request.param == "sqlite":
        return sqlite_url
    return str(request.getfixturevalue("empty_pg_url"))


@pytest.fixture
def pg(empty_pg_url: str) -> str:
    """The session's PostgreSQL database, emptied (tests that are about PostgreSQL)."""
    return empty_pg_url
