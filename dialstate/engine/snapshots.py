"""What the engine hands out: detached, read-only snapshots that are plain data
(`to_dict()` gives JSON-ready values; `pickle` and `copy` work)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any, NamedTuple, NoReturn

from dialstate.engine.numbers import BLACKLISTED, CALLABLE, INVALID, key_zones
from dialstate.engine.states import ContactState, DialMode
from dialstate.outcomes import Outcome

_STATES = {s.value: s for s in ContactState}
_OUTCOMES = {o.value: o for o in Outcome}
_fromtimestamp = datetime.fromtimestamp


def _utc(epoch: float) -> datetime:
    """The UTC datetime of `epoch` seconds."""
    return _fromtimestamp(epoch, UTC)


class _SharedTimes(dict[float, datetime]):
    """The times of a batch of snapshots, each made into a datetime (immutable) once:
    the contacts of one claim share their `now` and their due time, those imported
    together their creation time. Indexing converts a time not met yet."""

    __slots__ = ()

    def __missing__(self, epoch: float) -> datetime:
        found = self[epoch] = _utc(epoch)
        return found


class FrozenDict(dict[str, Any]):
    """A read-only dict: a snapshot's `data` and settings. `json.dumps` takes it as it
    is; it pickles and copies as a dict would."""

    __slots__ = ()

    def _read_only(self, *args: object, **kwargs: object) -> NoReturn:
        raise TypeError("a snapshot is read-only: change the contact or campaign through the engine")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = __ior__ = _read_only  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenDict, (dict(self),))

    def __copy__(self) -> FrozenDict:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenDict:
        return self


_EMPTY = FrozenDict()


def _freeze(value: Any) -> Any:
    if isinstance(value, Mapping):
        return FrozenDict({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def _to_json(snapshot: Any) -> dict[str, Any]:
    """A snapshot's fields as JSON-safe values: ISO times, enum values, plain containers."""
    out: dict[str, Any] = {}
    for name in snapshot.__slots__:
        value = getattr(snapshot, name)
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, Enum):
            value = value.value
        else:
            value = _thaw(value)
        out[name] = value
    return out


def _thaw(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, Number):
        return value.to_dict()
    if isinstance(value, tuple):
        return [_thaw(v) for v in value]
    return value


class Number(NamedTuple):
    """One of a contact's numbers (spec section 15): in E.164 (as written when it is
    invalid), its label, the zones its calling window is checked in, its status
    (`callable`, `invalid`, `wrong_number`, `blocked`, `blacklisted`) and its own
    attempts. (A named tuple: every snapshot of a contact builds one.)"""

    phone: str
    label: str | None
    zones: tuple[str, ...]
    status: str
    attempts: int
    last_outcome: Outcome | None
    last_attempt_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        at, outcome = self.last_attempt_at, self.last_outcome
        return {"phone": self.phone, "label": self.label, "zones": list(self.zones), "status": self.status,
                "attempts": self.attempts, "last_outcome": None if outcome is None else outcome.value,
                "last_attempt_at": None if at is None else at.isoformat()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Number:
        at = data.get("last_attempt_at")
        return cls(data["phone"], data.get("label"), tuple(data.get("zones") or ()), data["status"],
                   data.get("attempts", 0), Outcome(data["last_outcome"]) if data.get("last_outcome") else None,
                   datetime.fromisoformat(at) if at else None)


_SINGLE_STATUS = {"invalid_record": INVALID, "blacklisted": BLACKLISTED}
#: Builds a named tuple from its values without the Python-level `__new__` of
#: `Number(...)` (on every snapshot).
_tuple_new = tuple.__new__


def _numbers(row: Mapping[str, Any], zones: tuple[str, ...], outcome: Outcome | None,
             utc: Callable[[float], datetime]) -> tuple[Number, ...]:
    """A contact's numbers: those its `numbers` column lists (the blacklist applied by
    `blacklisted_numbers`), or its one number as its own columns describe it."""
    listed = row["numbers"]
    if not listed:
        at = row["last_attempt_at"]
        return (_tuple_new(Number, (row["phone"], None, zones, _SINGLE_STATUS.get(row["state"], CALLABLE),
                                    row["attempts"], outcome, None if at is None else utc(at))),)
    banned = row.get("banned_numbers") or ()
    out = []
    for n in listed:
        at, last = n["last_attempt_at"], n["last_outcome"]
        status = BLACKLISTED if n["status"] == CALLABLE and n["phone"] in banned else n["status"]
        out.append(Number(n["phone"], n["label"], tuple(n["zones"].split("|")) if n["zones"] else (), status,
                          n["attempts"], _OUTCOMES[last] if last else None,
                          None if at is None else utc(at)))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Contact:
    """A contact as it was when read; changing it changes nothing in the database."""

    id: int
    campaign_id: int
    phone: str
    state: ContactState
    attempts: int
    next_attempt_at: datetime | None
    operator_id: str | None
    call_id: str | None
    last_outcome: Outcome | None
    priority: int
    timezone: str | None
    data: Mapping[str, Any]
    version: int
    created_at: datetime
    updated_at: datetime
    external_id: str | None = None
    callback_operator_id: str | None = None
    zones: tuple[str, ...] = ()
    due_at: datetime | None = None
    #: Its numbers in order (one, for a contact added with one number).
    numbers: tuple[Number, ...] = ()

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Contact:
        """The snapshot of a contact row (as `dialstate.store.rows.contact` builds it)."""
        return _snapshot(row, _utc)

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, Any]]) -> list[Contact]:
        """The snapshots of many rows, the times they share made into datetimes once."""
        utc = _SharedTimes().__getitem__
        return [_snapshot(row, utc) for row in rows]

    def to_dict(self) -> dict[str, Any]:
        """Its fields as JSON-ready values (times in ISO 8601, states and outcomes as
        their names, data as plain dicts and lists)."""
        return _to_json(self)

    to_json = to_dict

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Contact:
        values = dict(data)
        for name in ("next_attempt_at", "created_at", "updated_at", "due_at"):
            if values.get(name):
                values[name] = datetime.fromisoformat(values[name])
        values["state"] = ContactState(values["state"])
        values["last_outcome"] = Outcome(values["last_outcome"]) if values["last_outcome"] else None
        values["data"] = _freeze(values.get("data") or {})
        values["zones"] = tuple(values.get("zones") or ())
        values["numbers"] = tuple(Number.from_json(n) for n in values.get("numbers") or ())
        return cls(**values)


