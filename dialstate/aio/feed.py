"""The transition feed on the asyncio face: `AsyncEngine.subscribe(scope="all")` as a
task of its own, and `follow()`, the feed as an async iterator."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from inspect import isawaitable
from typing import Any

from dialstate.engine.listeners import FEED_BATCH, POLL_SECONDS, RETRY_FIRST, RETRY_LONGEST, Subscription
from dialstate.engine.snapshots import TransitionEvent

log = logging.getLogger("dialstate")

#: Reads the feed after a position.
Reader = Callable[[int], Awaitable[list[TransitionEvent]]]


class AsyncFeedSubscription(Subscription):
    """A subscription to the feed of every process, delivered by a task of its own on
    the event loop; its callback may be a coroutine function. `await unsubscribe()`
    (or `AsyncEngine.unsubscribe`) ends it once no callback runs and a consumer's
    position is stored."""

    scope = "all"

    def __init__(self, callback: Callable[[TransitionEvent], Any], start: Callable[[], Awaitable[int]],
                 consumer: str | None, read: Reader, save: Callable[[int], Awaitable[None]],
                 on_end: Callable[[AsyncFeedSubscription], None]) -> None:
        super().__init__(self._cancel_later)
        self.callback = callback
        self.consumer = consumer
        #: The position of the last event delivered (None until the task started).
        self.position: int | None = None
        self._start = start
        self._read = read
        self._save = save
        self._on_end = on_end
        self._saved: int | None = None
        self._stopping = asyncio.Event()
        self._ready = asyncio.Event()
        self._task = asyncio.ensure_future(self._run())

    async def _started(self) -> Subscription:
        """Once the start position is fixed (the task read it), or the task ended."""
        ready = asyncio.ensure_future(self._ready.wait())
        try:
            await asyncio.wait((ready, self._task), return_when=asyncio.FIRST_COMPLETED)
        finally:
            ready.cancel()
        if self._task.done() and not self._task.cancelled() and self._task.exception() is not None:
            raise self._task.exception()  # type: ignore[misc]  # the start failed: say why
        return self

    async def _run(self) -> None:
        self.position = self._saved = await self._start()
        self._ready.set()
        async for page in pages(self._read, self.position, self._stopping):
            for event in page:
                if not await self._deliver(event):
                    return
                self.position = event.position
            await self._keep_position()

    async def _deliver(self, event: TransitionEvent) -> bool:
        wait = RETRY_FIRST
        while not self._stopping.is_set():
            try:
                outcome = self.callback(event)
                if isawaitable(outcome):
                    await outcome
                return True
            except Exception:
                log.exception("feed subscriber %r failed on position %s; retrying in %.1f s", self.callback,
                              event.position, wait)
                try:
                    await asyncio.wait_for(self._stopping.wait(), wait)
                except TimeoutError:
                    pass
                wait = min(wait * 2, RETRY_LONGEST)
        return False

    async def _keep_position(self) -> None:
        if self.consumer is not None and self.position is not None and self.position != self._saved:
            try:
                await self._save(self.position)
                self._saved = self.position
            except Exception:
                log.exception("feed consumer %s could not save its position", self.consumer)

    def _cancel_later(self) -> None:
        self._stopping.set()

    async def stop(self) -> None:
        """Stop delivering; return once no callback runs and the position is saved."""
        self._stopping.set()
        if self._task is not asyncio.current_task():
            await self._task
        await self._keep_position()
        self._on_end(self)


async def pages(read: Reader, after: int,
                stopping: asyncio.Event | None = None) -> AsyncIterator[list[TransitionEvent]]:
    """Pages of events after position `after`, in commit order, as they commit (the
    feed polled while it is idle), until `stopping` is set."""
    position = after
    while stopping is None or not stopping.is_set():
        page = await read(position)
        if page:
            yield page
            position = page[-1].position
        elif stopping is None:
            await asyncio.sleep(POLL_SECONDS)
        else:
            try:
                await asyncio.wait_for(stopping.wait(), POLL_SECONDS)
            except TimeoutError:
                pass


__all__ = ["FEED_BATCH", "AsyncFeedSubscription", "pages"]
