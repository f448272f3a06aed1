"""dialstate: outbound campaign contacts as persisted state machines."""

from dialstate.engine.decisions import Meaning
from dialstate.engine.engine import Engine
from dialstate.engine.gates import Callability
from dialstate.engine.listeners import Subscription
from dialstate.engine.settings import UNSET
from dialstate.engine.snapshots import (
    BlacklistEntry,
    Campaign,
    CampaignChange,
    CampaignStats,
    Contact,
    HistoryEntry,
    ImportReport,
    Number,
    TransitionEvent,
)
from dialstate.engine.states import ContactState, DialMode, StateKind
from dialstate.errors import (
    CampaignNotFound,
    ConcurrentUpdate,
    ConfigurationError,
    ContactNotFound,
    DatabaseBusy,
    DatabaseUnavailable,
    DialstateError,
    EngineClosed,
    IdempotencyConflict,
    InvalidArgument,
    InvalidPhone,
    InvalidTransition,
    NotCallable,
    Reason,
    SchemaOutOfDate,
    SkipRow,
    StaleCallEvent,
    UnknownDisposition,
    UnknownOutcome,
    WriteConflict,
)
from dialstate.outcomes import Outcome, OutcomeGroup
from dialstate.policy import CallingWindow, RetryPolicy
from dialstate.scheduler import Scheduler

__version__ = "0.1.0"

__all__ = [
    "UNSET",
    "BlacklistEntry",
    "Callability",
    "CallingWindow",
    "Campaign",
    "CampaignChange",
    "CampaignNotFound",
    "CampaignStats",
    "ConcurrentUpdate",
    "ConfigurationError",
    "Contact",
    "ContactNotFound",
    "ContactState",
    "DatabaseBusy",
    "DatabaseUnavailable",
    "DialMode",
    "DialstateError",
    "Engine",
    "EngineClosed",
    "HistoryEntry",
    "IdempotencyConflict",
    "ImportReport",
    "InvalidArgument",
    "InvalidPhone",
    "InvalidTransition",
    "Meaning",
    "NotCallable",
    "Number",
    "Outcome",
    "OutcomeGroup",
    "Reason",
    "RetryPolicy",
    "Scheduler",
    "SchemaOutOfDate",
    "SkipRow",
    "StaleCallEvent",
    "StateKind",
    "Subscription",
    "TransitionEvent",
    "UnknownDisposition",
    "UnknownOutcome",
    "WriteConflict",
    "__version__",
]
