"""The call ids dialstate gives the calls it places: UUIDs of version 7 in hex, unique,
whose first 48 bits are the time in milliseconds (so new calls' ids land side by side
in the index that finds a call by its id)."""

from __future__ import annotations

import time
import uuid

from dialstate import DialMode
from dialstate.testing import memory_engine


def check(call_ids: list[str], before_ms: int, after_ms: int) -> None:
    assert len(set(call_ids)) == len(call_ids)
    for call_id in call_ids:
        assert len(call_id) == 32 and call_id == call_id.lower()
        as_uuid = uuid.UUID(call_id)
        assert as_uuid.version == 7 and as_uuid.variant == uuid.RFC_4122
        assert before_ms <= int(call_id[:12], 16) <= after_ms


def test_a_claim_gives_each_call_its_own_time_ordered_uuid7() -> None:
    engine = memory_engine()
    campaign = engine.create_campaign("ids", mode=DialMode.AGENTLESS, default_region="US")
    engine.add_contacts(campaign.id, [f"+1 212 555 {i:04d}" for i in range(600)])
    before = time.time_ns() // 1_000_000
    first = [c.call_id for c in engine.dial_next(campaign.id, 300)]
    time.sleep(0.002)
    second = [c.call_id for c in engine.dial_next(campaign.id, 300)]
    after = time.time_ns() // 1_000_000
    assert all(isinstance(c, str) for c in first + second)
    check(first + second, before, after)
    assert max(c[:12] for c in first) < min(c[:12] for c in second)
    # The 74 random bits differ from call to call: the variant's two (the 17th digit) too.
    assert {c[16] for c in first + second} == set("89ab")


def test_a_dial_without_an_id_of_the_callers_gets_one_too() -> None:
    engine = memory_engine()
    campaign = engine.create_campaign("ids", mode=DialMode.PREVIEW, default_region="US")
    engine.add_contacts(campaign.id, ["+1 212 555 0100"])
    contact = engine.assign_next(campaign.id, "op1")
    assert contact is not None
    engine.accept(contact.id)
    before = time.time_ns() // 1_000_000
    dialed = engine.dial(contact.id)
    assert dialed.call_id is not None
    check([dialed.call_id], before, time.time_ns() // 1_000_000)
