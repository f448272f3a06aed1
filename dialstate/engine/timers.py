"""What the scheduler fires: the due times kept in the contact rows (spec section 7).

`fire_due` takes one batch of contacts whose `due_at` has come, locks them
(`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite's writer lock), re-checks each under
the lock and applies its timer rule, all in one transaction: a process killed
mid-batch leaves nothing half done, and another process fires the batch instead.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dialstate.engine.base import _ROW_KEYS, _SELECT_CONTACT, Change, Step, join_notes
from dialstate.engine.config import CampaignConfig
from dialstate.engine.machine import machine_for
from dialstate.engine.snapshots import Contact
from dialstate.engine.states import ContactState, DialMode
from dialstate.engine.triggers import TriggersMixin, dial_updates, new_call_id
from dialstate.errors import ConcurrentUpdate
from dialstate.models.types import from_epoch
from dialstate.outcomes import Outcome

S = ContactState
SCHEDULER = "scheduler"
log = logging.getLogger("dialstate.scheduler")

#: How long a contact whose timer rule raised (a bug, a corrupt row) waits before the
#: scheduler tries it again; meanwhile the contacts due after it still fire.
POISON_RETRY_SECONDS = 60.0

_SELECT_DUE = _SELECT_CONTACT.replace("WHERE c.id = ?", "WHERE c.due_at <= ? ORDER BY c.due_at, c.id LIMIT ?")


@dataclass
class FiredBatch:
    """One batch of `fire_due`: how many due rows it took, and what it fired."""

    #: Due rows selected (and locked) in this batch; fewer than the limit means that
    #: nothing else was due and free when it ran.
    selected: int = 0
    #: (the state it was in, the snapshot after) for each contact fired.
    fired: list[tuple[str, Contact]] = field(default_factory=list)
    #: Contacts whose rule raised: the batch was rolled back and they were put off.
    deferred: int = 0


class _Poisoned(Exception):
    """A timer rule raised for one contact; aborts (rolls back) the batch."""

    def __init__(self, row: dict[str, Any]) -> None:
        super().__init__(row["id"])
        self.row = row


class TimersMixin(TriggersMixin):
    def next_due_at(self) -> datetime | None:
        """The earliest due time of any contact (None when nothing waits for a time)."""
        db = self._db
        with db.reading() as conn:
            row = db.execute(conn, "SELECT MIN(due_at) FROM ds_contact WHERE due_at IS NOT NULL").fetchone()
        return from_epoch(row[0]) if row and row[0] is not None else None

    def due_count(self) -> int:
        """How many contacts are due at the engine's clock now."""
        db = self._db
        with db.reading() as conn:
            return int(db.execute(conn, "SELECT COUNT(*) FROM ds_contact WHERE due_at <= ?",
                                  (self.now().timestamp(),)).fetchone()[0])

    def fire_due(self, limit: int = 200) -> list[Contact]:
        """Fire up to `limit` due contacts in one transaction; returns their snapshots
        (after commit, when the subscribers have heard of each)."""
        return [contact for _, contact in self._fire_batch(limit).fired]

    def _fire_batch(self, limit: int) -> FiredBatch:
        """`fire_due` with the counts the scheduler's loop and log need."""
        db = self._db
        now = self.now().timestamp()
        written: list[tuple[str, dict[str, Any]]] = []
        moved_also: list[tuple[int, int]] = []
        rows: list[Any] = []
        try:
            with db.transaction() as conn:
                sql = _SELECT_DUE + (" FOR UPDATE OF c SKIP LOCKED" if db.is_pg else "")
                rows = db.execute(conn, sql, (now, limit)).fetchall()
                for values in rows:
                    row = dict(zip(_ROW_KEYS, values, strict=True))
                    row["data"] = json.loads(row["data"]) if row["data"] else None
                    change, new = self._fire_one(conn, row, now)
                    if change.also is not None:
                        moved_also.extend(change.also(conn))
                    if change.steps or change.updates:
                        written.append((row["state"], new))
        except _Poisoned as poisoned:
            # Everything of this batch was rolled back; put the one contact off so the
            # next batch is not stuck behind it, and let the caller go on.
            self._put_off(poisoned.row, now)
            return FiredBatch(selected=len(rows), deferred=1)
        batch = FiredBatch(selected=len(rows))
        for from_state, new in written:
            contact = Contact.from_row(new)
            batch.fired.append((from_state, contact))
            self._notify(contact, new["_entries"])
        if moved_also:
            self._notify_many(moved_also, now)
        return batch

    def _fire_one(self, conn: Any, row: dict[str, Any], now: float) -> tuple[Change, dict[str, Any]]:
        """Plan and write one contact's timer rule; nothing is written when it raises."""
        try:
            cfg = self._config(conn, row["campaign_id"], row["policy_version"])
            change = self._timer_change(row, cfg, now, conn)
            # `_write` raises before its UPDATE (the machine check) or writes nothing
            # (the version guard), so a failure here leaves this contact untouched.
            return change, self._write(conn, row, cfg, change, now, SCHEDULER, machine_for(cfg.mode))
        except Exception as exc:
            if isinstance(exc, (ConcurrentUpdate, *self._database_errors())):
                raise  # transient: the whole batch is retried by the next run
            log.error("the timer rule of contact %s (state %s) failed; retrying it in %.0f s",
                      row["id"], row["state"], POISON_RETRY_SECONDS, exc_info=exc)
            raise _Poisoned(row) from exc

    def _put_off(self, row: dict[str, Any], now: float) -> None:
        db = self._db
        with db.transaction() as conn:
            db.execute(conn, "UPDATE ds_contact SET due_at = ? WHERE id = ? AND version = ?",
                       (now + POISON_RETRY_SECONDS, row["id"], row["version"]))

    def _database_errors(self) -> tuple[type[BaseException], ...]:
        if self._db.is_pg:
            import psycopg

            return (psycopg.Error,)
        return (sqlite3.Error,)

    def _timer_change(self, row: dict[str, Any], cfg: CampaignConfig, now: float, conn: Any) -> Change:
        """The rule for a contact whose due time has come, by its state."""
        state = row["state"]
        if state == S.RETRY_SCHEDULED:
            return Change([Step("retry_due", S.READY)], {"next_attempt_at": None})
        if state == S.BEFORE_CALL_WORK:
            return Change([Step("dial", S.DIALING, "before-call-work countdown ended")],
                          dial_updates(row, new_call_id()))
        if state == S.AFTER_CALL_WORK:
            change = self._plan_wrap_up(row, cfg, now, conn, cfg.default_disposition, None, False)
            change.steps[0].note = join_notes("after-call work timed out", change.steps[0].note)
            return change
        if state == S.OPERATOR_ASSIGNED:
            return Change([Step("release", S.READY, "the operator did not accept in time")],
                          {"operator_id": None})
        if state in (S.DIALING, S.CALL_IN_PROGRESS) or (
            state == S.AWAITING_OPERATOR and cfg.mode is DialMode.PREDICTIVE
        ):
            return self._recover_call(row, cfg, now, conn)
        if state == S.READY and row["callback_operator_id"] is not None:
            # A personal callback unclaimed after its grace: anyone may take it now.
            return Change([Step("open_callback", S.READY, "personal callback unclaimed after its grace")],
                          {"callback_operator_id": None, "personal_until": None})
        return Change([], {})  # nothing due in this state any more: clear the stale due time

    def _recover_call(self, row: dict[str, Any], cfg: CampaignConfig, now: float, conn: Any) -> Change:
        """An event was lost or a process died: end the call as `unknown`, but never
        redial before the call, if it is somehow still live, must have ended."""
        state = row["state"]
        not_before = self._call_started(conn, row) + cfg.timers["max_call_seconds"]
        note = f"no event for the call within the {state} limit"
        # From awaiting_operator the client's call passes canceled_by_client; whether
        # the client hung up nobody knows (a lost connect_operator may have put them
        # through), so the outcome stays unknown rather than abandoned.
        change = self._plan_call_ended(row, cfg, now, conn, Outcome.UNKNOWN, None, None,
                                       not_before=not_before, waiting_outcome=Outcome.UNKNOWN)
        change.steps[0].note = join_notes(note, change.steps[0].note)
        return change

    def _call_started(self, conn: Any, row: dict[str, Any]) -> float:
        found = self._db.execute(
            conn, "SELECT MAX(at) FROM ds_history WHERE contact_id = ? AND trigger = 'dial'", (row["id"],)
        ).fetchone()
        return float(found[0]) if found and found[0] is not None else float(row["updated_at"])

