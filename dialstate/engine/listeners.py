"""Subscriptions (spec sections 7 and 9).

A subscription of this process (`scope="process"`, the default) is told of each
transition this process commits, in the thread that committed it. A subscription
to the feed (`scope="all"`) has a thread of its own that reads the feed of every
process, in commit order, and hands each event to its callback: at least once, a
raising callback retried with backoff (its own thread only waits). A named
consumer's position is kept in the database, so a restart resumes where it stopped.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Generator
from typing import Any

from dialstate.engine.snapshots import TransitionEvent
from dialstate.store.ops import Work

log = logging.getLogger("dialstate")

Subscriber = Callable[[TransitionEvent], Any]
#: Events read from the feed at a time.
FEED_BATCH = 500
#: How often an idle feed subscription looks for new events (s): the delivery latency.
POLL_SECONDS = 0.05
#: The backoff of a callback that raises: from the first to the longest wait (s).
RETRY_FIRST, RETRY_LONGEST = 0.1, 5.0


class Subscription:
    """A subscription; call it (or give it to `Engine.unsubscribe`) to end it."""

    scope = "process"
    consumer: str | None = None

    def __init__(self, end: Callable[[], None]) -> None:
        self._end = end

    def __call__(self) -> None:
        self.cancel()

    def cancel(self) -> None:
        """End the subscription (a second call does nothing)."""
        end, self._end = self._end, _nothing
        end()

    def __await__(self) -> Generator[Any, None, Subscription]:
        """In asyncio code, `await engine.subscribe(...)`: returns the subscription once
        it hears everything committed from then on (at once, but for a feed
        subscription of `AsyncEngine`, whose start is fixed by a task)."""
        return self._started().__await__()

    async def _started(self) -> Subscription:
        return self


def _nothing() -> None:
    return None


class FeedSubscription(Subscription):
    """A subscription to the feed of every process, delivered by a thread of its own."""

    scope = "all"

    def __init__(self, callback: Subscriber, position: int, consumer: str | None,
                 read: Callable[[int], list[TransitionEvent]], save: Callable[[int], None],
                 on_end: Callable[[FeedSubscription], None]) -> None:
        super().__init__(self._stop)
        self.callback = callback
        self.consumer = consumer
        #: The position of the last event delivered.
        self.position = position
        self._read = read
        self._save = save
        self._on_end = on_end
        self._stopping = threading.Event()
        self._saved = position
        self._thread = threading.Thread(target=self._run, name=f"dialstate-feed-{consumer or 'anonymous'}",
                                        daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                events = self._read(self.position)
            except Exception:
                log.exception("feed subscription %s could not read the feed; trying again", self.consumer or "")
                self._stopping.wait(RETRY_LONGEST)
                continue
            if not events:
                self._stopping.wait(POLL_SECONDS)
                continue
            for event in events:
                if not self._deliver(event):
                    break
                self.position = event.position
            self._keep_position()

    def _deliver(self, event: TransitionEvent) -> bool:
        """Hand `event` to the callback until it takes it; False when stopped first."""
        wait = RETRY_FIRST
        while not self._stopping.is_set():
            try:
                self.callback(event)
                return True
            except Exception:
                log.exception("feed subscriber %r failed on position %s (contact %s, %s -> %s); retrying in %.1f s",
                              self.callback, event.position, event.contact.id, event.entry.from_state,
                              event.entry.to_state, wait)
                self._stopping.wait(wait)
                wait = min(wait * 2, RETRY_LONGEST)
        return False

    def _keep_position(self) -> None:
        if self.consumer is not None and self.position != self._saved:
            try:
                self._save(self.position)
                self._saved = self.position
            except Exception:  # kept in memory; saved with the next batch or at the end
                log.exception("feed consumer %s could not save its position", self.consumer)

    def _stop(self) -> None:
        """Stop delivering; return once no callback runs and the position is saved."""
        self._stopping.set()
        if threading.current_thread() is not self._thread:
            self._thread.join()
        self._keep_position()
        self._on_end(self)


__all__ = ["FeedSubscription", "Subscriber", "Subscription", "Work"]
