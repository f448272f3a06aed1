"""`dialstate events`: the transition feed, like `tail` (with `--follow`, like `tail -f`)."""

from __future__ import annotations

import json
import threading
from typing import Annotated

import typer

from dialstate.cli.common import DEFAULT_DB, DbOption, JsonOption, console, open_engine
from dialstate.engine.snapshots import TransitionEvent


def events(
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Wait for more, printing them as they "
                                                                "commit (Ctrl-C ends).")] = False,
    campaign: Annotated[int | None, typer.Option(help="Only this campaign's contacts.")] = None,
    after: Annotated[int, typer.Option(min=0, help="Start after this feed position (0: the beginning).")] = 0,
    limit: Annotated[int, typer.Option(min=1, help="At most this many (without --follow).")] = 1000,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """Print committed transitions of every process in commit order, one line each:
    position, time (UTC), contact, from -> to, trigger, outcome, actor."""
    out = console()

    def show(event: TransitionEvent) -> None:
        if as_json:
            typer.echo(json.dumps({"position": event.position, "contact": event.contact.to_json(),
                                   "entry": event.entry.to_json()}, default=str))
        else:
            out.print(line(event), soft_wrap=True, markup=False)

    with open_engine(db, must_exist=True) as engine:
        if not follow:
            for event in engine.events(after, limit, campaign):
                show(event)
            return
        stop = threading.Event()

        def deliver(event: TransitionEvent) -> None:
            if campaign is None or event.contact.campaign_id == campaign:
                show(event)

        subscription = engine.subscribe(deliver, scope="all", after=after)
        try:
            while not stop.wait(0.5):
                pass
        finally:
            subscription()


def line(event: TransitionEvent) -> str:
    e = event.entry
    move = e.to_state.value if e.from_state is None else f"{e.from_state.value} -> {e.to_state.value}"
    code = f" ({e.dialect} {e.raw_code})" if e.raw_code else ""
    outcome = "" if e.outcome is None else f" {e.outcome.value}{code}"
    actor = f" by {e.actor}" if e.actor else ""
    return (f"{event.position:>8} {e.at:%Y-%m-%d %H:%M:%S} contact {event.contact.id} campaign "
            f"{event.contact.campaign_id}: {move} [{e.trigger}]{outcome}{actor}")
