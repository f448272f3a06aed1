"""Spec section 14: on PostgreSQL, 200 concurrent coroutines share a pool of 10
connections, and the database still hands out every contact exactly once."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from dialstate import DialMode, Engine
from dialstate.aio import AsyncEngine
from tests.support import assert_no_contact_lost, new_phones
from tests.support.aio import assert_pool_intact, run

pytestmark = pytest.mark.pg

CONTACTS = 2000
CLAIMERS = 200
POOL = 10


def test_two_hundred_coroutines_on_a_pool_of_ten_claim_every_contact_exactly_once(pg: str) -> None:
    async def scenario() -> tuple[int, list[int]]:
        async with AsyncEngine(pg, pool_size=POOL) as engine:
            campaign = await engine.create_campaign("race", mode=DialMode.PREDICTIVE, default_region="DE")
            ids = (await engine.add_contacts(campaign.id, new_phones(CONTACTS, "DE"))).contact_ids
            claimed: list[int] = []
            busiest = 0

            async def claimer() -> None:
                nonlocal busiest
                while batch := await engine.dial_next(campaign.id, 3):
                    claimed.extend(c.id for c in batch)
                    stats = engine.database.pool.get_stats()
                    busiest = max(busiest, stats["pool_size"])

            await asyncio.gather(*(claimer() for _ in range(CLAIMERS)))
            assert busiest <= POOL
            await assert_pool_intact(engine)
            assert sorted(claimed) == sorted(ids), "a contact was claimed twice, or not at all"
            return campaign.id, ids

    campaign_id, ids = run(scenario())
    with Engine(pg) as engine:
        assert_no_contact_lost(engine, campaign_id, ids)
        dials = Counter(e.trigger for cid in ids[:200] for e in engine.history(cid))
        assert dials["dial"] == 200
