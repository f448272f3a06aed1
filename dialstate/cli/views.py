"""The read-only views: contacts, one contact's history, statistics, the blacklist, the
state diagrams (and what the campaign listing shares). Each prints rich tables, or JSON
with `--json`; none creates a database."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from dialstate.cli.common import DEFAULT_DB, DbOption, JsonOption, console, open_engine, print_json
from dialstate.cli.db import list_contacts
from dialstate.cli.errors import UsageProblem
from dialstate.engine.engine import Engine
from dialstate.engine.snapshots import Campaign, CampaignStats, Contact, HistoryEntry
from dialstate.engine.states import ContactState, DialMode, StateKind
from dialstate.outcomes import Outcome, OutcomeGroup

#: The order states are listed in: the lifecycle's order, as the enum declares it.
STATE_ORDER = {s.value: i for i, s in enumerate(ContactState)}

StateOption = Annotated[ContactState | None, typer.Option(
    "--state", case_sensitive=False, help="Only contacts in this state.",
)]


# -- campaigns (`dialstate campaigns` lists them: dialstate.cli.campaigns) ---------------------

def campaign_json(campaign: Campaign) -> dict[str, object]:
    return {
        "id": campaign.id, "name": campaign.name, "mode": campaign.mode.value, "status": campaign.status,
        "timezone": campaign.timezone, "default_region": campaign.default_region,
        "policy_version": campaign.policy_version, "created_at": campaign.created_at.isoformat(),
        "settings": dict(campaign.settings),
    }


def by_kind(by_state: Mapping[str, int]) -> dict[StateKind, int]:
    out = dict.fromkeys(StateKind, 0)
    for state, count in by_state.items():
        out[ContactState(state).kind] += count
    return out


# -- contacts ----------------------------------------------------------------------------

def contacts(
    campaign: Annotated[int, typer.Argument(help="The campaign id.")],
    state: StateOption = None,
    limit: Annotated[int, typer.Option(min=0, help="At most this many (0: all).")] = 50,
    after: Annotated[int, typer.Option(min=0, help="Start after this contact id (paging).")] = 0,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """List a campaign's contacts, optionally in one state."""
    with open_engine(db, must_exist=True) as engine:
        page, total = list_contacts(engine, campaign, state.value if state else None, limit or None, after)
    if as_json:
        print_json([c.to_json() for c in page])
        return
    out = console()
    what = f"in state {state.value}" if state else "in all"
    if not page:
        out.print(f"campaign {campaign}: no contacts {what}" + (f" after id {after}" if after else ""))
        return
    table = Table(title=f"Campaign {campaign}: contacts {what}", title_justify="left")
    for name in ("id", "phone", "state", "attempts", "last outcome", "next attempt (UTC)", "priority", "external id"):
        table.add_column(name, justify="right" if name in ("id", "attempts", "priority") else "left")
    for c in page:
        others = len(c.numbers) - 1
        phone = c.phone + (f" (+{others} more)" if others else "")
        table.add_row(str(c.id), phone, c.state.value, str(c.attempts), _text(c.last_outcome),
                      when(c.next_attempt_at), str(c.priority), c.external_id or "")
    out.print(table)
    if len(page) < total:
        out.print(f"showing {len(page)} of {total}; next page: --after {page[-1].id} (or --limit 0 for all)")


# -- one contact ---------------------------------------------------------------------------

