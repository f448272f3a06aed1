"""Spec section 14: `AsyncEngine.add_contacts` (and `create_campaign_with_contacts`)
take async iterables too: items gathered into batches on the loop, prepared off it,
with the same report, rejects and errors as the sync face."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from typing import Any

import pytest

from dialstate import CampaignNotFound, DialMode, Engine, InvalidArgument, SkipRow
from dialstate.aio import AsyncEngine
from dialstate.engine import importer
from tests.support import new_phones
from tests.support.aio import LagTicker, run

ITEMS: list[object] = [
    "+49 30 1234567", {"phone": "030 7654321", "external_id": "crm-42", "priority": 5, "data": {"name": "Ada"}},
    "+49 30 1234567", "not a number", "", "+49 30 5555555",
]


async def trickle(items: Iterable[object], pause_every: int = 0) -> AsyncIterator[object]:
    """The items one by one, as a CRM export or a socket gives them."""
    for i, item in enumerate(items):
        if pause_every and i % pause_every == 0:
            await asyncio.sleep(0)
        yield item


def report_fields(report: Any) -> tuple[int, int, int, int, int]:
    return report.added, report.invalid, report.blacklisted, report.duplicates, report.skipped


def test_an_async_iterable_imports_as_the_same_list_does_on_the_sync_face(url: str) -> None:
    with Engine(url) as sync:
        sync.blacklist_phone("+49 30 5555555")
        campaign = sync.create_campaign("sync", default_region="DE")
        told_sync: list[tuple[int, str]] = []
        expected = sync.add_contacts(campaign.id, ITEMS, on_reject=lambda i, item, result, why: told_sync.append(
            (i, result)))

    async def scenario() -> None:
        async with AsyncEngine(url) as engine:
            campaign = await engine.create_campaign("async", default_region="DE")
            told: list[tuple[int, str]] = []
            report = await engine.add_contacts(campaign.id, trickle(ITEMS),
                                               on_reject=lambda i, item, result, why: told.append((i, result)))
            assert report_fields(report) == report_fields(expected)
            assert told == told_sync
            contact = await engine.get_contact(report.contact_ids[1])
            assert (contact.external_id, contact.priority, contact.data) == ("crm-42", 5, {"name": "Ada"})

    run(scenario())


@pytest.mark.parametrize("parallel_after", [importer.PARALLEL_AFTER, 2000],
                         ids=["below-parallel-threshold", "above-parallel-threshold"])
def test_a_long_async_iterable_streams_in_batches_and_keeps_the_loop_free(
    url: str, parallel_after: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "PARALLEL_AFTER", parallel_after)
    phones = new_phones(12_000, "DE")

    def adapt(row: object) -> object:
        if str(row).endswith("7"):
            raise SkipRow("ends in 7")
        return {"phone": row, "external_id": f"x{row}"}

    async def scenario() -> None:
        async with AsyncEngine(url) as engine:
            campaign = await engine.create_campaign("long", default_region="DE")
            with LagTicker(every=0.005) as ticker:
                report = await engine.add_contacts(campaign.id, trickle(phones, pause_every=100), adapt=adapt)
            skipped = sum(p.endswith("7") for p in phones)
            assert (report.added, report.skipped) == (len(phones) - skipped, skipped)
            assert (await engine.campaign_stats(campaign.id)).total == report.added
            last = await engine.get_contact(report.contact_ids[-1])
            assert last.external_id == f"x{phones[-1] if not phones[-1].endswith('7') else phones[-2]}"
            assert ticker.percentile(0.5) < 0.05

    run(scenario())


def test_a_failing_async_iterable_leaves_no_campaign_behind(url: str) -> None:
    async def broken() -> AsyncIterator[object]:
        for phone in new_phones(2500, "DE"):
            yield phone
        raise ConnectionResetError("the CRM went away")

    async def scenario() -> None:
        async with AsyncEngine(url) as engine:
            with pytest.raises(ConnectionResetError):
                await engine.create_campaign_with_contacts("doomed", broken(), default_region="DE")
            assert await engine.campaigns() == []
            campaign, report = await engine.create_campaign_with_contacts(
                "fine", trickle(new_phones(3, "DE")), mode=DialMode.AGENTLESS, default_region="DE")
            assert report.added == 3 and campaign.name == "fine"

    run(scenario())


def test_the_async_face_raises_the_sync_faces_errors_for_a_bad_import(url: str) -> None:
    async def scenario() -> None:
        async with AsyncEngine(url) as engine:
            with pytest.raises(CampaignNotFound):
                await engine.add_contacts(999, trickle(["+49 30 1234567"]))
            campaign = await engine.create_campaign("bad", default_region="DE")
            with pytest.raises(InvalidArgument, match="unknown field"):
                await engine.add_contacts(campaign.id, trickle([{"phone": "+49 30 1234567", "fax": "1"}]))
            with pytest.raises(InvalidArgument, match="iterable"):
                await engine.add_contacts(campaign.id, "+49 30 1234567")
            assert (await engine.campaign_stats(campaign.id)).total == 0

    run(scenario())


def test_the_sync_face_refuses_an_async_iterable_with_a_pointer_to_the_async_one(sqlite_url: str) -> None:
    with Engine(sqlite_url) as engine:
        campaign = engine.create_campaign("sync", default_region="DE")
        items = trickle(["+49 30 1234567"])
        with pytest.raises(InvalidArgument, match="AsyncEngine"):
            engine.add_contacts(campaign.id, items)  # type: ignore[arg-type]
        asyncio.run(items.aclose())  # type: ignore[attr-defined]
