"""The database on the command line: `--db` URLs that cannot work, files that are
not databases, databases older than the code, and `dialstate db upgrade/current`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dialstate import Engine
from tests.support.cli import assert_one_line_error, run


def test_a_malformed_database_url_is_a_usage_error() -> None:
    assert_one_line_error(run("campaigns", "--db", "::::"), 2, "malformed database URL '::::'")


def test_an_unsupported_database_is_a_usage_error() -> None:
    assert_one_line_error(run("campaigns", "--db", "mysql://u@h/db"), 2, "unsupported database 'mysql'")


def test_a_file_that_is_not_a_database_is_a_runtime_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    assert_one_line_error(run("campaigns", "--db", f"sqlite:///{junk}"), 1, "database error", "not a database")


def test_db_upgrade_creates_an_empty_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    result = run("db", "upgrade", "--db", url)
    assert result.exit_code == 0
    assert "upgraded from an empty database to revision" in result.stdout
    assert json.loads(run("db", "current", "--db", url, "--json").stdout)["up_to_date"] is True


def test_db_current_says_an_empty_database_is_created_on_first_use(tmp_path: Path) -> None:
    result = run("db", "current", "--db", f"sqlite:///{tmp_path / 'none.db'}")
    assert "created on first use" in result.stdout


def test_a_database_older_than_the_code_is_refused_in_one_line(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from dialstate.store import schema

    Engine(db).close()
    known = schema.revisions()
    monkeypatch.setattr(schema, "HEAD", "9001")
    monkeypatch.setattr(schema, "revisions", lambda: [*known, "9001"])
    assert_one_line_error(run("campaigns", "--db", db), 1, "run `dialstate db upgrade --db")
