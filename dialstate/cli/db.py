"""`dialstate db upgrade|current`, and the page of contacts the `contacts` view shows."""

from __future__ import annotations

import typer

from dialstate.cli.common import DbOption, JsonOption, console, print_json
from dialstate.engine.engine import Engine
from dialstate.engine.snapshots import Contact
from dialstate.store import schema
from dialstate.store.database import Database

db_app = typer.Typer(help="The database schema: apply migrations, show the revision.", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade(db: DbOption = "sqlite:///dialstate.db") -> None:
    """Apply the schema migrations shipped with dialstate (creates an empty database)."""
    database = Database(db)
    try:
        before, after = schema.upgrade(database)
    finally:
        database.close()
    out = console()
    if before == after:
        out.print(f"{database.url.render_as_string(hide_password=True)}: already at revision {after}")
    else:
        out.print(f"{database.url.render_as_string(hide_password=True)}: upgraded from "
                  f"{before or 'an empty database'} to revision {after}")


@db_app.command("current")
def current(db: DbOption = "sqlite:///dialstate.db", as_json: JsonOption = False) -> None:
    """Show the database's schema revision and the one this dialstate needs."""
    database = Database(db)
    try:
        state = schema.current_revision(database)
    finally:
        database.close()
    up_to_date = state.revision == schema.HEAD
    if as_json:
        print_json({"revision": state.revision, "head": schema.HEAD, "up_to_date": up_to_date,
                    "empty": state.empty})
        return
    where = state.revision or ("none (empty database)" if state.empty else "none")
    pending = "created on first use" if state.empty else "run `dialstate db upgrade`"
    verdict = "up to date" if up_to_date else pending
    console().print(f"revision {where}; this dialstate needs {schema.HEAD}: {verdict}")


def list_contacts(engine: Engine, campaign_id: int, state: str | None, limit: int | None,
                  after: int = 0) -> tuple[list[Contact], int]:
    """A page of the campaign's contacts in id order (after id `after`), and how many
    match in all (counted only when the page is full)."""
    page = engine.contacts(campaign_id, state, limit=limit, after_id=after)
    if limit is None or len(page) < limit:
        return page, len(page)  # the last page: nothing follows it
    by_state = engine.campaign_stats(campaign_id).by_state
    return page, by_state.get(state, 0) if state is not None else sum(by_state.values())
