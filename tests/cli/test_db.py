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




def test_a_database_older_than_the_code_is_refused_in_one_line(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from dialstate.store import schema

    Engine(db).close()
    known = schema.revisions()
    monkeypatch.setattr(schema, "HEAD", "9001")
    monkeypatch.setattr(schema, "revisions", lambda: [*known, "9001"])
    assert_one_line_error(run("campaigns", "--db", db), 1, "run `dialstate db upgrade --db")


def set_revision(url: str, revision: str) -> None:
    """Stamp the database with another schema revision (as another dialstate would)."""
    with Engine(url) as engine:
        database = engine.database
        with database.transaction() as conn:
            database.execute(conn, "UPDATE alembic_version SET version_num = ?", (revision,))


def test_db_current_on_an_empty_database_says_its_tables_are_created_on_first_use(empty_db: str) -> None:
    result = run("db", "current", "--db", empty_db)
    assert result.exit_code == 0
    assert "revision none (empty database)" in result.stdout and "created on first use" in result.stdout
    assert json.loads(run("db", "current", "--db", empty_db, "--json").stdout)["standing"] == "empty"


def test_db_current_on_a_database_newer_than_dialstate_says_to_upgrade_dialstate_not_the_database(
        empty_db: str) -> None:
    set_revision(empty_db, "9999")
    result = run("db", "current", "--db", empty_db)
    assert result.exit_code == 0
    (line,) = result.stdout.strip().splitlines()
    assert "revision 9999" in line and "a later dialstate wrote it" in line
    assert "upgrade dialstate (pip install -U dialstate), not the database" in line
    assert "db upgrade" not in line
    data = json.loads(run("db", "current", "--db", empty_db, "--json").stdout)
    assert (data["standing"], data["up_to_date"]) == ("newer", False)


def test_db_upgrade_on_a_database_newer_than_dialstate_fails_with_the_same_advice(empty_db: str) -> None:
    set_revision(empty_db, "9999")
    assert_one_line_error(run("db", "upgrade", "--db", empty_db), 1, "cannot upgrade", "a later dialstate wrote it",
                          "upgrade dialstate (pip install -U dialstate), not the database")


def test_db_current_on_a_database_older_than_dialstate_says_to_run_db_upgrade(
        empty_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from dialstate.store import schema

    Engine(empty_db).close()
    known = schema.revisions()
    monkeypatch.setattr(schema, "HEAD", "9001")
    monkeypatch.setattr(schema, "revisions", lambda: [*known, "9001"])
    result = run("db", "current", "--db", empty_db)
    assert result.exit_code == 0
    assert f"revision {known[-1]}; this dialstate needs 9001: run `dialstate db upgrade --db" in result.stdout
    assert json.loads(run("db", "current", "--db", empty_db, "--json").stdout)["standing"] == "older"


def test_db_current_on_an_up_to_date_database_says_so(any_db: str) -> None:
    Engine(any_db).close()
    assert "up to date" in run("db", "current", "--db", any_db).stdout


READ_ONLY = [["campaigns"], ["campaigns", "list"], ["contacts", "1"], ["show", "1"], ["stats", "1"],
             ["blacklist", "list"], ["db", "current"], ["campaigns", "pause", "1"], ["campaigns", "resume", "1"],
             ["campaigns", "cancel", "1", "--yes"]]


@pytest.mark.parametrize("command", READ_ONLY, ids=" ".join)
def test_commands_that_read_never_create_a_missing_sqlite_database(tmp_path: Path, command: list[str]) -> None:
    missing = tmp_path / "typo" / "dialstate.db"
    result = run(*command, "--db", f"sqlite:///{missing}")
    assert_one_line_error(result, 1, f"no database at {missing} (nothing to show;", "dialstate import")
    assert not missing.parent.exists()
    assert not (tmp_path / "dialstate.db").exists()


@pytest.mark.pg
def test_commands_that_read_never_create_a_missing_postgresql_database(pg_url: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    from dialstate.testing import admin_conninfo

    missing = make_url(pg_url).set(database="dialstate_no_such_db")
    url = missing.render_as_string(hide_password=False)
    assert_one_line_error(run("campaigns", "--db", url), 1, "cannot connect", "dialstate_no_such_db")
    with psycopg.connect(admin_conninfo(pg_url)) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = 'dialstate_no_such_db'").fetchone()
    assert found is None
