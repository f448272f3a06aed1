"""Schema migrations: the shipped Alembic revisions build exactly the schema the models
declare; the engine creates an empty database itself, refuses an outdated one, and
`dialstate db upgrade` brings one up to date (on SQLite and PostgreSQL)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from dialstate import Engine, SchemaOutOfDate
from dialstate.errors import ConfigurationError
from dialstate.models.tables import BACKEND_ONLY_INDEXES, SCHEMA_VERSION
from dialstate.store import schema
from dialstate.store.database import Database
from tests.support.cli import run

# -- databases --------------------------------------------------------------------------------


@pytest.fixture
def empty_url(new_database: Callable[[], str]) -> str:
    return new_database()


#: Indexes with an expression (priority DESC), which SQLite cannot reflect.
EXPRESSION_INDEXES = ("ix_ds_contact_claim", "ix_ds_contact_zone_claim")


def _schema_diff(url: str) -> list[object]:
    db = Database(url)

    def compared(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
        # SQLite cannot reflect an expression index (priority DESC); indexes are compared
        # by their DDL in test_the_migrated_indexes_are_the_ones_the_engine_creates instead.
        if type_ == "index" and name in EXPRESSION_INDEXES:
            return False
        # An index of the other backend only exists in the models.
        return not (type_ == "index" and BACKEND_ONLY_INDEXES.get(name or "", db.backend.name) != db.backend.name)

    try:
        with db.sa_engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": compared})
            return list(compare_metadata(context, schema.metadata()))
    finally:
        db.close()


def _indexes(url: str) -> dict[str, str]:
    db = Database(url)
    try:
        with db.sa_engine.connect() as conn:
            if db.is_pg:
                rows = conn.exec_driver_sql(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
                    " AND tablename LIKE 'ds\\_%%'")
            else:
                rows = conn.exec_driver_sql(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name LIKE 'ds_%'")
            return {name: " ".join((sql or "").split()) for name, sql in rows}
    finally:
        db.close()


def _revision(url: str) -> str | None:
    db = Database(url)
    try:
        return schema.current_revision(db).revision
    finally:
        db.close()


# -- the migrations -------------------------------------------------------------------------------


def test_head_is_the_newest_shipped_migration() -> None:
    assert schema.revisions()[-1] == schema.HEAD


def test_every_migration_applied_to_an_empty_database_gives_the_schema_the_models_declare(empty_url: str) -> None:
    db = Database(empty_url)
    try:
        before, after = schema.upgrade(db)
    finally:
        db.close()
    assert (before, after) == (None, schema.HEAD)
    assert _schema_diff(empty_url) == []


def _migrated_and_created(migrated: str, created: str) -> None:
    """Build `migrated` with the shipped migrations and `created` with the engine."""
    db = Database(migrated)
    try:
        schema.upgrade(db)
    finally:
        db.close()
    Engine(created).close()


def test_the_migrated_indexes_are_the_ones_the_engine_creates(new_database: Callable[[], str]) -> None:
    empty_url, second_empty_url = new_database(), new_database()
    _migrated_and_created(empty_url, second_empty_url)
    migrated, created = _indexes(empty_url), _indexes(second_empty_url)
    assert set(EXPRESSION_INDEXES) <= set(migrated)
    assert migrated == created


def test_the_migrated_sqlite_tables_keep_rowids_where_the_engine_does(tmp_path: Path) -> None:
    """The models' WITHOUT ROWID tables (which the schema comparison does not see)
    are WITHOUT ROWID after the migrations too, and only they."""
    migrated, created = f"sqlite:///{tmp_path / 'migrated.db'}", f"sqlite:///{tmp_path / 'created.db'}"
    _migrated_and_created(migrated, created)

    def without_rowid(url: str) -> set[str]:
        with sa.create_engine(url).connect() as conn:
            rows = conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
            return {name for name, sql in rows if "WITHOUT ROWID" in sql.upper()}

    assert without_rowid(migrated) == without_rowid(created) == {"ds_history", "ds_number"}


def test_the_engine_creates_an_empty_database_stamped_at_the_newest_migration(empty_url: str) -> None:
    Engine(empty_url).close()
    assert _revision(empty_url) == schema.HEAD
    assert _schema_diff(empty_url) == []


def test_downgrading_to_base_removes_every_table(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'down.db'}"
    Engine(url).close()
    config = schema.alembic_config()
    db = Database(url)
    try:
        with db.sa_engine.connect() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "base")
            conn.commit()
            assert [t for t in sa.inspect(conn).get_table_names() if t.startswith("ds_")] == []
    finally:
        db.close()


# -- outdated databases -------------------------------------------------------------------------------


@pytest.fixture
def pending_migration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A copy of the shipped migrations plus a revision 9001 the databases have not seen."""
    scripts = tmp_path / "migrations"
    shutil.copytree(schema.MIGRATIONS, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "9001_extra.py").write_text(
        '"""A test revision."""\n'
        "import sqlalchemy as sa\nfrom alembic import op\n\n"
        f"revision = '9001'\ndown_revision = {schema.HEAD!r}\nbranch_labels = None\ndepends_on = None\n\n\n"
        "def upgrade() -> None:\n"
        "    op.create_table('ds_test_extra', sa.Column('id', sa.Integer(), primary_key=True))\n\n\n"
        "def downgrade() -> None:\n    op.drop_table('ds_test_extra')\n"
    )
    monkeypatch.setattr(schema, "MIGRATIONS", scripts)
    monkeypatch.setattr(schema, "HEAD", "9001")
    return "9001"


