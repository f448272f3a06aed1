"""Helpers for testing code that embeds dialstate (and for dialstate's own tests)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import make_url


def admin_conninfo(url: str) -> str:
    """A psycopg connection string for a SQLAlchemy PostgreSQL URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def scratch_pg_database(url: str, prefix: str = "dialstate_scratch", connect_timeout: int = 5) -> Iterator[str]:
    """A fresh PostgreSQL database on the server of `url`, dropped on exit; yields its URL.

    Raises the driver's OperationalError when no server answers.
    """
    import psycopg

    base = make_url(url)
    conninfo = admin_conninfo(url)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=connect_timeout) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name, drivername="postgresql+psycopg").render_as_string(hide_password=False)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
