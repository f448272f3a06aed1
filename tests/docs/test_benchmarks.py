"""The benchmarks the README lists start as the README runs them (`python
benchmarks/<name>.py`), so their figures can always be taken again."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LISTED = sorted(set(re.findall(r"^python (benchmarks/\w+\.py)", (ROOT / "README.md").read_text(), re.MULTILINE)))


def test_the_readme_lists_every_benchmark() -> None:
    assert sorted(f"benchmarks/{p.name}" for p in (ROOT / "benchmarks").glob("*.py")) == LISTED


@pytest.mark.parametrize("script", LISTED)
def test_a_benchmark_starts_as_the_readme_runs_it(script: str) -> None:
    # Run from the project's folder as a script: its own folder comes first on
    # sys.path, where a script named like a stdlib module (or like a library the engine
    # imports) would shadow it.
    done = subprocess.run([sys.executable, script, "--help"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "usage:" in done.stdout
