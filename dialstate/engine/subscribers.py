"""Subscribers: told of each transition after it committed, in the process (and the
thread) that made it. A callback that raises is logged and undoes nothing.

`AsyncSubscribers` is the asyncio face's: a callback may be a coroutine function,
whose coroutine is awaited before the next callback hears of the event."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from inspect import isawaitable
from typing import Any

from dialstate.engine.snapshots import Contact, TransitionEvent, history_entry
from dialstate.store import rows

log = logging.getLogger("dialstate")

Subscriber = Callable[[TransitionEvent], Any]


class Subscribers:
    def __init__(self) -> None:
        self._callbacks: list[Subscriber] = []

    def __bool__(self) -> bool:
        return bool(self._callbacks)

    def add(self, callback: Subscriber) -> Callable[[], None]:
        """Subscribe `callback`; returns a function that unsubscribes it."""
        self._callbacks.append(callback)

        def unsubscribe() -> None:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

        return unsubscribe

    def written(self, events: Iterable[tuple[Contact, list[tuple[Any, ...]]]]) -> None:
        """Tell of the entries written for each contact (as history rows)."""
        if not self._callbacks:
            return
        for event in transition_events(events):
            self.tell(event)

    def tell(self, event: TransitionEvent) -> None:
        for callback in list(self._callbacks):
            try:
                callback(event)
            except Exception:
                _failed(callback, event)


class AsyncSubscribers(Subscribers):
    """Subscribers of the asyncio face: plain callbacks or coroutine functions."""

    async def written_async(self, events: Iterable[tuple[Contact, list[tuple[Any, ...]]]]) -> None:
        if not self._callbacks:
            return
        for event in transition_events(events):
            await self.tell_async(event)

    async def tell_async(self, event: TransitionEvent) -> None:
        for callback in list(self._callbacks):
            try:
                result = callback(event)
                if isawaitable(result):
                    await result
            except Exception:
                _failed(callback, event)


def transition_events(events: Iterable[tuple[Contact, list[tuple[Any, ...]]]]) -> Iterator[TransitionEvent]:
    """The event of each history row written, with its contact's snapshot."""
    for contact, entries in events:
        for entry in entries:
            yield TransitionEvent(contact, history_entry(rows.history(entry)))


def _failed(callback: Subscriber, event: TransitionEvent) -> None:
    log.exception(
        "subscriber %r failed on contact %s (%s -> %s); the transition stands",
        callback, event.contact.id, event.entry.from_state, event.entry.to_state,
    )
