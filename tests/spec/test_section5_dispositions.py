"""Spec section 5 (with the callback rules of section 6): every wrap-up disposition,
a campaign's own dispositions, personal callbacks, and callbacks that obey the
blacklist and the calling window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dialstate import (
    CallingWindow,
    ContactState,
    DialMode,
    Engine,
    InvalidArgument,
    RetryPolicy,
    UnknownDisposition,
)
from dialstate.testing import VirtualClock
from tests.support import assert_history_continuous, contact_record, new_campaign, new_contact, new_phone, walk_to

S = ContactState
BERLIN = ZoneInfo("Europe/Berlin")


def in_wrap_up(engine: Engine, campaign_id: int, phone: str | None = None, operator: str = "op1") -> int:
    """A new contact of the campaign (a Berlin number unless `phone`), called by
    `operator` and now in after-call work."""
    return walk_to(engine, campaign_id, S.AFTER_CALL_WORK, phone=phone or new_phone("DE"), operator=operator)


# The default dispositions of section 5 that need no time: (disposition, state reached,
# retry delay or None). `retry` waits the policy's delay for no_answer (1800 s).
DEFAULTS = [
    ("success", S.SUCCESS, None),
    ("not_interested", S.SUCCESS, None),
    ("retry", S.RETRY_SCHEDULED, 1800),
    ("do_not_call", S.BLACKLISTED, None),
    ("wrong_number", S.INVALID_RECORD, None),
]


@pytest.mark.parametrize(("disposition", "state", "delay"), DEFAULTS, ids=[d[0] for d in DEFAULTS])
def test_each_default_disposition_leads_where_its_meaning_says(
    engine: Engine, clock: VirtualClock, disposition: str, state: ContactState, delay: int | None
) -> None:
    cid = in_wrap_up(engine, new_campaign(engine))
    after = engine.wrap_up(cid, disposition)
    assert after.state is state
    assert after.next_attempt_at == (None if delay is None else clock.now + timedelta(seconds=delay))
    if state is S.RETRY_SCHEDULED:
        assert after.operator_id is None  # a retry is offered to anyone
    last = engine.history(cid)[-1]
    assert (last.trigger, last.to_state) == ("wrap_up", state)
    assert disposition in (last.note or "")
    assert_history_continuous(engine, cid)


def test_a_callback_is_scheduled_at_callback_at(engine: Engine, clock: VirtualClock) -> None:
    cid = in_wrap_up(engine, new_campaign(engine))
    when = clock.now + timedelta(hours=26)
    after = engine.wrap_up(cid, "callback", callback_at=when)
    assert (after.state, after.next_attempt_at) == (S.RETRY_SCHEDULED, when)
    clock.set(when - timedelta(seconds=1))
    assert engine.fire_due() == []
    clock.set(when)
    (fired,) = engine.fire_due()
    assert (fired.id, fired.state) == (cid, S.READY)
    assert_history_continuous(engine, cid)


def test_a_callback_given_in_another_zone_is_the_same_instant(engine: Engine, clock: VirtualClock) -> None:
    cid = in_wrap_up(engine, new_campaign(engine))
    local = datetime(2026, 3, 3, 15, 30, tzinfo=BERLIN)
    after = engine.wrap_up(cid, "callback", callback_at=local)
    assert after.next_attempt_at == local.astimezone(UTC)
    assert after.next_attempt_at.tzinfo is not None and after.next_attempt_at.utcoffset() == timedelta(0)


def test_a_callback_without_callback_at_is_refused_and_changes_nothing(engine: Engine) -> None:
    cid = in_wrap_up(engine, new_campaign(engine))
    before = contact_record(engine, cid)
    with pytest.raises(InvalidArgument, match="callback_at"):
        engine.wrap_up(cid, "callback")
    assert contact_record(engine, cid) == before


def test_a_naive_callback_at_is_refused(engine: Engine) -> None:
    cid = in_wrap_up(engine, new_campaign(engine))
    with pytest.raises(InvalidArgument, match="aware"):
        engine.wrap_up(cid, "callback", callback_at=datetime(2026, 3, 3, 12, 0))
    assert engine.get_contact(cid).state is S.AFTER_CALL_WORK


def test_do_not_call_blacklists_the_number_everywhere(engine: Engine) -> None:
    """Other contacts with the number, in other campaigns, move to `blacklisted` too;
    one in a call keeps it and ends blacklisted."""
    phone = new_phone("DE")
    here = new_campaign(engine)
    elsewhere = new_campaign(engine, name="other")
    cid = in_wrap_up(engine, here, phone)
    waiting = new_contact(engine, elsewhere, phone)
    retrying = walk_to(engine, DialMode.AGENTLESS, S.RETRY_SCHEDULED, phone=phone)
    unrelated = new_contact(engine, elsewhere, new_phone("DE"))
    in_call = in_wrap_up(engine, new_campaign(engine, name="third"), phone, "op2")

    assert engine.wrap_up(cid, "do_not_call").state is S.BLACKLISTED
    assert [p for p, _ in engine.blacklist()] == [engine.get_contact(cid).phone]
    assert engine.get_contact(waiting).state is S.BLACKLISTED
    moved = engine.get_contact(retrying)
    assert (moved.state, moved.next_attempt_at) == (S.BLACKLISTED, None)
    assert engine.get_contact(unrelated).state is S.READY
    assert engine.get_contact(in_call).state is S.AFTER_CALL_WORK
    assert engine.wrap_up(in_call, "retry").state is S.BLACKLISTED
    for c in (cid, waiting, retrying, unrelated, in_call):
        assert_history_continuous(engine, c)


def test_a_retry_disposition_on_the_last_allowed_attempt_exhausts_the_contact(engine: Engine) -> None:
    cid = in_wrap_up(engine, new_campaign(engine, retry_policy=RetryPolicy(max_attempts=1)))
    after = engine.wrap_up(cid, "retry")
    assert (after.state, after.next_attempt_at) == (S.EXHAUSTED, None)


def test_a_campaigns_own_dispositions_map_to_their_meanings(engine: Engine) -> None:
    campaign = new_campaign(engine, dispositions={"sale": "success", "dead": "final"})
    sale, dead, default = (in_wrap_up(engine, campaign) for _ in range(3))
    assert engine.wrap_up(sale, "sale").state is S.SUCCESS
    assert engine.wrap_up(dead, "dead").state is S.EXHAUSTED
    assert engine.wrap_up(default, "not_interested").state is S.SUCCESS  # the defaults stay


def test_an_unknown_disposition_lists_the_allowed_ones_and_changes_nothing(engine: Engine) -> None:
    campaign = new_campaign(engine, dispositions={"sale": "success", "dead": "final"})
    cid = in_wrap_up(engine, campaign)
    before = contact_record(engine, cid)
    with pytest.raises(UnknownDisposition) as info:
        engine.wrap_up(cid, "maybe_later")
    err = info.value
    allowed = {"success", "not_interested", "callback", "retry", "do_not_call", "wrong_number", "sale", "dead"}
    assert set(err.allowed) == allowed
    assert (err.disposition, err.contact_id) == ("maybe_later", cid)
    assert all(name in str(err) for name in allowed) and "maybe_later" in str(err)
    assert contact_record(engine, cid) == before


def test_another_campaigns_disposition_is_unknown_here(engine: Engine) -> None:
    new_campaign(engine, dispositions={"sale": "success"})
    cid = in_wrap_up(engine, new_campaign(engine))
    with pytest.raises(UnknownDisposition):
        engine.wrap_up(cid, "sale")
    assert engine.get_contact(cid).state is S.AFTER_CALL_WORK


@pytest.mark.parametrize(("default", "state"), [("success", S.SUCCESS), ("dead", S.EXHAUSTED)])
def test_timed_out_after_call_work_is_wrapped_up_with_the_default_disposition(
    engine: Engine, clock: VirtualClock, default: str, state: ContactState
) -> None:
    campaign = new_campaign(engine, dispositions={"dead": "final"}, default_disposition=default,
                            after_call_work_seconds=120)
    cid = in_wrap_up(engine, campaign)
    clock.advance(119)
    assert engine.fire_due() == []
    clock.advance(1)
    (fired,) = engine.fire_due()
    assert (fired.id, fired.state) == (cid, state)
    assert f"disposition {default}" in (engine.history(cid)[-1].note or "")


# -- personal callbacks -------------------------------------------------------------------


def personal_callback(engine: Engine, clock: VirtualClock, grace: float = 900) -> tuple[int, int, datetime]:
    """op1 sets a personal callback in one hour; returns (campaign, contact, its time)."""
    campaign = new_campaign(engine, callback_grace_seconds=grace)
    cid = in_wrap_up(engine, campaign, operator="op1")
    when = clock.now + timedelta(hours=1)
    after = engine.wrap_up(cid, "callback", callback_at=when, personal=True)
    assert after.callback_operator_id == "op1"
    return campaign, cid, when


def test_a_personal_callback_is_offered_only_to_its_operator_within_the_grace(
    engine: Engine, clock: VirtualClock
) -> None:
    campaign_id, cid, when = personal_callback(engine, clock)
    clock.set(when)
    engine.fire_due()
    assert engine.get_contact(cid).state is S.READY
    assert engine.assign_next(campaign_id, "op2") is None
    clock.set(when + timedelta(seconds=899))
    engine.fire_due()
    assert engine.assign_next(campaign_id, "op2") is None
    taken = engine.assign_next(campaign_id, "op1")
    assert taken is not None and (taken.id, taken.operator_id) == (cid, "op1")
    assert_history_continuous(engine, cid)


def test_a_personal_callback_is_offered_to_anyone_once_the_grace_has_passed(
    engine: Engine, clock: VirtualClock
) -> None:
    campaign_id, cid, when = personal_callback(engine, clock, grace=600)
    clock.set(when)
    engine.fire_due()
    assert engine.assign_next(campaign_id, "op2") is None
    clock.set(when + timedelta(seconds=600))
    taken = engine.assign_next(campaign_id, "op2")
    assert taken is not None and (taken.id, taken.operator_id) == (cid, "op2")


def test_the_scheduler_releases_an_unclaimed_personal_callback_after_the_grace(
    engine: Engine, clock: VirtualClock
) -> None:
    campaign_id, cid, when = personal_callback(engine, clock, grace=600)
    clock.set(when)
    engine.fire_due()
    clock.set(when + timedelta(seconds=600))
    engine.fire_due()
    assert engine.get_contact(cid).callback_operator_id is None
    assert engine.get_contact(cid).state is S.READY
    assert engine.assign_next(campaign_id, "op2").id == cid  # type: ignore[union-attr]


def test_a_personal_callback_does_not_hold_back_other_contacts_from_other_operators(
    engine: Engine, clock: VirtualClock
) -> None:
    campaign_id, cid, when = personal_callback(engine, clock)
    other = new_contact(engine, campaign_id, new_phone("DE"))
    clock.set(when)
    engine.fire_due()
    taken = engine.assign_next(campaign_id, "op2")
    assert taken is not None and taken.id == other
    assert engine.assign_next(campaign_id, "op2") is None
    assert engine.get_contact(cid).state is S.READY


def test_a_callback_that_is_not_personal_goes_to_any_operator(engine: Engine, clock: VirtualClock) -> None:
    campaign = new_campaign(engine)
    cid = in_wrap_up(engine, campaign, operator="op1")
    when = clock.now + timedelta(hours=1)
    assert engine.wrap_up(cid, "callback", callback_at=when).callback_operator_id is None
    clock.set(when)
    engine.fire_due()
    assert engine.assign_next(campaign, "op2").id == cid  # type: ignore[union-attr]


# -- callbacks obey the blacklist and the calling window ------------------------------------


def test_a_scheduled_callback_to_a_number_blacklisted_later_is_never_offered(
    engine: Engine, clock: VirtualClock
) -> None:
    campaign = new_campaign(engine)
    cid = in_wrap_up(engine, campaign)
    when = clock.now + timedelta(hours=1)
    engine.wrap_up(cid, "callback", callback_at=when, personal=True)
    engine.blacklist_phone(engine.get_contact(cid).phone)
    after = engine.get_contact(cid)
    assert (after.state, after.next_attempt_at) == (S.BLACKLISTED, None)
    clock.set(when + timedelta(hours=1))
    engine.fire_due()
    assert engine.assign_next(campaign, "op1") is None
    assert_history_continuous(engine, cid)


def test_a_callback_asked_for_a_number_blacklisted_during_the_call_is_blacklisted(
    engine: Engine, clock: VirtualClock
) -> None:
    cid = in_wrap_up(engine, new_campaign(engine))
    engine.blacklist_phone(engine.get_contact(cid).phone)
    assert engine.get_contact(cid).state is S.AFTER_CALL_WORK  # the call's wrap-up goes on
    after = engine.wrap_up(cid, "callback", callback_at=clock.now + timedelta(hours=1))
    assert (after.state, after.next_attempt_at) == (S.BLACKLISTED, None)


def test_a_callback_set_for_23_local_moves_to_the_next_opening(engine: Engine, clock: VirtualClock) -> None:
    campaign = new_campaign(engine, calling_window=CallingWindow("09:00", "21:00"), timezone="Europe/Berlin")
    cid = in_wrap_up(engine, campaign)  # a Berlin number
    late = datetime(2026, 3, 2, 23, 0, tzinfo=BERLIN)
    after = engine.wrap_up(cid, "callback", callback_at=late)
    assert after.next_attempt_at == datetime(2026, 3, 3, 9, 0, tzinfo=BERLIN)


def test_a_personal_callback_moved_by_the_window_keeps_its_grace_from_the_new_time(
    engine: Engine, clock: VirtualClock
) -> None:
    campaign = new_campaign(engine, calling_window=CallingWindow("09:00", "21:00"), timezone="Europe/Berlin",
                            callback_grace_seconds=900)
    cid = in_wrap_up(engine, campaign, operator="op1")
    engine.wrap_up(cid, "callback", callback_at=datetime(2026, 3, 2, 23, 0, tzinfo=BERLIN), personal=True)
    opening = datetime(2026, 3, 3, 9, 0, tzinfo=BERLIN)
    clock.set(opening + timedelta(seconds=899))
    engine.fire_due()
    assert engine.assign_next(campaign, "op2") is None
    clock.set(opening + timedelta(seconds=900))
    assert engine.assign_next(campaign, "op2").id == cid  # type: ignore[union-attr]


def test_a_callback_inside_the_window_keeps_its_time(engine: Engine, clock: VirtualClock) -> None:
    campaign = new_campaign(engine, calling_window=CallingWindow("09:00", "21:00"), timezone="Europe/Berlin")
    cid = in_wrap_up(engine, campaign)
    evening = datetime(2026, 3, 2, 20, 59, tzinfo=BERLIN)
    assert engine.wrap_up(cid, "callback", callback_at=evening).next_attempt_at == evening
