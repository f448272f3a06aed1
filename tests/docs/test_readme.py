"""The README's embedding example runs as written, its test command is CI's, and its
diagrams are the ones the machine table draws today."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from dialstate import DialMode
from dialstate.engine.diagram import sync_readme

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_embedding_example_in_the_readme_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    match = re.search(r"<!-- embedding-example -->\n```python\n(.*?)```", README, re.S)
    assert match, "the README lost its embedding example"
    monkeypatch.chdir(tmp_path)
    exec(compile(match.group(1), "README.md", "exec"), {"__name__": "readme_example"})
    assert (tmp_path / "example.db").exists()


def test_ci_runs_the_readme_test_command() -> None:
    blocks = re.findall(r"```bash\n(.*?)\n```", README, re.S)
    test_command = next(b for b in blocks if "pytest" in b)
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test_command.split("&&")[-1].strip().replace(".venv/bin/", "") in ci.replace('"$VENV"/bin/', "")
    assert os.access(ROOT / ".ci" / "run", os.X_OK)


def test_the_readme_shows_the_current_diagram_of_every_mode() -> None:
    text = README
    for mode in DialMode:
        assert f"<!-- diagram:{mode.value} -->" in text
    assert sync_readme(text) == text, "README diagrams are stale: python -m dialstate.engine.diagram README.md"


def test_the_async_example_in_the_readme_is_the_one_tests_run() -> None:
    match = re.search(r"<!-- async-example -->\n```python\n(.*?)```", README, re.S)
    assert match, "the README lost its asyncio example"
    assert match.group(1) == (ROOT / "docs" / "async_example.py").read_text(encoding="utf-8")


def test_the_testing_kit_example_in_the_readme_runs() -> None:
    match = re.search(r"<!-- testing-example -->\n```python\n(.*?)```", README, re.S)
    assert match, "the README lost its testing example"
    exec(compile(match.group(1), "README.md", "exec"), {"__name__": "readme_testing_example"})


def test_every_python_block_of_the_readme_compiles() -> None:
    for block in re.findall(r"```python\n(.*?)```", README, re.S):
        compile(block, "README.md", "exec")
