"""The asyncio embedding example (`docs/async_example.py`, shown in the README) runs
as written."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "async_example.py"


def test_the_async_embedding_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(EXAMPLE), run_name="async_example")
    assert (tmp_path / "async-example.db").exists()
