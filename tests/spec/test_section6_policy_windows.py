"""Spec section 6 through the engine: retry delays, attempt limits, rolling caps and
policy versions; calling windows in the contact's zone for retries and for claiming,
on days off, holidays and across daylight-saving changes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dialstate import (
    CallingWindow,
    Contact,
    ContactState,
    DialMode,
    Engine,
    InvalidTransition,
    Outcome,
    RetryPolicy,
)
from dialstate.testing import VirtualClock
from tests.support import assert_history_continuous, new_campaign, new_contact, new_contacts, new_phone, new_phones

S = ContactState
O = Outcome
NEW_YORK, BERLIN, TOKYO = ZoneInfo("America/New_York"), ZoneInfo("Europe/Berlin"), ZoneInfo("Asia/Tokyo")
A = DialMode.AGENTLESS


def attempt(engine: Engine, cid: int, outcome: Outcome | str = O.BUSY) -> Contact:
    """One call to the contact ending with `outcome`, placed whatever the window (an
    operator's override: the retry it leads to is what these tests look at)."""
    engine.dial(cid, override="placed by hand to see where its retry goes")
    return engine.call_ended(cid, outcome)


def delay_of(contact: Contact, clock: VirtualClock) -> float:
    assert contact.next_attempt_at is not None, contact
    return (contact.next_attempt_at - clock.now).total_seconds()


def retry_now(engine: Engine, clock: VirtualClock, contact: Contact) -> None:
    """Move the clock to the contact's retry and let the scheduler make it ready."""
    assert contact.next_attempt_at is not None
    clock.set(contact.next_attempt_at)
    engine.fire_due()
    assert engine.get_contact(contact.id).state is S.READY


def delays_over_attempts(engine: Engine, clock: VirtualClock, policy: RetryPolicy, n: int) -> list[float]:
    """The retry delays of `n` busy attempts in a row of one contact."""
    cid = new_contact(engine, new_campaign(engine, A, retry_policy=policy))
    delays = []
    for _ in range(n):
        after = attempt(engine, cid)
        delays.append(delay_of(after, clock))
        retry_now(engine, clock, after)
    return delays


# -- delays ------------------------------------------------------------------------------


def test_a_policys_delays_override_the_defaults_outcome_by_outcome(engine: Engine, clock: VirtualClock) -> None:
    campaign = new_campaign(engine, A, retry_policy=RetryPolicy(delays={O.BUSY: 60, O.NO_ANSWER: None}))
    busy, no_answer, voicemail = new_contacts(engine, campaign, *new_phones(3))
    assert delay_of(attempt(engine, busy, O.BUSY), clock) == 60
    assert delay_of(attempt(engine, voicemail, O.VOICEMAIL), clock) == 7200  # the default stays
    assert attempt(engine, no_answer, O.NO_ANSWER).state is S.EXHAUSTED  # None: no retry


def test_backoff_multiplies_the_delay_with_every_counted_attempt(engine: Engine, clock: VirtualClock) -> None:
    policy = RetryPolicy(max_attempts=10, delays={O.BUSY: 100}, backoff=2.0)
    assert delays_over_attempts(engine, clock, policy, 4) == [100, 200, 400, 800]


def test_max_delay_caps_the_backed_off_delay(engine: Engine, clock: VirtualClock) -> None:
    policy = RetryPolicy(max_attempts=10, delays={O.BUSY: 100}, backoff=10.0, max_delay=2500)
    assert delays_over_attempts(engine, clock, policy, 4) == [100, 1000, 2500, 2500]


def test_jitter_spreads_retries_within_plus_or_minus_its_fraction(engine: Engine, clock: VirtualClock) -> None:
    campaign = new_campaign(engine, A, retry_policy=RetryPolicy(delays={O.BUSY: 1000}, jitter=0.25))
    delays = [delay_of(attempt(engine, cid), clock) for cid in new_contacts(engine, campaign, *new_phones(30))]
    assert all(750 <= d <= 1250 for d in delays), delays
    assert len(set(delays)) > 10  # spread, not one shifted value


def test_congestion_is_retried_without_using_up_attempts(engine: Engine, clock: VirtualClock) -> None:
    cid = new_contact(engine, new_campaign(engine, A, retry_policy=RetryPolicy(max_attempts=2)))
    for _ in range(4):
        after = attempt(engine, cid, O.CONGESTION)
        assert (after.state, after.attempts, delay_of(after, clock)) == (S.RETRY_SCHEDULED, 0, 120)
        retry_now(engine, clock, after)
    first = attempt(engine, cid, O.BUSY)
    assert (first.state, first.attempts) == (S.RETRY_SCHEDULED, 1)
    retry_now(engine, clock, first)
    assert attempt(engine, cid, O.BUSY).state is S.EXHAUSTED


def test_a_policy_can_choose_which_outcomes_are_not_counted(engine: Engine, clock: VirtualClock) -> None:
    cid = new_contact(engine, new_campaign(engine, A, retry_policy=RetryPolicy(max_attempts=1, uncounted={O.BUSY})))
    for _ in range(3):
        after = attempt(engine, cid, O.BUSY)
        assert (after.state, after.attempts) == (S.RETRY_SCHEDULED, 0)
        retry_now(engine, clock, after)
    assert attempt(engine, cid, O.CONGESTION).state is S.EXHAUSTED  # counted under this policy


def test_the_contact_is_exhausted_when_a_retryable_outcome_meets_max_attempts(
    engine: Engine, clock: VirtualClock
) -> None:
    cid = new_contact(engine, new_campaign(engine, A, retry_policy=RetryPolicy(max_attempts=3)))
    for _ in range(2):
        retry_now(engine, clock, attempt(engine, cid, O.NO_ANSWER))
    after = attempt(engine, cid, O.NO_ANSWER)
    assert (after.state, after.attempts, after.next_attempt_at) == (S.EXHAUSTED, 3, None)
    assert "3 of 3" in (engine.history(cid)[-1].note or "")
    with pytest.raises(InvalidTransition):
        engine.retry_due(cid)
    assert_history_continuous(engine, cid)


@pytest.mark.parametrize(
    ("outcome", "state"),
    [(O.COMPLETED, S.SUCCESS), (O.UNALLOCATED, S.INVALID_RECORD), (O.BLOCKED, S.BLACKLISTED)],
)
def test_an_outcome_that_is_no_retry_decides_as_usual_on_the_last_attempt(
    engine: Engine, outcome: Outcome, state: ContactState
) -> None:
    cid = new_contact(engine, new_campaign(engine, A, retry_policy=RetryPolicy(max_attempts=1)))
    assert attempt(engine, cid, outcome).state is state


# -- rolling limits ----------------------------------------------------------------------


def test_a_third_attempt_in_a_day_waits_until_the_oldest_leaves_the_window(
    engine: Engine, clock: VirtualClock
) -> None:
    policy = RetryPolicy(max_attempts=10, delays={O.NO_ANSWER: 60}, rolling_limits=[(2, timedelta(days=1))])
    cid = new_contact(engine, new_campaign(engine, A, retry_policy=policy))
    t0 = clock.now
    first = attempt(engine, cid, O.NO_ANSWER)
    assert first.next_attempt_at == t0 + timedelta(seconds=60)  # one attempt in the day: free
    retry_now(engine, clock, first)
    second = attempt(engine, cid, O.NO_ANSWER)
    assert second.next_attempt_at == t0 + timedelta(days=1)  # the first dial leaves the day
    retry_now(engine, clock, second)
    third = attempt(engine, cid, O.NO_ANSWER)
    assert third.next_attempt_at == t0 + timedelta(days=1, seconds=60)  # now the second leaves


def test_uncounted_attempts_do_not_fill_a_rolling_cap(engine: Engine, clock: VirtualClock) -> None:
    policy = RetryPolicy(max_attempts=10, rolling_limits=[(2, timedelta(days=1))])
    cid = new_contact(engine, new_campaign(engine, A, retry_policy=policy))
    t0 = clock.now
    retry_now(engine, clock, attempt(engine, cid, O.BUSY))
    congested = attempt(engine, cid, O.CONGESTION)
    assert delay_of(congested, clock) == 120  # one counted attempt in the day
    retry_now(engine, clock, congested)
    assert attempt(engine, cid, O.BUSY).next_attempt_at == t0 + timedelta(days=1)


def test_a_retry_moved_by_a_rolling_cap_into_a_closed_window_moves_to_its_opening(
    engine: Engine, clock: VirtualClock
) -> None:
    clock.set(datetime(2026, 3, 2, 16, 30, tzinfo=UTC))
    policy = RetryPolicy(rolling_limits=[(1, timedelta(hours=12))])
    campaign = new_campaign(engine, A, retry_policy=policy, calling_window=CallingWindow("09:00", "17:00"))
    cid = new_contact(engine, campaign, {"phone": new_phone(), "timezone": "UTC"})
    after = attempt(engine, cid, O.BUSY)  # the cap says 04:30 tomorrow, the window 09:00
    assert after.next_attempt_at == datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


# -- policy versions -----------------------------------------------------------------------


def test_a_new_policy_version_decides_from_now_on_and_earlier_decisions_stay(
    engine: Engine, clock: VirtualClock
) -> None:
    campaign = new_campaign(engine, A, retry_policy=RetryPolicy(max_attempts=5, delays={O.BUSY: 300}))
    early, late = new_contacts(engine, campaign, *new_phones(2))
    scheduled = attempt(engine, early, O.BUSY)
    assert {e.policy_version for e in engine.history(early)} == {1}

    assert engine.update_retry_policy(campaign, RetryPolicy(max_attempts=1, delays={O.BUSY: 60})) == 2
    assert engine.get_campaign(campaign).policy_version == 2
    assert engine.retry_policy(campaign, 1).delays[O.BUSY] == 300
    assert engine.retry_policy(campaign).delays[O.BUSY] == 60
    kept = engine.get_contact(early)
    assert (kept.state, kept.next_attempt_at) == (S.RETRY_SCHEDULED, scheduled.next_attempt_at)
    assert {e.policy_version for e in engine.history(early)} == {1}

    decided = attempt(engine, late, O.NO_ANSWER)  # v2: one attempt allowed
    assert decided.state is S.EXHAUSTED
    assert engine.history(late)[-1].policy_version == 2
    retry_now(engine, clock, kept)
    assert engine.history(early)[-1].policy_version == 2
    assert attempt(engine, early, O.BUSY).state is S.EXHAUSTED
    assert [e.policy_version for e in engine.history(early)] == [1, 1, 1, 2, 2, 2]


def test_every_history_entry_records_a_policy_version(engine: Engine, clock: VirtualClock) -> None:
    campaign = new_campaign(engine, DialMode.PREDICTIVE)
    cid = new_contact(engine, campaign)
    ids = [c.id for c in engine.dial_next(campaign, 1)]
    assert ids == [cid]
    engine.answered(cid)
    engine.call_ended(cid, O.COMPLETED)  # abandoned: canceled_by_client, then a retry
    engine.update_retry_policy(campaign, RetryPolicy())
    retry_now(engine, clock, engine.get_contact(cid))
    assert [e.policy_version for e in engine.history(cid)] == [1, 1, 1, 1, 1, 2]


# -- zones of a contact ------------------------------------------------------------------

# Campaign zone America/Los_Angeles, window 09:00-17:00 every day; at Monday
# 2026-03-02 10:00 UTC a busy call asks for a retry at 10:05 UTC. Each row: the contact,
# the zones its window is read in, and when the retry falls.
ZONE_CASES = [
    pytest.param({"phone": "+49 30 1234567"}, ("Europe/Berlin",),
                 datetime(2026, 3, 2, 10, 5, tzinfo=UTC), id="number-in-one-zone-open"),
    pytest.param({"phone": "+1 212 555 0100"}, ("America/New_York",),
                 datetime(2026, 3, 2, 9, 0, tzinfo=NEW_YORK), id="us-number-new-york"),
    pytest.param({"phone": "+1 212 555 0101", "timezone": "Asia/Tokyo"}, ("Asia/Tokyo",),
                 datetime(2026, 3, 3, 9, 0, tzinfo=TOKYO), id="own-timezone-first"),
    pytest.param({"phone": "+1 800 234 5678"}, ("America/Los_Angeles",),
                 datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("America/Los_Angeles")), id="toll-free-campaign-zone"),
    pytest.param({"phone": "+881 6 12345678"}, ("America/Los_Angeles",),
                 datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("America/Los_Angeles")), id="no-known-zone"),
    pytest.param({"phone": "+1 208 555 0100"}, ("America/Boise", "America/Los_Angeles"),
                 datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("America/Los_Angeles")), id="two-zones-both-open"),
]


