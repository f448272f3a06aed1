"""`Api`: every public call of the engine, checked and turned into a `Call`.

Both faces (`Engine`, `AsyncEngine`) hand each of their methods' arguments to the
method of the same name here and run the `Call` it returns: what is checked, what
is read and written, and in which order, is decided once, here and in the parts of
the core, whichever face runs it.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from dialstate.engine.calls import Call, Done, done, read, write
from dialstate.engine.checks import (
    check_actor,
    check_callables,
    check_id,
    check_limit,
    check_optional_text,
    check_text,
)
from dialstate.engine.core import Core
from dialstate.engine.feed import check_position
from dialstate.engine.gates import Callability
from dialstate.engine.importer import ContactItems, check_contacts
from dialstate.engine.lifecycle import TIMER_SETTINGS
from dialstate.engine.prepare import Adapter, RejectHook
from dialstate.engine.runner import Trigger
from dialstate.engine.settings import PAUSED, RUNNING, UNSET, CampaignSettings
from dialstate.engine.snapshots import BlacklistEntry, Campaign, CampaignChange, Contact, ImportReport, TransitionEvent
from dialstate.engine.states import ContactState, DialMode
from dialstate.engine.timers import FiredBatch
from dialstate.errors import (
    ConcurrentUpdate,
    ConfigurationError,
    InvalidArgument,
    InvalidTransition,
    StaleCallEvent,
    TimerRuleFailed,
)
from dialstate.outcomes import Outcome
from dialstate.policy import CallingWindow, RetryPolicy
from dialstate.store.ops import Work

S = ContactState


class Api:
    def __init__(self, core: Core, integrity_errors: tuple[type[BaseException], ...]) -> None:
        self._core = core
        #: Errors after which a call with an idempotency key may find its own reply.
        self._lost_race: tuple[type[BaseException], ...] = (
            ConcurrentUpdate, InvalidTransition, StaleCallEvent, *integrity_errors)

    # -- triggers -----------------------------------------------------------------------

    def _trigger(self, contact_id: int, trigger: Trigger, actor: str | None, key: str | None) -> Call[Contact]:
        """One trigger. With an idempotency key, a lost race may have been lost to this
        very call repeated while the first was in flight: then its reply stands."""
        check_id("contact_id", contact_id)
        check_actor(actor)
        if key is not None and (not isinstance(key, str) or not key.strip() or "\x00" in key):
            raise InvalidArgument(f"idempotency_key must be non-empty text, got {key!r}")
        runner = self._core.runner

        def work() -> Work[Done[Contact]]:
            return runner.unit(contact_id, trigger, actor, key)

        if key is None:
            return Call(work)

        def recover(exc: BaseException) -> Call[Contact] | None:
            if not isinstance(exc, self._lost_race):
                return None
            return Call(lambda: _replay(runner.reply(key, contact_id, trigger), exc), write=False)

        return Call(work, recover=recover)

    def simple(self, contact_id: int, name: str, to_state: ContactState, actor: str | None,
               key: str | None) -> Call[Contact]:
        return self._trigger(contact_id, self._core.triggers.simple(name, to_state), actor, key)

    def assign_operator(self, contact_id: int, operator_id: str, actor: str | None, key: str | None) -> Call[Contact]:
        return self._trigger(contact_id, self._core.triggers.assign_operator(operator_id), actor or operator_id, key)

    def reject(self, contact_id: int, actor: str | None, key: str | None) -> Call[Contact]:
        return self._trigger(contact_id, self._core.triggers.reject(), actor, key)

    def connect_operator(self, contact_id: int, operator_id: str, actor: str | None, key: str | None) -> Call[Contact]:
        return self._trigger(contact_id, self._core.triggers.connect_operator(operator_id), actor or operator_id, key)

    def dial(self, contact_id: int, call_id: str | None, override: str | None, actor: str | None,
             key: str | None, phone: str | None = None) -> Call[Contact]:
        return self._trigger(contact_id, self._core.triggers.dial(call_id, override, phone), actor, key)

    def why_not(self, contact_id: int, at: datetime | None) -> Call[Callability]:
        check_id("contact_id", contact_id)
        if at is not None and (not isinstance(at, datetime) or at.tzinfo is None):
            raise InvalidArgument(f"at must be a time-zone aware datetime, got {at!r}")
        return read(lambda: self._core.contacts.why_not(contact_id, at))

    def dial_failed(self, contact_id: int, reason: str | None, call_id: str | None, actor: str | None,
                    key: str | None) -> Call[Contact]:
        return self._trigger(contact_id, self._core.triggers.dial_failed(reason, call_id), actor, key)

    def answered(self, contact_id: int, call_id: str | None, operator_id: str | None, actor: str | None,
                 key: str | None) -> Call[Contact]:
        return self._trigger(contact_id, self._core.triggers.answered(call_id, operator_id), actor, key)

    def call_ended(self, contact_id: int, outcome: Outcome | str | int, dialect: str | None, call_id: str | None,
                   actor: str | None, key: str | None) -> Call[Contact]:
        return self._trigger(contact_id, self._core.triggers.call_ended(outcome, dialect, call_id), actor, key)

    def wrap_up(self, contact_id: int, disposition: str, callback_at: datetime | None, personal: bool,
                actor: str | None, key: str | None) -> Call[Contact]:
        return self._trigger(contact_id, self._core.triggers.wrap_up(disposition, callback_at, personal), actor, key)

    def retry_due(self, contact_id: int, actor: str | None, key: str | None) -> Call[Contact]:
        return self._trigger(contact_id, self._core.triggers.retry_due(), actor, key)

    def update_phone(self, contact_id: int, phone: object, actor: str | None, key: str | None) -> Call[Contact]:
        return self._trigger(contact_id, self._core.triggers.update_phone(phone), actor, key)

    def update_contact(self, contact_id: int, fields: dict[str, Any], actor: str | None,
                       key: str | None) -> Call[Contact]:
        return self._trigger(contact_id, self._core.triggers.update_contact(fields), actor, key)

    # -- the feed ------------------------------------------------------------------------------

    def events(self, after: int, limit: int, campaign_id: int | None) -> Call[list[TransitionEvent]]:
        if campaign_id is not None:
            check_id("campaign_id", campaign_id)
        return read(lambda: self._core.feed.events(after, limit, campaign_id))

    def feed_start(self, consumer: str | None, after: int | None) -> Call[int]:
        """Where a feed subscription starts: a consumer where it stopped (or at `after`,
        0 by default, when first seen); an anonymous one at `after`, or at the end."""
        feed = self._core.feed
        if consumer is not None and (not isinstance(consumer, str) or not consumer.strip()):
            raise InvalidArgument(f"consumer must be a non-empty name, got {consumer!r}")
        if after is not None:
            check_position("after", after)

        def work() -> Work[int]:
            if consumer is not None:
                stored = yield from feed.consumer_position(consumer)
                return stored if stored is not None else (after or 0)
            return after if after is not None else (yield from feed.end())

        return read(work)

    def save_position(self, consumer: str, position: int) -> Call[None]:
        return write(lambda: self._core.feed.save_position(consumer, position))

    # -- reading contacts --------------------------------------------------------------------

    def get_contact(self, contact_id: int) -> Call[Contact]:
        check_id("contact_id", contact_id)
        return read(lambda: self._core.contacts.get(contact_id))

    def history(self, contact_id: int) -> Call[list[Any]]:
        check_id("contact_id", contact_id)
        return read(lambda: self._core.contacts.history(contact_id))

    def find_call(self, call_id: str) -> Call[Contact]:
        return read(lambda: self._core.contacts.find_call(call_id))

    def find_contacts(self, campaign_id: int | None, external_id: object, phone: object,
                      region: str | None) -> Call[list[Contact]]:
        if campaign_id is not None:
            check_id("campaign_id", campaign_id)
        check_optional_text("region", region)
        return read(lambda: self._core.contacts.find(campaign_id, external_id, phone, region))

    # -- claiming ------------------------------------------------------------------------------

    def assign_next(self, campaign_id: int, operator_id: str, actor: str | None) -> Call[Contact | None]:
        check_id("campaign_id", campaign_id)
        check_text("operator_id", operator_id)
        check_actor(actor)
        claims = self._core.claims

        def work() -> Work[Done[Contact | None]]:
            done = yield from claims.unit(campaign_id, 1, "assign_operator", operator_id, actor or operator_id)
            return Done(done.value[0] if done.value else None, done.events, tx=done.tx)

        return Call(work)

    def dial_next(self, campaign_id: int, limit: int, actor: str | None) -> Call[list[Contact]]:
        check_id("campaign_id", campaign_id)
        check_actor(actor)
        check_limit("limit", limit)
        return Call(lambda: self._core.claims.unit(campaign_id, limit, "dial", None, actor))

    # -- campaigns -------------------------------------------------------------------------------

    def create_campaign(self, name: object, mode: object, retry_policy: object, calling_window: object,
                        timezone: object, default_region: object, dispositions: object, default_disposition: object,
                        bare_numbers: object, unique_external_ids: object,
                        timers: Mapping[str, object]) -> Call[Campaign]:
        settings, policy = _settings(name, mode, retry_policy, calling_window, timezone, default_region,
                                     dispositions, default_disposition, bare_numbers, unique_external_ids, timers)
        campaigns = self._core.campaigns

        def work() -> Work[Campaign]:
            return (yield from campaigns.get((yield from campaigns.create(settings, policy))))

        return write(work)

    def create_campaign_with_contacts(self, name: str, contacts: ContactItems, actor: str | None,
                                      on_reject: RejectHook | None, adapt: Adapter | None,
                                      settings: Mapping[str, Any], source: Any,
                                      ) -> Call[tuple[Campaign, ImportReport]]:
        check_actor(actor)
        check_callables(on_reject=on_reject, adapt=adapt)
        """`create_campaign(name, **settings)` and `add_contacts(...)` as one unit;
        `settings` are bound to `create_campaign`'s parameters and their defaults."""
        check_contacts(contacts)
        try:
            bound = _CREATE.bind(name, **settings)
        except TypeError as exc:
            raise ConfigurationError(f"create_campaign_with_contacts: {exc}") from None
        bound.apply_defaults()
        args = bound.arguments
        campaign_settings, policy = _settings(
            name, args["mode"], args["retry_policy"], args["calling_window"], args["timezone"],
            args["default_region"], args["dispositions"], args["default_disposition"], args["bare_numbers"],
            args["unique_external_ids"], args["timers"])
        core = self._core
        created: list[int] = []

        def work() -> Work[Done[tuple[Campaign, ImportReport]]]:
            campaign_id = yield from core.campaigns.create(campaign_settings, policy)
            created.append(campaign_id)
            report = yield from core.importer.unit(campaign_id, actor, on_reject, adapt)
            return Done(((yield from core.campaigns.get(campaign_id)), report))

        def forget() -> None:
            for campaign_id in created:  # rolled back: SQLite gives the id out again
                core.configs.forget(campaign_id)

        return Call(work, source=source, bulk=True, cleanup=forget)

    def get_campaign(self, campaign_id: int) -> Call[Campaign]:
        check_id("campaign_id", campaign_id)
        return read(lambda: self._core.campaigns.get(campaign_id))

    def campaigns(self) -> Call[list[Campaign]]:
        return read(self._core.campaigns.all)

    def contacts(self, campaign_id: int, state: ContactState | str | None, limit: int | None,
                 after_id: int) -> Call[list[Contact]]:
        check_id("campaign_id", campaign_id)
        if limit is not None:
            check_limit("limit", limit)
        if isinstance(after_id, bool) or not isinstance(after_id, int) or after_id < 0:
            raise InvalidArgument(f"after_id must be a whole number >= 0, got {after_id!r}")
        return read(lambda: self._core.campaigns.contacts(campaign_id, state, limit, after_id))

    def retry_policy(self, campaign_id: int, version: int | None) -> Call[RetryPolicy]:
        check_id("campaign_id", campaign_id)
        if version is not None:
            check_id("version", version)
        return read(lambda: self._core.campaigns.retry_policy(campaign_id, version))

    def calling_window(self, campaign_id: int) -> Call[CallingWindow | None]:
        check_id("campaign_id", campaign_id)
        return read(lambda: self._core.campaigns.calling_window(campaign_id))

    def pause_campaign(self, campaign_id: int) -> Call[Campaign]:
        check_id("campaign_id", campaign_id)
        return write(lambda: self._core.campaigns.set_status(campaign_id, PAUSED))

    def resume_campaign(self, campaign_id: int) -> Call[Campaign]:
        check_id("campaign_id", campaign_id)
        return write(lambda: self._core.campaigns.set_status(campaign_id, RUNNING))

    def cancel_campaign(self, campaign_id: int, actor: str | None) -> Call[int]:
        check_id("campaign_id", campaign_id)
        check_actor(actor)
        return Call(lambda: self._core.campaigns.cancel(campaign_id, actor))

    def update_campaign(self, campaign_id: int, changes: dict[str, Any], actor: str | None) -> Call[Campaign]:
        check_id("campaign_id", campaign_id)
        check_actor(actor)
        changes = {name: value for name, value in changes.items() if value is not UNSET}
        unknown = set(changes) - UPDATABLE
        if unknown:
            raise ConfigurationError(f"update_campaign cannot change {sorted(unknown)}; it changes "
                                     f"{', '.join(sorted(UPDATABLE))} (a campaign keeps its mode; retry policies "
                                     "have update_retry_policy)")
        if not changes:
            raise InvalidArgument("update_campaign needs at least one setting to change")
        campaigns, clock = self._core.campaigns, self._core.clock
        return write(lambda: campaigns.update(campaign_id, changes, actor, clock.epoch()))

    def campaign_history(self, campaign_id: int) -> Call[list[CampaignChange]]:
        check_id("campaign_id", campaign_id)
        return read(lambda: self._core.campaigns.changes(campaign_id))

    def update_retry_policy(self, campaign_id: int, policy: RetryPolicy) -> Call[int]:
        check_id("campaign_id", campaign_id)
        if not isinstance(policy, RetryPolicy):
            raise ConfigurationError(f"policy must be a RetryPolicy, got {policy!r}")
        return write(lambda: self._core.campaigns.update_retry_policy(campaign_id, policy))

    def campaign_stats(self, campaign_id: int) -> Call[Any]:
        check_id("campaign_id", campaign_id)
        campaigns = self._core.campaigns
        return Call(lambda: done(campaigns.stats(campaign_id)), write=campaigns.stats_write)

    # -- the blacklist ------------------------------------------------------------------------------

    def blacklist_phone(self, phone: str, note: str | None, region: str | None, campaign_id: int | None,
                        expires_at: datetime | None, actor: str | None) -> Call[int]:
        check_optional_text("note", note)
        check_optional_text("region", region)
        if campaign_id is not None:
            check_id("campaign_id", campaign_id)
        check_actor(actor)
        return Call(lambda: self._core.blacklist.add(phone, note, region, campaign_id, expires_at, actor))

    def unblacklist_phone(self, phone: str, region: str | None, campaign_id: int | None,
                          actor: str | None) -> Call[int]:
        check_optional_text("region", region)
        if campaign_id is not None:
            check_id("campaign_id", campaign_id)
        check_actor(actor)
        return Call(lambda: self._core.blacklist.remove(phone, region, campaign_id, actor))

    def blacklist_entries(self) -> Call[list[BlacklistEntry]]:
        return read(self._core.blacklist.entries)

    def blacklist(self) -> Call[list[tuple[str, str | None]]]:
        entries = self._core.blacklist.entries

        def pairs() -> Work[list[tuple[str, str | None]]]:
            return [(entry.phone, entry.note) for entry in (yield from entries())]

        return read(pairs)

    # -- importing --------------------------------------------------------------------------------------

    def add_contacts(self, campaign_id: int, contacts: ContactItems, actor: str | None,
                     on_reject: RejectHook | None, adapt: Adapter | None, source: Any) -> Call[ImportReport]:
        check_id("campaign_id", campaign_id)
        check_actor(actor)
        check_callables(on_reject=on_reject, adapt=adapt)
        check_contacts(contacts)
        return Call(lambda: done(self._core.importer.unit(campaign_id, actor, on_reject, adapt)),
                    source=source, bulk=True)

    # -- timers ---------------------------------------------------------------------------------------------

    def next_due_at(self) -> Call[float | None]:
        return read(self._core.timers.next_due_at)

    def due_count(self) -> Call[int]:
        return read(self._core.timers.due_count)

    def fire_batch(self, limit: int) -> Call[FiredBatch]:
        """Fire up to `limit` due contacts; a contact whose rule raised is put off and the
        batch reported with `deferred=1` (the others fire in the next batch)."""
        check_limit("limit", limit)
        timers = self._core.timers

        def recover(exc: BaseException) -> Call[FiredBatch] | None:
            if not isinstance(exc, TimerRuleFailed):
                return None

            def put_off() -> Work[Done[FiredBatch]]:
                yield from timers.put_off(exc)
                return Done(FiredBatch(selected=limit, deferred=1))

            return Call(put_off)

        return Call(lambda: timers.fire(limit), recover=recover)


