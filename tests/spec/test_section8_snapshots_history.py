"""Spec section 8: snapshots, history and errors — plus `subscribe` (section 7) and
the passing states of section 1, which are recorded and followed up in one
transaction."""

from __future__ import annotations

import dataclasses
import inspect
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

import dialstate
from dialstate import (
    CampaignNotFound,
    ConcurrentUpdate,
    ConfigurationError,
    Contact,
    ContactNotFound,
    ContactState,
    DialMode,
    DialstateError,
    Engine,
    HistoryEntry,
    IdempotencyConflict,
    InvalidPhone,
    InvalidTransition,
    Outcome,
    RetryPolicy,
    StaleCallEvent,
    TransitionEvent,
    UnknownDisposition,
    UnknownOutcome,
)
from dialstate.testing import VirtualClock
from tests.support import (
    assert_history_continuous,
    new_campaign,
    new_contact,
    new_contacts,
    new_phone,
    new_phones,
    walk_to,
)

S = ContactState


P, D = DialMode.PREVIEW, DialMode.PREDICTIVE


def with_data(data: dict[str, object], phone: str | None = None) -> dict[str, object]:
    """A contact row with `data` (and an external id)."""
    return {"phone": phone or new_phone(), "data": data, "external_id": "crm-1"}


# -- snapshots ------------------------------------------------------------------------

SNAPSHOT_FIELDS = (
    "id", "campaign_id", "phone", "state", "attempts", "next_attempt_at", "operator_id", "call_id",
    "last_outcome", "priority", "timezone", "data", "version", "created_at", "updated_at",
)


def test_a_snapshot_has_every_field_the_spec_lists(engine: Engine, clock: VirtualClock) -> None:
    cid = new_contact(engine, D, with_data({"name": "Ada"}, "+1 212 555 0100"))
    created = clock.now
    clock.advance(30)
    engine.dial(cid, call_id="call-1")
    clock.advance(20)
    contact = engine.call_ended(cid, Outcome.BUSY, call_id="call-1")
    for name in SNAPSHOT_FIELDS:
        assert hasattr(contact, name), name
    assert contact == engine.get_contact(cid)
    assert (contact.id, contact.phone, contact.state) == (cid, "+12125550100", S.RETRY_SCHEDULED)
    assert (contact.attempts, contact.call_id, contact.last_outcome) == (1, "call-1", Outcome.BUSY)
    assert contact.next_attempt_at == clock.now + timedelta(seconds=300)
    assert (contact.operator_id, contact.priority, contact.timezone) == (None, 0, None)
    assert dict(contact.data) == {"name": "Ada"}
    assert contact.version == 3  # added, dialed, ended
    assert (contact.created_at, contact.updated_at) == (created, clock.now)
    for moment in (contact.created_at, contact.updated_at, contact.next_attempt_at):
        assert moment is not None and moment.utcoffset() == timedelta(0)


def test_a_snapshot_is_frozen(engine: Engine) -> None:
    contact = engine.get_contact(new_contact(engine, P))
    with pytest.raises(dataclasses.FrozenInstanceError):
        contact.state = S.SUCCESS  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        contact.attempts = 9  # type: ignore[misc]
    assert engine.get_contact(contact.id).state is S.READY


def test_a_snapshots_data_cannot_be_mutated_even_deep_inside(engine: Engine) -> None:
    cid = new_contact(engine, P, with_data({"name": "Ada", "address": {"city": "Berlin"}, "tags": ["vip"]}))
    contact = engine.get_contact(cid)
    with pytest.raises(TypeError):
        contact.data["name"] = "Bob"  # type: ignore[index]
    with pytest.raises(TypeError):
        contact.data["address"]["city"] = "Paris"  # type: ignore[index]
    with pytest.raises((TypeError, AttributeError)):
        contact.data["tags"].append("spam")
    again = engine.get_contact(cid)
    assert again.data["name"] == "Ada" and again.data["address"]["city"] == "Berlin"
    assert list(again.data["tags"]) == ["vip"]