@pytest.mark.parametrize(("item", "zones", "retry_at"), ZONE_CASES)
def test_a_retry_outside_the_window_moves_to_the_next_opening_in_the_contacts_zone(
    engine: Engine, clock: VirtualClock, item: dict[str, str], zones: tuple[str, ...], retry_at: datetime
) -> None:
    campaign = new_campaign(engine, A, calling_window=CallingWindow("09:00", "17:00"), timezone="America/Los_Angeles")
    cid = new_contact(engine, campaign, item)
    assert engine.get_contact(cid).zones == zones
    assert attempt(engine, cid, O.BUSY).next_attempt_at == retry_at


def test_a_long_delay_ending_after_hours_moves_to_the_next_mornings_opening(
    engine: Engine, clock: VirtualClock
) -> None:
    clock.set(datetime(2026, 3, 2, 15, 30, tzinfo=BERLIN))
    campaign = new_campaign(engine, A, calling_window=CallingWindow("09:00", "17:00"), timezone="Europe/Berlin")
    cid = new_contact(engine, campaign, new_phone("DE"))
    assert attempt(engine, cid, O.VOICEMAIL).next_attempt_at == datetime(2026, 3, 3, 9, 0, tzinfo=BERLIN)


# -- claiming ----------------------------------------------------------------------------

