"""The `dialstate` command: the app, its commands and the entry point."""

from __future__ import annotations

from typing import Annotated

import typer

from dialstate import __version__
from dialstate.cli import demo, events, importing, views
from dialstate.cli.campaigns import campaigns_app
from dialstate.cli.common import DEFAULT_DB, DbOption
from dialstate.cli.db import db_app
from dialstate.cli.errors import DialstateGroup

app = typer.Typer(
    cls=DialstateGroup,
    name="dialstate",
    help="Outbound campaign contacts as persisted state machines: demo, campaigns, import, views, worker.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,  # errors are one line (see dialstate.cli.errors)
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"dialstate {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show the traceback of an error (anywhere on the line; "
                                                        "or set DIALSTATE_DEBUG=1).")] = False,
) -> None:
    """dialstate: outbound call campaigns whose contacts are state machines in SQL."""


def worker(
    db: DbOption = DEFAULT_DB,
    batch_size: Annotated[int, typer.Option(min=1, help="Contacts fired per transaction.")] = 200,
    sweep_seconds: Annotated[float, typer.Option(min=0.01, help="How often to look for what other "
                                                               "processes scheduled.")] = 1.0,
) -> None:
    """Run the scheduler in the foreground: fire retries, countdowns, wrap-ups and
    in-flight recovery as they come due, until SIGTERM or Ctrl-C."""
    from dialstate.scheduler.worker import run_worker

    raise typer.Exit(run_worker(db, batch_size=batch_size, sweep_seconds=sweep_seconds))


app.command("demo")(demo.demo)
app.command("import", help=importing.IMPORT_HELP)(importing.import_csv)
app.add_typer(campaigns_app, name="campaigns")
app.command("contacts")(views.contacts)
app.command("show")(views.show)
app.command("stats")(views.stats)
app.command("events")(events.events)
app.add_typer(views.blacklist_app, name="blacklist")
app.command("diagram")(views.diagram)
app.command("worker")(worker)
app.add_typer(db_app, name="db")


def main() -> None:
    """The `dialstate` script."""
    app()
