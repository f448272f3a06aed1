"""Spec section 10: finding contacts by the ids telephony and CRMs carry, and changing
contacts and campaigns after creation."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dialstate import (
    CallingWindow,
    CampaignNotFound,
    ConfigurationError,
    ContactNotFound,
    ContactState,
    DialMode,
    Engine,
    InvalidArgument,
    InvalidPhone,
    InvalidTransition,
)
from dialstate.testing import VirtualClock
from tests.support.invariants import assert_history_continuous
from tests.support.walk import new_campaign, new_contact, new_contacts, walk_to

S = ContactState


# -- find_call ---------------------------------------------------------------------------


def test_find_call_gives_the_contact_on_that_call(engine: Engine) -> None:
    contact_id = walk_to(engine, DialMode.PREDICTIVE, S.DIALING, call_id="CA-1", default_region="US")
    assert engine.find_call("CA-1").id == contact_id


def test_find_call_finds_a_past_call_too(engine: Engine, clock: VirtualClock) -> None:
    contact_id = walk_to(engine, DialMode.PREDICTIVE, S.DIALING, call_id="CA-old", default_region="US")
    engine.call_ended(contact_id, "busy", call_id="CA-old")
    clock.advance(301)
    engine.retry_due(contact_id)
    engine.dial(contact_id, call_id="CA-new")
    assert engine.find_call("CA-old").id == contact_id
    assert engine.find_call("CA-new").call_id == "CA-new"


def test_find_call_finds_a_call_that_failed_before_it_was_placed(engine: Engine) -> None:
    contact_id = walk_to(engine, DialMode.PREVIEW, S.BEFORE_CALL_WORK, default_region="US")
    engine.dial_failed(contact_id, "no trunk", call_id="CA-failed")
    assert engine.find_call("CA-failed").id == contact_id


def test_find_call_of_an_unknown_call_raises_contact_not_found_naming_the_call(engine: Engine) -> None:
    with pytest.raises(ContactNotFound, match="CA-nobody") as raised:
        engine.find_call("CA-nobody")
    assert raised.value.call_id == "CA-nobody"


@pytest.mark.parametrize("call_id", ["", "   ", None, 42, "a\x00b"])
def test_find_call_with_no_call_id_is_refused(engine: Engine, call_id: object) -> None:
    with pytest.raises(InvalidArgument):
        engine.find_call(call_id)  # type: ignore[arg-type]


# -- find_contacts ----------------------------------------------------------------------------


def test_find_contacts_by_external_id_looks_in_every_campaign(engine: Engine) -> None:
    first = new_campaign(engine, default_region="DE")
    second = new_campaign(engine, default_region="DE")
    a = new_contact(engine, first, {"phone": "+49 30 1234567", "external_id": "crm-42"})
    b = new_contact(engine, second, {"phone": "+49 30 1234567", "external_id": "crm-42"})
    new_contact(engine, second, {"phone": "+49 30 7654321", "external_id": "crm-43"})
    assert [c.id for c in engine.find_contacts(external_id="crm-42")] == [a, b]
    assert [c.id for c in engine.find_contacts(second, external_id="crm-42")] == [b]
    assert engine.find_contacts(external_id="crm-99") == []


def test_find_contacts_by_phone_reads_the_number_as_the_campaign_does(engine: Engine) -> None:
    campaign = new_campaign(engine, default_region="DE")
    contact_id = new_contact(engine, campaign, "+49 30 7654321")
    assert [c.id for c in engine.find_contacts(campaign, phone="030 7654321")] == [contact_id]
    assert [c.id for c in engine.find_contacts(campaign, phone="+49 (30) 765-4321")] == [contact_id]
    assert engine.find_contacts(campaign, phone="030 1111111") == []


def test_find_contacts_by_phone_across_campaigns_needs_an_international_form_or_a_region(engine: Engine) -> None:
    campaign = new_campaign(engine, default_region="DE")
    contact_id = new_contact(engine, campaign, "030 7654321")
    assert [c.id for c in engine.find_contacts(phone="+49307654321")] == [contact_id]
    assert [c.id for c in engine.find_contacts(phone="030 7654321", region="DE")] == [contact_id]
    with pytest.raises(InvalidPhone, match="region"):
        engine.find_contacts(phone="030 7654321")


def test_find_contacts_with_a_bad_number_or_both_keys_or_neither_is_refused(engine: Engine) -> None:
    campaign = new_campaign(engine, default_region="DE")
    with pytest.raises(InvalidPhone):
        engine.find_contacts(campaign, phone="hello")
    with pytest.raises(InvalidArgument):
        engine.find_contacts(campaign)
    with pytest.raises(InvalidArgument):
        engine.find_contacts(campaign, external_id="x", phone="+49307654321")
    with pytest.raises(CampaignNotFound):
        engine.find_contacts(999, phone="030 7654321")


# -- update_contact --------------------------------------------------------------------------------


def test_update_contact_changes_the_fields_and_writes_one_update_entry_naming_them(engine: Engine) -> None:
    contact_id = new_contact(engine, DialMode.PREVIEW, {"phone": "+49 30 1234567", "priority": 1},
                             default_region="DE")
    before = engine.get_contact(contact_id)
    after = engine.update_contact(contact_id, priority=9, data={"tier": "gold"}, external_id="crm-7",
                                  actor="crm-sync")
    assert (after.priority, dict(after.data), after.external_id) == (9, {"tier": "gold"}, "crm-7")
    assert after.state is before.state and after.version == before.version + 1
    entry = engine.history(contact_id)[-1]
    assert (entry.trigger, entry.from_state, entry.to_state, entry.actor) == ("update", S.READY, S.READY, "crm-sync")
    assert entry.note == "updated priority, data, external_id"
    assert_history_continuous(engine, contact_id)


def test_update_contact_with_a_time_zone_moves_its_calling_window(engine: Engine) -> None:
    campaign = new_campaign(engine, DialMode.PREDICTIVE, default_region="DE",
                            calling_window=CallingWindow("09:00", "20:00"), timezone="Europe/Berlin")
    contact_id = new_contact(engine, campaign, "+49 30 1234567")
    assert engine.get_contact(contact_id).zones == ("Europe/Berlin",)
    updated = engine.update_contact(contact_id, timezone="America/Chicago")
    assert (updated.timezone, updated.zones) == ("America/Chicago", ("America/Chicago",))
    assert engine.dial_next(campaign, 1) == []  # 10:00 in Berlin, 03:00 in Chicago
    engine.update_contact(contact_id, timezone=None)
    assert [c.id for c in engine.dial_next(campaign, 1)] == [contact_id]


@pytest.mark.parametrize("state", [S.DIALING, S.AFTER_CALL_WORK, S.RETRY_SCHEDULED, S.SUCCESS, S.BLACKLISTED])
def test_update_contact_works_in_every_state_but_deleted_and_never_changes_the_state(
    engine: Engine, state: ContactState
) -> None:
    contact_id = walk_to(engine, DialMode.PREVIEW, state, default_region="DE")
    due = engine.get_contact(contact_id).due_at
    updated = engine.update_contact(contact_id, data={"note": "called back"})
    assert updated.state is state and updated.due_at == due
    assert_history_continuous(engine, contact_id)


def test_update_contact_of_a_deleted_contact_is_refused(engine: Engine) -> None:
    contact_id = walk_to(engine, DialMode.PREVIEW, S.DELETED, default_region="DE")
    with pytest.raises(InvalidTransition):
        engine.update_contact(contact_id, priority=3)


@pytest.mark.parametrize("fields", [
    {"priority": 2**31}, {"priority": "high"}, {"priority": True}, {"data": {"x": float("nan")}},
    {"data": ["not", "a", "mapping"]}, {"timezone": "Mars/Base"}, {"external_id": ""}, {"external_id": "a\x00"}, {},
])
def test_update_contact_with_a_bad_value_is_refused_and_changes_nothing(
    engine: Engine, fields: dict[str, object]
) -> None:
    contact_id = new_contact(engine, DialMode.PREVIEW, default_region="DE")
    before = engine.get_contact(contact_id)
    with pytest.raises(InvalidArgument):
        engine.update_contact(contact_id, **fields)  # type: ignore[arg-type]
    assert engine.get_contact(contact_id) == before


def test_update_contact_keeps_external_ids_unique_where_the_campaign_asks(engine: Engine) -> None:
    campaign = new_campaign(engine, default_region="DE", unique_external_ids=True)
    a, b = new_contacts(engine, campaign, {"phone": "+49 30 1234567", "external_id": "crm-1"},
                        {"phone": "+49 30 7654321", "external_id": "crm-2"})
    with pytest.raises(InvalidArgument, match=f"contact {a}"):
        engine.update_contact(b, external_id="crm-1")
    engine.update_contact(b, external_id="crm-3")


def test_an_update_with_an_idempotency_key_is_done_once(engine: Engine) -> None:
    contact_id = new_contact(engine, DialMode.PREVIEW, default_region="DE")
    first = engine.update_contact(contact_id, priority=5, idempotency_key="sync-1")
    again = engine.update_contact(contact_id, priority=5, idempotency_key="sync-1")
    assert again == first and len(engine.history(contact_id)) == 2


# -- update_campaign ---------------------------------------------------------------------------------


def test_update_campaign_changes_settings_and_keeps_each_change_in_campaign_history(
    engine: Engine, clock: VirtualClock
) -> None:
    campaign = new_campaign(engine, DialMode.PREDICTIVE, default_region="DE", name="Spring")
    engine.update_campaign(campaign, name="Spring calls", dial_timeout_seconds=45, actor="supervisor")
    clock.advance(60)
    window = CallingWindow("09:00", "18:00", days="mon-fri")
    updated = engine.update_campaign(campaign, calling_window=window, actor="ops")
    assert updated.name == "Spring calls" and engine.calling_window(campaign) == window
    assert updated.settings["dial_timeout_seconds"] == 45
    changes = engine.campaign_history(campaign)
    assert [(c.setting, c.old, c.new, c.actor) for c in changes] == [
        ("name", "Spring", "Spring calls", "supervisor"),
        ("dial_timeout_seconds", 120.0, 45.0, "supervisor"),
        ("calling_window", None, window.to_json(), "ops"),
    ]
    assert changes[-1].at == clock.now and changes[0].at == clock.now - timedelta(seconds=60)


def test_update_campaign_applies_to_the_next_decision(engine: Engine, clock: VirtualClock) -> None:
    campaign = new_campaign(engine, DialMode.PREDICTIVE, default_region="DE")
    first = walk_to(engine, campaign, S.DIALING)
    engine.update_campaign(campaign, dial_timeout_seconds=10)
    second = walk_to(engine, campaign, S.DIALING)
    assert engine.get_contact(first).due_at == clock.now + timedelta(seconds=120), "due times written stay"
    assert engine.get_contact(second).due_at == clock.now + timedelta(seconds=10)


def test_update_campaign_with_a_bad_value_or_an_unknown_setting_is_refused_and_changes_nothing(engine: Engine) -> None:
    campaign = new_campaign(engine, default_region="DE")
    with pytest.raises(ConfigurationError):
        engine.update_campaign(campaign, timezone="Mars/Base")
    with pytest.raises(ConfigurationError):
        engine.update_campaign(campaign, mode="predictive")  # type: ignore[call-arg]
    with pytest.raises(ConfigurationError):
        engine.update_campaign(campaign, max_call_seconds=float("inf"))
    with pytest.raises(InvalidArgument):
        engine.update_campaign(campaign)
    with pytest.raises(CampaignNotFound):
        engine.update_campaign(999, name="x")
    assert engine.campaign_history(campaign) == []


def test_a_setting_set_to_its_own_value_is_no_change(engine: Engine) -> None:
    campaign = new_campaign(engine, default_region="DE", name="Same")
    engine.update_campaign(campaign, name="Same")
    assert engine.campaign_history(campaign) == []


# -- adding contacts ------------------------------------------------------------------------------------


def test_with_unique_external_ids_an_external_id_already_in_the_campaign_is_a_duplicate(engine: Engine) -> None:
    campaign = new_campaign(engine, default_region="DE", unique_external_ids=True)
    new_contact(engine, campaign, {"phone": "+49 30 1234567", "external_id": "crm-1"})
    rejects: list[tuple[int, str, str]] = []
    report = engine.add_contacts(campaign, [
        {"phone": "+49 30 1111111", "external_id": "crm-1"},
        {"phone": "+49 30 2222222", "external_id": "crm-2"},
        {"phone": "+49 30 3333333", "external_id": "crm-2"},
        {"phone": "+49 30 4444444"},
    ], on_reject=lambda i, item, result, reason: rejects.append((i, result, reason)))
    assert (report.added, report.duplicates) == (2, 2)
    assert rejects == [(0, "duplicate", "external id 'crm-1' is already in the campaign"),
                       (2, "duplicate", "external id 'crm-2' is already in the campaign")]


def test_with_unique_external_ids_contacts_without_one_are_no_duplicates_of_each_other(engine: Engine) -> None:
    campaign = new_campaign(engine, default_region="DE", unique_external_ids=True)
    first = engine.add_contacts(campaign, ["+49 30 1111111", {"phone": "+49 30 2222222", "data": {}}])
    second = engine.add_contacts(campaign, [{"phone": "+49 30 3333333", "external_id": None}])
    assert (first.added, second.added, first.duplicates + second.duplicates) == (2, 1, 0)
    contacts = [engine.get_contact(cid) for cid in (*first.contact_ids, *second.contact_ids)]
    assert [(c.external_id, c.timezone, c.data) for c in contacts] == [(None, None, {})] * 3
    assert engine.find_contacts(external_id="crm-1") == []


def test_without_unique_external_ids_an_external_id_may_repeat(engine: Engine) -> None:
    campaign = new_campaign(engine, default_region="DE")
    report = engine.add_contacts(campaign, [{"phone": "+49 30 1111111", "external_id": "crm-1"},
                                            {"phone": "+49 30 2222222", "external_id": "crm-1"}])
    assert (report.added, report.duplicates) == (2, 0)


def test_contacts_cannot_be_added_to_a_canceled_campaign(engine: Engine) -> None:
    campaign = new_campaign(engine, default_region="DE")
    engine.cancel_campaign(campaign)
    with pytest.raises(InvalidArgument, match="canceled"):
        engine.add_contacts(campaign, ["+49 30 1234567"])
    assert engine.campaign_stats(campaign).total == 0