Claim = Callable[[Engine, int], list[int]]
CLAIMS: dict[DialMode, Claim] = {
    DialMode.AGENTLESS: lambda e, campaign: [c.id for c in e.dial_next(campaign, 10)],
    DialMode.PREVIEW: lambda e, campaign: [c.id for c in iter(lambda: e.assign_next(campaign, "op1"), None)],
}


@pytest.mark.parametrize("mode", list(CLAIMS), ids=lambda m: m.value)
def test_claiming_skips_contacts_whose_window_is_closed_and_takes_them_when_it_opens(
    engine: Engine, clock: VirtualClock, mode: DialMode
) -> None:
    claim = CLAIMS[mode]
    campaign = new_campaign(engine, mode, calling_window=CallingWindow("09:00", "17:00"), timezone="UTC")
    berlin, new_york, tokyo = new_contacts(engine, campaign, new_phone("DE"), new_phone(),
                                  {"phone": new_phone(), "timezone": "Asia/Tokyo"})
    assert claim(engine, campaign) == [berlin]  # Monday 11:00 Berlin, 05:00 New York, 19:00 Tokyo
    clock.set(datetime(2026, 3, 2, 8, 59, 59, tzinfo=NEW_YORK))
    assert claim(engine, campaign) == []
    clock.set(datetime(2026, 3, 2, 9, 0, tzinfo=NEW_YORK))
    assert claim(engine, campaign) == [new_york]
    clock.set(datetime(2026, 3, 3, 8, 59, tzinfo=TOKYO))
    assert claim(engine, campaign) == []
    clock.set(datetime(2026, 3, 3, 9, 0, tzinfo=TOKYO))
    assert claim(engine, campaign) == [tokyo]


