"""Running one trigger: load the facts, decide purely, write, as one unit of work.

`Trigger` describes a trigger call: its name, the planner that decides, and what
else it must load first. `Runner.unit` turns it into the unit of work that either
face of the engine runs as one transaction guarded by the contact's version:

    read the row (and the campaign's config) -> check the call id, the state and the
    mode -> load extra facts -> plan (pure) -> run the steps through the machine ->
    write the row and its entries (and a do-not-call's blacklisting) -> remember the
    reply of an idempotency key.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from dialstate.engine import plans
from dialstate.engine.calls import Done
from dialstate.engine.change import Change, Facts, Step, to_move
from dialstate.engine.clock import Clock
from dialstate.engine.configs import Configs
from dialstate.engine.gates import callability, pick_number
from dialstate.engine.machine import machine_for
from dialstate.engine.numbers import index_of
from dialstate.engine.snapshots import Contact
from dialstate.errors import ContactNotFound, IdempotencyConflict, InvalidArgument, NotCallable, StaleCallEvent
from dialstate.phones import parse_phone
from dialstate.store import rows, writer
from dialstate.store.feed import Transaction
from dialstate.store.ops import Work, all_rows, count, one, transaction
from dialstate.store.rowcache import data_version, keep_written
from dialstate.store.statements import Queries
from dialstate.store.writer import Backend

#: A planner: the facts (and what `load` found) -> the change.
Planner = Callable[[Facts, Any], Change]


@dataclass(slots=True)
class Trigger:
    """One trigger call: what decides, and what it needs to know first."""

    name: str
    plan: Planner
    #: Loads facts beyond the contact row; what it returns is the planner's 2nd argument.
    load: Callable[[Facts], Work[Any]] | None = None
    #: The call id an event names, checked against the contact's current call.
    call_id: str | None = None
    check_call: bool = False
    #: The arguments that say what the call does, (name, value) in order: an
    #: idempotency key is bound to them.
    args: tuple[tuple[str, object], ...] = ()
    #: Whether it starts or prepares a call (the rules of section 12 must allow it),
    #: and the operator's reason to pass the window and the caps.
    gate: bool = False
    override: str | None = None
    #: The number a dial must use (the operator's choice), as written.
    phone: str | None = None

    def fingerprint(self, contact_id: int) -> str:
        """The call in words, as an idempotency key remembers it."""
        given = ", ".join(f"{name}={value!r}" for name, value in self.args)
        return f"{self.name}(contact {contact_id}{', ' if given else ''}{given})"


class Runner:
    def __init__(self, q: Queries, backend: Backend, configs: Configs, clock: Clock, rng: random.Random) -> None:
        self._q = q
        self._backend = backend
        self._configs = configs
        self._clock = clock
        self._rng = rng

    def unit(self, contact_id: int, trigger: Trigger, actor: str | None, key: str | None) -> Work[Done[Contact]]:
        q = self._q
        now = self._clock.epoch()
        if key is not None:
            reply = yield from self.reply(key, contact_id, trigger)
            if reply is not None:
                return Done(reply)
        tx: Transaction = yield transaction()
        row = yield from self._row(contact_id, tx, now)
        versions = row["campaign_id"], row["settings_version"], row["policy_version"]
        cfg = self._configs.known(*versions) or (yield from self._configs.get(*versions))
        state = row["state"]
        if trigger.check_call:
            _check_call(contact_id, state, trigger.name, trigger.call_id, row["call_id"])
        machine = machine_for(cfg.mode)
        machine.check(contact_id, state, trigger.name)
        facts = Facts(row, cfg, now)
        if row["numbers"]:
            facts.banned = row["banned_numbers"] = yield from load_banned(q, row, now)
        if trigger.phone is not None:
            facts.number = chosen_number(facts, trigger.phone)
        if plans.needs_dial_times(trigger.name, cfg):
            facts.dial_times = tuple((yield from self.dial_times(contact_id)))
        if trigger.gate:
            override = trigger.override is not None
            verdict = callability(facts, now, override=override)
            if not verdict.callable:
                raise NotCallable(contact_id, verdict.reasons, verdict.next_allowed_at)
            if facts.several is not None:
                facts.number = pick_number(facts, now, override)
        extra = (yield from trigger.load(facts)) if trigger.load is not None else None
        move = to_move(facts, trigger.plan(facts, extra), actor, machine)
        yield from writer.write(q, self._backend, [move], tx)
        moved: list[tuple[int, int]] = []
        if move.blacklist is not None:
            moved = yield from blacklist_numbers(q, self._backend, self._configs, move.blacklist, now, actor,
                                                 "do not call", exclude=contact_id)
        else:
            yield from keep_written(q, tx, [move.after])
        contact = Contact.from_row(move.after)
        if key is not None:
            yield count(q["remember_reply"], (key, contact_id, trigger.name, json.dumps(contact.to_json()), now,
                                              trigger.fingerprint(contact_id)))
        return Done(contact, [(contact, move.entries, move.first_ordinal)], moved, tx)

    def _row(self, contact_id: int, tx: Transaction, now: float) -> Work[dict[str, Any]]:
        """The contact with its facts: as this connection last wrote it when nothing
        else was written since (`dialstate.store.rowcache`), else read."""
        if tx.rows is not None:
            row = tx.rows.get(contact_id, (yield from data_version(self._q, tx)))
            if row is not None:
                return row
        found = yield one(self._q["select_contact"], (now, contact_id))
        if found is None:
            raise ContactNotFound(contact_id)
        return rows.contact(found)

    def dial_times(self, contact_id: int) -> Work[list[tuple[int, float]]]:
        found = yield all_rows(self._q["dial_times"], (contact_id,))
        return sorted(((int(a), float(t)) for a, t in found), key=lambda x: x[1])

    def reply(self, key: str, contact_id: int, trigger: Trigger) -> Work[Contact | None]:
        """The snapshot an earlier call with this idempotency key returned, if any; a key
        used for another contact, trigger or arguments raises `IdempotencyConflict`."""
        found = yield one(self._q["idempotent_reply"], (key,))
        if found is None:
            return None
        used_contact, used_trigger, snapshot, used_for = found
        asked = trigger.fingerprint(contact_id)
        if used_contact != contact_id or used_trigger != trigger.name or (used_for is not None and used_for != asked):
            raise IdempotencyConflict(key, contact_id, trigger.name, used_for or f"{used_trigger} on contact "
                                      f"{used_contact}", asked)
        return Contact.from_json(json.loads(snapshot))


def banned_among(q: Queries, campaign_id: int, phones: Sequence[str], now: float,
                 chunk: int = 500) -> Work[dict[str, float]]:
    """Which of `phones` (E.164) are on the campaign's blacklist now, with until when
    (`FOREVER` for good)."""
    found: dict[str, float] = {}
    for i in range(0, len(phones), chunk):
        part = phones[i:i + chunk]
        rows_found = yield all_rows(q.expand(q["blacklisted_numbers"], len(part)), (campaign_id, now, *part))
        found.update((phone, float(until)) for phone, until in rows_found)
    return found


def load_banned(q: Queries, row: dict[str, Any], now: float) -> Work[dict[str, float]]:
    """Which numbers of a contact with several are on its campaign's blacklist now."""
    return (yield from banned_among(q, row["campaign_id"], [n["phone"] for n in row["numbers"] if n["valid"]], now))


