"""The per-contact triggers of spec section 3: each checks its arguments, then
describes what decides (`dialstate.engine.plans`) and what must be loaded first."""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

from dialstate.engine import plans
from dialstate.engine.change import Change, Facts
from dialstate.engine.runner import Trigger
from dialstate.engine.states import ContactState
from dialstate.errors import InvalidArgument, InvalidPhone
from dialstate.outcomes import Outcome, normalize
from dialstate.phones import parse_phone, resolve_zones
from dialstate.store.ops import Work, one
from dialstate.store.statements import Queries

S = ContactState


class Triggers:
    """Builds the `Trigger` of each public trigger call."""

    def __init__(self, q: Queries, rng: random.Random) -> None:
        self._q = q
        self._rng = rng

    def simple(self, name: str, to_state: ContactState) -> Trigger:
        change = plans.simple(name, to_state)
        return Trigger(name, lambda facts, _: change)

    def assign_operator(self, operator_id: str) -> Trigger:
        require_text("operator_id", operator_id)
        return Trigger("assign_operator", lambda facts, _: plans.assign_operator(operator_id))

    def reject(self) -> Trigger:
        return Trigger("reject", lambda facts, _: plans.reject(facts))

    def connect_operator(self, operator_id: str) -> Trigger:
        require_text("operator_id", operator_id)
        return Trigger("connect_operator", lambda facts, _: plans.connect_operator(operator_id))

    def dial(self, call_id: str | None) -> Trigger:
        new_call = call_id if call_id is not None else plans.new_call_id()
        return Trigger("dial", lambda facts, _: plans.dial(facts, new_call))

    def dial_failed(self, reason: str | None, call_id: str | None) -> Trigger:
        rng = self._rng
        return Trigger("dial_failed", lambda facts, _: plans.dial_failed(facts, reason, call_id, rng),
                       call_id=call_id, check_call=True)

    def answered(self, call_id: str | None, operator_id: str | None) -> Trigger:
        return Trigger("answered", lambda facts, _: plans.answered(facts, operator_id),
                       call_id=call_id, check_call=True)

    def call_ended(self, outcome: Outcome | str | int, dialect: str | None, call_id: str | None) -> Trigger:
        canonical = normalize(outcome, dialect)  # raises before anything is read or written
        raw = None if dialect is None else str(outcome)
        rng = self._rng
        return Trigger("call_ended", lambda facts, _: plans.call_ended(facts, canonical, raw, dialect, rng),
                       call_id=call_id, check_call=True)

    def wrap_up(self, disposition: str, callback_at: datetime | None, personal: bool) -> Trigger:
        if callback_at is not None and (not isinstance(callback_at, datetime) or callback_at.tzinfo is None):
            raise InvalidArgument(f"callback_at {callback_at!r} must be a time-zone aware datetime")
        rng = self._rng
        return Trigger("wrap_up", lambda facts, _: plans.wrap_up(facts, disposition, callback_at, personal, rng))

    def retry_due(self) -> Trigger:
        return Trigger("retry_due", lambda facts, _: plans.retry_due())

    def update_phone(self, phone: str) -> Trigger:
        q = self._q

        def load(facts: Facts) -> Work[tuple[str, str, bool]]:
            """The new number read with the campaign's region, checked free in the
            campaign, its zones, and whether it is blacklisted."""
            cfg = facts.cfg
            e164, reason = parse_phone(phone, cfg.default_region)
            if e164 is None:
                raise InvalidPhone(phone, reason or "invalid", facts.id)
            other = yield one(q["phone_taken"], (facts.row["campaign_id"], e164, facts.id))
            if other is not None:
                raise InvalidPhone(phone, f"contact {other[0]} of this campaign already has {e164}", facts.id)
            zone_key = "|".join(resolve_zones(cfg.window, facts.row["timezone"], e164, cfg.timezone, at=facts.at))
            banned = yield one(q["is_blacklisted"], (e164, facts.row["campaign_id"], facts.now))
            return e164, zone_key, banned is not None

        def plan(facts: Facts, found: Any) -> Change:
            e164, zone_key, blacklisted = found
            return plans.update_phone(facts, e164, zone_key, blacklisted)

        return Trigger("update_phone", plan, load=load)


def require_text(name: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgument(f"{name} must be non-empty text, got {value!r}")