@pytest.mark.parametrize("spread", ["one zone first", "even", "by priority"])
def test_a_windowed_claim_takes_the_first_open_contacts_in_claim_order_however_the_zones_share_them(
    engine: Engine, spread: str
) -> None:
    """Monday 10:00 UTC with a 09:00-21:00 window: London, Berlin, Lagos and Tokyo are
    open, New York is not. Whether one open zone holds all the first contacts, the zones
    take turns, or priorities mix them, each claim takes exactly the first ready
    contacts of the open zones by priority, readiness and id, and never a closed one."""
    zones = ["Europe/London", "Europe/Berlin", "Africa/Lagos", "Asia/Tokyo", "America/New_York"]
    campaign = new_campaign(engine, A, calling_window=CallingWindow("09:00", "21:00"), timezone="UTC")
    items = []
    for i, phone in enumerate(new_phones(150)):
        if spread == "one zone first":
            zone, priority = (zones[1], 0) if i < 60 else (zones[i % 5], 0)
        elif spread == "even":
            zone, priority = zones[i % 5], 0
        else:
            zone, priority = zones[i % 5], (i * 7) % 4
        items.append({"phone": phone, "timezone": zone, "priority": priority})
    ids = new_contacts(engine, campaign, *items)
    open_ids = [cid for cid, item in zip(ids, items, strict=True) if item["timezone"] != "America/New_York"]
    # The import makes them ready together: priority first, then the id.
    priority = {cid: item["priority"] for cid, item in zip(ids, items, strict=True)}
    expected = sorted(open_ids, key=lambda cid: (-priority[cid], cid))
    claimed: list[int] = []
    for limit in (1, 37, 25, 40, 50):
        claimed += [c.id for c in engine.dial_next(campaign, limit)]
    assert claimed == expected[:len(claimed)]
    assert len(claimed) == min(1 + 37 + 25 + 40 + 50, len(open_ids))
    assert engine.dial_next(campaign, 10) == []  # only New York's are left, and it is closed