def chosen_number(facts: Facts, phone: str) -> int | None:
    """The index of the number `phone` (read as the campaign reads numbers) among the
    contact's; None for a contact with one number (its own). Raises `InvalidArgument`
    for a number that is not the contact's."""
    cfg, row = facts.cfg, facts.row
    e164, reason = parse_phone(phone, cfg.default_region, cfg.settings.bare_numbers)
    numbers = facts.several
    mine = [n["phone"] for n in numbers if n["valid"]] if numbers is not None else [row["phone_key"]]
    if e164 is None or e164 not in mine:
        raise InvalidArgument(f"contact {facts.id}: {phone!r} is not one of its numbers "
                              f"({', '.join(p for p in mine if p) or 'none valid'})"
                              + (f"; {reason}" if e164 is None and reason else ""))
    return None if numbers is None else index_of(numbers, e164)


def blacklist_numbers(q: Queries, backend: Backend, configs: Configs, phones: str | list[str], now: float,
                      actor: str | None, note: str, exclude: int = 0) -> Work[list[tuple[int, int]]]:
    """`blacklist_number` for each of `phones` (a do-not-call: all of a contact's)."""
    moved: list[tuple[int, int]] = []
    for phone in [phones] if isinstance(phones, str) else phones:
        moved.extend((yield from blacklist_number(q, backend, configs, phone, now, actor, note, exclude)))
    return moved


