"""Spec section 9: the transition feed. Every committed transition of every process, in
commit order, with a position that is unique and grows; subscriptions to it, named
consumers that resume where they stopped."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from dialstate import ContactState, DialMode, Engine, InvalidArgument, TransitionEvent
from dialstate.testing import VirtualClock
from tests.support.waiting import wait_until
from tests.support.walk import new_campaign, new_contacts, walk_to

S = ContactState


def busy_calls(engine: Engine, n: int) -> int:
    """A predictive campaign of `n` contacts, each dialed once and busy; returns its id."""
    campaign = new_campaign(engine, DialMode.PREDICTIVE, default_region="US")
    new_contacts(engine, campaign, *(f"+1 212 555 {i:04d}" for i in range(n)))
    for contact in engine.dial_next(campaign, n):
        engine.call_ended(contact.id, "busy", call_id=contact.call_id)
    return campaign


def all_events(engine: Engine, after: int = 0, **kw: Any) -> list[TransitionEvent]:
    events: list[TransitionEvent] = []
    while page := engine.events(after, 7, **kw):  # small pages: paging itself is tested
        events.extend(page)
        after = page[-1].position
    return events


def test_the_feed_holds_every_history_entry_once_in_commit_order_with_growing_positions(engine: Engine) -> None:
    campaign = busy_calls(engine, 5)
    walk_to(engine, campaign, S.CALL_IN_PROGRESS)
    events = all_events(engine)
    positions = [e.position for e in events]
    assert positions == sorted(set(positions)), "unique and strictly increasing"
    entries = {(c.id, h.seq) for c in engine.contacts(campaign) for h in engine.history(c.id)}
    assert {(e.contact.id, e.entry.seq) for e in events} == entries
    assert len(events) == len(entries)
    for contact_id in {e.contact.id for e in events}:  # each contact's entries in its own order
        seqs = [e.entry.seq for e in events if e.contact.id == contact_id]
        assert seqs == sorted(seqs)


def test_history_entries_carry_the_position_the_feed_gives_them(engine: Engine) -> None:
    campaign = busy_calls(engine, 3)
    by_key = {(e.contact.id, e.entry.seq): e.position for e in engine.events(0, 100)}
    for contact in engine.contacts(campaign):
        for entry in engine.history(contact.id):
            assert entry.position == by_key[(contact.id, entry.seq)]


def test_events_after_a_position_are_those_committed_after_it(engine: Engine) -> None:
    busy_calls(engine, 3)
    seen = engine.events(0, 1000)
    cursor = seen[-1].position
    assert engine.events(cursor, 1000) == []
    campaign = busy_calls(engine, 2)
    later = engine.events(cursor, 1000)
    assert later and all(e.position > cursor for e in later)
    assert {e.contact.campaign_id for e in later} == {campaign}


def test_events_of_one_campaign_leave_the_others_out(engine: Engine) -> None:
    first, second = busy_calls(engine, 2), busy_calls(engine, 3)
    assert {e.contact.campaign_id for e in all_events(engine, campaign_id=first)} == {first}
    assert len(all_events(engine, campaign_id=second)) == 3 * 3  # added, dialed, ended


def test_a_page_never_holds_more_than_the_limit(engine: Engine) -> None:
    busy_calls(engine, 4)
    assert len(engine.events(0, 5)) == 5


@pytest.mark.parametrize("args", [{"limit": 0}, {"limit": -1}, {"after": -1}, {"after": 1.5}, {"limit": True}])
def test_a_page_of_the_feed_with_a_bad_position_or_limit_is_refused(engine: Engine, args: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgument):
        engine.events(**args)


def test_this_process_s_subscribers_hear_each_transition_with_its_feed_position(engine: Engine) -> None:
    heard: list[TransitionEvent] = []
    engine.subscribe(heard.append)
    busy_calls(engine, 2)
    feed = {(e.contact.id, e.entry.seq): e.position for e in engine.events(0, 100)}
    assert heard and all(e.position == feed[(e.contact.id, e.entry.seq)] for e in heard)


def test_subscribers_hear_the_feed_position_of_every_trigger_on_the_preview_path(engine: Engine) -> None:
    """assign_next, accept, dial, answered, call_ended, wrap_up and a retry: each event
    carries the position the feed gives its entry, never None."""
    heard: list[TransitionEvent] = []
    engine.subscribe(heard.append)
    campaign = new_campaign(engine, DialMode.PREVIEW, default_region="US")
    new_contacts(engine, campaign, "+1 212 555 0101", "+1 212 555 0102")
    for outcome in ("completed", "busy"):
        contact = engine.assign_next(campaign, "op1")
        assert contact is not None
        engine.accept(contact.id)
        engine.dial(contact.id)
        if outcome == "completed":
            engine.answered(contact.id)
            engine.call_ended(contact.id, outcome)
            engine.wrap_up(contact.id, "success")
        else:
            engine.call_ended(contact.id, outcome)
    feed = {(e.contact.id, e.entry.seq): e.position for e in engine.events(0, 100)}
    triggers = {e.entry.trigger for e in heard}
    assert {"assign_operator", "accept", "dial", "answered", "call_ended", "wrap_up"} <= triggers
    assert [e.position for e in heard] == [feed[(e.contact.id, e.entry.seq)] for e in heard]
    assert all(e.position is not None for e in heard)


def test_a_subscription_to_every_process_hears_another_engine_s_transitions(engine: Engine, other: Engine) -> None:
    heard: list[TransitionEvent] = []
    subscription = engine.subscribe(heard.append, scope="all")
    busy_calls(other, 3)
    busy_calls(engine, 1)
    wait_until(lambda: len(heard) == 4 * 3, timeout=10)
    subscription()
    assert [e.position for e in heard] == [e.position for e in engine.events(0, 100)]


def test_an_anonymous_subscription_starts_at_the_end_of_the_feed(engine: Engine) -> None:
    busy_calls(engine, 2)
    end = engine.events(0, 100)[-1].position
    heard: list[TransitionEvent] = []
    subscription = engine.subscribe(heard.append, scope="all")
    campaign = busy_calls(engine, 1)
    wait_until(lambda: len(heard) == 3, timeout=10)
    subscription()
    assert all(e.position > end and e.contact.campaign_id == campaign for e in heard)


def test_a_new_consumer_starts_at_the_beginning_and_a_known_one_where_it_stopped(engine: Engine, other: Engine) -> None:
    busy_calls(engine, 2)
    first: list[int] = []
    subscription = engine.subscribe(lambda e: first.append(e.position), scope="all", consumer="dialer")
    wait_until(lambda: len(first) == 6, timeout=10)
    engine.unsubscribe(subscription)  # returns once the position is stored
    busy_calls(engine, 1)
    again: list[int] = []
    resumed = other.subscribe(lambda e: again.append(e.position), scope="all", consumer="dialer")
    wait_until(lambda: len(again) == 3, timeout=10)
    resumed()
    assert first == [e.position for e in engine.events(0, 6)]
    assert again == [e.position for e in engine.events(first[-1], 100)]


def test_a_consumer_seen_for_the_first_time_can_start_after_a_position(engine: Engine) -> None:
    busy_calls(engine, 2)
    start = engine.events(0, 100)[2].position
    heard: list[int] = []
    subscription = engine.subscribe(lambda e: heard.append(e.position), scope="all", consumer="late", after=start)
    wait_until(lambda: len(heard) == 3, timeout=10)
    subscription()
    assert heard == [e.position for e in engine.events(start, 100)]


def test_a_raising_callback_is_retried_and_other_subscriptions_go_on(engine: Engine,
                                                                       caplog: pytest.LogCaptureFixture) -> None:
    failures = [2]
    stubborn: list[int] = []
    steady: list[int] = []

    def flaky(event: TransitionEvent) -> None:
        if failures[0]:
            failures[0] -= 1
            raise RuntimeError("the dialer is restarting")
        stubborn.append(event.position)

    first = engine.subscribe(flaky, scope="all", after=0)
    second = engine.subscribe(lambda e: steady.append(e.position), scope="all", after=0)
    busy_calls(engine, 1)
    wait_until(lambda: len(steady) == 3, timeout=5)
    wait_until(lambda: len(stubborn) == 3, timeout=10)
    first()
    second()
    assert stubborn == steady, "the failed event was delivered again, then the rest in order"
    assert sum("retrying in" in r.getMessage() for r in caplog.records) == 2


def test_unsubscribe_returns_once_no_callback_of_the_subscription_is_running(engine: Engine) -> None:
    inside = threading.Event()
    running: list[bool] = []

    def slow(event: TransitionEvent) -> None:
        inside.set()
        running.append(True)
        time.sleep(0.2)
        running.pop()

    subscription = engine.subscribe(slow, scope="all", after=0)
    busy_calls(engine, 1)
    assert inside.wait(5)
    engine.unsubscribe(subscription)
    assert running == []


def test_a_transaction_that_commits_later_is_not_skipped_by_a_reader_that_went_past_an_earlier_commit(
    engine: Engine, other: Engine
) -> None:
    campaign = new_campaign(engine, DialMode.PREDICTIVE, default_region="US")
    slow_id, fast_id = new_contacts(engine, campaign, "+1 212 555 0101", "+1 212 555 0102")
    (seen,) = [e.position for e in engine.events(0, 100)][-1:]
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:  # the slow transaction waits at its commit
        holding.set()
        release.wait(10)

    other.database.before_commit.append(hold)
    slow = threading.Thread(target=lambda: other.dial(slow_id))
    slow.start()
    assert holding.wait(5)
    if "postgresql" in engine.url:  # SQLite's writer lock keeps the fast one waiting: nothing to race
        engine.dial(fast_id)
        early = engine.events(seen, 100)
        assert [e.contact.id for e in early] == [fast_id]
        seen = early[-1].position
    release.set()
    slow.join(10)
    other.database.before_commit.clear()
    if "sqlite" in engine.url:
        engine.dial(fast_id)
    later = [e.contact.id for e in engine.events(seen, 100)]
    assert slow_id in later, "the transaction that committed last is read after what was read before it"


def test_subscribing_with_a_bad_scope_consumer_or_callback_is_refused(engine: Engine) -> None:
    with pytest.raises(InvalidArgument, match="scope"):
        engine.subscribe(print, scope="everything")
    with pytest.raises(InvalidArgument, match="consumer"):
        engine.subscribe(print, consumer="x")
    with pytest.raises(InvalidArgument, match="consumer"):
        engine.subscribe(print, scope="all", consumer="")
    with pytest.raises(InvalidArgument, match="callable"):
        engine.subscribe("not callable", scope="all")  # type: ignore[arg-type]


def test_close_ends_the_engine_s_feed_subscriptions(engine: Engine, clock: VirtualClock) -> None:
    heard: list[int] = []
    url = engine.url if "sqlite" in engine.url else engine.database.url.render_as_string(False)
    third = Engine(url, clock=clock)
    third.subscribe(lambda e: heard.append(e.position), scope="all", after=0)
    third.close()
    busy_calls(engine, 1)
    time.sleep(0.2)
    assert heard == []