def test_the_window_closes_at_its_end_which_is_excluded(engine: Engine, clock: VirtualClock) -> None:
    campaign = new_campaign(engine, A, calling_window=CallingWindow("09:00", "17:00"), timezone="Europe/Berlin")
    first, second = new_contacts(engine, campaign, *new_phones(2, "DE"))
    clock.set(datetime(2026, 3, 2, 16, 59, 59, tzinfo=BERLIN))
    assert [c.id for c in engine.dial_next(campaign, 1)] == [first]
    clock.set(datetime(2026, 3, 2, 17, 0, tzinfo=BERLIN))
    assert engine.dial_next(campaign, 1) == []
    assert engine.get_contact(second).state is S.READY


@pytest.mark.parametrize(
    ("local", "claimable"),
    [((9, 0, 15), False), ((9, 0, 30), True), ((17, 0, 15), True), ((17, 0, 30), False)],
    ids=["before-start", "at-start", "before-end", "at-end"],
)
def test_claiming_honours_window_boundaries_given_to_the_second(
    engine: Engine, clock: VirtualClock, local: tuple[int, int, int], claimable: bool
) -> None:
    campaign = new_campaign(engine, A, calling_window=CallingWindow("09:00:30", "17:00:30"), timezone="Europe/Berlin")
    cid = new_contact(engine, campaign, new_phone("DE"))
    clock.set(datetime(2026, 3, 2, *local, tzinfo=BERLIN))
    assert [c.id for c in engine.dial_next(campaign, 1)] == ([cid] if claimable else [])


def test_a_number_in_two_zones_is_claimed_only_while_both_are_open(engine: Engine, clock: VirtualClock) -> None:
    campaign = new_campaign(engine, A, calling_window=CallingWindow("09:00", "17:00"), timezone="UTC")
    idaho, vegas = new_contacts(engine, campaign, "+1 208 555 0100", "+1 702 555 0100")  # Boise+LA; LA
    clock.set(datetime(2026, 3, 2, 16, 30, tzinfo=UTC))  # 09:30 Boise, 08:30 Los Angeles
    assert [c.id for c in engine.dial_next(campaign, 10)] == []
    clock.set(datetime(2026, 3, 3, 0, 30, tzinfo=UTC))  # 17:30 Boise, 16:30 Los Angeles
    assert [c.id for c in engine.dial_next(campaign, 10)] == [vegas]
    clock.set(datetime(2026, 3, 3, 17, 0, tzinfo=UTC))  # 10:00 Boise, 09:00 Los Angeles
    assert [c.id for c in engine.dial_next(campaign, 10)] == [idaho]


