"""Spec section 12 as a property: whatever the API calls and however the clock moves,
no `dialing` entry falls outside the contact's calling window unless it carries an
override, and none is made while the campaign is paused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialstate import CallingWindow, ContactState, DialMode, DialstateError, Outcome, RetryPolicy
from dialstate.testing import VirtualClock, memory_engine

S = ContactState
OVERRIDE = "OVERRIDE: the customer asked for this time"
WINDOW = CallingWindow("09:00", "20:00", days="mon-fri")
#: One number per zone, so each contact's window is checked in one known zone.
NUMBERS = {
    "+1 212 555 0142": "America/New_York",
    "+1 323 555 0199": "America/Los_Angeles",
    "+49 30 9400142": "Europe/Berlin",
    "+81 3 3201 4142": "Asia/Tokyo",
}
MODES = list(DialMode)
OUTCOMES = [Outcome.BUSY, Outcome.NO_ANSWER, Outcome.COMPLETED, Outcome.VOICEMAIL, Outcome.CONGESTION]
DISPOSITIONS = ["retry", "callback", "success", "do_not_call"]

contact_index = st.integers(0, len(MODES) * len(NUMBERS) - 1)
campaign_index = st.integers(0, len(MODES) - 1)
operation = st.one_of(
    st.tuples(st.just("advance"), st.integers(1, 16 * 60)),
    st.tuples(st.just("dial_next"), campaign_index),
    st.tuples(st.just("assign_next"), campaign_index),
    st.tuples(st.just("assign"), contact_index),
    st.tuples(st.just("accept"), contact_index),
    st.tuples(st.just("dial"), contact_index, st.booleans()),
    st.tuples(st.just("answered"), contact_index),
    st.tuples(st.just("end"), contact_index, st.sampled_from(OUTCOMES)),
    st.tuples(st.just("wrap_up"), contact_index, st.sampled_from(DISPOSITIONS), st.integers(0, 48 * 60)),
    st.tuples(st.just("fire_due"),),
    st.tuples(st.just("pause"), campaign_index),
    st.tuples(st.just("resume"), campaign_index),
    st.tuples(st.just("blacklist"), contact_index, st.integers(1, 24 * 60)),
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(start_minutes=st.integers(0, 7 * 24 * 60), ops=st.lists(operation, max_size=40))
def test_no_dialing_entry_outside_the_window_unless_overridden_nor_while_paused(start_minutes: int,
                                                                                ops: list[tuple]) -> None:
    clock = VirtualClock(datetime(2026, 3, 2, tzinfo=UTC) + timedelta(minutes=start_minutes))
    engine = memory_engine(clock)
    try:
        policy = RetryPolicy(max_attempts=5, delays={Outcome.BUSY: 600, Outcome.NO_ANSWER: 1800})
        campaigns = [engine.create_campaign(f"c{i}", mode=mode, calling_window=WINDOW, retry_policy=policy,
                                            timezone="Europe/Berlin").id for i, mode in enumerate(MODES)]
        contacts: list[tuple[int, str, str]] = []  # (id, phone, zone)
        for campaign in campaigns:
            ids = engine.add_contacts(campaign, list(NUMBERS)).contact_ids
            contacts.extend(zip(ids, NUMBERS, NUMBERS.values(), strict=True))
        zone_of = {cid: zone for cid, _, zone in contacts}
        paused: set[int] = set()
        position = max(e.position for e in engine.events(0, 1000))
        for op in ops:
            _run(engine, clock, campaigns, contacts, paused, op)
            for event in engine.events(position, 1000):  # what this operation did
                position = event.position
                entry = event.entry
                if entry.to_state is not S.DIALING:
                    continue
                zone = zone_of[event.contact.id]
                assert OVERRIDE in (entry.note or "") or WINDOW.is_open([zone], entry.at), (
                    f"{op}: contact {event.contact.id} dialed at {entry.at} ({zone}) outside {WINDOW}: {entry}")
                assert event.contact.campaign_id not in paused, f"{op}: dialed on a paused campaign: {entry}"
    finally:
        engine.close()


def _run(engine, clock, campaigns, contacts, paused, op) -> None:  # type: ignore[no-untyped-def]
    kind = op[0]
    try:
        if kind == "advance":
            clock.advance(minutes=op[1])
        elif kind == "fire_due":
            engine.fire_due()
        elif kind == "dial_next":
            engine.dial_next(campaigns[op[1]], 3)
        elif kind == "assign_next":
            engine.assign_next(campaigns[op[1]], "op1")
        elif kind == "pause":
            engine.pause_campaign(campaigns[op[1]])
            paused.add(campaigns[op[1]])
        elif kind == "resume":
            engine.resume_campaign(campaigns[op[1]])
            paused.discard(campaigns[op[1]])
        else:
            cid, phone, _ = contacts[op[1]]
            if kind == "assign":
                engine.assign_operator(cid, "op2")
            elif kind == "accept":
                engine.accept(cid)
            elif kind == "dial":
                engine.dial(cid, override=OVERRIDE if op[2] else None)
            elif kind == "answered":
                engine.answered(cid, operator_id="op1")
            elif kind == "end":
                engine.call_ended(cid, op[2])
            elif kind == "wrap_up":
                callback = clock.now + timedelta(minutes=op[3]) if op[2] == "callback" else None
                engine.wrap_up(cid, op[2], callback_at=callback)
            elif kind == "blacklist":
                engine.blacklist_phone(phone, expires_at=clock.now + timedelta(minutes=op[2]))
    except DialstateError:
        pass  # refused (not this state, not callable now): the property is about what was done
