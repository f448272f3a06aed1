"""Fixtures of the integration tests: child processes, killed at the end of a test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.processes import Processes


@pytest.fixture
def processes() -> Iterator[Processes]:
    """Starts the test's child processes; kills those still running at its end."""
    started = Processes()
    yield started
    started.kill_all()
