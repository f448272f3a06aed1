"""Running the `dialstate` command line in-process, and its one-line errors."""

from __future__ import annotations

from typing import Any

from typer.testing import CliRunner

from dialstate.cli import app

_runner = CliRunner()


def run(*args: str, env: dict[str, str] | None = None, input: str | None = None) -> Any:
    """`dialstate args`, run in this process (`input` on its stdin); the typer test
    result (exit_code, stdout, stderr)."""
    return _runner.invoke(app, list(args), env=env, input=input)


def assert_one_line_error(result: Any, code: int, *fragments: str) -> None:
    """The command failed with `code` and said so in one line on stderr, no traceback."""
    assert result.exit_code == code, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
