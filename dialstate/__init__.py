"""dialstate: outbound campaign contacts as persisted state machines."""

from dialstate.engine.decisions import Meaning
from dialstate.engine.engine import Engine
from dialstate.engine.snapshots import (
    Campaign,
    CampaignStats,
    Contact,
    HistoryEntry,
    ImportReport,
    TransitionEvent,
)
from dialstate.engine.states import ContactState, DialMode, StateKind
from dialstate.errors import (
    CampaignNotFound,
    ConcurrentUpdate,
    ConfigurationError,
    ContactNotFound,
    DialstateError,
    IdempotencyConflict,
    InvalidArgument,
    InvalidPhone,
    InvalidTransition,
    SchemaOutOfDate,
    SkipRow,
    StaleCallEvent,
    UnknownDisposition,
    UnknownOutcome,
)
from dialstate.outcomes import Outcome, OutcomeGroup
from dialstate.policy import CallingWindow, RetryPolicy
from dialstate.scheduler import Scheduler

__version__ = "0.1.0"

__all__ = [
    "CallingWindow",
    "Campaign",
    "CampaignNotFound",
    "CampaignStats",
    "ConcurrentUpdate",
    "ConfigurationError",
    "Contact",
    "ContactNotFound",
    "ContactState",
    "DialMode",
    "DialstateError",
    "Engine",
    "HistoryEntry",
    "IdempotencyConflict",
    "ImportReport",
    "InvalidArgument",
    "InvalidPhone",
    "InvalidTransition",
    "Meaning",
    "Outcome",
    "OutcomeGroup",
    "RetryPolicy",
    "Scheduler",
    "SchemaOutOfDate",
    "SkipRow",
    "StaleCallEvent",
    "StateKind",
    "TransitionEvent",
    "UnknownDisposition",
    "UnknownOutcome",
    "__version__",
]