def test_an_old_snapshot_does_not_change_when_the_contact_does(engine: Engine, clock: VirtualClock) -> None:
    cid = new_contact(engine, P)
    old = engine.get_contact(cid)
    returned = engine.assign_operator(cid, "op1")
    clock.advance(5)
    engine.accept(cid)
    assert (old.state, old.version, old.operator_id) == (S.READY, 1, None)
    assert (returned.state, returned.version, returned.operator_id) == (S.OPERATOR_ASSIGNED, 2, "op1")
    assert engine.get_contact(cid).state is S.BEFORE_CALL_WORK


def test_snapshots_of_one_unchanged_contact_are_equal_but_separate_objects(engine: Engine) -> None:
    cid = new_contact(engine, P, with_data({"name": "Ada"}))
    a, b = engine.get_contact(cid), engine.get_contact(cid)
    assert a == b and a is not b


def test_an_invalid_records_snapshot_keeps_the_phone_as_given(engine: Engine) -> None:
    contact = engine.get_contact(new_contact(engine, P, "030 12a4567"))
    assert (contact.phone, contact.state) == ("030 12a4567", S.INVALID_RECORD)


# -- history --------------------------------------------------------------------------


def test_history_entries_carry_every_field_of_the_transition(engine: Engine, clock: VirtualClock) -> None:
    cid = new_contact(engine, DialMode.PREDICTIVE)
    t0 = clock.now
    clock.advance(10)
    engine.dial(cid, call_id="c-1", actor="dialer-7")
    clock.advance(10)
    engine.answered(cid, call_id="c-1", operator_id="op-3")
    clock.advance(10)
    engine.call_ended(cid, 486, dialect="sip", call_id="c-1", actor="pbx")
    clock.advance(10)
    campaign = engine.get_contact(cid).campaign_id
    engine.update_retry_policy(campaign, RetryPolicy(max_attempts=2))
    engine.wrap_up(cid, "retry", actor="op-3")
    entries = engine.history(cid)
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert all(isinstance(e, HistoryEntry) for e in entries)
    assert [e.trigger for e in entries] == ["add", "dial", "answered", "call_ended", "wrap_up"]
    assert [e.from_state for e in entries] == [None, S.READY, S.DIALING, S.CALL_IN_PROGRESS, S.AFTER_CALL_WORK]
    assert [e.to_state for e in entries] == [
        S.READY, S.DIALING, S.CALL_IN_PROGRESS, S.AFTER_CALL_WORK, S.RETRY_SCHEDULED]
    assert [e.at for e in entries] == [t0 + timedelta(seconds=s) for s in (0, 10, 20, 30, 40)]
    assert all(e.at.tzinfo is not None and e.at.utcoffset() == timedelta(0) for e in entries)
    assert [e.actor for e in entries] == [None, "dialer-7", None, "pbx", "op-3"]
    assert [e.attempt for e in entries] == [0, 1, 1, 1, 1]
    assert [e.call_id for e in entries] == [None, "c-1", "c-1", "c-1", "c-1"]
    ended = entries[3]
    assert (ended.outcome, ended.raw_code, ended.dialect) == (Outcome.BUSY, "486", "sip")
    assert [e.policy_version for e in entries] == [1, 1, 1, 1, 2]
    assert "retry" in (entries[4].note or "")
    assert all(e.contact_id == cid for e in entries)
    assert engine.get_campaign(campaign).policy_version == 2
    assert_history_continuous(engine, cid)


def test_the_first_history_entry_is_the_add_from_no_state(engine: Engine) -> None:
    (entry,) = engine.history(new_contact(engine, P))
    assert (entry.seq, entry.from_state, entry.to_state, entry.trigger) == (1, None, S.READY, "add")


Step = tuple[Callable[[Engine, int], object], ContactState]


def _op(fn: Callable[[Engine, int], object], then: ContactState) -> Step:
    return fn, then


