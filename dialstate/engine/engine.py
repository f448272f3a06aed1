"""`Engine`: the public API. A façade: each method checks its arguments, asks a part of
the core (`dialstate.engine.core`) for a unit of work, runs it as one transaction on
the database and, once it committed, tells the subscribers."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, Self, TypeVar

from dialstate.engine import importer
from dialstate.engine.clock import Clock, ClockSource
from dialstate.engine.core import Core
from dialstate.engine.importer import check_contacts
from dialstate.engine.prepare import Adapter, ImportSettings, RejectHook, prepared_batches
from dialstate.engine.runner import Done, Trigger
from dialstate.engine.settings import PAUSED, RUNNING, CampaignSettings
from dialstate.engine.snapshots import Campaign, CampaignStats, Contact, HistoryEntry, ImportReport
from dialstate.engine.states import ContactState, DialMode
from dialstate.engine.subscribers import Subscriber, Subscribers
from dialstate.engine.timers import FiredBatch
from dialstate.errors import (
    ConcurrentUpdate,
    ConfigurationError,
    InvalidArgument,
    InvalidTransition,
    StaleCallEvent,
    TimerRuleFailed,
)
from dialstate.models.types import from_epoch
from dialstate.outcomes import Outcome
from dialstate.policy import CallingWindow, RetryPolicy
from dialstate.store.database import Database
from dialstate.store.ops import Work
from dialstate.store.schema import prepare_schema

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
        prepare_schema(self._db)
        self._core = Core(self._db.q, self._db.backend, self._clock)
        self._subscribers = Subscribers()

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
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call `callback(event)` after each committed transition made in this process.
        Returns a function that unsubscribes. A callback that raises is logged and
        undoes nothing."""
        return self._subscribers.add(callback)

    # -- running units of work ------------------------------------------------------------

    def _write(self, work: Work[Done[T]], source: Callable[[Any], Any] | None = None, bulk: bool = False) -> T:
        """Run a unit of work as one transaction, then tell the subscribers."""
        done = self._db.run(work, source, bulk=bulk)
        subscribers = self._subscribers
        if subscribers:
            subscribers.written(done.events)
            if done.moved:
                for event in self._db.read(self._core.contacts.events(done.moved)):
                    subscribers.tell(event)
        return done.value

    def _trigger(self, contact_id: int, trigger: Trigger, actor: str | None, key: str | None) -> Contact:
        """Run one trigger. With an idempotency key, a lost race may have been lost to
        this very call repeated while the first was in flight: its reply stands."""
        try:
            return self._write(self._core.runner.unit(contact_id, trigger, actor, key))
        except (ConcurrentUpdate, InvalidTransition, StaleCallEvent, *self._db.integrity_errors):  # type: ignore[misc]
            if key is not None:
                reply = self._db.read(self._core.runner.reply(key, contact_id, trigger.name))
                if reply is not None:
                    return reply
            raise

    # -- reading contacts -------------------------------------------------------------------

    def get_contact(self, contact_id: int) -> Contact:
        """A detached, read-only snapshot of a contact."""
        return self._db.read(self._core.contacts.get(contact_id))

    def history(self, contact_id: int) -> list[HistoryEntry]:
        """The contact's transitions, oldest first."""
        return self._db.read(self._core.contacts.history(contact_id))

    # -- triggers (spec section 3) --------------------------------------------------------------

    def assign_operator(self, contact_id: int, operator_id: str, *, actor: str | None = None,
                        idempotency_key: str | None = None) -> Contact:
        """`ready` or `awaiting_operator` → `operator_assigned` (preview, progressive)."""
        return self._trigger(contact_id, self._core.triggers.assign_operator(operator_id),
                             actor or operator_id, idempotency_key)

    def accept(self, contact_id: int, *, actor: str | None = None, idempotency_key: str | None = None) -> Contact:
        """`operator_assigned` → `before_call_work` (preview, progressive)."""
        return self._trigger(contact_id, self._core.triggers.simple("accept", S.BEFORE_CALL_WORK), actor,
                             idempotency_key)

    def reject(self, contact_id: int, *, actor: str | None = None, idempotency_key: str | None = None) -> Contact:
        """`operator_assigned` → `rejected_by_operator` → `ready` (preview only)."""
        return self._trigger(contact_id, self._core.triggers.reject(), actor, idempotency_key)

    def wait_for_operator(self, contact_id: int, *, actor: str | None = None,
                          idempotency_key: str | None = None) -> Contact:
        """`ready` → `awaiting_operator` (preview, progressive)."""
        return self._trigger(contact_id, self._core.triggers.simple("wait_for_operator", S.AWAITING_OPERATOR),
                             actor, idempotency_key)

    def connect_operator(self, contact_id: int, operator_id: str, *, actor: str | None = None,
                         idempotency_key: str | None = None) -> Contact:
        """`awaiting_operator` → `call_in_progress` (predictive)."""
        return self._trigger(contact_id, self._core.triggers.connect_operator(operator_id),
                             actor or operator_id, idempotency_key)

    def dial(self, contact_id: int, call_id: str | None = None, *, actor: str | None = None,
             idempotency_key: str | None = None) -> Contact:
        """Place a call: counts an attempt and gives the call a fresh id unless given one."""
        return self._trigger(contact_id, self._core.triggers.dial(call_id), actor, idempotency_key)

    def dial_failed(self, contact_id: int, reason: str | None = None, call_id: str | None = None, *,
                    actor: str | None = None, idempotency_key: str | None = None) -> Contact:
        """The call could not be placed: `dial_failed`, then what the policy decides."""
        return self._trigger(contact_id, self._core.triggers.dial_failed(reason, call_id), actor, idempotency_key)

    def answered(self, contact_id: int, call_id: str | None = None, operator_id: str | None = None, *,
                 actor: str | None = None, idempotency_key: str | None = None) -> Contact:
        """`dialing` → `call_in_progress`; predictive without an operator → `awaiting_operator`."""
        return self._trigger(contact_id, self._core.triggers.answered(call_id, operator_id), actor, idempotency_key)

    def call_ended(self, contact_id: int, outcome: Outcome | str | int, dialect: str | None = None,
                   call_id: str | None = None, *, actor: str | None = None,
                   idempotency_key: str | None = None) -> Contact:
        """The call ended with `outcome` (canonical, or a vendor code of `dialect`)."""
        return self._trigger(contact_id, self._core.triggers.call_ended(outcome, dialect, call_id), actor,
                             idempotency_key)

    def wrap_up(self, contact_id: int, disposition: str, callback_at: datetime | None = None,
                personal: bool = False, *, actor: str | None = None,
                idempotency_key: str | None = None) -> Contact:
        """The operator's wrap-up: `after_call_work` → what the disposition means."""
        return self._trigger(contact_id, self._core.triggers.wrap_up(disposition, callback_at, personal), actor,
                             idempotency_key)

    def retry_due(self, contact_id: int, *, actor: str | None = None, idempotency_key: str | None = None) -> Contact:
        """`retry_scheduled` → `ready` (the scheduler calls it when the retry is due)."""
        return self._trigger(contact_id, self._core.triggers.retry_due(), actor, idempotency_key)

    def cancel(self, contact_id: int, *, actor: str | None = None, idempotency_key: str | None = None) -> Contact:
        """Any open or parked state → `canceled_by_admin`."""
        return self._trigger(contact_id, self._core.triggers.simple("cancel", S.CANCELED_BY_ADMIN), actor,
                             idempotency_key)

    def delete(self, contact_id: int, *, actor: str | None = None, idempotency_key: str | None = None) -> Contact:
        """Any state but `deleted` → `deleted`; the row and its history are kept."""
        return self._trigger(contact_id, self._core.triggers.simple("delete", S.DELETED), actor, idempotency_key)

    def update_phone(self, contact_id: int, phone: str, *, actor: str | None = None,
                     idempotency_key: str | None = None) -> Contact:
        """Correct the number: `invalid_record` → `ready` when it is now valid."""
        return self._trigger(contact_id, self._core.triggers.update_phone(phone), actor, idempotency_key)

    # -- claiming --------------------------------------------------------------------------------

    def assign_next(self, campaign_id: int, operator_id: str, *, actor: str | None = None) -> Contact | None:
        """The next claimable `ready` contact, moved to `operator_assigned` for
        `operator_id`, or None (preview and progressive campaigns)."""
        if not isinstance(operator_id, str) or not operator_id.strip():
            raise InvalidArgument(f"operator_id must be non-empty text, got {operator_id!r}")
        claimed = self._write(self._core.claims.unit(campaign_id, 1, "assign_operator", operator_id,
                                                     actor or operator_id))
        return claimed[0] if claimed else None

    def dial_next(self, campaign_id: int, limit: int = 1, *, actor: str | None = None) -> list[Contact]:
        """Up to `limit` claimable `ready` contacts, each moved to `dialing` with a
        fresh call id (predictive and agentless campaigns)."""
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise InvalidArgument(f"limit must be a positive integer, got {limit!r}")
        return self._write(self._core.claims.unit(campaign_id, limit, "dial", None, actor))

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
        **timers: float,
    ) -> Campaign:
        """Create a campaign; the timers are `before_call_work_seconds`,
        `after_call_work_seconds`, `assign_timeout_seconds`, `dial_timeout_seconds`,
        `max_call_seconds`, `operator_wait_seconds` and `callback_grace_seconds`."""
        settings, policy = _settings(name, mode, retry_policy, calling_window, timezone, default_region,
                                     dispositions, default_disposition, timers)
        campaign_id = self._db.run(self._core.campaigns.create(settings, policy))
        return self.get_campaign(campaign_id)

    def create_campaign_with_contacts(
        self, name: str, contacts: Iterable[object], *, actor: str | None = None,
        on_reject: RejectHook | None = None, adapt: Adapter | None = None, **settings: Any,
    ) -> tuple[Campaign, ImportReport]:
        """`create_campaign(name, **settings)` and `add_contacts(contacts, actor=,
        on_reject=, adapt=)` in one transaction: when the import fails (a bad item, an
        error raised by `contacts` or `adapt`, an interrupt) there is no campaign
        either. Returns (the campaign, the import report)."""
        check_contacts(contacts)
        try:
            bound = _CREATE.bind(self, name, **settings)
        except TypeError as exc:
            raise ConfigurationError(f"create_campaign_with_contacts: {exc}") from None
        bound.apply_defaults()
        args = bound.arguments
        campaign_settings, policy = _settings(
            name, args["mode"], args["retry_policy"], args["calling_window"], args["timezone"],
            args["default_region"], args["dispositions"], args["default_disposition"], args["timers"])
        created: list[int] = []

        def work() -> Work[tuple[int, ImportReport]]:
            campaign_id = yield from self._core.campaigns.create(campaign_settings, policy)
            created.append(campaign_id)
            report = yield from self._core.importer.unit(campaign_id, actor, on_reject, adapt)
            return campaign_id, report

        source = _BatchSource(contacts)
        try:
            campaign_id, report = self._db.run(work(), source, bulk=True)
        except BaseException:
            for campaign_id in created:  # rolled back: SQLite gives the id out again
                self._core.configs.forget(campaign_id)
            raise
        finally:
            source.close()
        return self.get_campaign(campaign_id), report

    def get_campaign(self, campaign_id: int) -> Campaign:
        return self._db.read(self._core.campaigns.get(campaign_id))

    def campaigns(self) -> list[Campaign]:
        return self._db.read(self._core.campaigns.all())

    def contacts(self, campaign_id: int, state: ContactState | str | None = None, *,
                 limit: int | None = None, after_id: int = 0) -> list[Contact]:
        """The campaign's contacts (in one state, when given) by id, for paging:
        those with an id above `after_id`, at most `limit` of them."""
        return self._db.read(self._core.campaigns.contacts(campaign_id, state, limit, after_id))

    def retry_policy(self, campaign_id: int, version: int | None = None) -> RetryPolicy:
        """The campaign's retry policy (its current version unless `version` is given)."""
        return self._db.read(self._core.campaigns.retry_policy(campaign_id, version))

    def calling_window(self, campaign_id: int) -> CallingWindow | None:
        return self._db.read(self._core.campaigns.calling_window(campaign_id))

    def pause_campaign(self, campaign_id: int) -> Campaign:
        """Stop claiming from the campaign (calls in progress go on)."""
        return self._db.run(self._core.campaigns.set_status(campaign_id, PAUSED))

    def resume_campaign(self, campaign_id: int) -> Campaign:
        return self._db.run(self._core.campaigns.set_status(campaign_id, RUNNING))

    def cancel_campaign(self, campaign_id: int, *, actor: str | None = None) -> int:
        """End the campaign: every open or parked contact → `canceled_by_admin`, in one
        transaction. Returns how many contacts were canceled."""
        return self._write(self._core.campaigns.cancel(campaign_id, actor))

    def update_retry_policy(self, campaign_id: int, policy: RetryPolicy) -> int:
        """Store `policy` as the campaign's new version; returns the version number.
        Decisions already taken keep the version that made them."""
        if not isinstance(policy, RetryPolicy):
            raise ConfigurationError(f"policy must be a RetryPolicy, got {policy!r}")
        return self._db.run(self._core.campaigns.update_retry_policy(campaign_id, policy))

    def campaign_stats(self, campaign_id: int) -> CampaignStats:
        """Contacts by state; finished attempts by outcome and by outcome group; for
        predictive campaigns the abandon rate (abandoned over answered calls)."""
        return self._db.read(self._core.campaigns.stats(campaign_id))

    # -- the blacklist -------------------------------------------------------------------------------

    def blacklist_phone(self, phone: str, note: str | None = None, *, region: str | None = None,
                        actor: str | None = None) -> int:
        """Put a number on the blacklist; its waiting contacts become `blacklisted` now,
        those in a call at the call's end. Returns how many contacts moved now."""
        return self._write(self._core.blacklist.add(phone, note, region, actor))

    def unblacklist_phone(self, phone: str, *, region: str | None = None, actor: str | None = None) -> int:
        """Take a number off the blacklist; its `blacklisted` contacts go back to `ready`."""
        return self._write(self._core.blacklist.remove(phone, region, actor))

    def blacklist(self) -> list[tuple[str, str | None]]:
        """The blacklisted numbers with their notes."""
        return self._db.read(self._core.blacklist.entries())

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
        check_contacts(contacts)
        source = _BatchSource(contacts)
        try:
            return self._db.run(self._core.importer.unit(campaign_id, actor, on_reject, adapt), source, bulk=True)
        finally:
            source.close()

    # -- timers (for the scheduler) ---------------------------------------------------------------------

    def next_due_at(self) -> datetime | None:
        """The earliest due time of any contact (None when nothing waits for a time)."""
        return from_epoch(self._db.read(self._core.timers.next_due_at()))

    def due_count(self) -> int:
        """How many contacts are due at the engine's clock now."""
        return self._db.read(self._core.timers.due_count())

    def fire_batch(self, limit: int = 200) -> FiredBatch:
        """Fire up to `limit` due contacts in one transaction: the scheduler's step.
        A contact whose timer rule raises is put off (`POISON_RETRY_SECONDS`) and the
        batch is reported with `deferred=1`; the others fire in the next batch."""
        try:
            return self._write(self._core.timers.fire(limit))
        except TimerRuleFailed as failed:
            self._db.run(self._core.timers.put_off(failed))
            return FiredBatch(selected=limit, deferred=1)

    def fire_due(self, limit: int = 200) -> list[Contact]:
        """Fire up to `limit` due contacts in one transaction; returns their snapshots
        (after commit, when the subscribers have heard of each)."""
        return [contact for _, contact in self.fire_batch(limit).fired]


