"""Spec section 12 through the engine: every path that starts or prepares a call (dial,
assign_operator, the countdown dial, callbacks, retries, claims) obeys the campaign's
status, the blacklist, the calling window and the retry policy's caps; the direct
calls raise `NotCallable` and change nothing; an override passes the window and the
caps only; `why_not` explains, and its `next_allowed_at` holds across DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dialstate import (
    CallingWindow,
    ContactState,
    DialMode,
    Engine,
    InvalidTransition,
    NotCallable,
    Outcome,
    RetryPolicy,
)
from dialstate.testing import VirtualClock
from tests.support import contact_record, new_campaign, new_contact, new_phone, walk_to

S = ContactState
P, G, D, A = DialMode.PREVIEW, DialMode.PROGRESSIVE, DialMode.PREDICTIVE, DialMode.AGENTLESS
NEW_YORK, BERLIN = ZoneInfo("America/New_York"), ZoneInfo("Europe/Berlin")
#: 09:00-20:00 where the test numbers (New York's) are.
DAYTIME = CallingWindow("09:00", "20:00")
#: Monday 10:00 in New York: the window is open.
OPEN = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
#: Monday 21:00 in New York: closed until Tuesday 09:00 (14:00 UTC).
CLOSED = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)
REOPENS = datetime(2026, 3, 3, 14, 0, tzinfo=UTC)
OVERRIDE = "the customer asked for a call at 21:30"

#: Where `dial` applies in each mode: the state a contact is brought to first.
DIALS_FROM = {P: S.BEFORE_CALL_WORK, G: S.BEFORE_CALL_WORK, D: S.READY, A: S.READY}
ALL_MODES = pytest.mark.parametrize("mode", [P, G, D, A], ids=lambda m: m.value)
ASSIGNING_MODES = pytest.mark.parametrize("mode", [P, G], ids=lambda m: m.value)


def ready_to_dial(engine: Engine, clock: VirtualClock, mode: DialMode, **settings: object) -> int:
    """A contact of a new campaign of `mode` (window `DAYTIME` unless told), brought,
    while the window is open, to where `dial` applies."""
    clock.set(OPEN)
    settings.setdefault("calling_window", DAYTIME)
    campaign = new_campaign(engine, mode, timezone="America/New_York", default_region="US", **settings)
    return walk_to(engine, campaign, DIALS_FROM[mode])


def refused(engine: Engine, contact_id: int, call: object, *codes: str) -> NotCallable:
    """Runs `call` (no arguments), which must raise `NotCallable` naming exactly `codes`
    and leave the contact and its history as they were."""
    before = contact_record(engine, contact_id)
    with pytest.raises(NotCallable) as caught:
        call()  # type: ignore[operator]
    assert caught.value.contact_id == contact_id
    assert sorted(r.code for r in caught.value.reasons) == sorted(codes), caught.value.reasons
    assert all(r.text for r in caught.value.reasons)
    assert contact_record(engine, contact_id) == before
    return caught.value


# -- the direct calls ----------------------------------------------------------------------


@ALL_MODES
def test_dial_outside_the_window_raises_not_callable_with_the_reopening_and_changes_nothing(
        engine: Engine, clock: VirtualClock, mode: DialMode) -> None:
    cid = ready_to_dial(engine, clock, mode)
    clock.set(CLOSED)
    error = refused(engine, cid, lambda: engine.dial(cid), "outside_window")
    assert error.next_allowed_at == REOPENS
    assert "America/New_York" in error.reasons[0].text


@ALL_MODES
def test_dial_on_a_paused_campaign_raises_with_no_time_and_an_override_does_not_pass(
        engine: Engine, clock: VirtualClock, mode: DialMode) -> None:
    cid = ready_to_dial(engine, clock, mode)
    engine.pause_campaign(engine.get_contact(cid).campaign_id)
    assert refused(engine, cid, lambda: engine.dial(cid), "campaign_paused").next_allowed_at is None
    refused(engine, cid, lambda: engine.dial(cid, override=OVERRIDE), "campaign_paused")
    engine.resume_campaign(engine.get_contact(cid).campaign_id)
    assert engine.dial(cid).state is S.DIALING


@ALL_MODES
def test_paused_and_outside_the_window_name_both_reasons(engine: Engine, clock: VirtualClock,
                                                          mode: DialMode) -> None:
    cid = ready_to_dial(engine, clock, mode)
    engine.pause_campaign(engine.get_contact(cid).campaign_id)
    clock.set(CLOSED)
    assert refused(engine, cid, lambda: engine.dial(cid), "campaign_paused", "outside_window").next_allowed_at is None


@ALL_MODES
def test_an_override_dials_outside_the_window_and_the_dialing_entry_keeps_its_words_and_actor(
        engine: Engine, clock: VirtualClock, mode: DialMode) -> None:
    cid = ready_to_dial(engine, clock, mode)
    clock.set(CLOSED)
    assert engine.dial(cid, override=OVERRIDE, actor="supervisor-7").state is S.DIALING
    entry = engine.history(cid)[-1]
    assert (entry.trigger, entry.to_state, entry.actor) == ("dial", S.DIALING, "supervisor-7")
    assert OVERRIDE in (entry.note or "")


CAPPED = RetryPolicy(max_attempts=10, delays={Outcome.BUSY: 60}, rolling_limits=[(1, timedelta(hours=24))])


def capped_after_one_call(engine: Engine, clock: VirtualClock, mode: DialMode) -> int:
    """A contact called once (busy) under a cap of one attempt a day, brought back to
    `ready` by hand five minutes later."""
    cid = ready_to_dial(engine, clock, mode, calling_window=None, retry_policy=CAPPED)
    engine.dial(cid)
    engine.call_ended(cid, Outcome.BUSY)
    clock.advance(minutes=5)
    engine.fire_due()
    contact = engine.get_contact(cid)
    assert contact.state is S.RETRY_SCHEDULED  # the cap holds the retry back a day
    assert contact.next_attempt_at == OPEN + timedelta(hours=24)
    engine.retry_due(cid)
    return cid


@pytest.mark.parametrize("mode", [D, A], ids=lambda m: m.value)
def test_an_override_passes_the_rolling_cap_which_otherwise_refuses_the_dial(engine: Engine, clock: VirtualClock,
                                                                             mode: DialMode) -> None:
    cid = capped_after_one_call(engine, clock, mode)
    error = refused(engine, cid, lambda: engine.dial(cid), "rolling_limit")
    assert error.next_allowed_at == OPEN + timedelta(hours=24)
    assert "1 attempt in 1 day" in error.reasons[0].text
    assert engine.dial(cid, override=OVERRIDE).state is S.DIALING


@ASSIGNING_MODES
def test_the_rolling_cap_refuses_the_assignment_until_it_frees(engine: Engine, clock: VirtualClock,
                                                               mode: DialMode) -> None:
    cid = capped_after_one_call(engine, clock, mode)
    error = refused(engine, cid, lambda: engine.assign_operator(cid, "op1"), "rolling_limit")
    assert error.next_allowed_at == OPEN + timedelta(hours=24)
    clock.set(OPEN + timedelta(hours=24))
    assert engine.assign_operator(cid, "op1").state is S.OPERATOR_ASSIGNED


@ALL_MODES
def test_a_trigger_that_does_not_fit_the_state_raises_invalid_transition_before_the_rules(
        engine: Engine, clock: VirtualClock, mode: DialMode) -> None:
    clock.set(OPEN)
    campaign = new_campaign(engine, mode, timezone="America/New_York", default_region="US", calling_window=DAYTIME)
    done = walk_to(engine, campaign, S.RETRY_SCHEDULED)
    engine.pause_campaign(campaign)
    clock.set(CLOSED)
    with pytest.raises(InvalidTransition):
        engine.dial(done)


@ALL_MODES
def test_a_blacklisted_number_is_parked_so_dial_is_refused_and_why_not_says_so_for_good(
        engine: Engine, clock: VirtualClock, mode: DialMode) -> None:
    cid = ready_to_dial(engine, clock, mode)
    engine.blacklist_phone(engine.get_contact(cid).phone, "asked not to be called")
    assert engine.get_contact(cid).state is S.BLACKLISTED
    with pytest.raises(InvalidTransition):
        engine.dial(cid, override=OVERRIDE)
    verdict = engine.why_not(cid)
    assert not verdict.callable and verdict.next_allowed_at is None
    assert {r.code for r in verdict.reasons} == {"not_ready", "blacklisted"}


@ASSIGNING_MODES
def test_assign_operator_outside_the_window_or_paused_raises_and_changes_nothing(
        engine: Engine, clock: VirtualClock, mode: DialMode) -> None:
    clock.set(CLOSED)
    campaign = new_campaign(engine, mode, timezone="America/New_York", default_region="US", calling_window=DAYTIME)
    cid = new_contact(engine, campaign)
    error = refused(engine, cid, lambda: engine.assign_operator(cid, "op1"), "outside_window")
    assert error.next_allowed_at == REOPENS
    clock.set(REOPENS)
    engine.pause_campaign(campaign)
    refused(engine, cid, lambda: engine.assign_operator(cid, "op1"), "campaign_paused")
    engine.resume_campaign(campaign)
    assert engine.assign_operator(cid, "op1").state is S.OPERATOR_ASSIGNED


# -- the scheduler's paths ----------------------------------------------------------------


@ASSIGNING_MODES
def test_a_countdown_that_ends_after_the_window_closed_releases_the_contact_with_the_reason(
        engine: Engine, clock: VirtualClock, mode: DialMode) -> None:
    clock.set(CLOSED - timedelta(seconds=10))  # 20:59:50 in New York
    campaign = new_campaign(engine, mode, timezone="America/New_York", default_region="US",
                            calling_window=CallingWindow("09:00", "21:00"))
    cid = walk_to(engine, campaign, S.BEFORE_CALL_WORK)
    clock.advance(seconds=40)  # the 30 s countdown ends at 21:00:20
    engine.fire_due()
    contact = engine.get_contact(cid)
    assert contact.state is S.READY and contact.operator_id is None
    entry = engine.history(cid)[-1]
    assert (entry.trigger, entry.from_state, entry.to_state) == ("release", S.BEFORE_CALL_WORK, S.READY)
    assert "calling window" in (entry.note or "")
    assert not [e for e in engine.history(cid) if e.to_state is S.DIALING]


@ASSIGNING_MODES
def test_a_countdown_that_ends_on_a_paused_campaign_releases_the_contact(
        engine: Engine, clock: VirtualClock, mode: DialMode) -> None:
    cid = ready_to_dial(engine, clock, mode)
    engine.pause_campaign(engine.get_contact(cid).campaign_id)
    clock.advance(seconds=31)
    engine.fire_due()
    assert engine.get_contact(cid).state is S.READY
    assert "paused" in (engine.history(cid)[-1].note or "")


@ASSIGNING_MODES
def test_a_countdown_that_ends_inside_the_window_dials(engine: Engine, clock: VirtualClock, mode: DialMode) -> None:
    cid = ready_to_dial(engine, clock, mode)
    clock.advance(seconds=31)
    engine.fire_due()
    assert engine.get_contact(cid).state is S.DIALING


@ALL_MODES
def test_a_retry_due_at_night_comes_due_when_the_window_opens(engine: Engine, clock: VirtualClock,
                                                              mode: DialMode) -> None:
    clock.set(CLOSED - timedelta(hours=1, minutes=30))  # 19:30 in New York
    campaign = new_campaign(engine, mode, timezone="America/New_York", default_region="US",
                            calling_window=DAYTIME, retry_policy=RetryPolicy(delays={Outcome.BUSY: 3600}))
    cid = walk_to(engine, campaign, S.DIALING)
    contact = engine.call_ended(cid, Outcome.BUSY)
    assert contact.next_attempt_at == REOPENS  # 20:30 would be after hours
    clock.set(REOPENS - timedelta(minutes=1))
    engine.fire_due()
    assert engine.get_contact(cid).state is S.RETRY_SCHEDULED
    clock.set(REOPENS)
    engine.fire_due()
    assert engine.get_contact(cid).state is S.READY


@ASSIGNING_MODES
def test_a_callback_asked_for_the_night_is_moved_to_the_morning(engine: Engine, clock: VirtualClock,
                                                                mode: DialMode) -> None:
    clock.set(OPEN)
    campaign = new_campaign(engine, mode, timezone="America/New_York", default_region="US", calling_window=DAYTIME)
    cid = walk_to(engine, campaign, S.AFTER_CALL_WORK)
    at_night = datetime(2026, 3, 2, 23, 30, tzinfo=NEW_YORK)
    contact = engine.wrap_up(cid, "callback", callback_at=at_night)
    assert contact.next_attempt_at == REOPENS


@ALL_MODES
def test_a_retry_due_on_a_paused_campaign_goes_to_ready_where_claims_skip_it_until_resumed(
        engine: Engine, clock: VirtualClock, mode: DialMode) -> None:
    clock.set(OPEN)
    campaign = new_campaign(engine, mode, timezone="America/New_York", default_region="US", calling_window=DAYTIME,
                            retry_policy=RetryPolicy(delays={Outcome.BUSY: 600}))
    cid = walk_to(engine, campaign, S.RETRY_SCHEDULED)
    engine.pause_campaign(campaign)
    clock.advance(minutes=11)
    engine.fire_due()
    assert engine.get_contact(cid).state is S.READY
    assert claim(engine, campaign, mode) is None
    engine.resume_campaign(campaign)
    claimed = claim(engine, campaign, mode)
    assert claimed is not None and claimed.id == cid


@ALL_MODES
def test_claims_take_nobody_outside_the_window_and_the_waiting_contact_when_it_opens(
        engine: Engine, clock: VirtualClock, mode: DialMode) -> None:
    clock.set(CLOSED)
    campaign = new_campaign(engine, mode, timezone="America/New_York", default_region="US", calling_window=DAYTIME)
    cid = new_contact(engine, campaign)
    assert claim(engine, campaign, mode) is None
    clock.set(REOPENS)
    claimed = claim(engine, campaign, mode)
    assert claimed is not None and claimed.id == cid


def claim(engine: Engine, campaign: int, mode: DialMode) -> object:
    if mode in (P, G):
        return engine.assign_next(campaign, "op1")
    dialed = engine.dial_next(campaign, 5)
    return dialed[0] if dialed else None


# -- why_not --------------------------------------------------------------------------------


def test_why_not_names_every_reason_and_is_callable_where_nothing_blocks(engine: Engine,
                                                                         clock: VirtualClock) -> None:
    cid = ready_to_dial(engine, clock, A)
    assert engine.why_not(cid).callable and engine.why_not(cid).reasons == ()
    night = engine.why_not(cid, at=CLOSED)
    assert not night.callable and [r.code for r in night.reasons] == ["outside_window"]
    assert night.next_allowed_at == REOPENS
    engine.pause_campaign(engine.get_contact(cid).campaign_id)
    paused = engine.why_not(cid, at=CLOSED)
    assert {r.code for r in paused.reasons} == {"campaign_paused", "outside_window"}
    assert paused.next_allowed_at is None


def test_why_not_of_a_number_blacklisted_until_a_time_gives_the_first_open_time_after_it(
        engine: Engine, clock: VirtualClock) -> None:
    cid = ready_to_dial(engine, clock, A)
    phone = engine.get_contact(cid).phone
    # Until Monday 22:00 in New York: the window opens again on Tuesday at 09:00.
    engine.blacklist_phone(phone, "a complaint under review", expires_at=CLOSED + timedelta(hours=1))
    verdict = engine.why_not(cid)
    assert {r.code for r in verdict.reasons} == {"not_ready", "blacklisted"}
    assert verdict.next_allowed_at == REOPENS


# Instants around the daylight-saving changes of 2026 in New York (Mar 8, Nov 1),
# Berlin (Mar 29, Oct 25) and Sydney (Apr 5, Oct 4), and in Kolkata (none).
DST_CASES = [
    ("+1 212 555 0100", "America/New_York", datetime(2026, 3, 7, 23, 0)),
    ("+1 212 555 0100", "America/New_York", datetime(2026, 3, 8, 1, 30)),
    ("+1 212 555 0100", "America/New_York", datetime(2026, 3, 8, 3, 30)),
    ("+1 212 555 0100", "America/New_York", datetime(2026, 10, 31, 22, 0)),
    ("+1 212 555 0100", "America/New_York", datetime(2026, 11, 1, 1, 30)),
    ("+49 30 9400100", "Europe/Berlin", datetime(2026, 3, 28, 21, 0)),
    ("+49 30 9400100", "Europe/Berlin", datetime(2026, 3, 29, 1, 59)),
    ("+49 30 9400100", "Europe/Berlin", datetime(2026, 10, 24, 23, 0)),
    ("+49 30 9400100", "Europe/Berlin", datetime(2026, 10, 25, 2, 30)),
    ("+61 2 9374 4000", "Australia/Sydney", datetime(2026, 4, 4, 22, 0)),
    ("+61 2 9374 4000", "Australia/Sydney", datetime(2026, 10, 3, 23, 0)),
    ("+91 11 2345 6789", "Asia/Kolkata", datetime(2026, 3, 29, 3, 0)),
]
WINDOWS = [CallingWindow("09:00", "20:00"), CallingWindow("02:30", "05:00"), CallingWindow("01:00", "03:00")]


@pytest.mark.parametrize("window", WINDOWS, ids=lambda w: f"{w.start}-{w.end}")
@pytest.mark.parametrize(("phone", "zone", "local"), DST_CASES, ids=lambda v: str(v))
def test_why_not_gives_the_earliest_open_instant_across_dst_changes(sqlite_engine: Engine, clock: VirtualClock,
                                                                    window: CallingWindow, phone: str, zone: str,
                                                                    local: datetime) -> None:
    engine = sqlite_engine
    tz = ZoneInfo(zone)
    campaign = new_campaign(engine, A, timezone=zone, calling_window=window)
    (cid,) = engine.add_contacts(campaign, [phone]).contact_ids
    at = local.replace(tzinfo=tz).astimezone(UTC)
    verdict = engine.why_not(cid, at=at)
    if verdict.callable:
        assert window.is_open([zone], at)
        return
    opens = verdict.next_allowed_at
    assert opens is not None and opens > at
    assert engine.why_not(cid, at=opens).callable, f"not callable at its own next_allowed_at {opens}"
    # Earliest: every minute before it (from `at`) is closed.
    t = at
    while t < opens:
        assert not engine.why_not(cid, at=t).callable, f"callable at {t}, before next_allowed_at {opens}"
        t += timedelta(minutes=30) if opens - t > timedelta(hours=1) else timedelta(minutes=1)
    start = datetime.strptime(window.start, "%H:%M").time()
    local_open = opens.astimezone(tz)
    if local_open.time() != start:  # only where the start does not exist that day (a spring gap)
        gap_day = local_open.replace(hour=start.hour, minute=start.minute, fold=0)
        assert gap_day.astimezone(UTC).astimezone(tz).time() != start, (local_open, window.start)


def test_why_not_of_an_unknown_contact_and_with_a_naive_time_raise(engine: Engine, clock: VirtualClock) -> None:
    from dialstate import ContactNotFound, InvalidArgument

    cid = new_contact(engine, new_campaign(engine, A), new_phone())
    with pytest.raises(ContactNotFound):
        engine.why_not(cid + 1000)
    with pytest.raises(InvalidArgument):
        engine.why_not(cid, at=datetime(2026, 3, 2, 10, 0))