SCENARIOS: dict[str, tuple[DialMode, list[Step]]] = {
    "preview-reject-loop": (DialMode.PREVIEW, [
        _op(lambda e, c: e.assign_operator(c, "op1"), S.OPERATOR_ASSIGNED),
        _op(lambda e, c: e.reject(c), S.READY),
        _op(lambda e, c: e.assign_operator(c, "op2"), S.OPERATOR_ASSIGNED),
        _op(lambda e, c: e.reject(c), S.READY),
        _op(lambda e, c: e.wait_for_operator(c), S.AWAITING_OPERATOR),
        _op(lambda e, c: e.assign_operator(c, "op3"), S.OPERATOR_ASSIGNED),
        _op(lambda e, c: e.accept(c), S.BEFORE_CALL_WORK),
        _op(lambda e, c: e.dial_failed(c, "workstation offline"), S.RETRY_SCHEDULED),
        _op(lambda e, c: e.retry_due(c), S.READY),
        _op(lambda e, c: e.assign_operator(c, "op3"), S.OPERATOR_ASSIGNED),
        _op(lambda e, c: e.accept(c), S.BEFORE_CALL_WORK),
        _op(lambda e, c: e.dial(c), S.DIALING),
        _op(lambda e, c: e.answered(c), S.CALL_IN_PROGRESS),
        _op(lambda e, c: e.call_ended(c, Outcome.COMPLETED), S.AFTER_CALL_WORK),
        _op(lambda e, c: e.wrap_up(c, "not_interested"), S.SUCCESS),
        _op(lambda e, c: e.delete(c), S.DELETED),
    ]),
    "progressive": (DialMode.PROGRESSIVE, [
        _op(lambda e, c: e.assign_operator(c, "op1"), S.OPERATOR_ASSIGNED),
        _op(lambda e, c: e.accept(c), S.BEFORE_CALL_WORK),
        _op(lambda e, c: e.dial(c), S.DIALING),
        _op(lambda e, c: e.call_ended(c, Outcome.NO_ANSWER), S.RETRY_SCHEDULED),
        _op(lambda e, c: e.retry_due(c), S.READY),
        _op(lambda e, c: e.assign_operator(c, "op1"), S.OPERATOR_ASSIGNED),
        _op(lambda e, c: e.accept(c), S.BEFORE_CALL_WORK),
        _op(lambda e, c: e.dial(c), S.DIALING),
        _op(lambda e, c: e.answered(c), S.CALL_IN_PROGRESS),
        _op(lambda e, c: e.call_ended(c, Outcome.COMPLETED), S.AFTER_CALL_WORK),
        _op(lambda e, c: e.wrap_up(c, "callback", callback_at=datetime(2026, 3, 3, 9, tzinfo=UTC)),
            S.RETRY_SCHEDULED),
        _op(lambda e, c: e.update_phone(c, "+1 212 555 0199"), S.RETRY_SCHEDULED),
        _op(lambda e, c: e.cancel(c), S.CANCELED_BY_ADMIN),
    ]),
    "predictive-awaiting-operator-and-abandon": (DialMode.PREDICTIVE, [
        _op(lambda e, c: e.dial(c), S.DIALING),
        _op(lambda e, c: e.answered(c), S.AWAITING_OPERATOR),
        _op(lambda e, c: e.call_ended(c, Outcome.COMPLETED), S.RETRY_SCHEDULED),  # via canceled_by_client
        _op(lambda e, c: e.retry_due(c), S.READY),
        _op(lambda e, c: e.dial(c), S.DIALING),
        _op(lambda e, c: e.call_ended(c, Outcome.ABANDONED), S.RETRY_SCHEDULED),
        _op(lambda e, c: e.retry_due(c), S.READY),
        _op(lambda e, c: e.dial(c), S.DIALING),
        _op(lambda e, c: e.answered(c), S.AWAITING_OPERATOR),
        _op(lambda e, c: e.connect_operator(c, "op1"), S.CALL_IN_PROGRESS),
        _op(lambda e, c: e.call_ended(c, Outcome.COMPLETED), S.AFTER_CALL_WORK),
        _op(lambda e, c: e.wrap_up(c, "wrong_number"), S.INVALID_RECORD),
        _op(lambda e, c: e.update_phone(c, "+1 212 555 0177"), S.READY),
    ]),
    "agentless": (DialMode.AGENTLESS, [
        _op(lambda e, c: e.dial(c), S.DIALING),
        _op(lambda e, c: e.call_ended(c, Outcome.BUSY), S.RETRY_SCHEDULED),
        _op(lambda e, c: e.retry_due(c), S.READY),
        _op(lambda e, c: e.dial(c), S.DIALING),
        _op(lambda e, c: e.dial_failed(c, "trunk down"), S.RETRY_SCHEDULED),
        _op(lambda e, c: e.retry_due(c), S.READY),
        _op(lambda e, c: e.dial(c), S.DIALING),
        _op(lambda e, c: e.answered(c), S.CALL_IN_PROGRESS),
        _op(lambda e, c: e.call_ended(c, Outcome.INCOMPLETE), S.RETRY_SCHEDULED),
        _op(lambda e, c: e.retry_due(c), S.READY),
        _op(lambda e, c: e.dial(c), S.DIALING),
        _op(lambda e, c: e.answered(c), S.CALL_IN_PROGRESS),
        _op(lambda e, c: e.call_ended(c, Outcome.COMPLETED), S.SUCCESS),
    ]),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_history_stays_continuous_after_every_step_of_a_scenario(
    engine: Engine, clock: VirtualClock, name: str
) -> None:
    mode, steps = SCENARIOS[name]
    cid = new_contact(engine, mode)
    assert_history_continuous(engine, cid)
    for number, (step, expected) in enumerate(steps, 1):
        clock.advance(61)
        before = engine.get_contact(cid)
        returned = step(engine, cid)
        assert isinstance(returned, Contact)
        assert returned.state is expected, f"step {number} of {name}"
        assert returned == engine.get_contact(cid)
        assert returned.version == before.version + 1
        assert_history_continuous(engine, cid)
    entries = engine.history(cid)
    assert len({e.seq for e in entries}) == len(entries)


# -- passing states -------------------------------------------------------------------

PASSING = [
    # (mode, the state the trigger is called in, the trigger, the passing state, its follow-up)
    pytest.param(DialMode.PREVIEW, S.OPERATOR_ASSIGNED,
                 lambda e, c: e.reject(c), S.REJECTED_BY_OPERATOR, S.READY, id="rejected_by_operator"),
    pytest.param(DialMode.PROGRESSIVE, S.DIALING,
                 lambda e, c: e.dial_failed(c, "no trunk"), S.DIAL_FAILED, S.RETRY_SCHEDULED, id="dial_failed"),
    pytest.param(DialMode.PREVIEW, S.BEFORE_CALL_WORK,
                 lambda e, c: e.dial_failed(c, "workstation"), S.DIAL_FAILED, S.RETRY_SCHEDULED,
                 id="dial_failed-before-the-call"),
    pytest.param(DialMode.AGENTLESS, S.DIALING,
                 lambda e, c: e.call_ended(c, Outcome.FAILED), S.DIAL_FAILED, S.RETRY_SCHEDULED,
                 id="dial_failed-by-outcome"),
    pytest.param(DialMode.PREDICTIVE, S.AWAITING_OPERATOR,
                 lambda e, c: e.call_ended(c, Outcome.COMPLETED), S.CANCELED_BY_CLIENT, S.RETRY_SCHEDULED,
                 id="canceled_by_client"),
    pytest.param(DialMode.PREDICTIVE, S.DIALING,
                 lambda e, c: e.call_ended(c, Outcome.ABANDONED), S.CANCELED_BY_CLIENT, S.RETRY_SCHEDULED,
                 id="canceled_by_client-by-outcome"),
]


@pytest.mark.parametrize(("mode", "state", "trigger", "passing", "follow_up"), PASSING)
def test_a_passing_state_is_recorded_and_followed_up_in_the_same_transaction(
    sqlite_engine: Engine, clock: VirtualClock, mode: DialMode, state: ContactState,
    trigger: Callable[[Engine, int], Contact], passing: ContactState, follow_up: ContactState,
) -> None:
    engine = sqlite_engine
    cid = walk_to(engine, mode, state)
    before = engine.get_contact(cid)
    n = len(engine.history(cid))
    clock.advance(42)
    seen: list[TransitionEvent] = []
    engine.subscribe(seen.append)
    after = trigger(engine, cid)
    assert after.state is follow_up
    assert after.version == before.version + 1, "one transaction: the version moves once"
    entries = engine.history(cid)[n:]
    assert [(e.from_state, e.to_state) for e in entries] == [(before.state, passing), (passing, follow_up)]
    assert entries[0].at == entries[1].at == clock.now
    assert [e.entry for e in seen] == entries
    assert all(e.contact.state is follow_up for e in seen)
    assert_history_continuous(engine, cid)


# -- errors ---------------------------------------------------------------------------


def test_every_error_dialstate_exports_derives_from_dialstate_error() -> None:
    errors = [getattr(dialstate, name) for name in dialstate.__all__
              if inspect.isclass(getattr(dialstate, name)) and issubclass(getattr(dialstate, name), BaseException)]
    assert len(errors) >= 10
    for error in errors:
        assert issubclass(error, DialstateError), error
    for name in ("ContactNotFound", "CampaignNotFound", "InvalidTransition", "StaleCallEvent",
                 "ConcurrentUpdate", "InvalidPhone", "UnknownDisposition", "ConfigurationError"):
        assert getattr(dialstate, name) in errors


def test_contact_not_found_is_raised_by_reads_and_triggers_and_names_the_contact(engine: Engine) -> None:
    calls: list[Callable[[], object]] = [
        lambda: engine.get_contact(9999),
        lambda: engine.history(9999),
        lambda: engine.accept(9999),
        lambda: engine.dial(9999),
        lambda: engine.call_ended(9999, Outcome.BUSY),
        lambda: engine.cancel(9999),
        lambda: engine.update_phone(9999, "+1 212 555 0100"),
    ]
    for call in calls:
        with pytest.raises(ContactNotFound) as info:
            call()
        assert info.value.contact_id == 9999 and "9999" in str(info.value)


def test_campaign_not_found_is_raised_by_every_campaign_call_and_names_the_campaign(engine: Engine) -> None:
    calls: list[Callable[[], object]] = [
        lambda: engine.get_campaign(777),
        lambda: engine.add_contacts(777, ["+1 212 555 0100"]),
        lambda: engine.assign_next(777, "op1"),
        lambda: engine.dial_next(777, 5),
        lambda: engine.campaign_stats(777),
        lambda: engine.pause_campaign(777),
        lambda: engine.cancel_campaign(777),
        lambda: engine.update_retry_policy(777, RetryPolicy()),
    ]
    for call in calls:
        with pytest.raises(CampaignNotFound) as info:
            call()
        assert info.value.campaign_id == 777 and "777" in str(info.value)


def test_invalid_transition_carries_the_contact_state_trigger_mode_and_allowed_triggers(engine: Engine) -> None:
    cid = new_contact(engine, DialMode.PROGRESSIVE)
    engine.assign_operator(cid, "op1")
    with pytest.raises(InvalidTransition) as info:
        engine.reject(cid)  # progressive: no rejection
    err = info.value
    assert (err.contact_id, err.state, err.trigger, err.mode) == (cid, "operator_assigned", "reject", "progressive")
    assert "accept" in err.allowed and "reject" not in err.allowed
    for word in (str(cid), "operator_assigned", "reject", "accept"):
        assert word in str(err)


def test_stale_call_event_carries_both_call_ids(engine: Engine) -> None:
    cid = new_contact(engine, DialMode.AGENTLESS)
    engine.dial(cid, call_id="current")
    with pytest.raises(StaleCallEvent) as info:
        engine.answered(cid, call_id="old")
    err = info.value
    assert (err.contact_id, err.state, err.trigger, err.call_id, err.current_call_id) == (
        cid, "dialing", "answered", "old", "current")
    for word in (str(cid), "dialing", "answered", "old", "current"):
        assert word in str(err)


def test_other_errors_carry_their_data_and_name_it_in_the_message(engine: Engine) -> None:
    cid = new_contact(engine, P, "junk")
    with pytest.raises(InvalidPhone) as phone_info:
        engine.update_phone(cid, "12ab")
    assert (phone_info.value.contact_id, phone_info.value.phone) == (cid, "12ab")
    assert phone_info.value.reason and str(cid) in str(phone_info.value) and "12ab" in str(phone_info.value)

    other = walk_to(engine, P, S.AFTER_CALL_WORK, phone="+1 212 555 0101")
    with pytest.raises(UnknownDisposition) as disp_info:
        engine.wrap_up(other, "maybe_later")
    assert (disp_info.value.disposition, disp_info.value.contact_id) == ("maybe_later", other)
    assert "success" in disp_info.value.allowed and "maybe_later" in str(disp_info.value)

    engine.cancel(cid, idempotency_key="k-1")
    with pytest.raises(IdempotencyConflict) as key_info:
        engine.wrap_up(other, "success", idempotency_key="k-1")
    assert (key_info.value.key, key_info.value.contact_id, key_info.value.trigger) == ("k-1", other, "wrap_up")
    assert "k-1" in str(key_info.value)

    with pytest.raises(UnknownOutcome) as outcome_info:
        engine.call_ended(other, "no-such-outcome")
    assert outcome_info.value.code == "no-such-outcome"

    with pytest.raises(ConfigurationError) as config_info:
        RetryPolicy(max_attempts=0)
    assert "max_attempts" in str(config_info.value)

    race = ConcurrentUpdate(cid, "accept", 4)
    assert (race.contact_id, race.trigger, race.expected_version) == (cid, "accept", 4)
    assert str(cid) in str(race) and "accept" in str(race)


# -- subscribers ----------------------------------------------------------------------


def test_a_subscriber_is_called_after_the_commit(sqlite_engine: Engine, sqlite_url: str) -> None:
    engine = sqlite_engine
    cid = new_contact(engine, P)
    other = Engine(sqlite_url)
    seen_in_db: list[tuple[ContactState, ContactState, int]] = []

    def look(event: TransitionEvent) -> None:
        # another connection sees the new state: the transaction has committed
        stored = other.get_contact(event.contact.id)
        seen_in_db.append((event.entry.to_state, stored.state, len(other.history(event.contact.id))))

    try:
        engine.subscribe(look)
        engine.assign_operator(cid, "op1")
        engine.reject(cid)
    finally:
        other.close()
    assert seen_in_db == [
        (S.OPERATOR_ASSIGNED, S.OPERATOR_ASSIGNED, 2),
        (S.REJECTED_BY_OPERATOR, S.READY, 4),
        (S.READY, S.READY, 4),
    ]


def test_a_subscriber_hears_each_history_entry_once_with_the_contact_snapshot(
    engine: Engine, clock: VirtualClock
) -> None:
    cid = new_contact(engine, DialMode.PREDICTIVE)
    seen: list[TransitionEvent] = []
    engine.subscribe(seen.append)
    for step in (lambda: engine.dial(cid), lambda: engine.answered(cid), lambda: engine.connect_operator(cid, "op1"),
                 lambda: engine.call_ended(cid, Outcome.COMPLETED), lambda: engine.wrap_up(cid, "success")):
        clock.advance(1)
        step()
    assert [e.entry for e in seen] == engine.history(cid)[1:]
    assert seen[-1].contact == engine.get_contact(cid)


def test_a_subscriber_hears_bulk_moves_once_per_contact_with_only_the_new_entry(
    engine: Engine, clock: VirtualClock
) -> None:
    campaign = new_campaign(engine, P)
    ids = new_contacts(engine, campaign, "+1 212 555 0100", "+1 212 555 0101", "junk")
    engine.assign_operator(ids[0], "op1")  # same clock reading as the add entries
    seen: list[TransitionEvent] = []
    engine.subscribe(seen.append)
    engine.blacklist_phone("+1 212 555 0101")
    assert [(e.contact.id, e.entry.trigger) for e in seen] == [(ids[1], "blacklist")]
    seen.clear()
    engine.cancel_campaign(campaign)
    heard = sorted((e.contact.id, e.entry.trigger, e.entry.to_state) for e in seen)
    assert heard == [(cid, "cancel", S.CANCELED_BY_ADMIN) for cid in sorted(ids)]


def test_a_subscriber_hears_each_claimed_contact_once(engine: Engine) -> None:
    campaign = new_campaign(engine, D)
    new_contacts(engine, campaign, *new_phones(3))
    seen: list[TransitionEvent] = []
    engine.subscribe(seen.append)
    claimed = engine.dial_next(campaign, 2)
    assert [(e.contact, e.entry.trigger, e.entry.to_state) for e in seen] == [
        (c, "dial", S.DIALING) for c in claimed]
    assert [e.entry for e in seen] == [engine.history(c.id)[-1] for c in claimed]


def test_a_raising_subscriber_is_logged_and_undoes_nothing(engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    cid = new_contact(engine, P)
    heard: list[TransitionEvent] = []

    def broken(event: TransitionEvent) -> None:
        raise RuntimeError("subscriber bug")

    engine.subscribe(broken)
    engine.subscribe(heard.append)
    with caplog.at_level(logging.ERROR, logger="dialstate"):
        contact = engine.assign_operator(cid, "op1")
    assert contact.state is S.OPERATOR_ASSIGNED
    assert engine.get_contact(cid).state is S.OPERATOR_ASSIGNED
    assert len(engine.history(cid)) == 2
    assert len(heard) == 1, "the other subscribers are still called"
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert failures and failures[0].exc_info is not None
    assert "subscriber bug" in caplog.text and str(cid) in caplog.text


def test_unsubscribing_stops_the_calls(engine: Engine) -> None:
    cid = new_contact(engine, P)
    heard: list[TransitionEvent] = []
    unsubscribe = engine.subscribe(heard.append)
    engine.assign_operator(cid, "op1")
    unsubscribe()
    engine.accept(cid)
    assert [e.entry.trigger for e in heard] == ["assign_operator"]
    unsubscribe()  # a second time is harmless


def test_a_refused_trigger_calls_no_subscriber(engine: Engine) -> None:
    cid = new_contact(engine, P)
    heard: list[TransitionEvent] = []
    engine.subscribe(heard.append)
    with pytest.raises(InvalidTransition):
        engine.accept(cid)
    assert heard == []


def test_a_campaigns_contacts_are_listed_by_id_filtered_by_state_and_paged(engine: Engine) -> None:
    campaign = engine.create_campaign("listing", default_region="US")
    ids = engine.add_contacts(campaign.id, ["212 555 0170", "nope", "212 555 0171", "212 555 0172"]).contact_ids
    assert [c.id for c in engine.contacts(campaign.id)] == ids
    assert [c.id for c in engine.contacts(campaign.id, "invalid_record")] == [ids[1]]
    first = engine.contacts(campaign.id, ContactState.READY, limit=2)
    rest = engine.contacts(campaign.id, ContactState.READY, after_id=first[-1].id)
    assert [c.id for c in first + rest] == [ids[0], ids[2], ids[3]]
    with pytest.raises(DialstateError, match="unknown state 'readyy'"):
        engine.contacts(campaign.id, "readyy")
    with pytest.raises(CampaignNotFound):
        engine.contacts(campaign.id + 99)
