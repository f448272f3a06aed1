"""The engine's two faces for the spec tests: the sync `Engine`, and the asyncio
`AsyncEngine` driven from plain code through `SyncFace`, so that every spec test body
runs unchanged against both."""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from dialstate import Engine
from dialstate.aio import AsyncEngine
from dialstate.store.database import Database
from dialstate.testing import VirtualClock

T = TypeVar("T")
FACES = ("sync", "async")


class SyncFace:
    """An `AsyncEngine` on an event loop of its own (a background thread), called like
    an `Engine`: each coroutine method runs on that loop and the caller waits for its
    result or its error. Subscribers run on the loop, as in an asyncio program."""

    def __init__(self, url: str, clock: VirtualClock | None = None, **options: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="sync-face-loop", daemon=True)
        self._thread.start()
        self.aio = AsyncEngine(url, clock=clock, **options)
        self.run(self.aio.open())

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run `coroutine` on the face's loop and wait for it."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def __getattr__(self, name: str) -> Any:
        member = getattr(self.aio, name)
        if inspect.iscoroutinefunction(member):
            def call(*args: Any, **kwargs: Any) -> Any:
                return self.run(member(*args, **kwargs))

            return call
        return member

    def subscribe(self, *args: Any, **kwargs: Any) -> Any:
        """`AsyncEngine.subscribe`, made on the face's loop (a feed subscription's task
        lives there); calling what it returns unsubscribes, on the loop too."""
        async def subscribe() -> Any:
            return await self.aio.subscribe(*args, **kwargs)  # awaited: it hears all from now on

        subscription = self.run(subscribe())
        return _OnTheLoop(self, subscription)

    def unsubscribe(self, subscription: Any) -> None:
        self.run(self.aio.unsubscribe(getattr(subscription, "subscription", subscription)))

    @property
    def database(self) -> Database:
        """A blocking `Database` on the same URL (tests that corrupt a row on purpose)."""
        return self.aio.database.sync

    def close(self) -> None:
        if self._loop.is_closed():
            return
        try:
            self.run(self.aio.close())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._loop.close()

    def __enter__(self) -> SyncFace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _OnTheLoop:
    """A subscription of the async face, ended from plain code."""

    def __init__(self, face: SyncFace, subscription: Any) -> None:
        self.face = face
        self.subscription = subscription

    def __call__(self) -> None:
        self.face.unsubscribe(self.subscription)


def open_engine(face: str, url: str, clock: VirtualClock | None) -> Engine:
    """An engine on `url` through `face` ("sync" or "async"); close it after use."""
    if face == "sync":
        return Engine(url, clock=clock)
    # A small pool: each test opens its own; the spec's concurrent tests need a few.
    return SyncFace(url, clock, pool_size=4)  # type: ignore[return-value]  # Engine's methods, by delegation
