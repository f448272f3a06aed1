"""What the scheduler fires: the due times kept in the contact rows (spec section 7).

`fire_due` takes one batch of contacts whose `due_at` has come, locks them
(`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite's writer lock), re-checks each under
its version guard and applies its timer rule, all in one transaction: a process killed
mid-batch leaves nothing half done, and another process fires the batch instead.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dialstate.engine.base import _ROW_KEYS, _SELECT_CONTACT, Change, EngineBase, Step
from dialstate.engine.config import CampaignConfig
from dialstate.engine.machine import machine_for
from dialstate.engine.snapshots import Contact
from dialstate.engine.states import ContactState, DialMode
from dialstate.engine.triggers import TriggersMixin, dial_updates, new_call_id
from dialstate.models.types import from_epoch
from dialstate.outcomes import Outcome

S = ContactState
SCHEDULER = "scheduler"

_SELECT_DUE = _SELECT_CONTACT.replace("WHERE c.id = ?", "WHERE c.due_at <= ? ORDER BY c.due_at, c.id LIMIT ?")


class TimersMixin(TriggersMixin):
    def next_due_at(self) -> datetime | None:
        """The earliest due time of any contact (None when nothing waits for a time)."""
        db = self._db
        with db.reading() as conn:
            row = db.execute(conn, "SELECT MIN(due_at) FROM ds_contact").fetchone()
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
        db = self._db
        now = self.now().timestamp()
        fired: list[dict[str, Any]] = []
        with db.transaction() as conn:
            sql = _SELECT_DUE + (" FOR UPDATE OF c SKIP LOCKED" if db.is_pg else "")
            for values in db.execute(conn, sql, (now, limit)).fetchall():
                row = dict(zip(_ROW_KEYS, values, strict=True))
                row["data"] = _json(row["data"])
                cfg = self._config(conn, row["campaign_id"], row["policy_version"])
                change = self._timer_change(row, cfg, now, conn)
                fired.append(self._write(conn, row, cfg, change, now, SCHEDULER, machine_for(cfg.mode)))
        contacts = []
        for new in fired:
            contact = Contact.from_row(new)
            contacts.append(contact)
            self._notify(contact, new["_entries"])
        return contacts

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
            change.steps[0].note = f"after-call work timed out; {change.steps[0].note}"
            return change
        if state == S.OPERATOR_ASSIGNED:
            return Change([Step("release", S.READY, "the operator did not accept in time")],
                          {"operator_id": None})
        if state in (S.DIALING, S.CALL_IN_PROGRESS) or (
            state == S.AWAITING_OPERATOR and cfg.mode is DialMode.PREDICTIVE
        ):
            # An event was lost or a process died. End the call as `unknown`, but never
            # redial before the call, if it is somehow still live, must have ended.
            started = self._call_started(conn, row)
            change = self._plan_call_ended(row, cfg, now, conn, Outcome.UNKNOWN, None, None,
                                           not_before=started + cfg.timers["max_call_seconds"])
            change.steps[0].note = _join(f"no event for the call within the {state} limit", change.steps[0].note)
            return change
        if state == S.READY and row["callback_operator_id"] is not None:
            # A personal callback unclaimed after its grace: anyone may take it now.
            return Change([], {"callback_operator_id": None, "personal_until": None})
        return Change([], {})  # nothing due in this state any more: clear the stale due time

    def _call_started(self, conn: Any, row: dict[str, Any]) -> float:
        found = self._db.execute(
            conn, "SELECT MAX(at) FROM ds_history WHERE contact_id = ? AND trigger = 'dial'", (row["id"],)
        ).fetchone()
        return float(found[0]) if found and found[0] is not None else float(row["updated_at"])


def _join(*notes: str | None) -> str:
    return "; ".join(n for n in notes if n)


def _json(text: Any) -> Any:
    import json

    return json.loads(text) if text else None