#: What `update_campaign` may change.
UPDATABLE = frozenset({"name", "calling_window", "timezone", "default_region", "dispositions", "default_disposition",
                       "bare_numbers", "unique_external_ids", *TIMER_SETTINGS})


def _replay(work: Work[Contact | None], lost: BaseException) -> Work[Done[Contact]]:
    reply = yield from work
    if reply is None:
        raise lost
    return Done(reply)


def _settings(name: object, mode: object, retry_policy: object, calling_window: object, timezone: object,
              default_region: object, dispositions: object, default_disposition: object, bare_numbers: object,
              unique_external_ids: object, timers: Mapping[str, object]) -> tuple[CampaignSettings, RetryPolicy]:
    """`create_campaign`'s arguments, checked: the settings and the retry policy."""
    policy = retry_policy if retry_policy is not None else RetryPolicy()
    if not isinstance(policy, RetryPolicy):
        raise ConfigurationError(f"retry_policy must be a RetryPolicy, got {policy!r}")
    settings = CampaignSettings.build(name, mode, calling_window, timezone, default_region, dispositions,
                                      default_disposition, timers, bare_numbers, unique_external_ids)
    return settings, policy


def create_campaign_signature(
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
) -> None:
    """`create_campaign`'s parameters and their defaults: the faces' `create_campaign`
    repeat them for their readers; `create_campaign_with_contacts(**settings)` binds to
    them (tests/unit check that the three agree)."""


_CREATE = inspect.signature(create_campaign_signature)
