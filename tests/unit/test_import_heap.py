"""An import keeps the objects that lived before it out of the garbage collector's
passes while it runs (`gc.freeze`), and gives them back however it ends; a process
that froze objects of its own keeps them frozen (dialstate.engine.prepare.QuietHeap)."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Iterator

import pytest

from dialstate import Engine, InvalidArgument
from dialstate.aio import AsyncEngine
from dialstate.testing import memory_engine

PHONES = [f"+49 30 555{i:04d}" for i in range(5)]


def watched(seen: list[int], fail_at: int | None = None) -> Iterator[object]:
    """The phones, noting the freeze count while the import pulls each one."""
    for i, phone in enumerate(PHONES):
        seen.append(gc.get_freeze_count())
        if i == fail_at:
            yield {"phone": phone, "no such field": 1}
        yield phone


@pytest.fixture
def engine() -> Iterator[Engine]:
    with memory_engine() as engine:
        yield engine


@pytest.fixture(autouse=True)
def nothing_frozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_the_objects_that_lived_before_an_import_are_frozen_while_it_runs_and_thawed_after(engine: Engine) -> None:
    campaign = engine.create_campaign("c", default_region="DE")
    seen: list[int] = []
    assert engine.add_contacts(campaign.id, watched(seen)).added == len(PHONES)
    assert seen and all(n > 0 for n in seen)
    assert gc.get_freeze_count() == 0
    seen.clear()
    engine.create_campaign_with_contacts("d", watched(seen), default_region="DE")
    assert seen and all(n > 0 for n in seen) and gc.get_freeze_count() == 0


def test_a_failed_import_thaws_them_too(engine: Engine) -> None:
    campaign = engine.create_campaign("c", default_region="DE")
    seen: list[int] = []
    with pytest.raises(InvalidArgument, match="unknown field"):
        engine.add_contacts(campaign.id, watched(seen, fail_at=2))
    assert seen[-1] > 0 and gc.get_freeze_count() == 0


def test_what_the_process_froze_itself_stays_frozen_and_the_import_freezes_nothing_more(engine: Engine) -> None:
    campaign = engine.create_campaign("c", default_region="DE")
    gc.freeze()
    before = gc.get_freeze_count()
    seen: list[int] = []
    engine.add_contacts(campaign.id, watched(seen))
    assert set(seen) == {before} and gc.get_freeze_count() == before


def test_with_the_collector_off_an_import_leaves_it_alone(engine: Engine) -> None:
    campaign = engine.create_campaign("c", default_region="DE")
    gc.disable()
    try:
        seen: list[int] = []
        engine.add_contacts(campaign.id, watched(seen))
    finally:
        gc.enable()
    assert set(seen) == {0} and gc.get_freeze_count() == 0


def test_an_async_import_freezes_and_thaws_alike() -> None:
    seen: list[int] = []

    async def items() -> AsyncIterator[object]:
        for phone in PHONES:
            seen.append(gc.get_freeze_count())
            yield phone

    async def scenario() -> None:
        async with AsyncEngine("sqlite://") as engine:
            campaign = await engine.create_campaign("c", default_region="DE")
            assert (await engine.add_contacts(campaign.id, items())).added == len(PHONES)
            assert gc.get_freeze_count() == 0
            sync_seen: list[int] = []
            await engine.add_contacts(campaign.id, watched(sync_seen))
            assert sync_seen and all(n > 0 for n in sync_seen)

    asyncio.run(scenario())
    assert seen and all(n > 0 for n in seen) and gc.get_freeze_count() == 0
