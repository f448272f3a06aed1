"""Spec section 15 through the engine: contacts with several numbers, each read, zoned
and kept with its own status and attempts; which number an attempt uses (rotate,
escalate, caps per number, each number's own calling window, the blacklist per
number); outcomes that condemn a number and not the person; `dial(phone=)`;
`update_phone` with a list; duplicates across any number."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialstate import (
    CallingWindow,
    Contact,
    ContactState,
    DialMode,
    DialstateError,
    Engine,
    InvalidArgument,
    NotCallable,
    Outcome,
    RetryPolicy,
)
from dialstate.testing import VirtualClock, memory_engine
from tests.support import assert_history_continuous, new_campaign

S = ContactState
P, G, D, A = DialMode.PREVIEW, DialMode.PROGRESSIVE, DialMode.PREDICTIVE, DialMode.AGENTLESS
ALL_MODES = pytest.mark.parametrize("mode", [P, G, D, A], ids=lambda m: m.value)
BERLIN_HOME, BERLIN_MOBILE, BERLIN_WORK = "+49 30 7654321", "+49 171 1234567", "+49 30 9400100"
NEW_YORK_MOBILE = "+1 212 555 0142"
#: 10:00 in Berlin, 04:00 in New York, on a Monday.
MORNING_IN_BERLIN = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = CallingWindow("08:00", "21:00")


def e164(phone: str) -> str:
    return "+" + "".join(ch for ch in phone if ch.isdigit())


def campaign_of(engine: Engine, mode: DialMode, **settings: object) -> int:
    settings.setdefault("retry_policy", RetryPolicy(max_attempts=20, delays={Outcome.BUSY: 60}))
    return new_campaign(engine, mode, default_region="DE", timezone="Europe/Berlin", **settings)


def one_contact(engine: Engine, campaign: int, *phones: object, **fields: object) -> int:
    (cid,) = engine.add_contacts(campaign, [{"phones": list(phones), **fields}]).contact_ids
    return cid


def attempt(engine: Engine, campaign: int, mode: DialMode, outcome: Outcome | str = Outcome.BUSY) -> Contact:
    """One call to the campaign's next contact, claimed the way the mode claims, ended
    with `outcome`; returns the contact as it was while dialing."""
    if mode in (P, G):
        claimed = engine.assign_next(campaign, "op1")
        assert claimed is not None, "nothing to claim"
        engine.accept(claimed.id)
        dialing = engine.dial(claimed.id)
    else:
        (dialing,) = engine.dial_next(campaign, 1)
    assert dialing.state is S.DIALING
    if mode in (P, G, D) and outcome in (Outcome.COMPLETED, "wrong_number", "do_not_call"):
        engine.answered(dialing.id, operator_id="op1")
        engine.call_ended(dialing.id, Outcome.COMPLETED)
        if outcome != Outcome.COMPLETED:
            engine.wrap_up(dialing.id, str(outcome))
    else:
        engine.call_ended(dialing.id, outcome)
    return dialing


def back_to_ready(engine: Engine, cid: int) -> None:
    if engine.get_contact(cid).state is S.RETRY_SCHEDULED:
        engine.retry_due(cid)


# -- adding --------------------------------------------------------------------------------


def test_a_contact_keeps_its_numbers_in_order_with_labels_zones_and_their_own_state(engine: Engine) -> None:
    campaign = campaign_of(engine, A)
    report = engine.add_contacts(campaign, [
        {"phones": ["030 7654321", {"phone": "0171 1234567", "label": "mobile"},
                    {"phone": NEW_YORK_MOBILE, "label": "abroad", "timezone": "America/Chicago"}, "no number"],
         "external_id": "crm-7"},
        "+49 30 9400100",
    ])
    assert (report.added, report.invalid) == (2, 0)
    several, single = (engine.get_contact(cid) for cid in report.contact_ids)
    assert several.phone == "+49307654321" and several.state is S.READY
    assert [(n.phone, n.label, n.zones, n.status, n.attempts) for n in several.numbers] == [
        ("+49307654321", None, ("Europe/Berlin",), "callable", 0),
        ("+491711234567", "mobile", ("Europe/Berlin",), "callable", 0),
        ("+12125550142", "abroad", ("America/Chicago",), "callable", 0),
        ("no number", None, ("Europe/Berlin",), "invalid", 0),
    ]
    assert [(n.phone, n.status) for n in single.numbers] == [("+49309400100", "callable")]
    assert several.to_dict()["numbers"][1]["label"] == "mobile"
    assert Contact.from_json(several.to_json()) == several


def test_a_contact_is_invalid_only_when_none_of_its_numbers_is_valid(engine: Engine) -> None:
    campaign = campaign_of(engine, A)
    ok, bad = engine.add_contacts(campaign, [{"phones": ["junk", BERLIN_HOME]}, {"phones": ["junk", "+49 1"]}],
                                  ).contact_ids
    assert engine.get_contact(ok).state is S.READY and engine.get_contact(ok).phone == e164(BERLIN_HOME)
    assert engine.get_contact(bad).state is S.INVALID_RECORD
    assert "no valid number" in (engine.history(bad)[0].note or "")


def test_a_contact_sharing_any_number_with_one_in_the_campaign_is_a_duplicate_named_by_that_number(
        engine: Engine) -> None:
    campaign = campaign_of(engine, A)
    one_contact(engine, campaign, BERLIN_HOME, BERLIN_MOBILE)
    told: list[tuple[int, str, str]] = []
    report = engine.add_contacts(campaign, [
        {"phones": [BERLIN_WORK, BERLIN_MOBILE]},       # its second number is taken
        BERLIN_MOBILE,                                   # a plain one that is taken
        {"phones": [NEW_YORK_MOBILE, "+49 30 5550000"]},  # new
        {"phones": ["+49 30 5550000"]},                  # repeats the row before
    ], on_reject=lambda i, item, result, reason: told.append((i, result, reason)))
    assert (report.added, report.duplicates) == (1, 3)
    assert told == [(0, "duplicate", "+491711234567 is already in the campaign"),
                    (1, "duplicate", "+491711234567 is already in the campaign"),
                    (3, "duplicate", "+49305550000 is already in the campaign")]
    with pytest.raises(InvalidArgument, match="phone= or phones="):
        engine.add_contacts(campaign, [{"phone": BERLIN_WORK, "phones": [BERLIN_WORK]}])


# -- which number --------------------------------------------------------------------------


@ALL_MODES
@pytest.mark.parametrize("count", [1, 2, 3])
def test_rotate_takes_the_next_number_after_the_last_used(engine: Engine, mode: DialMode, count: int) -> None:
    campaign = campaign_of(engine, mode)
    given = [BERLIN_HOME, BERLIN_MOBILE, BERLIN_WORK][:count]
    cid = one_contact(engine, campaign, *given)
    used = []
    for _ in range(5):
        used.append(attempt(engine, campaign, mode).phone)
        back_to_ready(engine, cid)
    assert used == [e164(given[i % count]) for i in range(5)]
    numbers = engine.get_contact(cid).numbers
    assert [n.attempts for n in numbers] == [len(range(i, 5, count)) for i in range(count)]
    assert [n.last_outcome for n in numbers] == [Outcome.BUSY] * count
    dials = [e.phone for e in engine.history(cid) if e.trigger == "dial"]
    ends = [e.phone for e in engine.history(cid) if e.trigger == "call_ended"]
    assert dials == used and ends == used
    assert_history_continuous(engine, cid)


@ALL_MODES
@pytest.mark.parametrize("count", [1, 2, 3])
def test_escalate_stays_on_a_number_until_its_cap_then_takes_the_next_and_exhausts_after_the_last(
        engine: Engine, mode: DialMode, count: int) -> None:
    policy = RetryPolicy(max_attempts=20, delays={Outcome.BUSY: 60}, number_order="escalate",
                         max_attempts_per_number=2)
    campaign = campaign_of(engine, mode, retry_policy=policy)
    given = [BERLIN_HOME, BERLIN_MOBILE, BERLIN_WORK][:count]
    cid = one_contact(engine, campaign, *given)
    used = []
    for _ in range(2 * count):
        used.append(attempt(engine, campaign, mode).phone)
        back_to_ready(engine, cid)
    assert used == [e164(p) for p in given for _ in range(2)]
    contact = engine.get_contact(cid)
    assert contact.state is S.EXHAUSTED and contact.attempts == 2 * count
    assert [n.attempts for n in contact.numbers] == [2] * count


@pytest.mark.parametrize("count", [1, 2, 3])
def test_max_attempts_still_counts_the_attempts_of_the_person(engine: Engine, count: int) -> None:
    policy = RetryPolicy(max_attempts=3, delays={Outcome.BUSY: 60})
    campaign = campaign_of(engine, A, retry_policy=policy)
    cid = one_contact(engine, campaign, *[BERLIN_HOME, BERLIN_MOBILE, BERLIN_WORK][:count])
    for _ in range(3):
        attempt(engine, campaign, A)
        back_to_ready(engine, cid)
    assert engine.get_contact(cid).state is S.EXHAUSTED


@ALL_MODES
def test_the_cap_per_number_exhausts_a_contact_with_one_plain_number(engine: Engine, mode: DialMode) -> None:
    policy = RetryPolicy(max_attempts=20, delays={Outcome.BUSY: 60}, max_attempts_per_number=2)
    campaign = campaign_of(engine, mode, retry_policy=policy)
    (cid,) = engine.add_contacts(campaign, [BERLIN_HOME]).contact_ids
    attempt(engine, campaign, mode)
    back_to_ready(engine, cid)
    attempt(engine, campaign, mode)
    contact = engine.get_contact(cid)
    assert (contact.state, contact.attempts, contact.numbers[0].attempts) == (S.EXHAUSTED, 2, 2)


@ALL_MODES
def test_each_number_is_called_only_inside_the_window_of_its_own_zone(engine: Engine, clock: VirtualClock,
                                                                       mode: DialMode) -> None:
    clock.set(MORNING_IN_BERLIN)
    campaign = campaign_of(engine, mode, calling_window=DAY)
    cid = one_contact(engine, campaign, {"phone": NEW_YORK_MOBILE, "label": "mobile"},
                      {"phone": BERLIN_HOME, "label": "home"})
    assert engine.why_not(cid).callable
    assert attempt(engine, campaign, mode).phone == e164(BERLIN_HOME)  # New York is asleep
    back_to_ready(engine, cid)
    assert attempt(engine, campaign, mode).phone == e164(BERLIN_HOME)  # and still is
    back_to_ready(engine, cid)
    clock.set(datetime(2026, 3, 2, 14, 0, tzinfo=UTC))  # 09:00 in New York
    assert attempt(engine, campaign, mode).phone == e164(NEW_YORK_MOBILE)


def test_why_not_names_the_numbers_and_gives_the_first_opening_among_them(engine: Engine,
                                                                          clock: VirtualClock) -> None:
    clock.set(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))  # 03:00 in Berlin, 21:00 in New York
    campaign = campaign_of(engine, A, calling_window=DAY)
    cid = one_contact(engine, campaign, NEW_YORK_MOBILE, BERLIN_HOME)
    verdict = engine.why_not(cid)
    assert not verdict.callable and [r.code for r in verdict.reasons] == ["outside_window"]
    assert "+12125550142 in America/New_York" in verdict.reasons[0].text
    assert "+49307654321 in Europe/Berlin" in verdict.reasons[0].text
    assert verdict.next_allowed_at == datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # 08:00 in Berlin
    assert engine.dial_next(campaign, 5) == []


# -- dial(phone=) ----------------------------------------------------------------------------


def test_the_operator_chooses_the_number_through_the_same_rules(engine: Engine, clock: VirtualClock) -> None:
    clock.set(MORNING_IN_BERLIN)
    campaign = campaign_of(engine, P, calling_window=DAY)
    cid = one_contact(engine, campaign, BERLIN_HOME, BERLIN_MOBILE, NEW_YORK_MOBILE)
    engine.assign_operator(cid, "op1")
    engine.accept(cid)
    with pytest.raises(InvalidArgument, match="not one of its numbers"):
        engine.dial(cid, phone="+49 30 1111111")
    with pytest.raises(NotCallable) as refused:
        engine.dial(cid, phone=NEW_YORK_MOBILE)
    assert "+12125550142" in refused.value.reasons[0].text
    assert engine.get_contact(cid).state is S.BEFORE_CALL_WORK
    dialing = engine.dial(cid, phone="0171 1234567")  # read as the campaign reads numbers
    assert dialing.phone == "+491711234567"
    assert [n.attempts for n in dialing.numbers] == [0, 1, 0]


# -- outcomes that condemn a number ------------------------------------------------------------


CONDEMNED = [(Outcome.UNALLOCATED, "invalid", S.INVALID_RECORD), (Outcome.BLOCKED, "blocked", S.BLACKLISTED),
             ("wrong_number", "wrong_number", S.INVALID_RECORD)]


# A wrong number is an operator's disposition: agentless calls have none.
@pytest.mark.parametrize(("mode", "outcome", "status", "last_state"), [
    (mode, *case) for mode in (P, G, D, A) for case in CONDEMNED if not (mode is A and case[0] == "wrong_number")
], ids=lambda v: getattr(v, "value", str(v)))
def test_a_condemned_number_sends_the_contact_straight_back_to_ready_while_another_is_left(
        engine: Engine, mode: DialMode, outcome: Outcome | str, status: str, last_state: ContactState) -> None:
    campaign = campaign_of(engine, mode)
    cid = one_contact(engine, campaign, BERLIN_HOME, BERLIN_MOBILE)
    first = attempt(engine, campaign, mode, outcome)
    after = engine.get_contact(cid)
    assert (after.state, after.operator_id, after.next_attempt_at) == (S.READY, None, None)
    assert [n.status for n in after.numbers] == [status, "callable"]
    assert first.phone == e164(BERLIN_HOME)
    second = attempt(engine, campaign, mode, outcome)  # the next claim takes the other number
    assert second.phone == e164(BERLIN_MOBILE)
    assert engine.get_contact(cid).state is last_state
    assert_history_continuous(engine, cid)


@pytest.mark.parametrize("mode", [P, G, D], ids=lambda m: m.value)
def test_do_not_call_blacklists_every_number_of_the_contact(engine: Engine, mode: DialMode) -> None:
    campaign = campaign_of(engine, mode)
    cid = one_contact(engine, campaign, BERLIN_HOME, BERLIN_MOBILE)
    elsewhere = one_contact(engine, campaign_of(engine, A), BERLIN_MOBILE)
    attempt(engine, campaign, mode, "do_not_call")
    assert engine.get_contact(cid).state is S.BLACKLISTED
    assert sorted(e.phone for e in engine.blacklist_entries()) == ["+491711234567", "+49307654321"]
    assert engine.get_contact(elsewhere).state is S.BLACKLISTED


# -- the blacklist per number ---------------------------------------------------------------------


@ALL_MODES
def test_a_blacklisted_second_number_leaves_the_contact_its_first(engine: Engine, mode: DialMode) -> None:
    campaign = campaign_of(engine, mode)
    cid = one_contact(engine, campaign, BERLIN_HOME, BERLIN_MOBILE)
    engine.blacklist_phone(BERLIN_MOBILE)
    contact = engine.get_contact(cid)
    assert contact.state is S.READY
    assert [n.status for n in contact.numbers] == ["callable", "blacklisted"]
    for _ in range(2):
        assert attempt(engine, campaign, mode).phone == e164(BERLIN_HOME)
        back_to_ready(engine, cid)
    assert engine.blacklist_phone(BERLIN_HOME) == 1  # now every number is: parked
    assert engine.get_contact(cid).state is S.BLACKLISTED
    assert engine.unblacklist_phone(BERLIN_MOBILE) == 1
    assert engine.get_contact(cid).state is S.READY
    assert attempt(engine, campaign, mode).phone == e164(BERLIN_MOBILE)
    assert_history_continuous(engine, cid)


def test_a_contact_added_with_every_number_blacklisted_is_parked(engine: Engine) -> None:
    engine.blacklist_phone(BERLIN_HOME)
    engine.blacklist_phone(BERLIN_MOBILE)
    campaign = campaign_of(engine, A)
    parked = one_contact(engine, campaign, BERLIN_HOME, BERLIN_MOBILE)
    free = one_contact(engine, campaign, BERLIN_HOME.replace("765", "766"), BERLIN_MOBILE.replace("123", "124"))
    assert engine.get_contact(parked).state is S.BLACKLISTED
    assert engine.get_contact(free).state is S.READY


# -- update_phone with a list ------------------------------------------------------------------


def test_update_phone_replaces_the_numbers_and_a_number_that_stays_keeps_its_counters(engine: Engine) -> None:
    campaign = campaign_of(engine, A)
    cid = one_contact(engine, campaign, BERLIN_HOME, BERLIN_MOBILE)
    attempt(engine, campaign, A)
    back_to_ready(engine, cid)
    contact = engine.update_phone(cid, [{"phone": BERLIN_WORK, "label": "work"}, BERLIN_HOME])
    assert [(n.phone, n.label, n.attempts) for n in contact.numbers] == [
        ("+49309400100", "work", 0), ("+49307654321", None, 1)]
    assert engine.add_contacts(campaign, [BERLIN_MOBILE]).added == 1  # no longer taken
    assert engine.add_contacts(campaign, [BERLIN_WORK]).duplicates == 1
    (invalid,) = engine.add_contacts(campaign, ["junk"]).contact_ids
    assert engine.update_phone(invalid, ["+49 30 5550001", "+49 30 5550002"]).state is S.READY


def test_a_corrected_number_frees_the_old_one_and_takes_the_new_one_and_no_other_contacts(
        engine: Engine) -> None:
    campaign = campaign_of(engine, A)
    first, second = engine.add_contacts(campaign, [BERLIN_HOME, BERLIN_WORK]).contact_ids
    several = one_contact(engine, campaign, BERLIN_MOBILE, NEW_YORK_MOBILE)
    engine.update_phone(first, "+49 30 5550003")
    engine.update_phone(several, [NEW_YORK_MOBILE])
    report = engine.add_contacts(campaign, [BERLIN_HOME, BERLIN_MOBILE, BERLIN_WORK, "+49 30 5550003",
                                            NEW_YORK_MOBILE])
    assert (report.added, report.duplicates) == (2, 3)
    assert [engine.get_contact(cid).phone for cid in report.contact_ids] == [e164(BERLIN_HOME), e164(BERLIN_MOBILE)]
    assert engine.get_contact(second).phone == e164(BERLIN_WORK)


def test_numbers_usable_at_that_moment_only(engine: Engine, clock: VirtualClock) -> None:
    """A day of claims on contacts with numbers in three zones under one window: each
    dial uses a number whose window was open, that was callable and not blacklisted."""
    clock.set(datetime(2026, 3, 2, 0, 0, tzinfo=UTC))
    campaign = campaign_of(engine, A, calling_window=DAY)
    zones = {"+49": "Europe/Berlin", "+1": "America/New_York", "+81": "Asia/Tokyo"}
    for i in range(6):
        one_contact(engine, campaign, f"+49 30 940{i:04d}", f"+1 212 555 {i:04d}", f"+81 3 3201 {i:04d}")
    engine.blacklist_phone("+1 212 555 0001")
    dialed: list[Contact] = []
    for _ in range(48):
        for contact in engine.dial_next(campaign, 10):
            dialed.append(contact)
            engine.call_ended(contact.id, Outcome.BUSY)
        clock.advance(minutes=30)
        engine.fire_due(1000)
    assert dialed
    for contact in dialed:
        zone = next(z for prefix, z in zones.items() if contact.phone.startswith(prefix))
        at = next(e.at for e in engine.history(contact.id) if e.trigger == "dial" and e.call_id == contact.call_id)
        assert DAY.is_open([zone], at), (contact.phone, at)
        assert contact.phone != "+12125550001"
    assert {c.phone[:3] for c in dialed} == {"+49", "+12", "+81"}


# -- a property -------------------------------------------------------------------------------------

ZONE_OF = {"+49": "Europe/Berlin", "+1": "America/New_York", "+81": "Asia/Tokyo"}
PEOPLE = [[f"+49 30 940{i:04d}", f"+1 212 555 {i:04d}", f"+81 3 3201 {i:04d}"] for i in range(3)]
CAP = 2
step = st.one_of(
    st.tuples(st.just("advance"), st.integers(1, 12 * 60)),
    st.tuples(st.just("dial_next"), st.integers(1, 3)),
    st.tuples(st.just("end"), st.integers(0, 2), st.sampled_from(
        [Outcome.BUSY, Outcome.NO_ANSWER, Outcome.UNALLOCATED, Outcome.BLOCKED, Outcome.COMPLETED])),
    st.tuples(st.just("fire_due"),),
    st.tuples(st.just("blacklist"), st.integers(0, 2), st.integers(0, 2), st.integers(1, 24 * 60)),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(start=st.integers(0, 7 * 24 * 60), steps=st.lists(step, max_size=40),
       order=st.sampled_from(["rotate", "escalate"]))
def test_no_dial_ever_uses_a_number_that_is_not_usable_at_that_moment(start: int, steps: list[tuple],
                                                                      order: str) -> None:
    clock = VirtualClock(datetime(2026, 3, 2, tzinfo=UTC) + timedelta(minutes=start))
    with memory_engine(clock) as engine:
        policy = RetryPolicy(max_attempts=20, delays={Outcome.BUSY: 600, Outcome.NO_ANSWER: 900},
                             number_order=order, max_attempts_per_number=CAP)
        campaign = engine.create_campaign("p", mode=A, calling_window=DAY, retry_policy=policy).id
        ids = engine.add_contacts(campaign, [{"phones": phones} for phones in PEOPLE]).contact_ids
        banned: dict[str, datetime] = {}
        condemned: set[str] = set()
        calls: dict[str, int] = {}
        position = max(e.position for e in engine.events(0, 100))
        for op in steps:
            try:
                if op[0] == "advance":
                    clock.advance(minutes=op[1])
                elif op[0] == "dial_next":
                    engine.dial_next(campaign, op[1])
                elif op[0] == "fire_due":
                    engine.fire_due()
                elif op[0] == "end":
                    contact = engine.get_contact(ids[op[1]])
                    engine.call_ended(contact.id, op[2])
                    if op[2] in (Outcome.UNALLOCATED, Outcome.BLOCKED):
                        condemned.add(contact.phone)
                else:
                    phone = e164(PEOPLE[op[1]][op[2]])
                    engine.blacklist_phone(phone, expires_at=clock.now + timedelta(
                        minutes=op[3]))
                    banned[phone] = clock.now + timedelta(minutes=op[3])
            except DialstateError:
                pass
            for event in engine.events(position, 100):
                position = event.position
                if event.entry.trigger != "dial":
                    continue
                phone, at = event.entry.phone, event.entry.at
                assert phone is not None
                zone = next(z for prefix, z in ZONE_OF.items() if phone.startswith(prefix))
                assert DAY.is_open([zone], at), f"{phone} dialed at {at} outside its window in {zone}"
                assert not (phone in banned and banned[phone] > at), f"{phone} dialed while blacklisted"
                assert phone not in condemned, f"{phone} dialed after the network condemned it"
                calls[phone] = calls.get(phone, 0) + 1
                assert calls[phone] <= CAP, f"{phone} dialed more than {CAP} times"


def test_a_new_time_zone_for_the_contact_moves_the_numbers_without_one_of_their_own(engine: Engine) -> None:
    campaign = campaign_of(engine, A, calling_window=DAY)
    cid = one_contact(engine, campaign, BERLIN_HOME, {"phone": BERLIN_MOBILE, "timezone": "Asia/Tokyo"})
    contact = engine.update_contact(cid, timezone="America/Chicago")
    assert [n.zones for n in contact.numbers] == [("America/Chicago",), ("Asia/Tokyo",)]
    assert set(contact.zones) == {"America/Chicago", "Asia/Tokyo"}


def test_an_expiring_entry_on_every_number_parks_the_contact_until_the_first_expires(
        engine: Engine, clock: VirtualClock) -> None:
    campaign = campaign_of(engine, A)
    cid = one_contact(engine, campaign, BERLIN_HOME, BERLIN_MOBILE)
    engine.blacklist_phone(BERLIN_HOME, expires_at=clock.now + timedelta(hours=5))
    engine.blacklist_phone(BERLIN_MOBILE, expires_at=clock.now + timedelta(hours=2))
    parked = engine.get_contact(cid)
    assert (parked.state, parked.next_attempt_at) == (S.BLACKLISTED, clock.now + timedelta(hours=2))
    clock.advance(hours=2)
    engine.fire_due()
    contact = engine.get_contact(cid)
    assert contact.state is S.READY
    assert [n.status for n in contact.numbers] == ["blacklisted", "callable"]
    assert attempt(engine, campaign, A).phone == e164(BERLIN_MOBILE)