def _draft_of(cls: type) -> type:
    """A plain class with the same slots as the frozen dataclass `cls`, whose instances
    may become `cls` instances (`draft.__class__ = cls`). A frozen dataclass's
    `__init__` sets each field through `object.__setattr__`; the draft's sets its slots
    directly, which builds the snapshot of every transition several times faster."""
    names: tuple[str, ...] = cls.__slots__  # type: ignore[attr-defined]
    namespace: dict[str, Any] = {}
    exec(f"def __init__(self, {', '.join(names)}):\n" + "".join(f"    self.{n} = {n}\n" for n in names), namespace)
    return type(f"_{cls.__name__}Draft", (), {"__slots__": names, "__init__": namespace["__init__"]})


_ContactDraft = _draft_of(Contact)


def _snapshot(row: Mapping[str, Any], utc: Callable[[float], datetime]) -> Contact:
    """A contact row's snapshot, its times made datetimes by `utc`. On the hot path of
    every transition: enum members by dict lookup, built as its draft, then made a
    `Contact` (see `_draft_of`)."""
    outcome = row["last_outcome"]
    data = row["data"]
    next_at, due = row["next_attempt_at"], row["due_at"]
    zones = key_zones(row["zone_key"])
    last = _OUTCOMES[outcome] if outcome else None
    contact = _ContactDraft(
        row["id"],
        row["campaign_id"],
        row["phone"],
        _STATES[row["state"]],
        row["attempts"],
        None if next_at is None else utc(next_at),
        row["operator_id"],
        row["call_id"],
        last,
        row["priority"],
        row["timezone"],
        _freeze(data) if data else _EMPTY,
        row["version"],
        utc(row["created_at"]),
        utc(row["updated_at"]),
        row["external_id"],
        row["callback_operator_id"],
        zones,
        None if due is None else utc(due),
        _numbers(row, zones, last, utc),
    )
    contact.__class__ = Contact
    return contact


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One transition of one contact."""

    seq: int
    from_state: ContactState | None
    to_state: ContactState
    trigger: str
    at: datetime
    actor: str | None = None
    attempt: int = 0
    call_id: str | None = None
    outcome: Outcome | None = None
    raw_code: str | None = None
    dialect: str | None = None
    policy_version: int | None = None
    note: str | None = None
    contact_id: int = 0
    #: The number dialed, on the entries of a dial and of a call's end.
    phone: str | None = None
    #: The entry's place in the transition feed (`Engine.events`).
    position: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Its fields as JSON-ready values."""
        return _to_json(self)

    to_json = to_dict


