"""`Engine`: the public API. A façade: each method hands its arguments to the `Api`
(dialstate.engine.api), which checks them and returns a `Call`; the engine runs it as
one transaction on its database and, once it committed, tells the subscribers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Self, TypeVar

from dialstate.engine import importer
from dialstate.engine.api import Api
from dialstate.engine.calls import Call
from dialstate.engine.clock import Clock, ClockSource
from dialstate.engine.core import Core
from dialstate.engine.gates import Callability
from dialstate.engine.listeners import FEED_BATCH, FeedSubscription, Subscription
from dialstate.engine.prepare import Adapter, BatchSource, RejectHook
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
from dialstate.engine.subscribers import Subscriber, Subscribers
from dialstate.engine.timers import FiredBatch
from dialstate.errors import InvalidArgument
from dialstate.models.types import from_epoch
from dialstate.outcomes import Outcome
from dialstate.policy import CallingWindow, RetryPolicy
from dialstate.store.database import Database
from dialstate.store.feed import place

T = TypeVar("T")
S = ContactState


class Engine:
    """Runs campaigns whose contacts are state machines persisted in SQL.

    `Engine(url="sqlite:///dialstate.db", clock=None, *, lock_timeout=5.0)`: SQLite by
    default (a file, in WAL mode), PostgreSQL (`postgresql+psycopg://...`) for several
    processes. `clock` returns an aware datetime, so tests and simulations control time.
    `lock_timeout` is how long a call waits for a lock another connection holds. The
    tables are created when missing.
    """

    def __init__(self, url: str = "sqlite:///dialstate.db", clock: ClockSource | None = None, *,
                 lock_timeout: float = 5.0) -> None:
        self._clock = Clock(clock)
        self._db = Database(url, lock_timeout=lock_timeout)
        try:
            self._db.open()
        except BaseException:
            self._db.close()
            raise
        self._core = Core(self._db.q, self._db.backend, self._clock)
        self._api = Api(self._core, self._db.integrity_errors)
        self._subscribers = Subscribers()
        self._db.wants_positions = self._subscribers.__bool__
        self._feeds: set[FeedSubscription] = set()

    # -- basics ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return self._db.display_url

    @property
    def database(self) -> Database:
        """The database, for tools that work on it below the API (schema, tests)."""
        return self._db

    def now(self) -> datetime:
        """The engine's clock (aware UTC)."""
        return self._clock.now()

    def close(self) -> None:
        """End the engine: its feed subscriptions stop, later calls raise `EngineClosed`."""
        for subscription in list(self._feeds):
            subscription.cancel()
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def subscribe(self, callback: Subscriber, scope: str = "process", *, consumer: str | None = None,
                  after: int | None = None) -> Subscription:
        """Call `callback(event)` for each committed transition.

        `scope="process"` (the default): the transitions this process commits, right
        after each commit, in the thread that made it; a callback that raises is
        logged and undoes nothing. `scope="all"`: the transitions of every process, in
        commit order, at least once, from a thread of this subscription's own (a
        raising callback is logged and retried with backoff). It starts at the end of
        the feed, or after position `after`; a named `consumer` keeps its position in
        the database and resumes where it stopped (first seen: at `after`, default 0).

        Returns the subscription: call it, or pass it to `unsubscribe`, to end it.
        """
        if not callable(callback):
            raise InvalidArgument(f"callback must be callable, got {callback!r}")
        if scope == "process":
            if consumer is not None or after is not None:
                raise InvalidArgument("consumer= and after= are for scope='all' (the feed of every process)")
            return self._subscribers.add(callback)
        if scope != "all":
            raise InvalidArgument(f"scope must be 'process' or 'all', got {scope!r}")
        start = self._call(self._api.feed_start(consumer, after))
        feed = self._core.feed

        def save(position: int) -> None:
            assert consumer is not None
            self._call(self._api.save_position(consumer, position))

        subscription = FeedSubscription(
            callback, start, consumer, lambda position: self._db.read(feed.events(position, FEED_BATCH, None)),
            save, self._feeds.discard)
        self._feeds.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """End a subscription; returns once none of its callbacks is running and, for a
        consumer, its position is stored."""
        if not isinstance(subscription, Subscription):
            raise InvalidArgument(f"unsubscribe takes what subscribe returned, got {subscription!r}")
        subscription.cancel()

    def events(self, after: int = 0, limit: int = 1000, campaign_id: int | None = None) -> list[TransitionEvent]:
        """The transition feed: committed transitions after position `after`, in commit
        order (every process's), at most `limit`; of one campaign when given. Each
        event's `position` is unique and grows in commit order: asking again with the
        last position seen never misses one that committed later."""
        return self._call(self._api.events(after, limit, campaign_id))

    # -- running calls ------------------------------------------------------------------------

    def _call(self, call: Call[T]) -> T:
        """Run a call as one transaction; then tell the subscribers of what committed."""
        db = self._db
        try:
            done = db.run(call.work, call.source, bulk=call.bulk) if call.write else db.read(call.work)
        except BaseException as exc:
            if call.cleanup is not None:
                call.cleanup()
            other = call.recover(exc) if call.recover is not None else None
            if other is None:
                raise
            return self._call(other)
        subscribers = self._subscribers
        if subscribers and (done.events or done.moved):
            if done.tx is not None and done.tx.unplaced:  # a subscriber came meanwhile
                db.read(place(db.q, done.tx))
            subscribers.written(done)
            if done.moved:
                for event in db.read(self._core.contacts.events(done.moved)):
                    subscribers.tell(event)
        return done.value

    # -- reading contacts -------------------------------------------------------------------

    def get_contact(self, contact_id: int) -> Contact:
        """A detached, read-only snapshot of a contact."""
        return self._call(self._api.get_contact(contact_id))

    def history(self, contact_id: int) -> list[HistoryEntry]:
        """The contact's transitions, oldest first."""
        return self._call(self._api.history(contact_id))

    def find_call(self, call_id: str) -> Contact:
        """The contact that has or had the call `call_id` (a late webhook for an earlier
        attempt too); `ContactNotFound` when none did."""
        return self._call(self._api.find_call(call_id))

    def find_contacts(self, campaign_id: int | None = None, *, external_id: str | None = None,
                      phone: str | None = None, region: str | None = None) -> list[Contact]:
        """The contacts with an external id, or with a number (read as the campaign
        reads numbers; across campaigns, in international form or with `region`), in
        one campaign or in all, by id."""
        return self._call(self._api.find_contacts(campaign_id, external_id, phone, region))

    # -- triggers (spec section 3) --------------------------------------------------------------

    def assign_operator(self, contact_id: int, operator_id: str, *, actor: str | None = None,
                        idempotency_key: str | None = None) -> Contact:
        """`ready` or `awaiting_operator` → `operator_assigned` (preview, progressive)."""
        return self._call(self._api.assign_operator(contact_id, operator_id, actor, idempotency_key))

    def accept(self, contact_id: int, *, actor: str | None = None, idempotency_key: str | None = None) -> Contact:
        """`operator_assigned` → `before_call_work` (preview, progressive)."""
        return self._call(self._api.simple(contact_id, "accept", S.BEFORE_CALL_WORK, actor, idempotency_key))

    def reject(self, contact_id: int, *, actor: str | None = None, idempotency_key: str | None = None) -> Contact:
        """`operator_assigned` → `rejected_by_operator` → `ready` (preview only)."""
        return self._call(self._api.reject(contact_id, actor, idempotency_key))

    def wait_for_operator(self, contact_id: int, *, actor: str | None = None,
                          idempotency_key: str | None = None) -> Contact:
        """`ready` → `awaiting_operator` (preview, progressive)."""
        return self._call(self._api.simple(contact_id, "wait_for_operator", S.AWAITING_OPERATOR, actor,
                                           idempotency_key))

    def connect_operator(self, contact_id: int, operator_id: str, *, actor: str | None = None,
                         idempotency_key: str | None = None) -> Contact:
        """`awaiting_operator` → `call_in_progress` (predictive)."""
        return self._call(self._api.connect_operator(contact_id, operator_id, actor, idempotency_key))

    def dial(self, contact_id: int, call_id: str | None = None, *, override: str | None = None,
             phone: str | None = None, actor: str | None = None, idempotency_key: str | None = None) -> Contact:
        """Place a call: counts an attempt and gives the call a fresh id unless given one.

        The rules must allow it now (section 12): the campaign running, the number not
        blacklisted, the calling window open, the retry policy's caps held; else
        `NotCallable` says why and from when, and nothing changes. `override` (the
        operator's reason, kept word for word in the `dialing` entry) passes the window
        and the caps, never the blacklist or a pause. For a contact with several
        numbers the call uses the one chosen when it was claimed, else the next usable
        one; `phone` (one of its numbers, read as the campaign reads numbers) chooses,
        through the same rules."""
        return self._call(self._api.dial(contact_id, call_id, override, actor, idempotency_key, phone))

    def why_not(self, contact_id: int, at: datetime | None = None) -> Callability:
        """Whether the contact may be called at `at` (now by default): `callable`, every
        reason that blocks it, and `next_allowed_at`, the earliest time none does (None
        when no time can be known: blacklisted, the campaign paused, a final state)."""
        return self._call(self._api.why_not(contact_id, at))

    def dial_failed(self, contact_id: int, reason: str | None = None, call_id: str | None = None, *,
                    actor: str | None = None, idempotency_key: str | None = None) -> Contact:
        """The call could not be placed: `dial_failed`, then what the policy decides."""
        return self._call(self._api.dial_failed(contact_id, reason, call_id, actor, idempotency_key))

    def answered(self, contact_id: int, call_id: str | None = None, operator_id: str | None = None, *,
                 actor: str | None = None, idempotency_key: str | None = None) -> Contact:
        """`dialing` → `call_in_progress`; predictive without an operator → `awaiting_operator`."""
        return self._call(self._api.answered(contact_id, call_id, operator_id, actor, idempotency_key))

    def call_ended(self, contact_id: int, outcome: Outcome | str | int, dialect: str | None = None,
                   call_id: str | None = None, *, actor: str | None = None,
                   idempotency_key: str | None = None) -> Contact:
        """The call ended with `outcome` (canonical, or a vendor code of `dialect`)."""
        return self._call(self._api.call_ended(contact_id, outcome, dialect, call_id, actor, idempotency_key))

    def wrap_up(self, contact_id: int, disposition: str, callback_at: datetime | None = None,
                personal: bool = False, *, actor: str | None = None,
                idempotency_key: str | None = None) -> Contact:
        """The operator's wrap-up: `after_call_work` → what the disposition means."""
        return self._call(self._api.wrap_up(contact_id, disposition, callback_at, personal, actor, idempotency_key))

    def retry_due(self, contact_id: int, *, actor: str | None = None, idempotency_key: str | None = None) -> Contact:
        """`retry_scheduled` → `ready` (the scheduler calls it when the retry is due)."""
        return self._call(self._api.retry_due(contact_id, actor, idempotency_key))

    def cancel(self, contact_id: int, *, actor: str | None = None, idempotency_key: str | None = None) -> Contact:
        """Any open or parked state → `canceled_by_admin`."""
        return self._call(self._api.simple(contact_id, "cancel", S.CANCELED_BY_ADMIN, actor, idempotency_key))

    def delete(self, contact_id: int, *, actor: str | None = None, idempotency_key: str | None = None) -> Contact:
        """Any state but `deleted` → `deleted`; the row and its history are kept."""
        return self._call(self._api.simple(contact_id, "delete", S.DELETED, actor, idempotency_key))

    def update_contact(self, contact_id: int, *, priority: int | Unset = UNSET,
                       data: Mapping[str, Any] | Unset | None = UNSET, timezone: str | Unset | None = UNSET,
                       external_id: str | Unset | None = UNSET, actor: str | None = None,
                       idempotency_key: str | None = None) -> Contact:
        """Change a contact's priority, data, time zone or external id, in any state but
        `deleted`: one `update` history entry naming the fields changed (the state
        stays), and a new version. `timezone` (None: the number's zones) moves its
        calling window."""
        fields = {"priority": priority, "data": data, "timezone": timezone, "external_id": external_id}
        return self._call(self._api.update_contact(contact_id, fields, actor, idempotency_key))

    def update_phone(self, contact_id: int, phone: str | Sequence[object], *, actor: str | None = None,
                     idempotency_key: str | None = None) -> Contact:
        """Correct the number: `invalid_record` → `ready` when it is now valid. A list
        (strings or {"phone", "label", "timezone"}, as `add_contacts` takes them)
        replaces the contact's numbers; a number that stays keeps its attempts and
        status."""
        return self._call(self._api.update_phone(contact_id, phone, actor, idempotency_key))

    # -- claiming --------------------------------------------------------------------------------

    def assign_next(self, campaign_id: int, operator_id: str, *, actor: str | None = None) -> Contact | None:
        """The next claimable `ready` contact, moved to `operator_assigned` for
        `operator_id`, or None (preview and progressive campaigns)."""
        return self._call(self._api.assign_next(campaign_id, operator_id, actor))

    def dial_next(self, campaign_id: int, limit: int = 1, *, actor: str | None = None) -> list[Contact]:
        """Up to `limit` claimable `ready` contacts, each moved to `dialing` with a
        fresh call id (predictive and agentless campaigns)."""
        return self._call(self._api.dial_next(campaign_id, limit, actor))

    # -- campaigns ---------------------------------------------------------------------------------

    def create_campaign(
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
        """Create a campaign; the timers are `before_call_work_seconds`,
        `after_call_work_seconds`, `assign_timeout_seconds`, `dial_timeout_seconds`,
        `max_call_seconds`, `operator_wait_seconds` and `callback_grace_seconds`.
        `bare_numbers` says how numbers written without `+` or a trunk prefix are read
        (`check`, `national`, `international`); with `unique_external_ids`, an external
        id already in the campaign makes a contact a duplicate."""
        return self._call(self._api.create_campaign(name, mode, retry_policy, calling_window, timezone,
                                                    default_region, dispositions, default_disposition,
                                                    bare_numbers, unique_external_ids, timers))

    def create_campaign_with_contacts(
        self, name: str, contacts: Iterable[object], *, actor: str | None = None,
        on_reject: RejectHook | None = None, adapt: Adapter | None = None, **settings: Any,
    ) -> tuple[Campaign, ImportReport]:
        """`create_campaign(name, **settings)` and `add_contacts(contacts, actor=,
        on_reject=, adapt=)` in one transaction: when the import fails (a bad item, an
        error raised by `contacts` or `adapt`, an interrupt) there is no campaign
        either. Returns (the campaign, the import report)."""
        source = BatchSource(contacts, importer.PARALLEL_AFTER)
        try:
            return self._call(self._api.create_campaign_with_contacts(name, contacts, actor, on_reject, adapt,
                                                                      settings, source))
        finally:
            source.close()

    def get_campaign(self, campaign_id: int) -> Campaign:
        return self._call(self._api.get_campaign(campaign_id))

    def campaigns(self) -> list[Campaign]:
        return self._call(self._api.campaigns())

    def contacts(self, campaign_id: int, state: ContactState | str | None = None, *,
                 limit: int | None = None, after_id: int = 0) -> list[Contact]:
        """The campaign's contacts (in one state, when given) by id, for paging:
        those with an id above `after_id`, at most `limit` of them."""
        return self._call(self._api.contacts(campaign_id, state, limit, after_id))

    def retry_policy(self, campaign_id: int, version: int | None = None) -> RetryPolicy:
        """The campaign's retry policy (its current version unless `version` is given)."""
        return self._call(self._api.retry_policy(campaign_id, version))

    def calling_window(self, campaign_id: int) -> CallingWindow | None:
        return self._call(self._api.calling_window(campaign_id))

    def pause_campaign(self, campaign_id: int) -> Campaign:
        """Stop claiming from the campaign (calls in progress go on)."""
        return self._call(self._api.pause_campaign(campaign_id))

    def resume_campaign(self, campaign_id: int) -> Campaign:
        return self._call(self._api.resume_campaign(campaign_id))

    def cancel_campaign(self, campaign_id: int, *, actor: str | None = None) -> int:
        """End the campaign: every open or parked contact → `canceled_by_admin`, in one
        transaction. Returns how many contacts were canceled."""
        return self._call(self._api.cancel_campaign(campaign_id, actor))

    def update_campaign(
        self, campaign_id: int, *, name: str | Unset = UNSET, calling_window: CallingWindow | Unset | None = UNSET,
        timezone: str | Unset = UNSET, default_region: str | Unset | None = UNSET,
        dispositions: Mapping[str, str] | Unset | None = UNSET, default_disposition: str | Unset = UNSET,
        bare_numbers: str | Unset = UNSET, unique_external_ids: bool | Unset = UNSET, actor: str | None = None,
        **timers: float,
    ) -> Campaign:
        """Change a campaign's settings (checked as `create_campaign` checks them). The
        next decisions use them; due times already written stay as they were. Each
        setting changed is kept in `campaign_history`, with `actor` and the time."""
        changes = {"name": name, "calling_window": calling_window, "timezone": timezone,
                   "default_region": default_region, "dispositions": dispositions,
                   "default_disposition": default_disposition, "bare_numbers": bare_numbers,
                   "unique_external_ids": unique_external_ids, **timers}
        return self._call(self._api.update_campaign(campaign_id, changes, actor))

    def campaign_history(self, campaign_id: int) -> list[CampaignChange]:
        """Who changed which setting of the campaign, when, old -> new, oldest first."""
        return self._call(self._api.campaign_history(campaign_id))

    def update_retry_policy(self, campaign_id: int, policy: RetryPolicy) -> int:
        """Store `policy` as the campaign's new version; returns the version number.
        Decisions already taken keep the version that made them."""
        return self._call(self._api.update_retry_policy(campaign_id, policy))

    def campaign_stats(self, campaign_id: int) -> CampaignStats:
        """Contacts by state; finished attempts by outcome and by outcome group; for
        predictive campaigns the abandon rate (abandoned over answered calls)."""
        return self._call(self._api.campaign_stats(campaign_id))

    # -- the blacklist -------------------------------------------------------------------------------

    def blacklist_phone(self, phone: str, note: str | None = None, *, region: str | None = None,
                        campaign_id: int | None = None, expires_at: datetime | None = None,
                        actor: str | None = None) -> int:
        """Put a number on the blacklist, in every campaign or in `campaign_id`'s only,
        for good or until `expires_at`; its waiting contacts become `blacklisted` now,
        those in a call at the call's end. Returns how many contacts moved now.

        The number is read like a contact's: in international form (`+`, `00`), or in
        `region`'s national form; with `campaign_id` and no `region`, as that campaign
        reads its numbers. A number that is not valid, or national with no region to
        read it in, raises `InvalidPhone`. Blacklisting a number again replaces its
        entry. At `expires_at` the scheduler returns the contacts it parked to `ready`.
        """
        return self._call(self._api.blacklist_phone(phone, note, region, campaign_id, expires_at, actor))

    def unblacklist_phone(self, phone: str, *, region: str | None = None, campaign_id: int | None = None,
                          actor: str | None = None) -> int:
        """Take a number's entry (for every campaign, or `campaign_id`'s) off the
        blacklist; the `blacklisted` contacts no other entry holds go back to `ready`.
        Returns how many moved."""
        return self._call(self._api.unblacklist_phone(phone, region, campaign_id, actor))

    def blacklist_entries(self) -> list[BlacklistEntry]:
        """The blacklist entries in force, oldest first."""
        return self._call(self._api.blacklist_entries())

    def blacklist(self) -> list[tuple[str, str | None]]:
        """The blacklisted numbers with their notes (as 0.1.0 gave them;
        `blacklist_entries` tells more)."""
        return self._call(self._api.blacklist())

    # -- importing ------------------------------------------------------------------------------------

    def add_contacts(self, campaign_id: int, contacts: Iterable[object], *, actor: str | None = None,
                     on_reject: RejectHook | None = None, adapt: Adapter | None = None) -> ImportReport:
        """Add contacts (phone strings or dicts with `phone, external_id, priority,
        timezone, data`), streaming in batches, in one transaction.

        `on_reject(index, item, result, reason)` hears, in input order, of every item
        that did not become a `ready` contact (`invalid_record`, `blacklisted`,
        `duplicate`, or `skipped`).

        `adapt(item)`, when given, turns each item of the caller's own shape (a CSV
        row, a database record) into a phone string or a contact dict, and may raise
        `SkipRow(reason)` to leave it out. It runs where the items are prepared: in
        worker processes for a large input, so it must pickle (a module-level function,
        or an instance of a module-level class).
        """
        source = BatchSource(contacts, importer.PARALLEL_AFTER)
        try:
            return self._call(self._api.add_contacts(campaign_id, contacts, actor, on_reject, adapt, source))
        finally:
            source.close()

    # -- timers (for the scheduler) ---------------------------------------------------------------------

    def next_due_at(self) -> datetime | None:
        """The earliest due time of any contact (None when nothing waits for a time)."""
        return from_epoch(self._call(self._api.next_due_at()))

    def due_count(self) -> int:
        """How many contacts are due at the engine's clock now."""
        return self._call(self._api.due_count())

    def fire_batch(self, limit: int = 200) -> FiredBatch:
        """Fire up to `limit` due contacts in one transaction: the scheduler's step.
        A contact whose timer rule raises is put off (`POISON_RETRY_SECONDS`) and the
        batch is reported with `deferred=1`; the others fire in the next batch."""
        return self._call(self._api.fire_batch(limit))

    def fire_due(self, limit: int = 200) -> list[Contact]:
        """Fire up to `limit` due contacts in one transaction; returns their snapshots
        (after commit, when the subscribers have heard of each)."""
        return [contact for _, contact in self.fire_batch(limit).fired]
