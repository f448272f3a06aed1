"""The per-contact triggers of spec section 3: each checks its arguments, then
describes what decides (`dialstate.engine.plans`) and what must be loaded first."""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

from dialstate.engine import plans
from dialstate.engine.change import Change, Facts
from dialstate.engine.checks import check_contact_fields, check_optional_text, check_text
from dialstate.engine.numbers import new_number, zone_key_of
from dialstate.engine.prepare import ImportSettings, read_numbers
from dialstate.engine.runner import Trigger, banned_among, load_banned
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
        #: The triggers that decide nothing, made once (neither they nor their change
        #: are ever changed).
        self._simple: dict[tuple[str, ContactState], Trigger] = {}

    def simple(self, name: str, to_state: ContactState) -> Trigger:
        trigger = self._simple.get((name, to_state))
        if trigger is None:
            change = plans.simple(name, to_state)
            trigger = self._simple[name, to_state] = Trigger(name, lambda facts, _: change)
        return trigger

    def assign_operator(self, operator_id: str) -> Trigger:
        check_text("operator_id", operator_id)
        return Trigger("assign_operator", lambda facts, _: plans.assign_operator(facts, operator_id),
                       args=(("operator_id", operator_id),), gate=True)

    def reject(self) -> Trigger:
        return Trigger("reject", lambda facts, _: plans.reject(facts))

    def connect_operator(self, operator_id: str) -> Trigger:
        check_text("operator_id", operator_id)
        return Trigger("connect_operator", lambda facts, _: plans.connect_operator(operator_id),
                       args=(("operator_id", operator_id),))

    def dial(self, call_id: str | None, override: str | None = None, phone: str | None = None) -> Trigger:
        check_optional_text("call_id", call_id)
        check_optional_text("override", override)
        check_optional_text("phone", phone)
        new_call = call_id if call_id is not None else plans.new_call_id()
        note = None if override is None else f"override: {override}"
        args: tuple[tuple[str, object], ...] = (("call_id", call_id), ("override", override))
        if phone is not None:
            args += (("phone", phone),)
        return Trigger("dial", lambda facts, _: plans.dial(facts, new_call, note), args=args, gate=True,
                       override=override, phone=phone)

    def dial_failed(self, reason: str | None, call_id: str | None) -> Trigger:
        check_optional_text("reason", reason)
        check_optional_text("call_id", call_id)
        rng = self._rng
        return Trigger("dial_failed", lambda facts, _: plans.dial_failed(facts, reason, call_id, rng),
                       call_id=call_id, check_call=True, args=(("reason", reason), ("call_id", call_id)))

    def answered(self, call_id: str | None, operator_id: str | None) -> Trigger:
        check_optional_text("call_id", call_id)
        check_optional_text("operator_id", operator_id)
        return Trigger("answered", lambda facts, _: plans.answered(facts, operator_id),
                       call_id=call_id, check_call=True, args=(("call_id", call_id), ("operator_id", operator_id)))

    def call_ended(self, outcome: Outcome | str | int, dialect: str | None, call_id: str | None) -> Trigger:
        check_optional_text("call_id", call_id)
        canonical = normalize(outcome, dialect)  # raises before anything is read or written
        raw = None if dialect is None else str(outcome)
        rng = self._rng
        return Trigger("call_ended", lambda facts, _: plans.call_ended(facts, canonical, raw, dialect, rng),
                       call_id=call_id, check_call=True,
                       args=(("outcome", canonical.value), ("raw_code", raw), ("dialect", dialect),
                             ("call_id", call_id)))

    def wrap_up(self, disposition: str, callback_at: datetime | None, personal: bool) -> Trigger:
        check_text("disposition", disposition)
        if not isinstance(personal, bool):
            raise InvalidArgument(f"personal must be True or False, got {personal!r}")
        if callback_at is not None and (not isinstance(callback_at, datetime) or callback_at.tzinfo is None):
            raise InvalidArgument(f"callback_at {callback_at!r} must be a time-zone aware datetime")
        rng = self._rng
        return Trigger("wrap_up", lambda facts, _: plans.wrap_up(facts, disposition, callback_at, personal, rng),
                       args=(("disposition", disposition),
                             ("callback_at", None if callback_at is None else callback_at.isoformat()),
                             ("personal", personal)))

    def retry_due(self) -> Trigger:
        return Trigger("retry_due", lambda facts, _: plans.retry_due())

    def update_contact(self, fields: dict[str, Any]) -> Trigger:
        """`update_contact`: `fields` (priority, data, timezone, external_id) checked."""
        fields = check_contact_fields(fields)
        q = self._q

        def load(facts: Facts) -> Work[dict[str, Any]]:
            """The columns that follow from the new values (a time zone's zones), and
            the check that a unique external id is free in the campaign."""
            row, cfg = facts.row, facts.cfg
            external_id = fields.get("external_id")
            if external_id is not None and cfg.settings.unique_external_ids:
                other = yield one(q["external_id_taken"], (external_id, row["campaign_id"], facts.id))
                if other is not None:
                    raise InvalidArgument(f"contact {facts.id}: external id {external_id!r} belongs to contact "
                                          f"{other[0]} of this campaign, which keeps its external ids unique")
            if "timezone" not in fields:
                return {}
            numbers = facts.several
            if numbers is not None:  # each number without a zone of its own takes the contact's
                numbers = [dict(n) for n in numbers]
                for n in numbers:
                    if n["valid"]:
                        n["zones"] = "|".join(resolve_zones(cfg.window, n["timezone"] or fields["timezone"], n["phone"],
                                                            cfg.timezone, at=facts.at))
                policy = cfg.policy
                return {"numbers": numbers, "zone_key": zone_key_of(numbers, facts.banned,
                                                                    policy.max_attempts_per_number)}
            zones = resolve_zones(cfg.window, fields["timezone"], row["phone_key"], cfg.timezone, at=facts.at)
            return {"zone_key": "|".join(zones)}

        return Trigger("update", lambda facts, derived: plans.update_contact(facts, fields, derived), load=load,
                       args=tuple(sorted(fields.items())))

    def update_phone(self, phone: object) -> Trigger:
        if not isinstance(phone, str):  # several numbers, in the add_contacts form
            return self.update_numbers(phone)
        q = self._q

        def load(facts: Facts) -> Work[tuple[str, str, float | None]]:
            """The new number read as the campaign reads numbers, checked free in the
            campaign, its zones, and until when it is blacklisted."""
            cfg = facts.cfg
            e164, reason = parse_phone(phone, cfg.default_region, cfg.settings.bare_numbers)
            if e164 is None:
                raise InvalidPhone(phone, reason or "invalid", facts.id)
            other = yield one(q["phone_taken"], (facts.row["campaign_id"], e164, facts.id))
            if other is not None:
                raise InvalidPhone(phone, f"contact {other[0]} of this campaign already has {e164}", facts.id)
            zone_key = "|".join(resolve_zones(cfg.window, facts.row["timezone"], e164, cfg.timezone, at=facts.at))
            banned = yield from banned_among(q, facts.row["campaign_id"], [e164], facts.now)
            return e164, zone_key, banned.get(e164)

        def plan(facts: Facts, found: Any) -> Change:
            e164, zone_key, blacklisted = found
            if facts.several is not None:  # one number now replaces the contact's several
                return plans.update_numbers(facts, [new_number(e164, None, None, zone_key, None)], {
                    e164: float(blacklisted)} if blacklisted else {})
            return plans.update_phone(facts, e164, zone_key, blacklisted)

        return Trigger("update_phone", plan, load=load, args=(("phone", phone),))

    def update_numbers(self, phones: object) -> Trigger:
        """`update_phone` with a list of numbers (strings or {"phone", "label",
        "timezone"}): they replace the contact's; a number that stays keeps its
        attempts and status."""
        q = self._q

        def load(facts: Facts) -> Work[tuple[list[dict[str, Any]], dict[str, float]]]:
            cfg, row = facts.cfg, facts.row
            settings = ImportSettings(cfg.default_region, cfg.window, cfg.timezone, facts.at, row["campaign_id"],
                                      None, cfg.settings.bare_numbers)
            numbers = read_numbers(phones, settings, row["timezone"], f"contact {facts.id}")
            if not any(n["valid"] for n in numbers):
                raise InvalidPhone(phones, "none of the numbers is valid: " + "; ".join(
                    f"{n['phone']!r}: {n['reason']}" for n in numbers), facts.id)
            for number in numbers:
                if number["valid"]:
                    other = yield one(q["phone_taken"], (row["campaign_id"], number["phone"], facts.id))
                    if other is not None:
                        raise InvalidPhone(number["phone"], f"contact {other[0]} of this campaign already has "
                                                            f"{number['phone']}", facts.id)
            banned = yield from load_banned(q, {**row, "numbers": numbers}, facts.now)
            return numbers, banned

        def plan(facts: Facts, found: Any) -> Change:
            numbers, banned = found
            return plans.update_numbers(facts, numbers, banned)

        return Trigger("update_phone", plan, load=load, args=(("phones", repr(phones)),))