def blacklist_number(q: Queries, backend: Backend, configs: Configs, phone: str, now: float, actor: str | None,
                     note: str, exclude: int = 0, campaign_id: int = 0, expires_at: float | None = None,
                     ) -> Work[list[tuple[int, int]]]:
    """Put `phone` on the blacklist (of one campaign, or of all with 0, until
    `expires_at` or for good) and move its waiting contacts there (all but `exclude`)
    to `blacklisted`; those in a call keep it and are decided at its end."""
    from dialstate.engine.lifecycle import BLACKLISTABLE_NOW

    yield count(q["blacklist_add"], (phone, campaign_id, expires_at, note, actor, now))
    moved = yield from writer.bulk_move(
        q, backend, "where_number_not_on_a_call", (campaign_id, phone, exclude), sorted(BLACKLISTABLE_NOW),
        "blacklisted", "blacklist", now, actor, note)
    # The parked contacts (just now, or before under another entry) wait for the
    # entries that hold them to expire; `exclude`'s own move has seen to it.
    yield from blacklisted_wait(q, "where_number_not_on_a_call", (campaign_id, phone, exclude), now)
    # Contacts with several numbers: parked only when none is left.
    moved.extend((yield from recheck_several(q, backend, configs, phone, campaign_id, now, actor, note, exclude)))
    return moved


def recheck_several(q: Queries, backend: Backend, configs: Configs, phone: str, campaign_id: int, now: float,
                    actor: str | None, note: str, exclude: int = 0) -> Work[list[tuple[int, int]]]:
    """The contacts with several numbers, `phone` among them, after a change of the
    blacklist: those waiting become `blacklisted` when every number still callable is
    on it; those it parked go back to `ready` when one is free again, else wait for the
    first to be. Returns (contact id, seq of its new entry) of those that moved."""
    from dialstate.engine.lifecycle import BLACKLISTABLE_NOW

    found = yield all_rows(q["several_with_number"], (campaign_id, phone, exclude))
    moves = []
    for (contact_id,) in found:
        values = yield one(q["select_contact"], (now, contact_id))
        if values is None:
            continue
        row = rows.contact(values)
        cfg = yield from configs.get(row["campaign_id"], row["settings_version"], row["policy_version"])
        facts = Facts(row, cfg, now)
        facts.banned = row["banned_numbers"] = yield from load_banned(q, row, now)
        state = row["state"]
        if state in BLACKLISTABLE_NOW and facts.blacklisted:
            change = Change([Step("blacklist", "blacklisted", f"{note}: every number is on the blacklist")])
        elif state == "blacklisted" and not facts.blacklisted:
            change = Change([Step("unblacklist", "ready", "a number is off the blacklist")])
        elif state == "blacklisted":
            change = Change([])  # waits for the first of its numbers to be free
        else:
            continue
        moves.append(to_move(facts, change, actor, machine_for(cfg.mode)))
    if not moves:
        return []
    yield from writer.write(q, backend, moves)
    return [(m.before["id"], m.after["seq"]) for m in moves if m.entries]


def blacklisted_wait(q: Queries, where: str, params: tuple[Any, ...], now: float) -> Work[None]:
    """The `blacklisted` contacts `q[where]` chooses wait until the blacklist entries
    that hold them expire (for good when one has no expiry; the next scheduler pass
    releases those no entry holds)."""
    yield count(q["blacklist_due"].replace("<<where>>", q[where]), (now, now, now, now, *params))


def _check_call(contact_id: int, state: str, trigger: str, call_id: str | None, current: str | None) -> None:
    """Before the call is placed, the row still names the previous, finished call: an
    event for that call is stale, one for the call being placed is not."""
    if call_id is not None and current is not None and (
        call_id == current if state == "before_call_work" else call_id != current
    ):
        raise StaleCallEvent(contact_id, state, trigger, call_id, current)

