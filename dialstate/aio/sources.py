"""Where the asyncio face's import pulls its prepared batches from.

`AsyncBatchSource` answers an import unit's `pull(settings)` on the event loop with
the next (start index, items, prepared batch), None at the end, like the sync
`BatchSource`, and never makes the loop wait for the preparing:
- a plain iterable goes through the sync `BatchSource` in a thread (its items may
  come from a file or a socket);
- an async iterable is gathered into batches on the loop, and each batch is prepared
  off it (`prepare_batch`): in a thread for the first `parallel_after` items, then in
  worker processes when this process may fork (else still in a thread), a bounded
  number of batches ahead, so memory stays bounded.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from dialstate.engine.importer import Batch
from dialstate.engine.prepare import (
    AHEAD_PER_WORKER,
    BATCH,
    BatchSource,
    ImportSettings,
    QuietHeap,
    prepare_batch,
    worker_pool,
)


class AsyncBatchSource:
    def __init__(self, items: Iterable[object] | AsyncIterable[object], parallel_after: int) -> None:
        self._sync: BatchSource | None = None
        self._items: AsyncIterator[object] | None = None
        if isinstance(items, AsyncIterable) and not isinstance(items, Iterable):
            self._items = aiter(items)
        else:
            self._sync = BatchSource(items, parallel_after)  # type: ignore[arg-type]
        self._parallel_after = parallel_after
        #: The sync source's call in a thread, while one runs (a generator cannot be
        #: closed while it runs).
        self._busy: asyncio.Future[Any] | None = None
        #: (start index, items, batch being prepared), in input order.
        self._pending: deque[tuple[int, list[object], asyncio.Future[Any]]] = deque()
        self._start = 0
        self._ended = False
        self._pool: ProcessPoolExecutor | None = None
        self._pool_tried = False
        self._ahead = AHEAD_PER_WORKER
        #: An async iterable's import (the sync source keeps its own).
        self._heap = QuietHeap()

    async def __call__(self, settings: ImportSettings) -> Batch | None:
        loop = asyncio.get_running_loop()
        if self._sync is not None:
            self._busy = loop.run_in_executor(None, self._sync, settings)
            try:
                return await asyncio.shield(self._busy)  # a cancelled pull lets the thread end
            finally:
                if self._busy.done():
                    self._busy = None
        self._heap.freeze()
        await self._fill(loop, settings)
        if not self._pending:
            return None
        start, items, prepared = self._pending.popleft()
        return start, items, await prepared

    async def _fill(self, loop: asyncio.AbstractEventLoop, settings: ImportSettings) -> None:
        """Gather batches and hand them to be prepared until enough are in flight."""
        assert self._items is not None
        while not self._ended and len(self._pending) < self._ahead:
            chunk: list[object] = []
            while len(chunk) < BATCH:
                try:
                    chunk.append(await anext(self._items))
                except StopAsyncIteration:
                    self._ended = True
                    break
            if not chunk:
                return
            if self._start >= self._parallel_after and not self._pool_tried:
                self._pool_tried = True
                self._pool, workers = worker_pool(settings)
                self._ahead = workers * AHEAD_PER_WORKER
            prepared = loop.run_in_executor(self._pool, prepare_batch, chunk, settings, self._start)
            self._pending.append((self._start, chunk, prepared))
            self._start += len(chunk)

    async def aclose(self) -> None:
        """Stop preparing (the workers too) and close the caller's async iterator."""
        try:
            await self._stop()
        finally:
            self._heap.thaw()

    async def _stop(self) -> None:
        busy, self._busy = self._busy, None
        if busy is not None:
            await asyncio.wait([busy])
            if not busy.cancelled():
                busy.exception()  # seen: the pull that raised it has already failed
        if self._sync is not None:
            self._sync.close()
        for _, _, prepared in self._pending:
            prepared.cancel()
        self._pending.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        close = getattr(self._items, "aclose", None)
        if close is not None:
            await close()
