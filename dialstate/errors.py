"""The one exception hierarchy of dialstate.

Every error carries its data as attributes and builds its message from them, so a
caller can both log the message and branch on the fields.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple


class DialstateError(Exception):
    """Base of every error dialstate raises."""


class ConfigurationError(DialstateError, ValueError):
    """A setting (policy, window, campaign option, database URL) is not valid."""


class InvalidArgument(DialstateError, ValueError):
    """An argument of a call is not one dialstate can use; nothing was changed."""


class CampaignNotFound(DialstateError, LookupError):
    def __init__(self, campaign_id: object) -> None:
        self.campaign_id = campaign_id
        super().__init__(f"campaign {campaign_id!r} does not exist")


class ContactNotFound(DialstateError, LookupError):
    def __init__(self, contact_id: object = None, *, call_id: str | None = None) -> None:
        self.contact_id = contact_id
        self.call_id = call_id
        if call_id is not None:
            super().__init__(f"no contact has or had call {call_id!r}")
        else:
            super().__init__(f"contact {contact_id!r} does not exist")


class InvalidTransition(DialstateError):
    """A trigger does not fit the contact's state or its campaign's dial mode."""

    def __init__(
        self,
        contact_id: int,
        state: str,
        trigger: str,
        allowed: Iterable[str],
        mode: str | None = None,
        reason: str | None = None,
    ) -> None:
        self.contact_id = contact_id
        self.state = state
        self.trigger = trigger
        self.allowed = tuple(sorted(allowed))
        self.mode = mode
        self.reason = reason
        where = f" in {mode} mode" if mode else ""
        allowed_text = ", ".join(self.allowed) if self.allowed else "none (the state is final)"
        why = f" ({reason})" if reason else ""
        super().__init__(
            f"contact {contact_id}: cannot {trigger} from state {state}{where}{why}; "
            f"allowed now: {allowed_text}"
        )


class Reason(NamedTuple):
    """Why a contact may not be called now: a stable `code` to branch on and a `text`
    for people (`outside_window`, `campaign_paused`, `campaign_canceled`,
    `blacklisted`, `rolling_limit`, `retry_pending`, `not_ready`)."""

    code: str
    text: str


class NotCallable(DialstateError):
    """A direct call (`dial`, `assign_operator`) that the rules forbid now; nothing was
    changed. `reasons` says why, `next_allowed_at` when every rule allows it (None when
    no time can be known: blacklisted, or the campaign paused)."""

    def __init__(self, contact_id: int, reasons: tuple[Reason, ...], next_allowed_at: datetime | None) -> None:
        self.contact_id = contact_id
        self.reasons = reasons
        self.next_allowed_at = next_allowed_at
        when = f"; allowed from {next_allowed_at.isoformat()}" if next_allowed_at is not None else ""
        super().__init__(f"contact {contact_id} may not be called now: "
                         + "; ".join(r.text for r in reasons) + when)


class StaleCallEvent(DialstateError):
    """A call event names another call than the contact's current one."""

    def __init__(self, contact_id: int, state: str, trigger: str, call_id: str | None,
                 current_call_id: str | None) -> None:
        self.contact_id = contact_id
        self.state = state
        self.trigger = trigger
        self.call_id = call_id
        self.current_call_id = current_call_id
        super().__init__(
            f"contact {contact_id}: {trigger} for call {call_id!r} is stale; the contact "
            f"(state {state}) is on call {current_call_id!r}; nothing was changed"
        )


class ConcurrentUpdate(DialstateError):
    """Another writer changed the contact first; nothing was written."""

    def __init__(self, contact_id: int, trigger: str, expected_version: int) -> None:
        self.contact_id = contact_id
        self.trigger = trigger
        self.expected_version = expected_version
        super().__init__(
            f"contact {contact_id}: {trigger} lost a race (version {expected_version} was "
            f"changed by another writer); nothing was written, reload and retry"
        )


class InvalidPhone(DialstateError, ValueError):
    def __init__(self, phone: object, reason: str, contact_id: int | None = None) -> None:
        self.phone = phone
        self.reason = reason
        self.contact_id = contact_id
        who = f"contact {contact_id}: " if contact_id is not None else ""
        super().__init__(f"{who}phone {phone!r} is not valid: {reason}")


