"""New campaigns and contacts, and `walk_to`: a contact brought to any state of spec
section 1 in any dial mode, through the public API only.

The routes are one table: each state is reached from an earlier one by one step, the
way the spec's triggers (section 3) and the default decisions (sections 4 and 5) lead
there. A contact rests in a passing state only where the campaign's policy makes it
final (`dial_failed` after `not_allowed`; `canceled_by_client` when abandoned calls
get no retry); `rejected_by_operator` never rests, so it has no route.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from dialstate import Contact, ContactState, DialMode, Engine, HistoryEntry, Outcome
from tests.support.phones import ZONES, new_phone

S = ContactState
P, G, D, A = DialMode.PREVIEW, DialMode.PROGRESSIVE, DialMode.PREDICTIVE, DialMode.AGENTLESS


def new_campaign(engine: Engine, mode: DialMode | str = P, *, name: str | None = None, **settings: Any) -> int:
    """A new campaign of `mode` (with `create_campaign`'s `settings`); returns its id."""
    mode = DialMode(mode)
    return engine.create_campaign(name or f"{mode.value} campaign", mode=mode, **settings).id


def new_contacts(engine: Engine, campaign_id: int, *items: object) -> list[int]:
    """Adds `items` (phones or contact dicts) to the campaign; returns the new ids."""
    return list(engine.add_contacts(campaign_id, list(items)).contact_ids)


def new_contact(engine: Engine, campaign_or_mode: int | DialMode | str, item: object = None,
                **settings: Any) -> int:
    """Adds one contact to the campaign, or to a new campaign of the mode made with
    `settings`: `item` is its phone or contact dict, by default a fresh number of the
    campaign's region (New York's when the region has no test numbers)."""
    campaign_id = _campaign(engine, campaign_or_mode, settings)
    (contact_id,) = new_contacts(engine, campaign_id, _fresh_phone(engine, campaign_id) if item is None else item)
    return contact_id


def walk_to(engine: Engine, campaign_or_mode: int | DialMode | str, state: ContactState | str, *,
            phone: object = None, operator: str = "op1", call_id: str | None = None, **settings: Any) -> int:
    """A new contact in `state`; returns its id.

    `campaign_or_mode`: the campaign to add it to, or the dial mode of a new campaign
    made with `settings`. `phone`: its number or contact dict (by default a fresh
    number of the campaign's region, as `new_contact` gives; for `invalid_record`,
    "not a number"; for `blacklisted`, the number is blacklisted first). `operator`
    takes the calls that need one; `call_id` names the call.
    """
    state = ContactState(state)
    campaign_id = _campaign(engine, campaign_or_mode, settings)
    if state is S.INVALID_RECORD:
        phone = "not a number" if phone is None else phone
    elif phone is None:
        phone = _fresh_phone(engine, campaign_id)
    if state is S.BLACKLISTED:
        number = phone["phone"] if isinstance(phone, Mapping) else phone
        engine.blacklist_phone(str(number), region=engine.get_campaign(campaign_id).default_region)
    contact_id = new_contact(engine, campaign_id, phone)
    if state not in (S.INVALID_RECORD, S.BLACKLISTED):
        walk(engine, contact_id, state, operator=operator, call_id=call_id)
    got = engine.get_contact(contact_id).state
    assert got is state, f"walk_to({state.value}): the contact was added in {got.value}"
    return contact_id


def walk(engine: Engine, contact_id: int, state: ContactState | str, *, operator: str = "op1",
         call_id: str | None = None) -> Contact:
    """Moves a `ready` contact along the route of its campaign's mode to `state`;
    returns its snapshot there."""
    state = ContactState(state)
    contact = engine.get_contact(contact_id)
    mode = engine.get_campaign(contact.campaign_id).mode
    if contact.state is not S.READY:
        raise ValueError(f"walk starts from ready; contact {contact_id} is {contact.state.value}")
    steps = _Steps(engine, contact_id, mode, operator, call_id)
    for step in route(mode, state):
        contact = step(steps)
    if contact.state is not state:
        raise AssertionError(
            f"the route to {state.value} in {mode.value} ended in {contact.state.value}: "
            "the campaign's policy or dispositions decide otherwise than the defaults"
        )
    return contact


def resting_states(mode: DialMode) -> list[ContactState]:
    """The states of spec section 1 that a contact of `mode` can be brought to (and
    left in), sorted by name."""
    return sorted(_ROUTES[mode].keys() | _ANY_MODE.keys() | {S.READY, S.INVALID_RECORD, S.BLACKLISTED},
                  key=lambda s: s.value)


def route(mode: DialMode, state: ContactState) -> list[Callable[[_Steps], Contact]]:
    """The steps from `ready` to `state` in `mode`."""
    steps: list[Callable[[_Steps], Contact]] = []
    while state is not S.READY:
        leg = _ROUTES[mode].get(state) or _ANY_MODE.get(state)
        if leg is None:
            raise ValueError(f"no route to {state.value} in {mode.value} mode "
                             f"(reachable: {', '.join(s.value for s in resting_states(mode))})")
        state, step = leg
        steps.insert(0, step)
    return steps


def contact_record(engine: Engine, contact_id: int) -> tuple[Contact, list[HistoryEntry]]:
    """The contact and its history: what a refused call must leave as it was."""
    return engine.get_contact(contact_id), list(engine.history(contact_id))


@dataclass(frozen=True)
class _Steps:
    """The steps of the routes, for one contact."""

    engine: Engine
    cid: int
    mode: DialMode
    operator: str
    call_id: str | None

    def assign(self) -> Contact:
        return self.engine.assign_operator(self.cid, self.operator)

    def wait(self) -> Contact:
        return self.engine.wait_for_operator(self.cid)

    def accept(self) -> Contact:
        return self.engine.accept(self.cid)

    def dial(self) -> Contact:
        return self.engine.dial(self.cid, call_id=self.call_id)

    def answer(self) -> Contact:
        return self.engine.answered(self.cid, call_id=self.call_id)

    def answer_to_operator(self) -> Contact:
        return self.engine.answered(self.cid, call_id=self.call_id, operator_id=self.operator)

    def end(self, outcome: Outcome) -> Contact:
        return self.engine.call_ended(self.cid, outcome, call_id=self.call_id)

    def complete(self) -> Contact:
        return self.end(Outcome.COMPLETED)

    def busy(self) -> Contact:
        return self.end(Outcome.BUSY)

    def not_allowed(self) -> Contact:
        return self.end(Outcome.NOT_ALLOWED)

    def wrap_up_success(self) -> Contact:
        return self.engine.wrap_up(self.cid, "success")

    def cancel(self) -> Contact:
        return self.engine.cancel(self.cid)

    def delete(self) -> Contact:
        return self.engine.delete(self.cid)

    def exhaust(self) -> Contact:
        """From `dialing`: calls that end unanswered until the policy allows no more
        (one call when the policy gives one of the no-response outcomes no retry)."""
        policy = self.engine.retry_policy(self.engine.get_contact(self.cid).campaign_id)
        no_response = (Outcome.NO_ANSWER, Outcome.VOICEMAIL, Outcome.BUSY, Outcome.REJECTED)
        outcome = next((o for o in no_response if policy.delays.get(o) is None), Outcome.NO_ANSWER)
        contact = self.end(outcome)
        for _ in range(100):
            if contact.state is not S.RETRY_SCHEDULED:
                return contact
            self.engine.retry_due(self.cid)
            for step in route(self.mode, S.DIALING):
                step(self)
            contact = self.end(outcome)
        raise AssertionError(f"contact {self.cid} was not exhausted after 100 {outcome.value} calls")


Leg = tuple[ContactState, Callable[[_Steps], Contact]]

# Each state: the state it is reached from, and the step.
_OPERATOR_FIRST: dict[ContactState, Leg] = {
    S.OPERATOR_ASSIGNED: (S.READY, _Steps.assign),
    S.AWAITING_OPERATOR: (S.READY, _Steps.wait),
    S.BEFORE_CALL_WORK: (S.OPERATOR_ASSIGNED, _Steps.accept),
    S.DIALING: (S.BEFORE_CALL_WORK, _Steps.dial),
    S.CALL_IN_PROGRESS: (S.DIALING, _Steps.answer),
    S.AFTER_CALL_WORK: (S.CALL_IN_PROGRESS, _Steps.complete),
    S.SUCCESS: (S.AFTER_CALL_WORK, _Steps.wrap_up_success),
    S.RETRY_SCHEDULED: (S.DIALING, _Steps.busy),
    S.DIAL_FAILED: (S.DIALING, _Steps.not_allowed),
    S.EXHAUSTED: (S.DIALING, _Steps.exhaust),
}
_ROUTES: dict[DialMode, dict[ContactState, Leg]] = {
    P: _OPERATOR_FIRST,
    G: _OPERATOR_FIRST,
    D: {
        S.DIALING: (S.READY, _Steps.dial),
        S.AWAITING_OPERATOR: (S.DIALING, _Steps.answer),
        S.CANCELED_BY_CLIENT: (S.AWAITING_OPERATOR, _Steps.complete),
        S.CALL_IN_PROGRESS: (S.DIALING, _Steps.answer_to_operator),
        S.AFTER_CALL_WORK: (S.CALL_IN_PROGRESS, _Steps.complete),
        S.SUCCESS: (S.AFTER_CALL_WORK, _Steps.wrap_up_success),
        S.RETRY_SCHEDULED: (S.DIALING, _Steps.busy),
        S.DIAL_FAILED: (S.DIALING, _Steps.not_allowed),
        S.EXHAUSTED: (S.DIALING, _Steps.exhaust),
    },
    A: {
        S.DIALING: (S.READY, _Steps.dial),
        S.CALL_IN_PROGRESS: (S.DIALING, _Steps.answer),
        S.SUCCESS: (S.CALL_IN_PROGRESS, _Steps.complete),
        S.RETRY_SCHEDULED: (S.DIALING, _Steps.busy),
        S.DIAL_FAILED: (S.DIALING, _Steps.not_allowed),
        S.EXHAUSTED: (S.DIALING, _Steps.exhaust),
    },
}
_ANY_MODE: dict[ContactState, Leg] = {
    S.CANCELED_BY_ADMIN: (S.READY, _Steps.cancel),
    S.DELETED: (S.READY, _Steps.delete),
}


def _campaign(engine: Engine, campaign_or_mode: int | DialMode | str, settings: dict[str, Any]) -> int:
    if isinstance(campaign_or_mode, int):
        if settings:
            raise TypeError(f"campaign settings {sorted(settings)} go with a mode, not an existing campaign")
        return campaign_or_mode
    return new_campaign(engine, campaign_or_mode, **settings)


def _fresh_phone(engine: Engine, campaign_id: int) -> str:
    region = engine.get_campaign(campaign_id).default_region
    return new_phone(region if region in ZONES else "US")
