"""What a decision is made of, and what it returns.

`Facts` is everything loaded for one contact before deciding (its row, its campaign's
config, the times of its past dials when the policy's rolling caps need them).
A planner in `dialstate.engine.plans` turns facts into a `Change`; `to_move` turns a
change into the new row and its history entries (a `Move`), which the store writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dialstate.engine.lifecycle import TIMED_STATES, clears
from dialstate.engine.machine import ModeMachine
from dialstate.engine.numbers import CALLABLE, all_banned
from dialstate.engine.settings import CampaignConfig
from dialstate.engine.states import ContactState
from dialstate.store.rows import FOREVER


@dataclass(slots=True)
class Facts:
    """One contact as a decision sees it."""

    #: The contact row with `campaign_status`, `policy_version` and `blacklisted`.
    row: dict[str, Any]
    cfg: CampaignConfig
    #: Now, in epoch seconds.
    now: float
    #: (attempt, epoch seconds) of the contact's dials, oldest first, when the
    #: decision needs them (a policy with rolling caps); else empty.
    dial_times: tuple[tuple[int, float], ...] = ()
    #: When the current call was dialed, for in-flight recovery.
    last_dial_at: float | None = None
    #: A contact with several numbers: those of them on the blacklist now, with until
    #: when (loaded by whoever decides for it; `FOREVER` for good).
    banned: Mapping[str, float] = field(default_factory=dict)
    #: A contact with several numbers: the one (index) the call being placed uses.
    number: int | None = None

    @property
    def id(self) -> int:
        return int(self.row["id"])

    @property
    def state(self) -> str:
        return str(self.row["state"])

    @property
    def at(self) -> datetime:
        return datetime.fromtimestamp(self.now, UTC)

    @property
    def several(self) -> list[dict[str, Any]] | None:
        """The contact's numbers when it has several (None: its columns say it all)."""
        return self.row["numbers"] or None  # type: ignore[no-any-return]

    @property
    def blacklisted(self) -> bool:
        """Whether the blacklist holds the contact: its number, or, with several, every
        number still callable (then it is parked)."""
        numbers = self.several
        if numbers is None:
            return bool(self.row["blacklisted"])
        return all_banned(numbers, self.banned)

    @property
    def blacklist_expiry(self) -> float | None:
        """When the blacklist entries on the contact's number run out (epoch seconds);
        None when it is not blacklisted, or for good."""
        numbers = self.several
        if numbers is not None:  # parked until the first of its numbers is free again
            untils = [self.banned[n["phone"]] for n in numbers
                      if n["status"] == CALLABLE and n["phone"] in self.banned]
            until = min(untils) if untils else None
        else:
            until = self.row["blacklisted"]
        return float(until) if until and until < FOREVER else None


@dataclass(slots=True)
class Step:
    """One history entry of a transition: the trigger and the state it leads to."""

    trigger: str
    to_state: str
    note: str | None = None


@dataclass(slots=True)
class Change:
    """What a trigger decided: the steps, the columns to write, what the entries say."""

    steps: list[Step]
    updates: dict[str, Any] = field(default_factory=dict)
    outcome: str | None = None
    raw_code: str | None = None
    dialect: str | None = None
    #: Numbers to put on the blacklist in the same transaction (a do-not-call wrap-up:
    #: the contact's number, or all of its numbers); the other waiting contacts with
    #: them move to `blacklisted` with it.
    blacklist: str | list[str] | None = None


@dataclass(slots=True)
class Move:
    """A change made concrete: the row as read, the row to write, the entries to add."""

    before: dict[str, Any]
    after: dict[str, Any]
    #: History rows in `dialstate.store.rows.HISTORY_COLUMNS` order.
    entries: list[tuple[Any, ...]]
    blacklist: str | list[str] | None = None
    #: The first entry's ordinal in its transaction (set by the writer).
    first_ordinal: int = 0
    #: The columns besides `ALWAYS_WRITTEN` the change may have set (the writer
    #: writes those whose value differs).
    touched: AbstractSet[str] = frozenset()


_BLACKLISTED = ContactState.BLACKLISTED  # (a module constant: an enum member's lookup is slow)
#: Triggers whose entries record the number dialed.
NUMBER_TRIGGERS = frozenset({"dial", "dial_failed", "call_ended"})
#: Columns every write sets; the others only when the change touches them.
ALWAYS_WRITTEN = ("state", "version", "seq", "updated_at", "due_at", "ready_since")


def join_notes(*notes: str | None) -> str | None:
    """History notes joined into one ("; "), or None when there are none."""
    return "; ".join(n for n in notes if n) or None


def to_move(facts: Facts, change: Change, actor: str | None, machine: ModeMachine) -> Move:
    """Run each step of `change` through the mode's machine (which refuses a move the
    table does not allow) and compute the row to write and its history entries."""
    row, now = facts.row, facts.now
    contact_id = row["id"]
    new = row.copy()
    updates = change.updates
    touched = set(updates)
    path = []  # (from, to, step) for each step
    state = before = row["state"]
    for step in change.steps:
        to_state = machine.run(contact_id, state, step.trigger, step.to_state)
        cleared = clears(state, to_state)
        if cleared:
            touched.update(cleared)
            new.update(cleared)
        path.append((state, to_state, step))
        state = to_state
    new.update(updates)
    # Each entry records the attempt and the call as they are after the change.
    seq, attempts, call_id = row["seq"], new["attempts"], new["call_id"]
    number = new["phone_key"] or new["phone"]
    outcome, raw_code, dialect = change.outcome, change.raw_code, change.dialect
    policy_version = facts.cfg.policy_version
    entries = []
    for from_state, to_state, step in path:
        seq += 1
        trigger = step.trigger
        entries.append((
            contact_id, seq, from_state, to_state, trigger, now, actor, attempts, call_id,
            outcome, raw_code, dialect, policy_version, step.note,
            number if trigger in NUMBER_TRIGGERS else None,
        ))
    new["state"] = state
    if state == _BLACKLISTED and "next_attempt_at" not in updates:
        # Parked until its blacklist entries expire (the scheduler releases it then).
        new["next_attempt_at"] = facts.blacklist_expiry
        touched.add("next_attempt_at")
    if state == "ready" and before != "ready":
        new["ready_since"] = now
    if state == before and state in TIMED_STATES and row["due_at"] is not None:
        new["due_at"] = row["due_at"]  # a correction in place does not restart the state's timer
    else:
        new["due_at"] = facts.cfg.due_at(state, now, new)
    new["updated_at"] = now
    new["version"] = row["version"] + 1
    new["seq"] = seq
    return Move(row, new, entries, change.blacklist, 0, touched)
