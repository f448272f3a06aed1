"""`dialstate` itself: its version, its help, unknown commands, where the database
comes from, `--debug`, and running as `python -m dialstate.cli`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from dialstate import Campaign, Engine
from tests.support.cli import assert_one_line_error, run


def test_version_prints_the_version() -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout.startswith("dialstate ")


def test_no_arguments_shows_the_help_without_an_error_line() -> None:
    result = run()
    assert "Usage" in result.stdout
    assert "error" not in result.stderr


def test_an_unknown_command_is_a_usage_error() -> None:
    assert_one_line_error(run("frobnicate"), 2, "No such command 'frobnicate'")


def test_the_database_comes_from_dialstate_db_when_not_given(campaign: int, db: str) -> None:
    result = run("campaigns", "--json", env={"DIALSTATE_DB": db})
    assert result.exit_code == 0
    assert [c["name"] for c in json.loads(result.stdout)] == ["Winter renewals"]


def test_debug_shows_the_traceback_anywhere_on_the_line(made_db: str) -> None:
    result = run("show", "999", "--db", made_db, "--debug")
    assert result.exit_code == 1
    assert "ContactNotFound" in repr(result.exception)


def test_the_cli_runs_as_a_module(made_db: str) -> None:
    env = {**os.environ, "DIALSTATE_DB": made_db}
    done = subprocess.run([sys.executable, "-m", "dialstate.cli", "campaigns"], capture_output=True, text=True,
                          env=env, timeout=60)
    assert done.returncode == 0
    assert "no campaigns yet" in done.stdout


def test_ctrl_c_in_any_command_is_one_line_and_exit_130(made_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(self: Engine) -> list[Campaign]:
        raise KeyboardInterrupt

    monkeypatch.setattr(Engine, "campaigns", interrupted)
    assert_one_line_error(run("campaigns", "--db", made_db), 130, "interrupted")
