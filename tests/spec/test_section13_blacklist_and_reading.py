"""Spec section 13 through the engine: numbers read per the campaign's `bare_numbers`
on every path (add_contacts, update_phone, find_contacts, the blacklist), and a
validated blacklist whose entries hold in one campaign or in all, for good or until
they expire (the scheduler then returns the contacts they parked to `ready`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from dialstate import (
    BlacklistEntry,
    CampaignNotFound,
    ContactState,
    DialMode,
    Engine,
    InvalidArgument,
    InvalidPhone,
    InvalidTransition,
    Outcome,
)
from dialstate.testing import VirtualClock
from tests.support import assert_history_continuous, new_campaign, new_contact, new_phone, walk_to

S = ContactState
A, P = DialMode.AGENTLESS, DialMode.PREVIEW
UK_MOBILE = "447400123456"  # bare: a UK mobile, or (with the trunk prefix left out) a German number
BERLIN = "+49 30 7654321"


def german(engine: Engine, **settings: object) -> int:
    return new_campaign(engine, A, timezone="Europe/Berlin", default_region="DE", **settings)


# -- reading numbers on every path ------------------------------------------------------------


def test_bare_international_digits_in_a_german_campaign_are_refused_as_ambiguous_naming_both(
        engine: Engine) -> None:
    campaign = german(engine)
    (cid,) = engine.add_contacts(campaign, [UK_MOBILE]).contact_ids
    contact = engine.get_contact(cid)
    assert contact.state is S.INVALID_RECORD
    note = engine.history(cid)[0].note or ""
    assert "+49447400123456" in note and "+447400123456" in note


@pytest.mark.parametrize(("mode", "expected"), [("international", "+447400123456"), ("national", "+49447400123456")])
def test_bare_numbers_chooses_one_reading_always(engine: Engine, mode: str, expected: str) -> None:
    (cid,) = engine.add_contacts(german(engine, bare_numbers=mode), [UK_MOBILE]).contact_ids
    contact = engine.get_contact(cid)
    assert (contact.state, contact.phone) == (S.READY, expected)


def test_ten_bare_digits_in_a_us_campaign_stay_a_los_angeles_number(engine: Engine, clock: VirtualClock) -> None:
    campaign = new_campaign(engine, A, timezone="America/New_York", default_region="US")
    (cid,) = engine.add_contacts(campaign, ["3235550123"]).contact_ids
    assert engine.get_contact(cid).phone == "+13235550123"
    # 10:00 UTC is 02:00 in Los Angeles: a 09:00-20:00 window is closed there.
    engine.update_campaign(campaign, calling_window=__import__("dialstate").CallingWindow("09:00", "20:00"))
    assert [r.code for r in engine.why_not(cid, at=datetime(2026, 3, 2, 18, 0, tzinfo=UTC)).reasons] == []
    assert [r.code for r in engine.why_not(cid, at=datetime(2026, 3, 2, 16, 30, tzinfo=UTC)).reasons] == [
        "outside_window"]  # 08:30 in Los Angeles, 11:30 in New York


def test_update_phone_reads_the_new_number_as_the_campaign_reads_numbers(engine: Engine) -> None:
    campaign = german(engine)
    (cid,) = engine.add_contacts(campaign, ["not a number"]).contact_ids
    with pytest.raises(InvalidPhone, match="ambiguous"):
        engine.update_phone(cid, UK_MOBILE)
    assert engine.get_contact(cid).state is S.INVALID_RECORD
    assert engine.update_phone(cid, "030 7654321").phone == "+49307654321"
    (other,) = engine.add_contacts(german(engine, bare_numbers="international"), ["not a number"]).contact_ids
    assert engine.update_phone(other, UK_MOBILE).phone == "+447400123456"


def test_find_contacts_by_number_reads_it_as_the_campaign_does(engine: Engine) -> None:
    campaign = german(engine, bare_numbers="international")
    (cid,) = engine.add_contacts(campaign, [UK_MOBILE]).contact_ids
    assert [c.id for c in engine.find_contacts(campaign, phone=UK_MOBILE)] == [cid]
    assert [c.id for c in engine.find_contacts(phone="+44 7400 123456")] == [cid]
    with pytest.raises(InvalidPhone):
        engine.find_contacts(phone=UK_MOBILE)  # no campaign, no region: no way to read it


# -- a validated blacklist ----------------------------------------------------------------------


@pytest.mark.parametrize("phone", ["hello", "", "   ", "030 7654321", "+49 30 12", "+1 212 555 0100 ext. 4"])
def test_blacklist_phone_refuses_what_is_not_a_number_it_can_read_and_stores_nothing(engine: Engine,
                                                                                     phone: str) -> None:
    cid = new_contact(engine, german(engine), BERLIN)
    with pytest.raises(InvalidPhone) as caught:
        engine.blacklist_phone(phone)
    assert str(caught.value)
    assert engine.blacklist_entries() == []
    assert engine.get_contact(cid).state is S.READY


def test_a_national_number_with_no_region_asks_for_one_and_the_campaigns_region_reads_it(engine: Engine) -> None:
    campaign = german(engine)
    cid = new_contact(engine, campaign, BERLIN)
    with pytest.raises(InvalidPhone, match="region"):
        engine.blacklist_phone("030 7654321")
    assert engine.blacklist_phone("030 7654321", campaign_id=campaign) == 1
    assert engine.get_contact(cid).state is S.BLACKLISTED
    (entry,) = engine.blacklist_entries()
    assert (entry.phone, entry.campaign_id) == ("+49307654321", campaign)


def test_the_campaigns_bare_numbers_reads_a_blacklisted_number_too(engine: Engine) -> None:
    with pytest.raises(InvalidPhone, match="ambiguous"):
        engine.blacklist_phone(UK_MOBILE, campaign_id=german(engine))
    engine.blacklist_phone(UK_MOBILE, campaign_id=german(engine, bare_numbers="international"))
    assert [e.phone for e in engine.blacklist_entries()] == ["+447400123456"]


def test_blacklisting_for_an_unknown_campaign_or_with_a_bad_expiry_raises_and_stores_nothing(
        engine: Engine, clock: VirtualClock) -> None:
    with pytest.raises(CampaignNotFound):
        engine.blacklist_phone(BERLIN, campaign_id=999)
    for bad in (datetime(2026, 3, 9, 10, 0), clock.now - timedelta(seconds=1), clock.now, "tomorrow"):
        with pytest.raises(InvalidArgument, match="expires_at"):
            engine.blacklist_phone(BERLIN, expires_at=bad)  # type: ignore[arg-type]
    assert engine.blacklist_entries() == []


def test_blacklist_entries_are_plain_snapshots_oldest_first(engine: Engine, clock: VirtualClock) -> None:
    campaign = german(engine)
    engine.blacklist_phone("+44 20 7946 0958", "complaint", actor="agent-3")
    clock.advance(minutes=1)
    expiry = clock.now + timedelta(days=30)
    engine.blacklist_phone("0307654321", campaign_id=campaign, expires_at=expiry)
    first, second = engine.blacklist_entries()
    assert first == BlacklistEntry("+442079460958", None, None, "complaint", "agent-3",
                                   datetime(2026, 3, 2, 10, 0, tzinfo=UTC))
    assert (second.phone, second.campaign_id, second.expires_at, second.created_at) == (
        "+49307654321", campaign, expiry, clock.now)
    assert json.loads(json.dumps([e.to_dict() for e in (first, second)]))[1]["expires_at"] == expiry.isoformat()


# -- scope ----------------------------------------------------------------------------------------


def test_an_entry_for_one_campaign_parks_only_that_campaigns_contacts(engine: Engine) -> None:
    here, there = german(engine), german(engine, name="there")
    cid, other = new_contact(engine, here, BERLIN), new_contact(engine, there, BERLIN)
    assert engine.blacklist_phone(BERLIN, campaign_id=here) == 1
    assert engine.get_contact(cid).state is S.BLACKLISTED
    assert engine.get_contact(other).state is S.READY
    assert [c.id for c in engine.dial_next(there, 5)] == [other]
    assert engine.dial_next(here, 5) == []
    # A contact added later to the campaign is added blacklisted; elsewhere it is not.
    added = engine.add_contacts(here, [{"phone": "+49 30 7654321", "external_id": "x"}])
    assert added.duplicates == 1  # the number is in the campaign already
    assert engine.get_contact(engine.add_contacts(german(engine, name="third"), [BERLIN]).contact_ids[0]).state \
        is S.READY
    assert engine.unblacklist_phone(BERLIN, campaign_id=there) == 0  # no such entry
    assert engine.unblacklist_phone(BERLIN, campaign_id=here) == 1
    assert engine.get_contact(cid).state is S.READY
    assert_history_continuous(engine, cid)


def test_taking_off_one_entry_leaves_the_contacts_another_entry_still_holds(engine: Engine) -> None:
    here = german(engine)
    cid = new_contact(engine, here, BERLIN)
    engine.blacklist_phone(BERLIN)
    engine.blacklist_phone(BERLIN, campaign_id=here)
    assert engine.unblacklist_phone(BERLIN) == 0
    assert engine.get_contact(cid).state is S.BLACKLISTED
    assert engine.unblacklist_phone(BERLIN, campaign_id=here) == 1
    assert engine.get_contact(cid).state is S.READY


# -- expiry ---------------------------------------------------------------------------------------


def test_an_expiring_entry_parks_the_contact_until_it_expires_then_the_scheduler_returns_it(
        engine: Engine, clock: VirtualClock) -> None:
    cid = new_contact(engine, german(engine), BERLIN)
    expiry = clock.now + timedelta(days=2)
    engine.blacklist_phone(BERLIN, "cooling off", expires_at=expiry)
    parked = engine.get_contact(cid)
    assert (parked.state, parked.next_attempt_at) == (S.BLACKLISTED, expiry)
    assert engine.next_due_at() == expiry
    clock.set(expiry - timedelta(seconds=1))
    assert engine.fire_due() == []
    clock.set(expiry)
    (released,) = engine.fire_due()
    assert (released.id, released.state, released.next_attempt_at) == (cid, S.READY, None)
    entry = engine.history(cid)[-1]
    assert (entry.trigger, entry.from_state, entry.actor) == ("unblacklist", S.BLACKLISTED, "scheduler")
    assert engine.blacklist_entries() == []
    assert engine.why_not(cid).callable
    assert_history_continuous(engine, cid)


def test_a_contact_two_entries_hold_waits_for_the_later_and_for_good_when_one_never_expires(
        engine: Engine, clock: VirtualClock) -> None:
    campaign = german(engine)
    cid = new_contact(engine, campaign, BERLIN)
    soon, later = clock.now + timedelta(days=1), clock.now + timedelta(days=3)
    engine.blacklist_phone(BERLIN, campaign_id=campaign, expires_at=soon)
    engine.blacklist_phone(BERLIN, expires_at=later)
    assert engine.get_contact(cid).next_attempt_at == later
    clock.set(soon)
    engine.fire_due()
    assert engine.get_contact(cid).state is S.BLACKLISTED
    engine.blacklist_phone(BERLIN, "for good now")  # blacklisting again replaces the entry
    assert engine.get_contact(cid).next_attempt_at is None
    clock.set(later + timedelta(days=1))
    engine.fire_due()
    assert engine.get_contact(cid).state is S.BLACKLISTED
    assert [(e.phone, e.expires_at, e.note) for e in engine.blacklist_entries()] == [
        ("+49307654321", None, "for good now")]


def test_an_entry_made_to_expire_sooner_releases_sooner(engine: Engine, clock: VirtualClock) -> None:
    cid = new_contact(engine, german(engine), BERLIN)
    engine.blacklist_phone(BERLIN)
    assert engine.get_contact(cid).next_attempt_at is None
    engine.blacklist_phone(BERLIN, expires_at=clock.now + timedelta(hours=1))
    clock.advance(hours=1)
    engine.fire_due()
    assert engine.get_contact(cid).state is S.READY


def test_a_contact_in_a_call_when_an_expiring_entry_comes_ends_blacklisted_until_it_expires(
        engine: Engine, clock: VirtualClock) -> None:
    cid = walk_to(engine, german(engine), S.DIALING, phone=BERLIN)
    expiry = clock.now + timedelta(hours=6)
    assert engine.blacklist_phone(BERLIN, expires_at=expiry) == 0
    ended = engine.call_ended(cid, Outcome.BUSY)
    assert (ended.state, ended.next_attempt_at) == (S.BLACKLISTED, expiry)
    clock.set(expiry)
    engine.fire_due()
    assert engine.get_contact(cid).state is S.READY


def test_contacts_imported_while_an_entry_runs_are_parked_until_it_expires(engine: Engine,
                                                                          clock: VirtualClock) -> None:
    campaign = german(engine)
    expiry = clock.now + timedelta(days=1)
    engine.blacklist_phone(BERLIN, expires_at=expiry)
    report = engine.add_contacts(campaign, [BERLIN, new_phone("DE")])
    assert report.blacklisted == 1
    parked = engine.get_contact(report.contact_ids[0])
    assert (parked.state, parked.next_attempt_at) == (S.BLACKLISTED, expiry)
    clock.set(expiry)
    engine.fire_due()
    assert engine.get_contact(parked.id).state is S.READY


def test_a_corrected_number_that_is_blacklisted_until_a_time_parks_the_contact_until_then(
        engine: Engine, clock: VirtualClock) -> None:
    (cid,) = engine.add_contacts(german(engine), ["not a number"]).contact_ids
    expiry = clock.now + timedelta(days=1)
    engine.blacklist_phone(BERLIN, expires_at=expiry)
    contact = engine.update_phone(cid, BERLIN)
    assert (contact.state, contact.next_attempt_at) == (S.BLACKLISTED, expiry)
    clock.set(expiry)
    engine.fire_due()
    assert engine.get_contact(cid).state is S.READY


def test_do_not_call_blacklists_for_good(engine: Engine, clock: VirtualClock) -> None:
    campaign = new_campaign(engine, P, timezone="Europe/Berlin", default_region="DE")
    cid = walk_to(engine, campaign, S.AFTER_CALL_WORK, phone=BERLIN)
    contact = engine.wrap_up(cid, "do_not_call")
    assert (contact.state, contact.next_attempt_at) == (S.BLACKLISTED, None)
    (entry,) = engine.blacklist_entries()
    assert (entry.phone, entry.campaign_id, entry.expires_at) == ("+49307654321", None, None)
    with pytest.raises(InvalidTransition):
        engine.dial(cid)
