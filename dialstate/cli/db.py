"""`dialstate db upgrade|current`, and the read queries the views need that the
engine's API does not offer (listing a campaign's contacts)."""

from __future__ import annotations

import json
from typing import Any

import typer

from dialstate.cli.common import DbOption, JsonOption, console, print_json
from dialstate.engine.base import CONTACT_COLUMNS
from dialstate.engine.engine import Engine
from dialstate.engine.snapshots import Contact
from dialstate.engine.sql import Database
from dialstate.models import schema

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
    """A page of the campaign's contacts in id order (from after `after`), and how many
    match in all."""
    engine.get_campaign(campaign_id)  # CampaignNotFound when it does not exist
    database = engine.database
    where = "campaign_id = ?"
    params: list[Any] = [campaign_id]
    if state is not None:
        where += " AND state = ?"
        params.append(state)
    with database.reading() as conn:
        total = int(database.execute(conn, f"SELECT COUNT(*) FROM ds_contact WHERE {where}", params).fetchone()[0])
        sql = f"SELECT {', '.join(CONTACT_COLUMNS)} FROM ds_contact WHERE {where} AND id > ? ORDER BY id"
        page_params: list[Any] = [*params, after]
        if limit is not None:
            sql += " LIMIT ?"
            page_params.append(limit)
        rows = database.execute(conn, sql, page_params).fetchall()
    contacts = []
    for row in rows:
        values = dict(zip(CONTACT_COLUMNS, row, strict=True))
        values["data"] = json.loads(values["data"]) if values["data"] else None
        contacts.append(Contact.from_row(values))
    return contacts, total