_CREATE = inspect.signature(Engine.create_campaign)


def _settings(name: object, mode: object, retry_policy: object, calling_window: object, timezone: object,
              default_region: object, dispositions: object, default_disposition: object,
              timers: Mapping[str, object]) -> tuple[CampaignSettings, RetryPolicy]:
    """`create_campaign`'s arguments, checked: the settings and the retry policy."""
    policy = retry_policy if retry_policy is not None else RetryPolicy()
    if not isinstance(policy, RetryPolicy):
        raise ConfigurationError(f"retry_policy must be a RetryPolicy, got {policy!r}")
    settings = CampaignSettings.build(name, mode, calling_window, timezone, default_region, dispositions,
                                      default_disposition, timers)
    return settings, policy


class _BatchSource:
    """Where an import unit pulls its prepared batches from: the caller's items,
    prepared with the settings the unit's first pull sends (in worker processes for a
    large input). Closed after the import, which stops the workers."""

    def __init__(self, contacts: Iterable[object]) -> None:
        self._contacts = contacts
        self._batches: Iterator[Any] | None = None

    def __call__(self, settings: ImportSettings) -> Any:
        if self._batches is None:
            self._batches = prepared_batches(self._contacts, settings, parallel_after=importer.PARALLEL_AFTER)
        return next(self._batches, None)

    def close(self) -> None:
        if isinstance(self._batches, Generator):
            self._batches.close()
