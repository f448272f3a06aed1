"""The database schema's version: create a fresh database, refuse an outdated one,
upgrade one on request.

The Alembic migrations in `dialstate/migrations` are the history of the schema; the
`alembic_version` table says where a database stands. An empty database is created
from the models in one locked transaction and stamped at `HEAD` (the migrations
would build the same tables, which `tests/test_migrations.py` proves), so a fresh
install needs no extra step. A database at an older revision is refused with
`SchemaOutOfDate` until `dialstate db upgrade` has run.

Several processes may start at once: whoever finds work to do takes a lock
(PostgreSQL's advisory lock, SQLite's writer lock) and looks again under it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from dialstate.errors import ConfigurationError, SchemaOutOfDate

if TYPE_CHECKING:
    from alembic.config import Config

    from dialstate.store.database import Database

#: The newest migration; the engine needs a database at this revision.
HEAD = "0003"
#: `ds_schema_info.version` of databases made before the migrations existed, and the
#: revision whose tables they already have.
LEGACY_VERSIONS = {1: "0001", 2: "0002", 3: "0003"}
#: The key of the PostgreSQL advisory lock that serializes schema changes.
LOCK_KEY = 7411300
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

_VERSION_TABLE = sa.Table(
    "alembic_version", sa.MetaData(),
    sa.Column("version_num", sa.String(32), nullable=False),
    sa.PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)


def metadata() -> sa.MetaData:
    """The tables the models declare."""
    from sqlmodel import SQLModel

    import dialstate.models  # noqa: F401  (registers the tables)

    return SQLModel.metadata


@dataclass(frozen=True)
class SchemaState:
    """Where a database stands: its Alembic revision and whether dialstate's tables exist."""

    revision: str | None
    has_tables: bool
    legacy_version: int | None

    @property
    def empty(self) -> bool:
        return self.revision is None and not self.has_tables


def prepare_schema(db: Database) -> None:
    """Make `db` usable by this dialstate: create it when empty, refuse it when old."""
    with db.sa_engine.connect() as conn:
        state = inspect_schema(conn)
        conn.rollback()
    if state.revision == HEAD:
        return
    if state.empty or (state.revision is None and state.legacy_version in LEGACY_VERSIONS):
        with locked(db) as conn:
            state = inspect_schema(conn)  # another process may have done it meanwhile
            if state.empty:
                _create(conn)
            else:
                _adopt_legacy(conn, state)
            state = inspect_schema(conn)
    _check(db, state)


def upgrade(db: Database, revision: str = "head") -> tuple[str | None, str | None]:
    """Apply the migrations up to `revision`; returns the revisions before and after."""
    from alembic import command
    from alembic.util import CommandError

    with locked(db) as conn:
        state = inspect_schema(conn)
        if state.revision is None and state.has_tables:
            _adopt_legacy(conn, state)
            state = inspect_schema(conn)
        config = alembic_config()
        config.attributes["connection"] = conn
        try:
            command.upgrade(config, revision)
        except CommandError as exc:
            raise ConfigurationError(
                f"cannot upgrade {_url(db)} from revision {state.revision}: {exc}; "
                "a newer dialstate may have written it"
            ) from None
        after = inspect_schema(conn).revision
    return state.revision, after


def current_revision(db: Database) -> SchemaState:
    with db.sa_engine.connect() as conn:
        state = inspect_schema(conn)
        conn.rollback()
    return state


def alembic_config() -> Config:
    """An Alembic configuration pointing at the migrations shipped in the package."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def revisions() -> list[str]:
    """Every revision the shipped migrations know, oldest first."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    return [r.revision for r in reversed(list(script.walk_revisions()))]


@contextmanager
def locked(db: Database) -> Iterator[sa.Connection]:
    """A connection in a transaction that holds the schema lock until it ends."""
    with db.sa_engine.connect() as conn:
        if not db.is_pg:
            # The driver runs in autocommit; take the writer lock so DDL is atomic too.
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.commit()
            return
        # A session lock, and the work in a transaction begun after it was granted: a
        # transaction that waited for the lock may look at the catalog as it was before
        # the holder committed (to_regclass would not see the new tables).
        conn.exec_driver_sql(f"SELECT pg_advisory_lock({LOCK_KEY})")
        conn.commit()
        try:
            yield conn
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        finally:
            conn.exec_driver_sql(f"SELECT pg_advisory_unlock({LOCK_KEY})")
            conn.commit()


def inspect_schema(conn: sa.Connection) -> SchemaState:
    if conn.dialect.name == "postgresql":
        row = conn.exec_driver_sql(
            "SELECT to_regclass('alembic_version') IS NOT NULL, to_regclass('ds_contact') IS NOT NULL,"
            " to_regclass('ds_schema_info') IS NOT NULL"
        ).one()
        has_version, has_contact, has_info = (bool(v) for v in row)
    else:
        names = {r[0] for r in conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
            " AND name IN ('alembic_version', 'ds_contact', 'ds_schema_info')"
        )}
        has_version, has_contact, has_info = (n in names for n in ("alembic_version", "ds_contact", "ds_schema_info"))
    revision = None
    if has_version:
        found = [r[0] for r in conn.exec_driver_sql("SELECT version_num FROM alembic_version")]
        revision = found[0] if len(found) == 1 else None
    legacy = None
    if has_info and revision is None:
        value = conn.exec_driver_sql("SELECT version FROM ds_schema_info WHERE id = 1").scalar()
        legacy = int(value) if value is not None else None
    return SchemaState(revision, has_contact or has_info, legacy)


def _create(conn: sa.Connection) -> None:
    from dialstate.models.tables import SCHEMA_VERSION, FeedRow, SchemaInfoRow

    metadata().create_all(conn)
    _stamp(conn, HEAD)
    conn.execute(sa.insert(SchemaInfoRow.__table__).values(id=1, version=SCHEMA_VERSION))  # type: ignore[attr-defined]
    conn.execute(sa.insert(FeedRow.__table__).values(id=1, next=1))  # type: ignore[attr-defined]


def _stamp(conn: sa.Connection, revision: str) -> None:
    _VERSION_TABLE.create(conn, checkfirst=True)
    conn.execute(sa.delete(_VERSION_TABLE))
    conn.execute(sa.insert(_VERSION_TABLE).values(version_num=revision))


def _adopt_legacy(conn: sa.Connection, state: SchemaState) -> None:
    """Stamp a database made before the migrations existed with the revision whose
    tables it has; its tables are not touched."""
    revision = LEGACY_VERSIONS.get(state.legacy_version) if state.legacy_version is not None else None
    if revision is not None:
        _stamp(conn, revision)


def _check(db: Database, state: SchemaState) -> None:
    if state.revision == HEAD:
        return
    url = _url(db)
    if state.revision is None:
        raise SchemaOutOfDate(
            f"the database {url} has dialstate tables but no schema revision this dialstate "
            f"can read; run `dialstate db upgrade --db {url}`"
        )
    if state.revision in revisions():
        raise SchemaOutOfDate(
            f"the database {url} has schema revision {state.revision}, this dialstate needs "
            f"{HEAD}: run `dialstate db upgrade --db {url}`"
        )
    raise ConfigurationError(
        f"the database {url} has schema revision {state.revision}, which this dialstate does "
        f"not know (it needs {HEAD}): a newer dialstate wrote it; upgrade dialstate"
    )


def _url(db: Any) -> str:
    return str(db.url.render_as_string(hide_password=True))
