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
from dialstate.engine.core import Core
from dialstate.engine.importer import ContactItems, check_contacts
from dialstate.engine.prepare import Adapter, RejectHook
from dialstate.engine.runner import Trigger
from dialstate.engine.settings import PAUSED, RUNNING, CampaignSettings
from dialstate.engine.snapshots import Campaign, Contact, ImportReport
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
        runner = self._core.runner

        def recover(exc: BaseException) -> Call[Contact] | None:
            if key is None or not isinstance(exc, self._lost_race):
                return None
            return Call(lambda: _replay(runner.reply(key, contact_id, trigger.name), exc), write=False)

        return Call(lambda: runner.unit(contact_id, trigger, actor, key), recover=recover)

    def simple(self, contact_id: int, name: str, to_state: ContactState, actor: str | None,
               key: str | None) -> Call[Contact]:
        return self._trigger(contact_id, self._core.triggers.simple(name, to_state), actor, key)

    def assign_operator(self, contact_id: int, operator_id: str, actor: str | None, key: str | None) -> Call[Contact]:
        return self._trigger(contact_id, self._core.triggers.assign_operator(operator_id), actor or operator_id, key)

    def reject(self, contact_id: int, actor: str | None, key: str | None) -> Call[Contact]:
        return self._trigger(contact_id, self._core.triggers.reject(), actor, key)

    def connect_operator(self, contact_id: int, operator_id: str, actor: str | None, key: str | None) -> Call[Contact]:
        return self._trigger(contact_id, self._core.triggers.connect_operator(operator_id), actor or operator_id, key)

    def dial(self, contact_id: int, call_id: str | None, actor: str | None, key: str | None) -> Call[Contact]:
        return self._trigger(contact_id, self._core.triggers.dial(call_id), actor, key)

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

    def update_phone(self, contact_id: int, phone: str, actor: str | None, key: str | None) -> Call[Contact]:
        return self._trigger(contact_id, self._core.triggers.update_phone(phone), actor, key)

    # -- reading contacts --------------------------------------------------------------------

    def get_contact(self, contact_id: int) -> Call[Contact]:
        return read(lambda: self._core.contacts.get(contact_id))

    def history(self, contact_id: int) -> Call[list[Any]]:
        return read(lambda: self._core.contacts.history(contact_id))

    # -- claiming ------------------------------------------------------------------------------

    def assign_next(self, campaign_id: int, operator_id: str, actor: str | None) -> Call[Contact | None]:
        if not isinstance(operator_id, str) or not operator_id.strip():
            raise InvalidArgument(f"operator_id must be non-empty text, got {operator_id!r}")
        claims = self._core.claims

        def work() -> Work[Done[Contact | None]]:
            done = yield from claims.unit(campaign_id, 1, "assign_operator", operator_id, actor or operator_id)
            return Done(done.value[0] if done.value else None, done.events)

        return Call(work)

    def dial_next(self, campaign_id: int, limit: int, actor: str | None) -> Call[list[Contact]]:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise InvalidArgument(f"limit must be a positive integer, got {limit!r}")
        return Call(lambda: self._core.claims.unit(campaign_id, limit, "dial", None, actor))

    # -- campaigns -------------------------------------------------------------------------------

    def create_campaign(self, name: object, mode: object, retry_policy: object, calling_window: object,
                        timezone: object, default_region: object, dispositions: object, default_disposition: object,
                        timers: Mapping[str, object]) -> Call[Campaign]:
        settings, policy = _settings(name, mode, retry_policy, calling_window, timezone, default_region,
                                     dispositions, default_disposition, timers)
        campaigns = self._core.campaigns

        def work() -> Work[Campaign]:
            return (yield from campaigns.get((yield from campaigns.create(settings, policy))))

        return write(work)

    def create_campaign_with_contacts(self, name: str, contacts: ContactItems, actor: str | None,
                                      on_reject: RejectHook | None, adapt: Adapter | None,
                                      settings: Mapping[str, Any], source: Any,
                                      ) -> Call[tuple[Campaign, ImportReport]]:
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
            args["default_region"], args["dispositions"], args["default_disposition"], args["timers"])
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
        return read(lambda: self._core.campaigns.get(campaign_id))

    def campaigns(self) -> Call[list[Campaign]]:
        return read(self._core.campaigns.all)

    def contacts(self, campaign_id: int, state: ContactState | str | None, limit: int | None,
                 after_id: int) -> Call[list[Contact]]:
        return read(lambda: self._core.campaigns.contacts(campaign_id, state, limit, after_id))

    def retry_policy(self, campaign_id: int, version: int | None) -> Call[RetryPolicy]:
        return read(lambda: self._core.campaigns.retry_policy(campaign_id, version))

    def calling_window(self, campaign_id: int) -> Call[CallingWindow | None]:
        return read(lambda: self._core.campaigns.calling_window(campaign_id))

    def pause_campaign(self, campaign_id: int) -> Call[Campaign]:
        return write(lambda: self._core.campaigns.set_status(campaign_id, PAUSED))

    def resume_campaign(self, campaign_id: int) -> Call[Campaign]:
        return write(lambda: self._core.campaigns.set_status(campaign_id, RUNNING))

    def cancel_campaign(self, campaign_id: int, actor: str | None) -> Call[int]:
        return Call(lambda: self._core.campaigns.cancel(campaign_id, actor))

    def update_retry_policy(self, campaign_id: int, policy: RetryPolicy) -> Call[int]:
        if not isinstance(policy, RetryPolicy):
            raise ConfigurationError(f"policy must be a RetryPolicy, got {policy!r}")
        return write(lambda: self._core.campaigns.update_retry_policy(campaign_id, policy))

    def campaign_stats(self, campaign_id: int) -> Call[Any]:
        return read(lambda: self._core.campaigns.stats(campaign_id))

    # -- the blacklist ------------------------------------------------------------------------------

    def blacklist_phone(self, phone: str, note: str | None, region: str | None, actor: str | None) -> Call[int]:
        return Call(lambda: self._core.blacklist.add(phone, note, region, actor))

    def unblacklist_phone(self, phone: str, region: str | None, actor: str | None) -> Call[int]:
        return Call(lambda: self._core.blacklist.remove(phone, region, actor))

    def blacklist(self) -> Call[list[tuple[str, str | None]]]:
        return read(self._core.blacklist.entries)

    # -- importing --------------------------------------------------------------------------------------

    def add_contacts(self, campaign_id: int, contacts: ContactItems, actor: str | None,
                     on_reject: RejectHook | None, adapt: Adapter | None, source: Any) -> Call[ImportReport]:
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
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise InvalidArgument(f"limit must be a positive integer, got {limit!r}")
        timers = self._core.timers

        def recover(exc: BaseException) -> Call[FiredBatch] | None:
            if not isinstance(exc, TimerRuleFailed):
                return None

            def put_off() -> Work[Done[FiredBatch]]:
                yield from timers.put_off(exc)
                return Done(FiredBatch(selected=limit, deferred=1))

            return Call(put_off)

        return Call(lambda: timers.fire(limit), recover=recover)


def _replay(work: Work[Contact | None], lost: BaseException) -> Work[Done[Contact]]:
    reply = yield from work
    if reply is None:
        raise lost
    return Done(reply)


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
    **timers: float,
) -> None:
    """`create_campaign`'s parameters and their defaults: the faces' `create_campaign`
    repeat them for their readers; `create_campaign_with_contacts(**settings)` binds to
    them (tests/unit check that the three agree)."""


_CREATE = inspect.signature(create_campaign_signature)
