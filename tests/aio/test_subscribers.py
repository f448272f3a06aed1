"""Spec section 14: `AsyncEngine.subscribe` takes plain or coroutine callbacks; each
hears every committed transition of this engine, after the commit and before the
call that made it returns; a raising callback is logged and undoes nothing."""

from __future__ import annotations

import asyncio
import logging

import pytest

from dialstate import ContactState, DialMode, TransitionEvent
from dialstate.aio import AsyncEngine
from tests.support.aio import run

S = ContactState


def test_a_coroutine_subscriber_is_awaited_after_the_commit_before_the_call_returns(url: str) -> None:
    async def scenario() -> None:
        async with AsyncEngine(url, pool_size=2) as engine:
            campaign = await engine.create_campaign("subs", mode=DialMode.PREVIEW, default_region="US")
            (cid,) = (await engine.add_contacts(campaign.id, ["+1 212 555 0100"])).contact_ids
            seen: list[tuple[S, S, int]] = []

            async def look(event: TransitionEvent) -> None:
                await asyncio.sleep(0.01)  # a subscriber that does I/O of its own
                stored = await engine.get_contact(event.contact.id)  # committed: readable at once
                seen.append((event.entry.to_state, stored.state, len(await engine.history(event.contact.id))))

            engine.subscribe(look)
            await engine.assign_operator(cid, "op1")
            assert len(seen) == 1, "the call returned before its subscriber was done"
            await engine.reject(cid)
            assert seen == [
                (S.OPERATOR_ASSIGNED, S.OPERATOR_ASSIGNED, 2),
                (S.REJECTED_BY_OPERATOR, S.READY, 4),
                (S.READY, S.READY, 4),
            ]

    run(scenario())


def test_plain_and_coroutine_subscribers_hear_each_transition_once_in_order(url: str) -> None:
    async def scenario() -> None:
        async with AsyncEngine(url) as engine:
            campaign = await engine.create_campaign("subs", mode=DialMode.AGENTLESS, default_region="US")
            first, second = (await engine.add_contacts(campaign.id, ["+1 212 555 0100", "+1 212 555 0101"])
                             ).contact_ids
            plain: list[tuple[int, str]] = []
            awaited: list[tuple[int, str]] = []

            async def coroutine(event: TransitionEvent) -> None:
                awaited.append((event.contact.id, event.entry.to_state.value))

            engine.subscribe(lambda event: plain.append((event.contact.id, event.entry.to_state.value)))
            unsubscribe = engine.subscribe(coroutine)
            await engine.dial_next(campaign.id, 2)
            await engine.blacklist_phone("+1 212 555 0101")  # in a call: decided at its end
            await engine.call_ended(second, "completed")
            unsubscribe()
            await engine.call_ended(first, "busy")
            assert awaited == [(first, "dialing"), (second, "dialing"), (second, "blacklisted")]
            assert plain == [*awaited, (first, "retry_scheduled")]

    run(scenario())


def test_the_contacts_a_bulk_move_changed_are_told_to_coroutine_subscribers(url: str) -> None:
    async def scenario() -> None:
        async with AsyncEngine(url) as engine:
            campaign = await engine.create_campaign("subs", mode=DialMode.PREVIEW, default_region="US")
            ids = (await engine.add_contacts(campaign.id, ["+1 212 555 0100", "+1 212 555 0101"])).contact_ids
            heard: list[tuple[int, str]] = []

            async def hear(event: TransitionEvent) -> None:
                heard.append((event.contact.id, event.entry.to_state.value))

            engine.subscribe(hear)
            assert await engine.cancel_campaign(campaign.id) == 2
            assert sorted(heard) == [(cid, "canceled_by_admin") for cid in ids]

    run(scenario())


def test_a_raising_coroutine_subscriber_is_logged_and_undoes_nothing(
    url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario() -> None:
        async with AsyncEngine(url) as engine:
            campaign = await engine.create_campaign("subs", mode=DialMode.AGENTLESS, default_region="US")
            (cid,) = (await engine.add_contacts(campaign.id, ["+1 212 555 0100"])).contact_ids
            after: list[int] = []

            async def boom(event: TransitionEvent) -> None:
                await asyncio.sleep(0)
                raise RuntimeError("the dialer is down")

            engine.subscribe(boom)
            engine.subscribe(lambda event: after.append(event.contact.id))
            with caplog.at_level(logging.ERROR, logger="dialstate"):
                contact = await engine.dial(cid)
            assert contact.state is S.DIALING
            assert (await engine.get_contact(cid)).state is S.DIALING
            assert after == [cid], "a later subscriber still hears"
            assert "the transition stands" in caplog.text and "the dialer is down" in caplog.text

    run(scenario())


def test_an_awaited_feed_subscription_hears_what_another_engine_commits_right_after(url: str) -> None:
    """`await engine.subscribe(..., scope="all")` returns once its start is fixed: a
    transition committed by another engine the moment after is heard, however late
    the subscription's task would otherwise have started."""
    async def scenario() -> None:
        async with AsyncEngine(url, pool_size=2) as engine, AsyncEngine(url, pool_size=2) as other:
            campaign = await other.create_campaign("feed", mode=DialMode.AGENTLESS, default_region="US")
            await other.add_contacts(campaign.id, ["+1 212 555 0100"])
            heard: list[TransitionEvent] = []
            subscription = await engine.subscribe(heard.append, scope="all")
            assert subscription.scope == "all"
            # No await between the subscription and the write: its task has had no turn.
            (contact,) = await other.dial_next(campaign.id, 1)
            for _ in range(200):
                if heard:
                    break
                await asyncio.sleep(0.05)
            assert [(e.contact.id, e.entry.to_state) for e in heard] == [(contact.id, S.DIALING)]
            await engine.unsubscribe(subscription)
            process = await engine.subscribe(heard.append)  # the process scope: awaitable too
            process()

    run(scenario())
