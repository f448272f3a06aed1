"""Waiting for what another thread or process does, with a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(predicate: Callable[[], object], timeout: float = 10.0, interval: float = 0.02) -> None:
    """Polls `predicate` every `interval` seconds until it is true; fails the test
    when `timeout` seconds pass first."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {_name(predicate)}"
        time.sleep(interval)


def _name(predicate: Callable[[], object]) -> str:
    code = getattr(predicate, "__code__", None)
    where = f" (line {code.co_firstlineno} of {code.co_filename})" if code is not None else ""
    return f"{getattr(predicate, '__qualname__', repr(predicate))}{where}"
