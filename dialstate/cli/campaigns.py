"""`dialstate campaigns`: list the campaigns (with no subcommand, or `list`), create
one with its settings, pause, resume or cancel one; and what a new campaign will do,
in one line (`import --new` says it too)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from dialstate import CallingWindow, Campaign, ConfigurationError, Engine, RetryPolicy, StateKind
from dialstate.cli.campaign_file import FILE_FORMAT
from dialstate.cli.campaign_options import CampaignOptions, settings_options
from dialstate.cli.common import DEFAULT_DB, DbOption, JsonOption, console, open_engine, print_json
from dialstate.cli.errors import UsageProblem
from dialstate.cli.views import by_kind, campaign_json, when
from dialstate.errors import CliError

campaigns_app = typer.Typer(invoke_without_command=True, no_args_is_help=False)
CampaignArgument = Annotated[int, typer.Argument(help="The campaign id.", show_default=False)]


@campaigns_app.callback()
def campaigns(ctx: typer.Context, db: DbOption = DEFAULT_DB, as_json: JsonOption = False) -> None:
    """List the campaigns (as `campaigns list` does), or create, pause, resume or cancel one."""
    if ctx.invoked_subcommand is None:
        list_campaigns(db, as_json)
        return
    # `campaigns --db X pause 3` would pause campaign 3 of the default database
    misplaced = [flag for name, flag in (("db", "--db"), ("as_json", "--json"))
                 if getattr(ctx.get_parameter_source(name), "name", "") == "COMMANDLINE"]
    if misplaced:
        verb = "goes" if len(misplaced) == 1 else "go"
        raise UsageProblem(f"{' and '.join(misplaced)} {verb} after the subcommand: "
                           f"`dialstate campaigns {ctx.invoked_subcommand} ... {misplaced[0]} ...`")


@campaigns_app.command("list")
def list_campaigns(db: DbOption = DEFAULT_DB, as_json: JsonOption = False) -> None:
    """List the campaigns with their contacts by kind of state."""
    with open_engine(db, must_exist=True) as engine:
        rows = [(c, engine.campaign_stats(c.id)) for c in engine.campaigns()]
    if as_json:
        print_json([{**campaign_json(c), "contacts": dict(s.by_state), "total": s.total} for c, s in rows])
        return
    table = Table(title="Campaigns", title_justify="left")
    for name in ("id", "name", "mode", "status", "contacts", "open", "final", "parked", "created (UTC)"):
        table.add_column(name, justify="right" if name in ("id", "contacts", "open", "final", "parked") else "left")
    for campaign, stats in rows:
        kinds = by_kind(stats.by_state)
        table.add_row(
            str(campaign.id), campaign.name, campaign.mode.value, campaign.status, str(stats.total),
            str(kinds[StateKind.OPEN]), str(kinds[StateKind.FINAL] + kinds[StateKind.PASSING]),
            str(kinds[StateKind.PARKED]), when(campaign.created_at),
        )
    out = console()
    if rows:
        out.print(table)
    else:
        out.print("no campaigns yet: `dialstate campaigns create NAME`, `dialstate import FILE.csv --new NAME` "
                  "or `dialstate demo`")


@campaigns_app.command("create", help=f"Create a campaign with its settings, from options and a campaign "
                                      f"file.\n\n{FILE_FORMAT}")
@settings_options
def create(
    name: Annotated[str, typer.Argument(help="The campaign's name.", show_default=False)],
    settings: CampaignOptions,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    arguments = settings.arguments()
    with open_engine(db) as engine:
        try:
            campaign = engine.create_campaign(name, **arguments)
        except ConfigurationError as exc:
            raise settings.blame(exc) from None
        _, policy = announce(engine, campaign, quiet=as_json)
    if as_json:
        print_json({**campaign_json(campaign), "retry_policy": policy.to_json()})


@campaigns_app.command("pause")
def pause(campaign: CampaignArgument, db: DbOption = DEFAULT_DB, as_json: JsonOption = False) -> None:
    """Stop claiming contacts from a campaign; calls in progress go on."""
    with open_engine(db, must_exist=True) as engine:
        before = engine.get_campaign(campaign)
        after = engine.pause_campaign(campaign)
    _status_changed(before, after, as_json, f"no contact is claimed from it until `dialstate campaigns resume "
                                            f"{after.id}`; calls in progress go on")


@campaigns_app.command("resume")
def resume(campaign: CampaignArgument, db: DbOption = DEFAULT_DB, as_json: JsonOption = False) -> None:
    """Claim contacts from a paused campaign again."""
    with open_engine(db, must_exist=True) as engine:
        before = engine.get_campaign(campaign)
        after = engine.resume_campaign(campaign)
    _status_changed(before, after, as_json, "its ready contacts are claimed again", verb="resumed")


def _status_changed(before: Campaign, after: Campaign, as_json: bool, effect: str, *, verb: str | None = None) -> None:
    if as_json:
        print_json({"campaign": after.id, "status": after.status, "was": before.status})
    elif before.status == after.status:
        console().print(f"campaign {after.id} {after.name!r} was already {after.status}; nothing changed")
    else:
        console().print(f"campaign {after.id} {after.name!r} {verb or after.status}: {effect}", soft_wrap=True)


@campaigns_app.command("cancel")
def cancel(
    campaign: CampaignArgument,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """End a campaign for good: every open or parked contact becomes canceled_by_admin
    (asks first, unless --yes)."""
    with open_engine(db, must_exist=True) as engine:
        info = engine.get_campaign(campaign)
        if not yes:
            kinds = by_kind(engine.campaign_stats(campaign).by_state)
            waiting = kinds[StateKind.OPEN] + kinds[StateKind.PARKED]
            question = (f"Cancel campaign {info.id} {info.name!r}? Its {waiting} open or parked contact(s) "
                        "become canceled_by_admin; this cannot be undone.")
            try:
                confirmed = typer.confirm(question, err=True)
            except typer.Abort:  # no answer (end of input): end the prompt's line
                typer.echo("", err=True)
                confirmed = False
            if not confirmed:
                raise CliError(f"campaign {info.id} was not canceled (confirm, or pass --yes)")
        canceled = engine.cancel_campaign(campaign, actor="cli")
    if as_json:
        print_json({"campaign": info.id, "status": "canceled", "canceled": canceled})
    else:
        console().print(f"campaign {info.id} {info.name!r} canceled: {canceled} contact(s) canceled", soft_wrap=True)


# -- what a new campaign will do --------------------------------------------------------------------

def summary(campaign: Campaign, window: CallingWindow | None, policy: RetryPolicy) -> str:
    """One line: the campaign's mode, zone, region, calling hours and attempts."""
    region = f", region {campaign.default_region}" if campaign.default_region else ""
    if window is None:
        hours = "no calling window"
    else:
        holidays = len(window.to_json()["holidays"])
        hours = (f"calls {window.start}-{window.end} {_days(window)} in each contact's local time"
                 + (f" except {holidays} holiday(s)" if holidays else ""))
    return (f"campaign {campaign.id} {campaign.name!r}: {campaign.mode.value}, time zone {campaign.timezone}"
            f"{region}; {hours}; up to {policy.max_attempts} attempt(s)")


def _days(window: CallingWindow) -> str:
    """The window's days as runs: "mon-fri", "mon,wed-fri", "every day"."""
    names = window.to_json()["days"]
    if len(names) == 7:
        return "every day"
    index = {name: i for i, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))}
    runs: list[list[str]] = []
    for name in names:
        if runs and index[name] == index[runs[-1][-1]] + 1:
            runs[-1].append(name)
        else:
            runs.append([name])
    return ",".join(run[0] if len(run) == 1 else f"{run[0]}-{run[-1]}" for run in runs)


def announce(engine: Engine, campaign: Campaign, *, quiet: bool) -> tuple[CallingWindow | None, RetryPolicy]:
    """Say what a new campaign will do (in one line on stdout, unless `quiet`) and warn on
    stderr when it has no calling window; returns its stored window and policy."""
    window = engine.calling_window(campaign.id)
    policy = engine.retry_policy(campaign.id)
    if not quiet:
        console().print(f"created {summary(campaign, window, policy)}", soft_wrap=True)
    if window is None:
        console(stderr=True).print(
            f"warning: campaign {campaign.id} has no calling window: its contacts may be called at any hour, "
            "around the clock; give one with --window START-END (or calling_window in --settings)", soft_wrap=True)
    return window, policy