def test_the_engine_refuses_a_database_older_than_the_code(sqlite_url: str, monkeypatch: pytest.MonkeyPatch,
                                                           pending_migration: str) -> None:
    previous = schema.revisions()[-2]  # made by the previous release
    monkeypatch.setattr(schema, "HEAD", previous)
    Engine(sqlite_url).close()
    monkeypatch.setattr(schema, "HEAD", pending_migration)
    with pytest.raises(SchemaOutOfDate, match=rf"schema revision {previous}, this dialstate needs 9001: run `dialstate "
                                              r"db upgrade --db sqlite:///"):
        Engine(sqlite_url)


def test_db_upgrade_applies_the_pending_migration_and_the_engine_opens_the_database(
        empty_url: str, monkeypatch: pytest.MonkeyPatch, pending_migration: str) -> None:
    previous = schema.revisions()[-2]
    monkeypatch.setattr(schema, "HEAD", previous)
    Engine(empty_url).close()
    monkeypatch.setattr(schema, "HEAD", pending_migration)
    result = run("db", "upgrade", "--db", empty_url)
    assert result.exit_code == 0, result.output
    assert f"upgraded from {previous} to revision {pending_migration}" in result.stdout
    Engine(empty_url).close()
    again = run("db", "upgrade", "--db", empty_url)
    assert f"already at revision {pending_migration}" in again.stdout


def test_the_engine_refuses_a_database_written_by_a_newer_dialstate(sqlite_url: str) -> None:
    Engine(sqlite_url).close()
    with sa.create_engine(sqlite_url).begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = 'ffff'")
    with pytest.raises(ConfigurationError, match="revision ffff, which this dialstate does not know"):
        Engine(sqlite_url)


def test_a_database_made_before_the_migrations_is_adopted_at_its_revision(sqlite_url: str) -> None:
    Engine(sqlite_url).close()
    with sa.create_engine(sqlite_url).begin() as conn:
        conn.exec_driver_sql("DROP TABLE alembic_version")
    Engine(sqlite_url).close()
    assert _revision(sqlite_url) == schema.LEGACY_VERSIONS[SCHEMA_VERSION] == schema.HEAD


def test_a_0_1_0_database_made_before_the_migrations_is_adopted_and_upgraded(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    try:
        with schema.locked(db) as conn:
            config = schema.alembic_config()
            config.attributes["connection"] = conn
            command.upgrade(config, "0001")
            conn.exec_driver_sql("DROP TABLE alembic_version")  # as dialstate 0.1.0 before the migrations
    finally:
        db.close()
    with pytest.raises(SchemaOutOfDate, match="schema revision 0001, this dialstate needs"):
        Engine(sqlite_url)
    assert _revision(sqlite_url) == schema.LEGACY_VERSIONS[1]
    assert run("db", "upgrade", "--db", sqlite_url).exit_code == 0
    Engine(sqlite_url).close()


def test_tables_without_any_schema_record_are_refused_with_the_upgrade_command(sqlite_url: str) -> None:
    Engine(sqlite_url).close()
    with sa.create_engine(sqlite_url).begin() as conn:
        conn.exec_driver_sql("DROP TABLE alembic_version")
        conn.exec_driver_sql("DELETE FROM ds_schema_info")
    with pytest.raises(SchemaOutOfDate, match="no schema revision this dialstate can read; run `dialstate db upgrade"):
        Engine(sqlite_url)


# -- several processes ---------------------------------------------------------------------------------


def test_processes_starting_at_once_on_an_empty_database_create_it_once(empty_url: str) -> None:
    code = "import sys; from dialstate import Engine; Engine(sys.argv[1]).close()"
    procs = [subprocess.Popen([sys.executable, "-c", code, empty_url], stderr=subprocess.PIPE) for _ in range(6)]
    errors = [p.communicate(timeout=120)[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0] * 6, errors
    db = Database(empty_url)
    try:
        with db.sa_engine.connect() as conn:
            assert list(conn.exec_driver_sql("SELECT version_num FROM alembic_version")) == [(schema.HEAD,)]
            assert list(conn.exec_driver_sql("SELECT id, version FROM ds_schema_info")) == [(1, SCHEMA_VERSION)]
    finally:
        db.close()