class UnknownDisposition(DialstateError, ValueError):
    def __init__(self, disposition: str, allowed: Iterable[str], contact_id: int | None = None) -> None:
        self.disposition = disposition
        self.allowed = tuple(sorted(allowed))
        self.contact_id = contact_id
        who = f"contact {contact_id}: " if contact_id is not None else ""
        super().__init__(
            f"{who}unknown disposition {disposition!r}; this campaign allows: "
            + ", ".join(self.allowed)
        )


class UnknownOutcome(DialstateError, ValueError):
    """An outcome code or dialect name that dialstate cannot use."""

    def __init__(self, code: object, dialect: str | None, message: str) -> None:
        self.code = code
        self.dialect = dialect
        super().__init__(message)


class WriteConflict(ConcurrentUpdate):
    """Another transaction wrote the same row first (or the database broke a deadlock);
    nothing was written: retry."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        self.contact_id = None  # type: ignore[assignment]
        self.trigger = None  # type: ignore[assignment]
        self.expected_version = None  # type: ignore[assignment]
        DialstateError.__init__(self, f"another writer got there first ({detail}); nothing was written, retry")


class IdempotencyConflict(DialstateError):
    """An idempotency key was reused for another contact, trigger or arguments."""

    def __init__(self, key: str, contact_id: int, trigger: str, used_for: str, asked_for: str | None = None) -> None:
        self.key = key
        self.contact_id = contact_id
        self.trigger = trigger
        self.used_for = used_for
        self.asked_for = asked_for or f"{trigger} on contact {contact_id}"
        super().__init__(
            f"idempotency key {key!r} was already used for {used_for}; it cannot be reused for "
            f"{self.asked_for}"
        )


class DatabaseUnavailable(DialstateError):
    """The database cannot be reached or used: the server does not answer, the
    connection broke mid-call, the file cannot be opened. `retryable` says whether
    trying again later may work (a server restarting) or not (a missing database).
    When the call's transaction was cut, nothing of it was kept unless its commit went
    through: retry with the same idempotency key to be sure."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        self.retryable = retryable
        super().__init__(message)


class DatabaseBusy(DialstateError):
    """A lock another connection holds was not released within the engine's
    `lock_timeout`; nothing was written."""

    retryable = True


class EngineClosed(DialstateError):
    """The engine was closed: make a new one."""

    def __init__(self) -> None:
        super().__init__("this engine was closed; create a new Engine to go on")


class OperatorLegCode(UnknownOutcome):
    """A code that describes one operator's leg of a call, never a contact's call."""

    def __init__(self, code: object, dialect: str, reason: str) -> None:
        self.reason = reason
        super().__init__(
            code,
            dialect,
            f"{dialect} code {code!r} describes an operator's leg, not the contact's "
            f"call: {reason}. Report the outcome of the contact's own call instead.",
        )


class InvalidDialect(UnknownOutcome, ConfigurationError):
    """A dialect that cannot be registered: a taken name, a bad code or outcome."""

    def __init__(self, dialect: object, reason: str, code: object = None) -> None:
        self.reason = reason
        super().__init__(code, str(dialect), f"cannot register dialect {dialect!r}: {reason}")


class TimerRuleFailed(DialstateError):
    """A timer rule raised for one contact (a bug, a corrupt row): the scheduler puts
    that contact off and fires the others."""

    def __init__(self, contact_id: int, state: str, version: int) -> None:
        self.contact_id = contact_id
        self.state = state
        self.version = version
        super().__init__(f"the timer rule of contact {contact_id} (state {state}) failed")


class MachineDefinitionError(ConfigurationError):
    """The declarative lifecycle table describes a machine that cannot be right."""


class SchemaOutOfDate(DialstateError):
    """The database schema is older than this version of dialstate."""


class DemoDatabaseInUse(ConfigurationError):
    """The demo's database holds campaigns of its own: the demo will not touch them."""


class CliError(DialstateError):
    """A runtime problem the command line found itself (a file, a column, a line)."""


class SkipRow(DialstateError):
    """Raised by an `add_contacts(adapt=...)` function to leave an item out: it is not
    added, and `on_reject` hears of it as `skipped`, with the exception's text. (Not an
    error the engine raises: a signal from the caller's own code.)"""
