"""The per-contact triggers of spec section 3: each checks its arguments, then
describes what decides (`dialstate.engine.plans`) and what must be loaded first."""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from dialstate.engine import plans
from dialstate.engine.change import Change, Facts
from dialstate.engine.runner import Trigger
from dialstate.engine.settings import UNSET
from dialstate.engine.states import ContactState
from dialstate.errors import ConfigurationError, InvalidArgument, InvalidPhone
from dialstate.outcomes import Outcome, normalize
from dialstate.phones import parse_phone, resolve_zones
from dialstate.policy import validate_timezone
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
            zones = resolve_zones(cfg.window, fields["timezone"], row["phone_key"], cfg.timezone, at=facts.at)
            return {"zone_key": "|".join(zones)}

        return Trigger("update", lambda facts, derived: plans.update_contact(facts, fields, derived), load=load)

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


#: A signed 32-bit integer: what the priority column holds.
PRIORITY_RANGE = (-(2**31), 2**31 - 1)


def check_priority(value: object, where: str = "priority") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not PRIORITY_RANGE[0] <= value <= PRIORITY_RANGE[1]:
        raise InvalidArgument(f"{where} must be a whole number from {PRIORITY_RANGE[0]} to {PRIORITY_RANGE[1]}, "
                              f"got {value!r}")
    return value


def check_data(value: object, where: str = "data") -> dict[str, Any] | None:
    """A contact's `data`: a JSON object (text keys, finite numbers), or None."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InvalidArgument(f"{where} must be a mapping (a JSON object), got {type(value).__name__}")
    try:
        text = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(f"{where} must be JSON: text keys, and values that are text, finite numbers, "
                              f"booleans, None, lists or mappings ({exc})") from None
    return json.loads(text)  # type: ignore[no-any-return]


def check_external_id(value: object, where: str = "external_id") -> str | None:
    if value is None:
        return None
    if not isinstance(value, (str, int)) or isinstance(value, bool) or str(value).strip() == "" or "\x00" in str(value):
        raise InvalidArgument(f"{where} must be non-empty text (without NUL characters) or None, got {value!r}")
    return str(value)


def check_contact_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """The fields `update_contact` may change, checked (UNSET ones left out)."""
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if value is UNSET:
            continue
        if name == "priority":
            out[name] = check_priority(value)
        elif name == "data":
            out[name] = check_data(value)
        elif name == "external_id":
            out[name] = check_external_id(value)
        elif name == "timezone":
            if value is not None:
                try:
                    validate_timezone(value)  # type: ignore[arg-type]
                except ConfigurationError as exc:
                    raise InvalidArgument(str(exc)) from None
            out[name] = value
        else:  # pragma: no cover - the faces pass these four only
            raise InvalidArgument(f"update_contact cannot change {name!r}")
    if not out:
        raise InvalidArgument("update_contact needs at least one of priority=, data=, timezone=, external_id=")
    return out
