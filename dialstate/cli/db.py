"""`dialstate db upgrade|current`, and the page of contacts the `contacts` view shows."""

from __future__ import annotations

import typer

from dialstate import __version__
from dialstate.cli.common import DbOption, JsonOption, console, print_json, require_database
from dialstate.engine.engine import Engine
from dialstate.engine.snapshots import Contact
from dialstate.errors import CliError
from dialstate.store import schema
from dialstate.store.database import Database

db_app = typer.Typer(help="The database schema: apply migrations, show the revision.", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade(db: DbOption = "sqlite:///dialstate.db") -> None:
    """Apply the schema migrations shipped with dialstate (creates an empty database)."""
    database = Database(db)
    try:
        state = schema.current_revision(database)
        if standing(state) == NEWER:  # no migration goes down: the code is what is old
            raise CliError(f"cannot upgrade {database.display_url}: {advice(state, database.display_url)}")
        before, after = schema.upgrade(database)
    finally:
        database.close()
    out = console()
    if before == after:
        out.print(f"{database.display_url}: already at revision {after}")
    else:
        out.print(f"{database.display_url}: upgraded from {before or 'an empty database'} to revision {after}")


@db_app.command("current")
def current(db: DbOption = "sqlite:///dialstate.db", as_json: JsonOption = False) -> None:
    """Show the database's schema revision, the one this dialstate needs, and what to do."""
    require_database(db)
    database = Database(db)
    try:
        state = schema.current_revision(database)
    finally:
        database.close()
    if as_json:
        print_json({"revision": state.revision, "head": schema.HEAD, "up_to_date": state.revision == schema.HEAD,
                    "empty": state.empty, "standing": standing(state),
                    "advice": advice(state, database.display_url)})
        return
    where = state.revision or ("none (empty database)" if state.empty else "none")
    console().print(f"revision {where}; this dialstate needs {schema.HEAD}: {advice(state, database.display_url)}",
                    soft_wrap=True)


UP_TO_DATE, EMPTY, OLDER, NEWER = "up_to_date", "empty", "older", "newer"


def standing(state: schema.SchemaState) -> str:
    """Where a database stands against this dialstate: up to date, empty, older, newer."""
    if state.revision == schema.HEAD:
        return UP_TO_DATE
    if state.empty:
        return EMPTY
    if state.revision is not None and state.revision not in schema.revisions():
        return NEWER  # a revision the shipped migrations do not know: a later dialstate wrote it
    return OLDER


def advice(state: schema.SchemaState, url: str) -> str:
    """What to do about a database, in one line (`db current` and `db upgrade` share it)."""
    return {
        UP_TO_DATE: "up to date",
        EMPTY: "its tables are created on first use (or now, by `dialstate db upgrade`)",
        OLDER: f"run `dialstate db upgrade --db {url}`",
        NEWER: (f"a later dialstate wrote it (this dialstate, {__version__}, does not know revision {state.revision}); "
                "upgrade dialstate (pip install -U dialstate), not the database"),
    }[standing(state)]


def list_contacts(engine: Engine, campaign_id: int, state: str | None, limit: int | None,
                  after: int = 0) -> tuple[list[Contact], int]:
    """A page of the campaign's contacts in id order (after id `after`), and how many
    match in all (counted only when the page is full)."""
    page = engine.contacts(campaign_id, state, limit=limit, after_id=after)
    if limit is None or len(page) < limit:
        return page, len(page)  # the last page: nothing follows it
    by_state = engine.campaign_stats(campaign_id).by_state
    return page, by_state.get(state, 0) if state is not None else sum(by_state.values())
