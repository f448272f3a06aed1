"""`dialstate demo`: a simulated day of a realistic campaign, then its numbers.

The tables go to stdout and are the same for the same seed; the progress bar, the
notes about the database and the wall-clock time go to stderr.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from dialstate.cli.common import check_db_url, console
from dialstate.cli.views import print_history, print_stats, share
from dialstate.engine.states import DialMode
from dialstate.sim.demo import DAYS, START, WINDOW, ZONE, DemoResult, DemoSettings, run_demo


def demo(
    db: Annotated[str, typer.Option(
        "--db", callback=check_db_url,
        help="Database of the demo (its own: a SQLite file holding only demo campaigns is replaced; "
             "DIALSTATE_DB is not used here).")] = "sqlite:///demo.db",
    contacts: Annotated[int, typer.Option(min=10, max=200_000, help="How many contact rows to import.")] = 2000,
    mode: Annotated[DialMode, typer.Option(case_sensitive=False, help="The dial mode.")] = DialMode.PREDICTIVE,
    seed: Annotated[int, typer.Option(help="Seed of the simulation: the same seed gives the same day.")] = 7,
    operators: Annotated[int | None, typer.Option(min=1, help="Simulated operators (default: one per "
                                                              "100 contacts, at least 4).")] = None,
    hours: Annotated[float, typer.Option(min=0.5, max=24 * 7, help="Simulated hours.")] = 24.0,
) -> None:
    """Simulate a day of a campaign: operators, a switch speaking several vendor
    dialects, lost and duplicate events, the real scheduler; then show the results."""
    settings = DemoSettings(db, contacts, mode, seed, operators, hours)
    err = console(stderr=True)
    progress = Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[label]}"),
        TimeElapsedColumn(), console=err, transient=True,
    )
    tasks: dict[str, TaskID] = {}
    totals: dict[str, int] = {}

    def on_start(seconds: float, added: int) -> None:
        tasks["time"] = progress.add_task("simulated time", total=int(seconds), label=_clock(0))
        totals["contacts"] = added
        tasks["done"] = progress.add_task("contacts finished", total=added, label=f"0/{added}")

    def on_progress(seconds: float, finished: int) -> None:
        progress.update(tasks["time"], completed=int(seconds), label=_clock(seconds))
        progress.update(tasks["done"], completed=finished, label=f"{finished}/{totals['contacts']}")

    with progress:
        result = run_demo(settings, on_progress, on_start)
    for note in result.notes:
        err.print(note)
    render(console(), result)
    err.print(f"simulated {hours:g} h with {result.tally.transitions:,} transitions in "
              f"{result.wall_seconds:.1f} s (wall clock)")


def _clock(seconds: float) -> str:
    return (START + timedelta(seconds=seconds)).strftime("%a %H:%M")


def render(out: Console, r: DemoResult) -> None:
    """The report of a demo run (deterministic for a seed)."""
    s = r.settings
    out.print(f"[bold]Demo campaign {r.campaign.id}[/bold] {r.campaign.name!r}: {r.campaign.mode.value}, "
              f"{s.operator_count} {'lines' if s.mode is DialMode.AGENTLESS else 'operators'}, seed {s.seed}")
    out.print(f"Simulated {START:%a %Y-%m-%d %H:%M} to {START + timedelta(hours=s.hours):%a %Y-%m-%d %H:%M} "
              f"({ZONE}); calling window {WINDOW.start}-{WINDOW.end} {DAYS}, in each contact's own time zone")
    out.print(f"Imported {r.rows} rows: {r.imported.added} contacts ({r.imported.invalid} invalid_record), "
              f"{r.imported.duplicates} duplicates skipped")
    print_stats(out, r.stats)
    print_attempts_per_contact(out, r.attempts_per_contact)
    print_switch(out, r)
    for contact, entries in r.samples:
        print_history(out, entries, call_ids=False, time_format="%a %H:%M:%S",
                      title=f"History of contact {contact.id} ({contact.phone}, now {contact.state.value})")


def print_attempts_per_contact(out: Console, histogram: dict[int, int]) -> None:
    table = Table(title="Attempts per contact", title_justify="left")
    for name in ("attempts", "contacts", "share"):
        table.add_column(name, justify="right")
    total = sum(histogram.values())
    for attempts, count in sorted(histogram.items()):
        table.add_row(str(attempts), str(count), share(count, total))
    table.add_section()
    table.add_row("total", str(total), share(total, total))
    out.print(table)


def print_switch(out: Console, r: DemoResult) -> None:
    t = r.tally
    table = Table(title="The switch and the scheduler", title_justify="left")
    table.add_column("what")
    table.add_column("count", justify="right")
    rows: list[tuple[str, int]] = [("calls placed", t.dials)]
    rows += [(f"  end of call reported in {d}", n) for d, n in sorted(t.codes_by_dialect.items())]
    rows += [
        ("events lost by the switch", t.lost_events),
        ("  ended by the scheduler's in-flight recovery", t.recovered),
        ("duplicate events sent late", t.duplicates_sent),
        ("  refused: StaleCallEvent (another call is current)", t.stale_rejected),
        ("  refused: InvalidTransition (the call was over)", t.invalid_rejected),
        ("  accepted (must be 0)", t.duplicates_accepted),
    ]
    if r.settings.mode is DialMode.PREDICTIVE:
        rows.append(("clients who hung up waiting for an operator", t.abandoned))
    rows += [(f"scheduler fired: {trigger}", n) for trigger, n in sorted(t.scheduler_fired.items())]
    for label, count in rows:
        table.add_row(label, str(count))
    out.print(table)