def test_a_corrected_number_is_claimed_by_its_new_zones_window(engine: Engine, clock: VirtualClock) -> None:
    campaign = new_campaign(engine, A, calling_window=CallingWindow("09:00", "17:00"), timezone="UTC")
    cid = new_contact(engine, campaign, new_phone("DE"))  # Monday 11:00 in Berlin, 05:00 in New York
    assert engine.update_phone(cid, new_phone()).zones == ("America/New_York",)
    assert engine.dial_next(campaign, 5) == []
    clock.set(datetime(2026, 3, 2, 9, 0, tzinfo=NEW_YORK))
    assert [c.id for c in engine.dial_next(campaign, 5)] == [cid]


def test_a_campaign_without_a_window_places_no_limit(engine: Engine, clock: VirtualClock) -> None:
    clock.set(datetime(2026, 3, 8, 3, 0, tzinfo=TOKYO))  # a Sunday, 03:00 at the contact
    campaign = new_campaign(engine, A, timezone="Asia/Tokyo")
    cid = new_contact(engine, campaign, {"phone": new_phone(), "timezone": "Asia/Tokyo"})
    assert [c.id for c in engine.dial_next(campaign, 5)] == [cid]
    after = engine.call_ended(cid, O.BUSY)
    assert after.next_attempt_at == clock.now + timedelta(seconds=300)


# -- days off and holidays ---------------------------------------------------------------

WORKDAYS = CallingWindow("09:00", "17:00", days="mon-fri", holidays=("2026-03-04",))


@pytest.mark.parametrize(
    ("called", "retry_at"),
    [
        pytest.param(datetime(2026, 3, 6, 16, 55), datetime(2026, 3, 9, 9, 0), id="friday-evening-to-monday"),
        pytest.param(datetime(2026, 3, 3, 16, 55), datetime(2026, 3, 5, 9, 0), id="over-a-holiday"),
        pytest.param(datetime(2026, 3, 3, 16, 54), datetime(2026, 3, 3, 16, 59), id="inside-stays"),
    ],
)
def test_a_retry_skips_days_off_and_holidays(
    engine: Engine, clock: VirtualClock, called: datetime, retry_at: datetime
) -> None:
    clock.set(called.replace(tzinfo=BERLIN))
    campaign = new_campaign(engine, A, calling_window=WORKDAYS, timezone="Europe/Berlin")
    cid = new_contact(engine, campaign, new_phone("DE"))
    assert attempt(engine, cid, O.BUSY).next_attempt_at == retry_at.replace(tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("local", "claimable"),
    [((7, 12), False), ((8, 12), False), ((4, 12), False), ((5, 12), True), ((9, 9), True)],
    ids=["saturday", "sunday", "holiday", "thursday", "monday-9"],
)
def test_claiming_skips_days_off_and_holidays(
    engine: Engine, clock: VirtualClock, local: tuple[int, int], claimable: bool
) -> None:
    campaign = new_campaign(engine, A, calling_window=WORKDAYS, timezone="Europe/Berlin")
    cid = new_contact(engine, campaign, new_phone("DE"))
    day, hour = local
    clock.set(datetime(2026, 3, day, hour, 0, tzinfo=BERLIN))
    assert [c.id for c in engine.dial_next(campaign, 1)] == ([cid] if claimable else [])