def history_entry(values: Mapping[str, Any]) -> HistoryEntry:
    """A history entry from its row (as a dict of `dialstate.store.rows.HISTORY_COLUMNS`)."""
    outcome = values["outcome"]
    from_state = values["from_state"]
    return HistoryEntry(
        seq=values["seq"],
        from_state=_STATES[from_state] if from_state else None,
        to_state=_STATES[values["to_state"]],
        trigger=values["trigger"],
        at=_fromtimestamp(values["at"], UTC),
        actor=values["actor"],
        attempt=values["attempt"],
        call_id=values["call_id"],
        outcome=_OUTCOMES[outcome] if outcome else None,
        raw_code=values["raw_code"],
        dialect=values["dialect"],
        policy_version=values["policy_version"],
        note=values["note"],
        contact_id=values["contact_id"],
        phone=values["phone"],
        position=values.get("position"),
    )


@dataclass(frozen=True, slots=True)
class Campaign:
    id: int
    name: str
    mode: DialMode
    status: str
    timezone: str
    default_region: str | None
    policy_version: int
    created_at: datetime
    settings: Mapping[str, Any] = field(default_factory=FrozenDict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "settings", _freeze(self.settings))

    def to_dict(self) -> dict[str, Any]:
        """Its fields as JSON-ready values."""
        return _to_json(self)


@dataclass(frozen=True, slots=True)
class CampaignChange:
    """One setting changed by `update_campaign`: when, by whom, from what to what
    (`setting` is the `update_campaign` argument's name)."""

    at: datetime
    actor: str | None
    setting: str
    #: The values as JSON gives them (a calling window as its `to_json()`).
    old: Any
    new: Any

    def to_dict(self) -> dict[str, Any]:
        return _to_json(self)


@dataclass(frozen=True, slots=True)
class BlacklistEntry:
    """A number on the blacklist: in E.164, for one campaign (None: every campaign),
    until `expires_at` (None: until someone takes it off)."""

    phone: str
    campaign_id: int | None
    expires_at: datetime | None
    note: str | None
    actor: str | None
    created_at: datetime

    @classmethod
    def from_row(cls, values: tuple[Any, ...]) -> BlacklistEntry:
        phone, campaign_id, expires_at, note, actor, created_at = values
        return cls(phone, campaign_id or None, None if expires_at is None else _fromtimestamp(expires_at, UTC), note,
                   actor, _fromtimestamp(created_at, UTC))

    def to_dict(self) -> dict[str, Any]:
        return _to_json(self)


@dataclass(frozen=True, slots=True)
class ImportReport:
    added: int
    invalid: int
    blacklisted: int
    duplicates: int
    contact_ids: list[int]
    #: Items an `adapt` function left out (`SkipRow`): not added, not duplicates.
    skipped: int = 0


@dataclass(frozen=True, slots=True)
class TransitionEvent:
    """A committed transition: the contact's snapshot and the history entry."""

    contact: Contact
    entry: HistoryEntry

    @property
    def position(self) -> int:
        """Its place in the transition feed: unique, and growing in commit order."""
        assert self.entry.position is not None
        return self.entry.position

    def to_dict(self) -> dict[str, Any]:
        """The event as JSON-ready values: its position, the contact, the entry."""
        return {"position": self.entry.position, "contact": self.contact.to_dict(), "entry": self.entry.to_dict()}


@dataclass(frozen=True, slots=True)
class CampaignStats:
    campaign_id: int
    by_state: Mapping[str, int]
    attempts_by_outcome: Mapping[str, int]
    attempts_by_group: Mapping[str, int]
    abandon_rate: float | None
    total: int

    def __post_init__(self) -> None:
        for name in ("by_state", "attempts_by_outcome", "attempts_by_group"):
            object.__setattr__(self, name, _freeze(getattr(self, name)))

    def to_dict(self) -> dict[str, Any]:
        return _to_json(self)

    def __getitem__(self, state: str) -> int:
        """`stats["ready"]`: the number of contacts in a state (0 when none)."""
        return self.by_state.get(str(state), 0)

    def __getattr__(self, name: str) -> int:
        """`stats.ready`: the same, for every state name."""
        if name in _STATES:
            return self.by_state.get(name, 0)
        raise AttributeError(name)

    @property
    def by_outcome(self) -> Mapping[str, int]:
        """Finished attempts by outcome (the same as `attempts_by_outcome`)."""
        return self.attempts_by_outcome

    @property
    def by_group(self) -> Mapping[str, int]:
        """Finished attempts by outcome group (the same as `attempts_by_group`)."""
        return self.attempts_by_group