def show(
    contact: Annotated[int, typer.Argument(help="The contact id.")],
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """Show a contact: its snapshot and the timeline of its history."""
    with open_engine(db, must_exist=True) as engine:
        snapshot = engine.get_contact(contact)
        entries = engine.history(contact)
    if as_json:
        print_json({"contact": snapshot.to_json(), "history": [e.to_json() for e in entries]})
        return
    out = console()
    print_contact(out, snapshot)
    print_history(out, entries, title=f"History of contact {snapshot.id}")


def print_contact(out: Console, c: Contact) -> None:
    table = Table(title=f"Contact {c.id}", title_justify="left", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    fields: Sequence[tuple[str, object]] = (
        ("campaign", c.campaign_id), ("phone", c.phone), ("state", f"{c.state.value} ({c.state.kind.value})"),
        ("attempts", c.attempts), ("last outcome", _text(c.last_outcome)),
        ("next attempt (UTC)", when(c.next_attempt_at)), ("operator", c.operator_id or ""),
        ("call", c.call_id or ""), ("priority", c.priority), ("time zones", ", ".join(c.zones)),
        ("external id", c.external_id or ""), ("data", dict(c.data) if c.data else ""),
        ("version", c.version), ("created (UTC)", when(c.created_at)), ("updated (UTC)", when(c.updated_at)),
    )
    for name, value in fields:
        table.add_row(name, str(value))
    out.print(table)
    if len(c.numbers) > 1 or c.numbers[0].label is not None:
        numbers = Table(title=f"Numbers of contact {c.id}", title_justify="left")
        for name in ("#", "number", "label", "time zones", "status", "attempts", "last outcome", "last attempt (UTC)"):
            numbers.add_column(name, justify="right" if name in ("#", "attempts") else "left")
        for i, n in enumerate(c.numbers, 1):
            mark = " (current)" if n.phone == c.phone else ""
            numbers.add_row(str(i), n.phone + mark, n.label or "", ", ".join(n.zones), n.status, str(n.attempts),
                            _text(n.last_outcome), when(n.last_attempt_at))
        out.print(numbers)


def print_history(out: Console, entries: Iterable[HistoryEntry], *, title: str, call_ids: bool = True,
                  time_format: str = "%Y-%m-%d %H:%M:%S") -> None:
    """The timeline of one contact: one row per transition."""
    table = Table(title=title, title_justify="left")
    columns = ["#", "at (UTC)", "transition", "trigger", "att.", "outcome (vendor code)", "actor"]
    if call_ids:
        columns.append("call")
    columns.append("note")
    for name in columns:
        table.add_column(name, justify="right" if name in ("#", "att.") else "left",
                         no_wrap=name in ("#", "at (UTC)", "att."))
    for e in entries:
        move = e.to_state.value if e.from_state is None else f"{e.from_state.value} → {e.to_state.value}"
        outcome = _text(e.outcome)
        if e.raw_code is not None:
            outcome += f" ({e.dialect} {e.raw_code})"
        row = [str(e.seq), e.at.strftime(time_format), move, e.trigger, str(e.attempt), outcome, e.actor or ""]
        if call_ids:
            row.append(e.call_id or "")
        row.append(e.note or "")
        table.add_row(*row)
    out.print(table)


# -- statistics --------------------------------------------------------------------------------

def stats(
    campaign: Annotated[int, typer.Argument(help="The campaign id.")],
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """Contacts by state, finished attempts by outcome group and outcome, abandon rate."""
    with open_engine(db, must_exist=True) as engine:
        info = engine.get_campaign(campaign)
        numbers = engine.campaign_stats(campaign)
    if as_json:
        print_json({"campaign": campaign_json(info), **stats_json(numbers)})
        return
    out = console()
    out.print(f"Campaign {info.id} ({info.name}, {info.mode.value}, {info.status}): {numbers.total} contacts")
    print_stats(out, numbers)


def stats_json(s: CampaignStats) -> dict[str, object]:
    return {
        "total": s.total, "by_state": dict(s.by_state), "attempts_by_group": dict(s.attempts_by_group),
        "attempts_by_outcome": dict(s.attempts_by_outcome), "abandon_rate": s.abandon_rate,
    }


def print_stats(out: Console, s: CampaignStats) -> None:
    """Contacts by state and attempts by outcome group (with their outcomes)."""
    states = Table(title="Contacts by state", title_justify="left")
    for name in ("state", "kind", "contacts", "share"):
        states.add_column(name, justify="right" if name in ("contacts", "share") else "left")
    for state, count in sorted(s.by_state.items(), key=lambda kv: STATE_ORDER.get(kv[0], 99)):
        states.add_row(state, ContactState(state).kind.value, str(count), share(count, s.total))
    states.add_section()
    states.add_row("total", "", str(s.total), share(s.total, s.total))
    out.print(states)

    attempts = Table(title="Finished attempts by outcome group", title_justify="left")
    for name in ("group", "outcome", "attempts", "share"):
        attempts.add_column(name, justify="right" if name in ("attempts", "share") else "left")
    total = sum(s.attempts_by_outcome.values())
    for group in OutcomeGroup:
        outcomes = sorted((o, n) for o, n in s.attempts_by_outcome.items() if Outcome(o).group is group)
        if not outcomes:
            continue
        group_total = s.attempts_by_group.get(group.value, 0)
        attempts.add_row(f"[bold]{group.value}[/bold]", "", f"[bold]{group_total}[/bold]", share(group_total, total))
        for outcome, count in outcomes:
            attempts.add_row("", outcome, str(count), share(count, total))
    attempts.add_section()
    attempts.add_row("total", "", str(total), share(total, total))
    out.print(attempts)
    if s.abandon_rate is not None:
        out.print(f"Abandon rate (abandoned / answered calls): {s.abandon_rate:.1%}")


# -- blacklist --------------------------------------------------------------------------------

blacklist_app = typer.Typer(help="The blacklist of numbers never to call.", no_args_is_help=True)
RegionOption = Annotated[str | None, typer.Option(
    "--region", help="Region to read a national number with (e.g. DE); with --campaign, the campaign's by default.",
)]
ScopeOption = Annotated[int | None, typer.Option(
    "--campaign", min=1, help="The entry holds in this campaign only (default: in every campaign).",
)]
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_expiry(value: str | None) -> datetime | None:
    """`--expires`: a time with its UTC offset (2026-12-31T18:00+01:00, or Z), or a
    duration from now (90m, 12h, 30d, 2w)."""
    if value is None:
        return None
    found = _DURATION.match(value)
    if found:
        return datetime.now(UTC) + timedelta(seconds=float(found[1]) * _UNITS[found[2].lower()])
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise UsageProblem(f"--expires {value!r} is neither a time (2026-12-31T18:00+01:00) nor a duration "
                           "(90m, 12h, 30d, 2w)") from None
    if when.utcoffset() is None:
        raise UsageProblem(f"--expires {value!r} has no UTC offset; write it as {value}Z or with +HH:MM")
    return when


def _entry_number(engine: Engine, phone: str, region: str | None, campaign_id: int | None) -> str:
    """The number as the entry keeps it (read as `blacklist_phone` reads it)."""
    from dialstate.phones import blacklist_key

    if campaign_id is None or region is not None:
        return blacklist_key(phone, region)
    campaign = engine.get_campaign(campaign_id)
    return blacklist_key(phone, campaign.default_region, campaign.settings["bare_numbers"])


def _scope(campaign_id: int | None) -> str:
    return "every campaign" if campaign_id is None else f"campaign {campaign_id}"


@blacklist_app.command("add")
def blacklist_add(
    phone: Annotated[str, typer.Argument(help="The number (international, or national with --region/--campaign).")],
    note: Annotated[str | None, typer.Option(help="Why the number is blacklisted.")] = None,
    region: RegionOption = None,
    campaign_id: ScopeOption = None,
    expires: Annotated[str | None, typer.Option(
        "--expires", help="When the entry ends: a time with its offset (2026-12-31T18:00+01:00) or a duration "
                          "(90m, 12h, 30d, 2w). Default: never.")] = None,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Blacklist a number: its waiting contacts become blacklisted now, those in a call at its end."""
    expires_at = parse_expiry(expires)
    with open_engine(db) as engine:
        moved = engine.blacklist_phone(phone, note, region=region, campaign_id=campaign_id, expires_at=expires_at,
                                       actor="cli")
        key = _entry_number(engine, phone, region, campaign_id)
    until = "" if expires_at is None else f" until {expires_at.isoformat(timespec='seconds')}"
    console().print(f"blacklisted {key} in {_scope(campaign_id)}{until}; {moved} contact(s) moved to blacklisted")


@blacklist_app.command("remove")
def blacklist_remove(
    phone: Annotated[str, typer.Argument(help="The number, as it was blacklisted.")],
    region: RegionOption = None,
    campaign_id: ScopeOption = None,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Take a number's entry off the blacklist; the contacts no other entry holds go back to ready."""
    with open_engine(db, must_exist=True) as engine:
        key = _entry_number(engine, phone, region, campaign_id)
        listed = any(e.phone == key and e.campaign_id == campaign_id for e in engine.blacklist_entries())
        moved = engine.unblacklist_phone(phone, region=region, campaign_id=campaign_id, actor="cli")
    if not listed:
        console().print(f"{key} was not on the blacklist of {_scope(campaign_id)}; nothing changed")
        return
    console().print(f"removed {key} from the blacklist of {_scope(campaign_id)}; {moved} contact(s) back to ready")


@blacklist_app.command("list")
def blacklist_list(db: DbOption = DEFAULT_DB, as_json: JsonOption = False) -> None:
    """List the blacklist entries in force, oldest first."""
    with open_engine(db, must_exist=True) as engine:
        entries = engine.blacklist_entries()
    if as_json:
        print_json([entry.to_dict() for entry in entries])
        return
    out = console()
    if not entries:
        out.print("the blacklist is empty")
        return
    table = Table(title=f"Blacklist ({len(entries)})", title_justify="left")
    for column in ("phone", "campaign", "expires", "note", "by", "since"):
        table.add_column(column)
    for e in entries:
        table.add_row(e.phone, "all" if e.campaign_id is None else str(e.campaign_id),
                      "never" if e.expires_at is None else when(e.expires_at), e.note or "", e.actor or "",
                      when(e.created_at))
    out.print(table)


# -- diagrams -----------------------------------------------------------------------------------

class DiagramFormat(StrEnum):
    MERMAID = "mermaid"
    DOT = "dot"


def diagram(
    mode: Annotated[DialMode, typer.Option(case_sensitive=False, help="The dial mode to draw.")] = DialMode.PREVIEW,
    format: Annotated[DiagramFormat, typer.Option(
        "--format", case_sensitive=False, help="mermaid (stateDiagram-v2) or dot (Graphviz).")] = DiagramFormat.MERMAID,
) -> None:
    """Print the contact state machine of a dial mode, generated from the transition table."""
    from dialstate.engine.diagram import dot, mermaid

    typer.echo((mermaid if format is DiagramFormat.MERMAID else dot)(mode), nl=False)


# -- formatting helpers ----------------------------------------------------------------------------

def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else ""


def share(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "-"


def _text(value: object) -> str:
    return "" if value is None else str(value)