def test_a_holiday_is_a_date_in_the_contacts_own_zone(engine: Engine, clock: VirtualClock) -> None:
    window = CallingWindow("00:00", "24:00", holidays=("2026-03-04",))
    campaign = new_campaign(engine, A, calling_window=window, timezone="UTC")
    tokyo, berlin = new_contacts(engine, campaign, {"phone": new_phone(), "timezone": "Asia/Tokyo"}, new_phone("DE"))
    clock.set(datetime(2026, 3, 3, 20, 0, tzinfo=UTC))  # Wed 05:00 in Tokyo, Tue 21:00 in Berlin
    assert [c.id for c in engine.dial_next(campaign, 10)] == [berlin]
    clock.set(datetime(2026, 3, 4, 20, 0, tzinfo=UTC))  # Thu 05:00 in Tokyo, Wed 21:00 in Berlin
    assert [c.id for c in engine.dial_next(campaign, 10)] == [tokyo]


# -- daylight saving ---------------------------------------------------------------------


def test_a_window_opening_in_the_spring_forward_gap_opens_at_three(engine: Engine, clock: VirtualClock) -> None:
    """2026-03-08 in New York: 02:00 EST jumps to 03:00 EDT, so 02:30 never happens."""
    clock.set(datetime(2026, 3, 8, 6, 0, tzinfo=UTC))  # 01:00 EST
    campaign = new_campaign(engine, A, calling_window=CallingWindow("02:30", "10:00"), timezone="America/New_York")
    retried, waiting = new_contacts(engine, campaign, *new_phones(2))
    opening = datetime(2026, 3, 8, 7, 0, tzinfo=UTC)  # 03:00 EDT
    assert attempt(engine, retried, O.BUSY).next_attempt_at == opening
    clock.set(opening - timedelta(seconds=1))
    assert engine.dial_next(campaign, 5) == []
    clock.set(opening)
    assert [c.id for c in engine.dial_next(campaign, 5)] == [waiting]


def test_the_day_after_the_spring_change_opens_at_half_past_two_again(
    engine: Engine, clock: VirtualClock
) -> None:
    clock.set(datetime(2026, 3, 9, 5, 0, tzinfo=UTC))  # 01:00 EDT
    campaign = new_campaign(engine, A, calling_window=CallingWindow("02:30", "10:00"), timezone="America/New_York")
    cid = new_contact(engine, campaign)
    assert attempt(engine, cid, O.BUSY).next_attempt_at == datetime(2026, 3, 9, 2, 30, tzinfo=NEW_YORK)


def test_in_the_repeated_autumn_hour_the_window_opens_at_the_first_start(
    engine: Engine, clock: VirtualClock
) -> None:
    """2026-11-01 in New York: 01:00-02:00 happens twice (EDT, then EST)."""
    clock.set(datetime(2026, 11, 1, 5, 0, tzinfo=UTC))  # 01:00 EDT, the first pass
    campaign = new_campaign(engine, A, calling_window=CallingWindow("01:30", "09:00"), timezone="America/New_York")
    retried, waiting = new_contacts(engine, campaign, *new_phones(2))
    first_half_past_one = datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT
    assert attempt(engine, retried, O.BUSY).next_attempt_at == first_half_past_one
    clock.set(first_half_past_one - timedelta(seconds=1))
    assert engine.dial_next(campaign, 5) == []
    clock.set(datetime(2026, 11, 1, 6, 15, tzinfo=UTC))  # 01:15 EST, the second pass: still open
    assert [c.id for c in engine.dial_next(campaign, 5)] == [waiting]


def test_on_the_autumn_day_the_window_closes_at_its_end_in_standard_time(
    engine: Engine, clock: VirtualClock
) -> None:
    campaign = new_campaign(engine, A, calling_window=CallingWindow("01:30", "09:00"), timezone="America/New_York")
    first, second = new_contacts(engine, campaign, *new_phones(2))
    clock.set(datetime(2026, 11, 1, 13, 59, 59, tzinfo=UTC))  # 08:59:59 EST
    assert [c.id for c in engine.dial_next(campaign, 1)] == [first]
    clock.set(datetime(2026, 11, 1, 14, 0, tzinfo=UTC))  # 09:00 EST
    assert engine.dial_next(campaign, 1) == []
    assert engine.get_contact(second).state is S.READY
