"""Alembic environment: runs the migrations on the connection the caller hands in.

`dialstate.models.schema.upgrade` passes its own (locked) connection through
`config.attributes["connection"]`; the `alembic` command line passes `-x db=URL`.
"""

from __future__ import annotations

from alembic import context

from dialstate.store.schema import metadata


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=metadata(),
        compare_type=True,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    config = context.config
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    if context.is_offline_mode():
        raise SystemExit("dialstate's migrations run online only: pass -x db=URL")
    url = context.get_x_argument(as_dictionary=True).get("db")
    if not url:
        raise SystemExit("pass the database as -x db=URL")
    from dialstate.store.database import Database

    db = Database(url)
    try:
        with db.sa_engine.connect() as conn:
            _run(conn)
            conn.commit()
    finally:
        db.close()


_main()
