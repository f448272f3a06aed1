"""`AsyncEngine`: the asyncio face of the engine (spec section 14).

The same façade as `Engine`: each method hands its arguments to the `Api`, which
checks them and returns a `Call`, and runs that call, here with `await` on an
`AsyncDatabase` (psycopg's async pool on PostgreSQL, worker threads on SQLite). The
machine, the outcomes, the policy, the windows and every statement are the sync
face's; only the I/O differs. Every public method of `Engine` is here as a
coroutine with the same arguments, results and errors (`tests/unit` checks it); a
new one is one line.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Self, TypeVar

from dialstate.aio.feed import AsyncFeedSubscription, pages
from dialstate.aio.sources import AsyncBatchSource
from dialstate.engine import importer
from dialstate.engine.api import Api
from dialstate.engine.calls import Call, Done
from dialstate.engine.clock import Clock, ClockSource
from dialstate.engine.core import Core
from dialstate.engine.engine import Engine
from dialstate.engine.gates import Callability
from dialstate.engine.importer import ContactItems
from dialstate.engine.listeners import FEED_BATCH, Subscription
from dialstate.engine.prepare import Adapter, RejectHook
from dialstate.engine.settings import UNSET, Unset
from dialstate.engine.snapshots import (
    BlacklistEntry,
    Campaign,
    CampaignChange,
    CampaignStats,
    Contact,
    HistoryEntry,
    ImportReport,
    TransitionEvent,
)
from dialstate.engine.states import ContactState, DialMode
from dialstate.engine.subscribers import AsyncSubscribers, Subscriber
from dialstate.engine.timers import FiredBatch
from dialstate.errors import InvalidArgument
from dialstate.models.types import from_epoch
from dialstate.outcomes import Outcome
from dialstate.policy import CallingWindow, RetryPolicy
from dialstate.store.aio import AsyncDatabase
from dialstate.store.feed import place

T = TypeVar("T")
S = ContactState


class AsyncEngine:
    """Runs campaigns whose contacts are state machines persisted in SQL, from asyncio.

    `AsyncEngine(url="sqlite:///dialstate.db", clock=None, *, pool_size=10,
    lock_timeout=5.0)`: as `Engine`, plus `pool_size`, the connections of the
    PostgreSQL pool (or SQLite's worker threads) that the engine's coroutines share.
    Use it as `async with AsyncEngine(url) as engine:`, or call `await engine.open()`
    (the first call opens it too) and `await engine.close()`.

    Cancelling a call (a timeout, a client gone) never leaves half a transition: the
    call waits until its transaction is rolled back (or, if it was committing, has
    committed, and then the subscribers hear of it) and its connection is back in the
    pool, then raises `CancelledError`. Retry with the same `idempotency_key` to learn
    which.
    """

    def __init__(self, url: str = "sqlite:///dialstate.db", clock: ClockSource | None = None, *,
                 pool_size: int = 10, lock_timeout: float = 5.0) -> None:
        self._clock = Clock(clock)
        self._db = AsyncDatabase(url, pool_size=pool_size, lock_timeout=lock_timeout)
        self._core = Core(self._db.q, self._db.backend, self._clock)
        self._api = Api(self._core, self._db.integrity_errors)
        self._subscribers = AsyncSubscribers()
        self._db.sync.wants_positions = self._subscribers.__bool__
        self._feeds: set[AsyncFeedSubscription] = set()
        #: Subscribers being told of what a cancelled call committed.
        self._telling: set[asyncio.Task[None]] = set()

    # -- basics ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return self._db.display_url

    @property
    def database(self) -> AsyncDatabase:
        """The database, for tools that work on it below the API (`database.sync` is
        a blocking `Database` on the same URL)."""
        return self._db

    def now(self) -> datetime:
        """The engine's clock (aware UTC); plain, as it does no I/O."""
        return self._clock.now()

    async def open(self) -> Self:
        """Prepare the schema (in a thread) and the connections; the first call does
        it when this was not called."""
        await self._db.open()
        return self

    async def close(self) -> None:
        """End the engine: its feed subscriptions stop, later calls raise `EngineClosed`."""
        for subscription in list(self._feeds):
            await subscription.stop()
        if self._telling:
            await asyncio.wait(self._telling)
        await self._db.close()

    async def __aenter__(self) -> Self:
        return await self.open()

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()

    def subscribe(self, callback: Subscriber, scope: str = "process", *, consumer: str | None = None,
                  after: int | None = None) -> Subscription:
        """`Engine.subscribe` on the event loop: a callback may be a coroutine function.

        `scope="process"`: this engine's transitions, right after each commit (a
        coroutine callback is awaited before the call that made the transition
        returns). `scope="all"`: every process's, in commit order, from a task of this
        subscription's own, which looks up where to start (the feed's end, or a
        consumer's position). `await engine.subscribe(...)` returns once that start is
        fixed, so the subscription hears every transition committed after it; called
        plainly it returns at once and starts when its task runs."""
        if not callable(callback):
            raise InvalidArgument(f"callback must be callable, got {callback!r}")
        if scope == "process":
            if consumer is not None or after is not None:
                raise InvalidArgument("consumer= and after= are for scope='all' (the feed of every process)")
            return self._subscribers.add(callback)
        if scope != "all":
            raise InvalidArgument(f"scope must be 'process' or 'all', got {scope!r}")
        start_call = self._api.feed_start(consumer, after)  # checks the arguments now
        feed = self._core.feed

        async def read(position: int) -> list[TransitionEvent]:
            return await self._db.read(lambda: feed.events(position, FEED_BATCH, None))

        async def save(position: int) -> None:
            assert consumer is not None
            await self._call(self._api.save_position(consumer, position))

        subscription = AsyncFeedSubscription(callback, lambda: self._call(start_call), consumer, read, save,
                                             self._feeds.discard)
        self._feeds.add(subscription)
        return subscription

    async def unsubscribe(self, subscription: Subscription) -> None:
        """End a subscription; returns once none of its callbacks is running and, for a
        consumer, its position is stored."""
        if not isinstance(subscription, Subscription):
            raise InvalidArgument(f"unsubscribe takes what subscribe returned, got {subscription!r}")
        if isinstance(subscription, AsyncFeedSubscription):
            await subscription.stop()
        else:
            subscription.cancel()

    async def events(self, after: int = 0, limit: int = 1000,
                     campaign_id: int | None = None) -> list[TransitionEvent]:
        return await self._call(self._api.events(after, limit, campaign_id))

    async def follow(self, after: int = 0, campaign_id: int | None = None) -> AsyncIterator[TransitionEvent]:
        """The feed as an async iterator: every event after position `after`, in commit
        order, then each as it commits (the feed is polled while idle), for as long as
        the caller iterates."""
        call = self._api.events(after, 1, campaign_id)  # checks the arguments now
        del call
        feed = self._core.feed

        async def read(position: int) -> list[TransitionEvent]:
            return await self._db.read(lambda: feed.events(position, FEED_BATCH, campaign_id))

        async for page in pages(read, after):
            for event in page:
                yield event

    # -- running calls ------------------------------------------------------------------------

    async def _call(self, call: Call[T]) -> T:
        """Run a call as one transaction; then tell the subscribers of what committed
        (the async twin of `Engine._call`)."""
        db = self._db
        try:
            if call.write:
                done = await db.run(call.work, call.source, bulk=call.bulk, committed=self._tell_later)
            else:
                done = await db.read(call.work)
        except BaseException as exc:
            if call.cleanup is not None:
                call.cleanup()
            other = call.recover(exc) if call.recover is not None else None
            if other is None:
                raise
            return await self._call(other)
        await self._tell(done)
        return done.value

    def _tell_later(self, done: Done[Any]) -> None:
        """A call cancelled while it committed: its change stands, and the subscribers
        hear of it in the background."""
        task = asyncio.ensure_future(self._tell(done))
        self._telling.add(task)
        task.add_done_callback(self._telling.discard)

    async def _tell(self, done: Done[Any]) -> None:
        subscribers = self._subscribers
        if subscribers and (done.events or done.moved):
            if done.tx is not None and done.tx.unplaced:  # a subscriber came meanwhile
                await self._db.read(place(self._db.q, done.tx))
            await subscribers.written_async(done)
            if done.moved:
                for event in await self._db.read(self._core.contacts.events(done.moved)):
                    await subscribers.tell_async(event)

    # -- reading contacts -------------------------------------------------------------------

    async def get_contact(self, contact_id: int) -> Contact:
        return await self._call(self._api.get_contact(contact_id))

    async def history(self, contact_id: int) -> list[HistoryEntry]:
        return await self._call(self._api.history(contact_id))

    async def find_call(self, call_id: str) -> Contact:
        return await self._call(self._api.find_call(call_id))

    async def find_contacts(self, campaign_id: int | None = None, *, external_id: str | None = None,
                            phone: str | None = None, region: str | None = None) -> list[Contact]:
        return await self._call(self._api.find_contacts(campaign_id, external_id, phone, region))

    async def why_not(self, contact_id: int, at: datetime | None = None) -> Callability:
        return await self._call(self._api.why_not(contact_id, at))

    # -- triggers (spec section 3) --------------------------------------------------------------

    async def assign_operator(self, contact_id: int, operator_id: str, *, actor: str | None = None,
                              idempotency_key: str | None = None) -> Contact:
        return await self._call(self._api.assign_operator(contact_id, operator_id, actor, idempotency_key))

    async def accept(self, contact_id: int, *, actor: str | None = None, idempotency_key: str | None = None) -> Contact:
        return await self._call(self._api.simple(contact_id, "accept", S.BEFORE_CALL_WORK, actor, idempotency_key))

    async def reject(self, contact_id: int, *, actor: str | None = None, idempotency_key: str | None = None) -> Contact:
        return await self._call(self._api.reject(contact_id, actor, idempotency_key))

    async def wait_for_operator(self, contact_id: int, *, actor: str | None = None,
                                idempotency_key: str | None = None) -> Contact:
        return await self._call(self._api.simple(contact_id, "wait_for_operator", S.AWAITING_OPERATOR, actor,
                                                 idempotency_key))

    async def connect_operator(self, contact_id: int, operator_id: str, *, actor: str | None = None,
                               idempotency_key: str | None = None) -> Contact:
        return await self._call(self._api.connect_operator(contact_id, operator_id, actor, idempotency_key))

    async def dial(self, contact_id: int, call_id: str | None = None, *, override: str | None = None,
                   phone: str | None = None, actor: str | None = None, idempotency_key: str | None = None,
                   ) -> Contact:
        return await self._call(self._api.dial(contact_id, call_id, override, actor, idempotency_key, phone))

    async def dial_failed(self, contact_id: int, reason: str | None = None, call_id: str | None = None, *,
                          actor: str | None = None, idempotency_key: str | None = None) -> Contact:
        return await self._call(self._api.dial_failed(contact_id, reason, call_id, actor, idempotency_key))

    async def answered(self, contact_id: int, call_id: str | None = None, operator_id: str | None = None, *,
                       actor: str | None = None, idempotency_key: str | None = None) -> Contact:
        return await self._call(self._api.answered(contact_id, call_id, operator_id, actor, idempotency_key))

    async def call_ended(self, contact_id: int, outcome: Outcome | str | int, dialect: str | None = None,
                         call_id: str | None = None, *, actor: str | None = None,
                         idempotency_key: str | None = None) -> Contact:
        return await self._call(self._api.call_ended(contact_id, outcome, dialect, call_id, actor, idempotency_key))

    async def wrap_up(self, contact_id: int, disposition: str, callback_at: datetime | None = None,
                      personal: bool = False, *, actor: str | None = None,
                      idempotency_key: str | None = None) -> Contact:
        return await self._call(self._api.wrap_up(contact_id, disposition, callback_at, personal, actor,
                                                  idempotency_key))

    async def retry_due(self, contact_id: int, *, actor: str | None = None,
                        idempotency_key: str | None = None) -> Contact:
        return await self._call(self._api.retry_due(contact_id, actor, idempotency_key))

    async def cancel(self, contact_id: int, *, actor: str | None = None, idempotency_key: str | None = None) -> Contact:
        return await self._call(self._api.simple(contact_id, "cancel", S.CANCELED_BY_ADMIN, actor, idempotency_key))

    async def delete(self, contact_id: int, *, actor: str | None = None, idempotency_key: str | None = None) -> Contact:
        return await self._call(self._api.simple(contact_id, "delete", S.DELETED, actor, idempotency_key))

    async def update_phone(self, contact_id: int, phone: str | Sequence[object], *, actor: str | None = None,
                           idempotency_key: str | None = None) -> Contact:
        return await self._call(self._api.update_phone(contact_id, phone, actor, idempotency_key))

    async def update_contact(self, contact_id: int, *, priority: int | Unset = UNSET,
                             data: Mapping[str, Any] | Unset | None = UNSET, timezone: str | Unset | None = UNSET,
                             external_id: str | Unset | None = UNSET, actor: str | None = None,
                             idempotency_key: str | None = None) -> Contact:
        fields = {"priority": priority, "data": data, "timezone": timezone, "external_id": external_id}
        return await self._call(self._api.update_contact(contact_id, fields, actor, idempotency_key))

    # -- claiming --------------------------------------------------------------------------------

    async def assign_next(self, campaign_id: int, operator_id: str, *, actor: str | None = None) -> Contact | None:
        return await self._call(self._api.assign_next(campaign_id, operator_id, actor))

    async def dial_next(self, campaign_id: int, limit: int = 1, *, actor: str | None = None) -> list[Contact]:
        return await self._call(self._api.dial_next(campaign_id, limit, actor))

    # -- campaigns ---------------------------------------------------------------------------------

    async def create_campaign(
        self,
        name: str,
        mode: DialMode | str = DialMode.PREVIEW,
        retry_policy: RetryPolicy | None = None,
        calling_window: CallingWindow | None = None,
        timezone: str = "UTC",
        default_region: str | None = None,
        *,
        dispositions: Mapping[str, str] | None = None,
        default_disposition: str = "success",
        bare_numbers: str = "check",
        unique_external_ids: bool = False,
        **timers: float,
    ) -> Campaign:
        return await self._call(self._api.create_campaign(name, mode, retry_policy, calling_window, timezone,
                                                          default_region, dispositions, default_disposition,
                                                          bare_numbers, unique_external_ids, timers))

    async def create_campaign_with_contacts(
        self, name: str, contacts: ContactItems, *, actor: str | None = None,
        on_reject: RejectHook | None = None, adapt: Adapter | None = None, **settings: Any,
    ) -> tuple[Campaign, ImportReport]:
        source = AsyncBatchSource(contacts, importer.PARALLEL_AFTER)
        try:
            return await self._call(self._api.create_campaign_with_contacts(name, contacts, actor, on_reject, adapt,
                                                                            settings, source))
        finally:
            await source.aclose()

    async def get_campaign(self, campaign_id: int) -> Campaign:
        return await self._call(self._api.get_campaign(campaign_id))

    async def campaigns(self) -> list[Campaign]:
        return await self._call(self._api.campaigns())

    async def contacts(self, campaign_id: int, state: ContactState | str | None = None, *,
                       limit: int | None = None, after_id: int = 0) -> list[Contact]:
        return await self._call(self._api.contacts(campaign_id, state, limit, after_id))

    async def retry_policy(self, campaign_id: int, version: int | None = None) -> RetryPolicy:
        return await self._call(self._api.retry_policy(campaign_id, version))

    async def calling_window(self, campaign_id: int) -> CallingWindow | None:
        return await self._call(self._api.calling_window(campaign_id))

    async def pause_campaign(self, campaign_id: int) -> Campaign:
        return await self._call(self._api.pause_campaign(campaign_id))

    async def resume_campaign(self, campaign_id: int) -> Campaign:
        return await self._call(self._api.resume_campaign(campaign_id))

    async def cancel_campaign(self, campaign_id: int, *, actor: str | None = None) -> int:
        return await self._call(self._api.cancel_campaign(campaign_id, actor))

    async def update_campaign(
        self, campaign_id: int, *, name: str | Unset = UNSET, calling_window: CallingWindow | Unset | None = UNSET,
        timezone: str | Unset = UNSET, default_region: str | Unset | None = UNSET,
        dispositions: Mapping[str, str] | Unset | None = UNSET, default_disposition: str | Unset = UNSET,
        bare_numbers: str | Unset = UNSET, unique_external_ids: bool | Unset = UNSET, actor: str | None = None,
        **timers: float,
    ) -> Campaign:
        changes = {"name": name, "calling_window": calling_window, "timezone": timezone,
                   "default_region": default_region, "dispositions": dispositions,
                   "default_disposition": default_disposition, "bare_numbers": bare_numbers,
                   "unique_external_ids": unique_external_ids, **timers}
        return await self._call(self._api.update_campaign(campaign_id, changes, actor))

    async def campaign_history(self, campaign_id: int) -> list[CampaignChange]:
        return await self._call(self._api.campaign_history(campaign_id))

    async def update_retry_policy(self, campaign_id: int, policy: RetryPolicy) -> int:
        return await self._call(self._api.update_retry_policy(campaign_id, policy))

    async def campaign_stats(self, campaign_id: int) -> CampaignStats:
        return await self._call(self._api.campaign_stats(campaign_id))

    # -- the blacklist -------------------------------------------------------------------------------

    async def blacklist_phone(self, phone: str, note: str | None = None, *, region: str | None = None,
                              campaign_id: int | None = None, expires_at: datetime | None = None,
                              actor: str | None = None) -> int:
        return await self._call(self._api.blacklist_phone(phone, note, region, campaign_id, expires_at, actor))

    async def unblacklist_phone(self, phone: str, *, region: str | None = None, campaign_id: int | None = None,
                                actor: str | None = None) -> int:
        return await self._call(self._api.unblacklist_phone(phone, region, campaign_id, actor))

    async def blacklist_entries(self) -> list[BlacklistEntry]:
        return await self._call(self._api.blacklist_entries())

    async def blacklist(self) -> list[tuple[str, str | None]]:
        return await self._call(self._api.blacklist())

    # -- importing ------------------------------------------------------------------------------------

    async def add_contacts(self, campaign_id: int, contacts: ContactItems, *, actor: str | None = None,
                           on_reject: RejectHook | None = None, adapt: Adapter | None = None) -> ImportReport:
        source = AsyncBatchSource(contacts, importer.PARALLEL_AFTER)
        try:
            return await self._call(self._api.add_contacts(campaign_id, contacts, actor, on_reject, adapt, source))
        finally:
            await source.aclose()

    # -- timers (for the scheduler) ---------------------------------------------------------------------

    async def next_due_at(self) -> datetime | None:
        return from_epoch(await self._call(self._api.next_due_at()))

    async def due_count(self) -> int:
        return await self._call(self._api.due_count())

    async def fire_batch(self, limit: int = 200) -> FiredBatch:
        return await self._call(self._api.fire_batch(limit))

    async def fire_due(self, limit: int = 200) -> list[Contact]:
        return [contact for _, contact in (await self.fire_batch(limit)).fired]


def _documented_as(face: type, twin: type) -> None:
    """Give each public method of `twin` the docstring of `face`'s method of that name
    (the arguments and results are the same; the text is written once)."""
    for name, member in vars(twin).items():
        original = getattr(face, name, None)
        if not name.startswith("_") and callable(member) and member.__doc__ is None and original is not None:
            member.__doc__ = original.__doc__


_documented_as(Engine, AsyncEngine)
