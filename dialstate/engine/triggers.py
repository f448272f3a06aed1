"""The per-contact triggers of spec section 3, each one transaction."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from dialstate.engine import decisions
from dialstate.engine.base import Change, EngineBase, Step, join_notes
from dialstate.engine.config import CampaignConfig
from dialstate.engine.decisions import Decision, Meaning
from dialstate.engine.snapshots import Contact
from dialstate.engine.states import BLACKLISTABLE_NOW, ContactState, DialMode
from dialstate.errors import InvalidArgument, InvalidPhone
from dialstate.outcomes import Outcome, normalize
from dialstate.phones import parse_phone, resolve_zones

S = ContactState


class TriggersMixin(EngineBase):
    # -- operators ----------------------------------------------------------------------

    def assign_operator(self, contact_id: int, operator_id: str, *, actor: str | None = None,
                        idempotency_key: str | None = None) -> Contact:
        """`ready` or `awaiting_operator` → `operator_assigned` (preview, progressive)."""
        _require_text("operator_id", operator_id)
        return self._run(
            contact_id, "assign_operator",
            lambda row, cfg, now, conn: Change(
                [Step("assign_operator", S.OPERATOR_ASSIGNED)],
                {"operator_id": operator_id, "callback_operator_id": None, "personal_until": None},
            ),
            actor=actor or operator_id, idempotency_key=idempotency_key,
        )

    def accept(self, contact_id: int, *, actor: str | None = None,
               idempotency_key: str | None = None) -> Contact:
        """`operator_assigned` → `before_call_work` (preview, progressive)."""
        return self._simple(contact_id, "accept", S.BEFORE_CALL_WORK, actor, idempotency_key)

    def reject(self, contact_id: int, *, actor: str | None = None,
               idempotency_key: str | None = None) -> Contact:
        """`operator_assigned` → `rejected_by_operator` → `ready` (preview only)."""
        return self._run(
            contact_id, "reject",
            lambda row, cfg, now, conn: Change(
                [Step("reject", S.REJECTED_BY_OPERATOR, f"rejected by {row['operator_id']}"),
                 Step("requeue", S.READY)],
                {"operator_id": None},
            ),
            actor=actor, idempotency_key=idempotency_key,
        )

    def wait_for_operator(self, contact_id: int, *, actor: str | None = None,
                          idempotency_key: str | None = None) -> Contact:
        """`ready` → `awaiting_operator` (preview, progressive)."""
        return self._simple(contact_id, "wait_for_operator", S.AWAITING_OPERATOR, actor, idempotency_key)

    def connect_operator(self, contact_id: int, operator_id: str, *, actor: str | None = None,
                         idempotency_key: str | None = None) -> Contact:
        """`awaiting_operator` → `call_in_progress` (predictive)."""
        _require_text("operator_id", operator_id)
        return self._run(
            contact_id, "connect_operator",
            lambda row, cfg, now, conn: Change(
                [Step("connect_operator", S.CALL_IN_PROGRESS)], {"operator_id": operator_id}
            ),
            actor=actor or operator_id, idempotency_key=idempotency_key,
        )

    # -- calls ---------------------------------------------------------------------------

    def dial(self, contact_id: int, call_id: str | None = None, *, actor: str | None = None,
             idempotency_key: str | None = None) -> Contact:
        """Place a call: counts an attempt and gives the call a fresh id unless given one."""
        new_call = call_id if call_id is not None else new_call_id()
        return self._run(
            contact_id, "dial",
            lambda row, cfg, now, conn: Change([Step("dial", S.DIALING)], dial_updates(row, new_call)),
            actor=actor, idempotency_key=idempotency_key,
        )

    def dial_failed(self, contact_id: int, reason: str | None = None, call_id: str | None = None, *,
                    actor: str | None = None, idempotency_key: str | None = None) -> Contact:
        """The call could not be placed: `dial_failed`, then what the policy decides."""

        def plan(row: dict[str, Any], cfg: CampaignConfig, now: float, conn: Any) -> Change:
            decision = decisions.after_attempt(
                cfg.mode, Outcome.FAILED, cfg.policy, row["attempts"],
                blacklisted=self._is_blacklisted(conn, row), via=S.DIAL_FAILED, rng=self._rng,
            )
            change = self._decided("dial_failed", decision, row, cfg, now, conn, Outcome.FAILED, reason)
            if call_id is not None and row["state"] == S.BEFORE_CALL_WORK:
                change.updates["call_id"] = call_id
            return change

        return self._run(contact_id, "dial_failed", plan, actor=actor,
                         idempotency_key=idempotency_key, call_id=call_id, check_call=True)

    def answered(self, contact_id: int, call_id: str | None = None, operator_id: str | None = None, *,
                 actor: str | None = None, idempotency_key: str | None = None) -> Contact:
        """`dialing` → `call_in_progress`; predictive without an operator → `awaiting_operator`."""

        def plan(row: dict[str, Any], cfg: CampaignConfig, now: float, conn: Any) -> Change:
            if cfg.mode is DialMode.PREDICTIVE and operator_id is None:
                return Change([Step("answered", S.AWAITING_OPERATOR, "waiting for a free operator")])
            updates = {"operator_id": operator_id} if operator_id is not None and cfg.mode.has_operators else {}
            return Change([Step("answered", S.CALL_IN_PROGRESS)], updates)

        return self._run(contact_id, "answered", plan, actor=actor,
                         idempotency_key=idempotency_key, call_id=call_id, check_call=True)

    def call_ended(self, contact_id: int, outcome: Outcome | str | int, dialect: str | None = None,
                   call_id: str | None = None, *, actor: str | None = None,
                   idempotency_key: str | None = None) -> Contact:
        """The call ended with `outcome` (canonical, or a vendor code of `dialect`)."""
        canonical = normalize(outcome, dialect)  # raises before anything is read or written
        raw = None if dialect is None else str(outcome)

        def plan(row: dict[str, Any], cfg: CampaignConfig, now: float, conn: Any) -> Change:
            return self._plan_call_ended(row, cfg, now, conn, canonical, raw, dialect)

        return self._run(contact_id, "call_ended", plan, actor=actor,
                         idempotency_key=idempotency_key, call_id=call_id, check_call=True)

    def wrap_up(self, contact_id: int, disposition: str, callback_at: datetime | None = None,
                personal: bool = False, *, actor: str | None = None,
                idempotency_key: str | None = None) -> Contact:
        """The operator's wrap-up: `after_call_work` → what the disposition means."""
        if callback_at is not None and callback_at.tzinfo is None:
            raise InvalidArgument(f"callback_at {callback_at!r} is naive; give a time-zone aware datetime")

        def plan(row: dict[str, Any], cfg: CampaignConfig, now: float, conn: Any) -> Change:
            return self._plan_wrap_up(row, cfg, now, conn, disposition, callback_at, personal)

        return self._run(contact_id, "wrap_up", plan, actor=actor, idempotency_key=idempotency_key)

    def retry_due(self, contact_id: int, *, actor: str | None = None,
                  idempotency_key: str | None = None) -> Contact:
        """`retry_scheduled` → `ready` (the scheduler calls it when the retry is due)."""
        return self._run(
            contact_id, "retry_due",
            lambda row, cfg, now, conn: Change([Step("retry_due", S.READY)], {"next_attempt_at": None}),
            actor=actor, idempotency_key=idempotency_key,
        )

    # -- administration --------------------------------------------------------------------

    def cancel(self, contact_id: int, *, actor: str | None = None,
               idempotency_key: str | None = None) -> Contact:
        """Any open or parked state → `canceled_by_admin`."""
        return self._simple(contact_id, "cancel", S.CANCELED_BY_ADMIN, actor, idempotency_key)

    def delete(self, contact_id: int, *, actor: str | None = None,
               idempotency_key: str | None = None) -> Contact:
        """Any state but `deleted` → `deleted`; the row and its history are kept."""
        return self._simple(contact_id, "delete", S.DELETED, actor, idempotency_key)

    def update_phone(self, contact_id: int, phone: str, *, actor: str | None = None,
                     idempotency_key: str | None = None) -> Contact:
        """Correct the number: `invalid_record` → `ready` when it is now valid."""

        def plan(row: dict[str, Any], cfg: CampaignConfig, now: float, conn: Any) -> Change:
            e164, reason = parse_phone(phone, cfg.default_region)
            if e164 is None:
                raise InvalidPhone(phone, reason or "invalid", contact_id)
            other = self._db.execute(
                conn, "SELECT id FROM ds_contact WHERE campaign_id = ? AND phone_key = ? AND id <> ?",
                (row["campaign_id"], e164, contact_id),
            ).fetchone()
            if other is not None:
                raise InvalidPhone(phone, f"contact {other[0]} of this campaign already has {e164}", contact_id)
            zones = resolve_zones(cfg.window, row["timezone"], e164, cfg.timezone, at=self.now())
            zone_key = "|".join(zones)
            self._add_zone_key(conn, row["campaign_id"], zone_key)
            updates: dict[str, Any] = {"phone": e164, "phone_key": e164, "zone_key": zone_key}
            note = f"phone corrected from {row['phone']!r} to {e164}"
            blacklisted = self._is_blacklisted(conn, {"phone_key": e164})
            state = row["state"]
            if state == S.INVALID_RECORD:
                target = S.BLACKLISTED if blacklisted else S.READY
                return Change([Step("update_phone", target, note)], updates)
            steps = [Step("update_phone", state, note)]
            if blacklisted and state in BLACKLISTABLE_NOW:
                steps.append(Step("blacklist", S.BLACKLISTED, "the number is on the blacklist"))
                updates.update(next_attempt_at=None, operator_id=None)
            return Change(steps, updates)

        return self._run(contact_id, "update_phone", plan, actor=actor, idempotency_key=idempotency_key)

    # -- planners shared with the scheduler ----------------------------------------------

    def _plan_call_ended(self, row: dict[str, Any], cfg: CampaignConfig, now: float, conn: Any,
                         outcome: Outcome, raw: str | None, dialect: str | None,
                         not_before: float | None = None, waiting_outcome: Outcome = Outcome.ABANDONED) -> Change:
        """The end of a call. A predictive client's call that ends while waiting for an
        operator passes `canceled_by_client` and counts as `waiting_outcome` (abandoned,
        unless recovery cannot know: then unknown)."""
        state = row["state"]
        if state == S.CALL_IN_PROGRESS and cfg.mode.has_operators:
            change = Change([Step("call_ended", S.AFTER_CALL_WORK)], {"last_outcome": outcome.value},
                            outcome.value)
        else:
            result, via = outcome, None
            if state == S.AWAITING_OPERATOR:  # predictive: the client hung up while waiting
                result, via = waiting_outcome, S.CANCELED_BY_CLIENT
            attempts = row["attempts"] - (0 if cfg.policy.counts(result) else 1)
            decision = decisions.after_attempt(
                cfg.mode, result, cfg.policy, attempts,
                blacklisted=self._is_blacklisted(conn, row), via=via, rng=self._rng,
            )
            change = self._decided("call_ended", decision, row, cfg, now, conn, result, None,
                                   not_before=not_before)
            change.updates["attempts"] = max(attempts, 0)
        change.raw_code, change.dialect = raw, dialect
        return change

    def _plan_wrap_up(self, row: dict[str, Any], cfg: CampaignConfig, now: float, conn: Any,
                      disposition: str, callback_at: datetime | None, personal: bool) -> Change:
        contact_id = row["id"]
        meaning = decisions.resolve_disposition(disposition, cfg.dispositions, contact_id)
        if meaning is Meaning.CALLBACK and callback_at is None:
            raise InvalidArgument(
                f"contact {contact_id}: disposition {disposition!r} is a callback and needs callback_at"
            )
        decision = decisions.after_wrap_up(
            meaning, cfg.policy, row["attempts"], blacklisted=self._is_blacklisted(conn, row),
            rng=self._rng,
        )
        note = f"disposition {disposition}"
        if meaning is Meaning.CALLBACK and decision.state is S.RETRY_SCHEDULED:
            assert callback_at is not None
            change = self._decided("wrap_up", decision, row, cfg, now, conn, None, note,
                                   at=max(callback_at.timestamp(), now))
            if personal:
                change.updates["callback_operator_id"] = row["operator_id"]
                change.updates["personal_until"] = (
                    change.updates["next_attempt_at"] + cfg.timers["callback_grace_seconds"]
                )
            return change
        return self._decided("wrap_up", decision, row, cfg, now, conn, None, note)

    # -- helpers -------------------------------------------------------------------------

    def _simple(self, contact_id: int, trigger: str, to_state: ContactState, actor: str | None,
                idempotency_key: str | None) -> Contact:
        return self._run(
            contact_id, trigger,
            lambda row, cfg, now, conn: Change([Step(trigger, to_state)], leaving_updates(to_state)),
            actor=actor, idempotency_key=idempotency_key,
        )

    def _decided(self, trigger: str, decision: Decision, row: dict[str, Any], cfg: CampaignConfig,
                 now: float, conn: Any, outcome: Outcome | None, note: str | None,
                 at: float | None = None, not_before: float | None = None) -> Change:
        """Turn a policy decision into steps and column updates (a retry gets its time)."""
        first = decision.via or decision.state
        steps = [Step(trigger, first, join_notes(note, decision.note))]
        if decision.via is not None and decision.state is not decision.via:
            steps.append(Step("decide", decision.state, decision.note))
        updates = leaving_updates(decision.state)
        if outcome is not None:
            updates["last_outcome"] = outcome.value
        if decision.state is S.RETRY_SCHEDULED:
            wanted = at if at is not None else now + (decision.delay or 0.0)
            if not_before is not None:
                wanted = max(wanted, not_before)
            counted = outcome is None or cfg.policy.counts(outcome)
            updates["next_attempt_at"] = self._retry_time(conn, row, cfg, wanted, counted)
        change = Change(steps, updates, outcome.value if outcome is not None else None)
        if decision.blacklist_number:
            change.also = lambda c: self._blacklist_in(c, row["phone_key"] or row["phone"], now,
                                                        None, "do not call", exclude=row["id"])
        return change

    def _is_blacklisted(self, conn: Any, row: dict[str, Any]) -> bool:
        if "blacklisted" in row:  # read with the row, under the same transaction
            return bool(row["blacklisted"])
        key = row.get("phone_key")
        if not key:
            return False
        return self._db.execute(conn, "SELECT 1 FROM ds_blacklist WHERE phone = ?", (key,)).fetchone() is not None


def new_call_id() -> str:
    return uuid.uuid4().hex


def dial_updates(row: dict[str, Any], call_id: str) -> dict[str, Any]:
    return {
        "attempts": row["attempts"] + 1,
        "call_id": call_id,
        "next_attempt_at": None,
        "callback_operator_id": None,
        "personal_until": None,
    }


def leaving_updates(state: ContactState) -> dict[str, Any]:
    """Columns that a state clears when a contact enters it."""
    if state in (S.RETRY_SCHEDULED, S.READY):
        return {"operator_id": None}
    if state in (S.CANCELED_BY_ADMIN, S.DELETED, S.BLACKLISTED):
        return {"next_attempt_at": None, "callback_operator_id": None, "personal_until": None}
    return {}


def _require_text(name: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgument(f"{name} must be non-empty text, got {value!r}")
