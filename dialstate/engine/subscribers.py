"""Subscribers: told of each transition after it committed, in the process (and the
thread) that made it. A callback that raises is logged and undoes nothing.

`AsyncSubscribers` is the asyncio face's: a callback may be a coroutine function,
whose coroutine is awaited before the next callback hears of the event."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from inspect import isawaitable
from typing import Any

from dialstate.engine.calls import Done
from dialstate.engine.listeners import Subscription
from dialstate.engine.snapshots import TransitionEvent, history_entry
from dialstate.store import rows

log = logging.getLogger("dialstate")

Subscriber = Callable[[TransitionEvent], Any]


def committed_events(done: Done[Any]) -> Iterable[TransitionEvent]:
    """The events of the entries a committed unit of work wrote, with their feed
    positions (known once it committed)."""
    tx = done.tx
    for contact, entries, first_ordinal in done.events:
        for i, entry in enumerate(entries):
            position = tx.position(first_ordinal + i) if tx is not None else None
            yield TransitionEvent(contact, history_entry(rows.history((*entry, position))))


class Subscribers:
    def __init__(self) -> None:
        self._callbacks: list[Subscriber] = []

    def __bool__(self) -> bool:
        return bool(self._callbacks)

    def add(self, callback: Subscriber) -> Subscription:
        """Subscribe `callback`; returns the subscription (call it to unsubscribe)."""
        self._callbacks.append(callback)

        def unsubscribe() -> None:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

        return Subscription(unsubscribe)

    def written(self, done: Done[Any]) -> None:
        """Tell of the entries a committed unit of work wrote (as history rows)."""
        if not self._callbacks:
            return
        for event in committed_events(done):
            self.tell(event)

    def tell(self, event: TransitionEvent) -> None:
        for callback in list(self._callbacks):
            try:
                callback(event)
            except Exception:
                _failed(callback, event)


class AsyncSubscribers(Subscribers):
    """Subscribers of the asyncio face: plain callbacks or coroutine functions."""

    async def written_async(self, done: Done[Any]) -> None:
        if not self._callbacks:
            return
        for event in committed_events(done):
            await self.tell_async(event)

    async def tell_async(self, event: TransitionEvent) -> None:
        for callback in list(self._callbacks):
            try:
                result = callback(event)
                if isawaitable(result):
                    await result
            except Exception:
                _failed(callback, event)


def _failed(callback: Subscriber, event: TransitionEvent) -> None:
    log.exception(
        "subscriber %r failed on contact %s (%s -> %s); the transition stands",
        callback, event.contact.id, event.entry.from_state, event.entry.to_state,
    )
