"""Fixtures of the integration tests: child processes, killed at the end of a test;
new, empty databases on each backend."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.processes import Processes


@pytest.fixture
def processes() -> Iterator[Processes]:
    """Starts the test's child processes; kills those still running at its end."""
    started = Processes()
    yield started
    started.kill_all()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def new_database(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Makes new, empty databases on each backend."""
    if request.param == "postgresql":
        return request.getfixturevalue("new_pg_database")  # type: ignore[no-any-return]
    names = (f"sqlite:///{tmp_path / f'empty{i}.db'}" for i in itertools.count())
    return lambda: next(names)
