"""The engine's foundation: the database, the clock, the one-transaction executor
every trigger goes through, subscribers, snapshots and history reads."""

from __future__ import annotations

import json
import logging
import random
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Self

from dialstate.engine.config import TIMER_DEFAULTS, CampaignConfig
from dialstate.engine.machine import build_all, machine_for
from dialstate.engine.snapshots import Contact, HistoryEntry, TransitionEvent
from dialstate.engine.sql import Database
from dialstate.engine.states import ContactState
from dialstate.errors import (
    CampaignNotFound,
    ConcurrentUpdate,
    ContactNotFound,
    IdempotencyConflict,
    InvalidTransition,
    StaleCallEvent,
)
from dialstate.models.types import from_epoch
from dialstate.outcomes import Outcome
from dialstate.policy import RetryPolicy

log = logging.getLogger("dialstate")

Clock = Callable[[], datetime]
Subscriber = Callable[[TransitionEvent], Any]

#: The contact columns every trigger reads, in order, joined with its campaign's
#: mode, status and current policy version.
CONTACT_COLUMNS = (
    "id", "campaign_id", "phone", "phone_key", "state", "version", "seq", "attempts",
    "next_attempt_at", "due_at", "operator_id", "callback_operator_id", "personal_until",
    "call_id", "last_outcome", "priority", "timezone", "zone_key", "external_id", "data",
    "ready_since", "created_at", "updated_at",
)
_SELECT_CONTACT = (
    "SELECT " + ", ".join(f"c.{c}" for c in CONTACT_COLUMNS)
    + ", k.status, k.policy_version,"
    " EXISTS (SELECT 1 FROM ds_blacklist b WHERE b.phone = c.phone_key) AS blacklisted"
    " FROM ds_contact c JOIN ds_campaign k ON k.id = c.campaign_id WHERE c.id = ?"
)
#: The keys of a row read by `_SELECT_CONTACT`: the contact's columns, its campaign's
#: status and policy version, and whether its number is on the blacklist now.
_ROW_KEYS = (*CONTACT_COLUMNS, "campaign_status", "policy_version", "blacklisted")
CAMPAIGN_COLUMNS = (
    "id", "name", "mode", "status", "timezone", "default_region", "policy_version", "created_at",
    "calling_window", "dispositions", "default_disposition", *TIMER_DEFAULTS,
)
_SELECT_CAMPAIGN = f"SELECT {', '.join(CAMPAIGN_COLUMNS)} FROM ds_campaign"
HISTORY_COLUMNS = (
    "contact_id", "seq", "from_state", "to_state", "trigger", "at", "actor", "attempt",
    "call_id", "outcome", "raw_code", "dialect", "policy_version", "note",
)
INSERT_HISTORY = (
    f"INSERT INTO ds_history ({', '.join(HISTORY_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(HISTORY_COLUMNS))})"
)


@dataclass
class Step:
    """One history entry of a transition: the trigger and the state it leads to."""

    trigger: str
    to_state: str
    note: str | None = None


def join_notes(*notes: str | None) -> str | None:
    """History notes joined into one ("; "), or None when there are none."""
    return "; ".join(n for n in notes if n) or None


@dataclass
class Change:
    """What a trigger decided: the steps, the columns to write, what the entries say."""

    steps: list[Step]
    updates: dict[str, Any] = field(default_factory=dict)
    outcome: str | None = None
    raw_code: str | None = None
    dialect: str | None = None
    #: Extra writes in the same transaction (blacklisting a number, say); returns the
    #: other contacts it moved, as (id, seq of the new entry), so their subscribers hear
    #: of it after the commit.
    also: Callable[[Any], list[tuple[int, int]]] | None = None


Planner = Callable[[dict[str, Any], CampaignConfig, float, Any], Change]


class EngineBase:
    """State shared by the engine's parts; see `dialstate.Engine` for the API."""

    def __init__(self, url: str = "sqlite:///dialstate.db", clock: Clock | None = None) -> None:
        build_all()  # validates the declarative machines once, at start
        self._db = Database(url)
        self._clock: Clock = clock or (lambda: datetime.now(UTC))
        self._subscribers: list[Subscriber] = []
        self._configs: dict[tuple[int, int], CampaignConfig] = {}
        self._policies: dict[tuple[int, int], RetryPolicy] = {}
        self._cfg_lock = threading.Lock()
        self._rng = random.Random()
        #: (calling window, zone set) -> (open?, since, until): see ClaimsMixin._open_zone_keys.
        self._open_windows: dict[Any, tuple[bool, datetime, datetime]] = {}
        self._prepare_schema()

    # Provided by the engine's other parts (declared here so each part type-checks).
    def _prepare_schema(self) -> None:  # pragma: no cover
        raise NotImplementedError

    def _retry_time(self, conn: Any, row: dict[str, Any], cfg: CampaignConfig, wanted: float,
                    counted: bool) -> float:  # pragma: no cover
        raise NotImplementedError

    def _blacklist_in(self, conn: Any, phone: str, now: float, actor: str | None, note: str,
                      exclude: int | None = None) -> list[tuple[int, int]]:  # pragma: no cover
        raise NotImplementedError

    def _add_zone_key(self, conn: Any, campaign_id: int, zone_key: str) -> None:  # pragma: no cover
        raise NotImplementedError

    # -- basics --------------------------------------------------------------------

    @property
    def url(self) -> str:
        return self._db.url.render_as_string(hide_password=True)

    @property
    def database(self) -> Database:
        return self._db

    def now(self) -> datetime:
        """The engine's clock (aware UTC)."""
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the engine's clock returned a naive datetime; it must be time-zone aware")
        return now

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- subscribers -----------------------------------------------------------------

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call `callback(event)` after each committed transition made in this process.

        Returns a function that unsubscribes. A callback that raises is logged and
        undoes nothing.
        """
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    def _notify(self, contact: Contact, entries: Iterable[HistoryEntry | tuple[Any, ...]]) -> None:
        """Tell the subscribers of each entry (given as entries or as the rows written)."""
        if not self._subscribers:
            return
        for item in entries:
            entry = item if isinstance(item, HistoryEntry) else _entry(dict(zip(HISTORY_COLUMNS, item, strict=True)))
            event = TransitionEvent(contact, entry)
            for callback in list(self._subscribers):
                try:
                    callback(event)
                except Exception:
                    log.exception(
                        "subscriber %r failed on contact %s (%s -> %s); the transition stands",
                        callback, contact.id, entry.from_state, entry.to_state,
                    )

    def _notify_many(self, moved: Iterable[tuple[int, int]], since: float | None = None) -> None:
        """Tell subscribers of bulk moves: `moved` holds (contact id, seq of its new entry)."""
        if not self._subscribers:
            return
        db = self._db
        for cid, seq in moved:
            with db.reading() as conn:
                row = db.execute(
                    conn, f"SELECT {', '.join(HISTORY_COLUMNS)} FROM ds_history WHERE contact_id = ? AND seq = ?",
                    (cid, seq),
                ).fetchone()
            if row is not None:
                self._notify(self.get_contact(cid), [tuple(row)])

    # -- campaign settings -------------------------------------------------------------

    def _config(self, conn: Any, campaign_id: int, policy_version: int) -> CampaignConfig:
        key = (campaign_id, policy_version)
        cfg = self._configs.get(key)
        if cfg is None:
            values = self._campaign_row(conn, campaign_id)
            values["policy_version"] = policy_version
            cfg = CampaignConfig.from_row(values, self._policy(conn, campaign_id, policy_version))
            with self._cfg_lock:
                self._configs[key] = cfg
        return cfg

    def _forget_campaign(self, campaign_id: int) -> None:
        """Drop what is remembered of a campaign whose creation was rolled back (SQLite
        gives its id to the next campaign)."""
        with self._cfg_lock:
            for cache in (self._configs, self._policies):
                for key in [key for key in cache if key[0] == campaign_id]:
                    del cache[key]

    def _campaign_rows(self, conn: Any, where: str = "", params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        """Campaign rows as dicts, their JSON columns decoded."""
        rows = self._db.execute(conn, f"{_SELECT_CAMPAIGN} {where}", params).fetchall()
        out = []
        for row in rows:
            values = dict(zip(CAMPAIGN_COLUMNS, row, strict=True))
            for name in ("calling_window", "dispositions"):
                values[name] = json.loads(values[name]) if values[name] else None
            out.append(values)
        return out

    def _campaign_row(self, conn: Any, campaign_id: int) -> dict[str, Any]:
        rows = self._campaign_rows(conn, "WHERE id = ?", (campaign_id,))
        if not rows:
            raise CampaignNotFound(campaign_id)
        return rows[0]

    def _policy(self, conn: Any, campaign_id: int, version: int) -> RetryPolicy:
        key = (campaign_id, version)
        policy = self._policies.get(key)
        if policy is None:
            row = self._db.execute(
                conn, "SELECT policy FROM ds_retry_policy WHERE campaign_id = ? AND version = ?",
                (campaign_id, version),
            ).fetchone()
            if row is None:
                raise CampaignNotFound(campaign_id)
            policy = RetryPolicy.from_json(json.loads(row[0]))
            self._policies[key] = policy
        return policy

    # -- reading contacts ----------------------------------------------------------------

    def _fetch(self, conn: Any, contact_id: int) -> dict[str, Any]:
        row = self._db.execute(conn, _SELECT_CONTACT, (contact_id,)).fetchone()
        if row is None:
            raise ContactNotFound(contact_id)
        values = dict(zip(_ROW_KEYS, row, strict=True))
        data = values["data"]
        values["data"] = json.loads(data) if data else None
        return values

    def get_contact(self, contact_id: int) -> Contact:
        """A detached, read-only snapshot of a contact."""
        with self._db.reading() as conn:
            return Contact.from_row(self._fetch(conn, contact_id))

    def history(self, contact_id: int) -> list[HistoryEntry]:
        """The contact's transitions, oldest first."""
        db = self._db
        with db.reading() as conn:
            rows = db.execute(
                conn,
                f"SELECT {', '.join(HISTORY_COLUMNS)} FROM ds_history WHERE contact_id = ? ORDER BY seq",
                (contact_id,),
            ).fetchall()
            if not rows and db.execute(conn, "SELECT 1 FROM ds_contact WHERE id = ?", (contact_id,)).fetchone() is None:
                raise ContactNotFound(contact_id)
        return [_entry(dict(zip(HISTORY_COLUMNS, r, strict=True))) for r in rows]

    # -- the executor ------------------------------------------------------------------

    def _run(
        self,
        contact_id: int,
        trigger: str,
        plan: Planner,
        *,
        actor: str | None = None,
        idempotency_key: str | None = None,
        call_id: str | None = None,
        check_call: bool = False,
    ) -> Contact:
        """Run one trigger as one transaction guarded by the contact's version.

        Reads the row, checks the call id and the trigger against the mode's machine,
        lets `plan` decide, runs every step through the machine, writes the row, its
        history entries and the planner's extra writes, commits, then tells the
        subscribers.
        """
        try:
            return self._run_once(contact_id, trigger, plan, actor, idempotency_key, call_id, check_call)
        except (ConcurrentUpdate, InvalidTransition, StaleCallEvent, *self._db.integrity_errors):  # type: ignore[misc]
            # With a key, the winner of a race may have been this very call, repeated
            # while the first was in flight: then its snapshot is the answer.
            replay = self._replay_after_race(idempotency_key, contact_id, trigger)
            if replay is not None:
                return replay
            raise

    def _run_once(self, contact_id: int, trigger: str, plan: Planner, actor: str | None,
                  idempotency_key: str | None, call_id: str | None, check_call: bool) -> Contact:
        db = self._db
        now = self.now().timestamp()
        notify_also: list[tuple[int, int]] = []
        # db.transaction() spelled out: this is the per-transition hot path.
        conn = db.begin()
        try:
            if idempotency_key is not None:
                done = self._idempotent_reply(conn, idempotency_key, contact_id, trigger)
                if done is not None:
                    conn.commit()
                    return done
            row = self._fetch(conn, contact_id)
            cfg = self._config(conn, row["campaign_id"], row["policy_version"])
            state = row["state"]
            # Before the call is placed, the row still names the previous, finished call:
            # an event for that call is stale, one for the call being placed is not.
            current = row["call_id"]
            if check_call and call_id is not None and current is not None and (
                call_id == current if state == "before_call_work" else call_id != current
            ):
                raise StaleCallEvent(contact_id, state, trigger, call_id, row["call_id"])
            machine = machine_for(cfg.mode)
            machine.check(contact_id, state, trigger)
            change = plan(row, cfg, now, conn)
            new = self._write(conn, row, cfg, change, now, actor, machine)
            if change.also is not None:
                notify_also = change.also(conn)
            contact = Contact.from_row(new)
            if idempotency_key is not None:
                db.execute(
                    conn,
                    "INSERT INTO ds_idempotency (key, contact_id, trigger, snapshot, created_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (idempotency_key, contact_id, trigger, json.dumps(contact.to_json()), now),
                )
        except BaseException:
            db.rollback(conn)
            raise
        conn.commit()
        self._notify(contact, new["_entries"])
        if notify_also:
            self._notify_many(notify_also, now)
        return contact

    def _write(self, conn: Any, row: dict[str, Any], cfg: CampaignConfig, change: Change,
               now: float, actor: str | None, machine: Any) -> dict[str, Any]:
        """Apply `change` to `row`: the guarded UPDATE and the history INSERTs."""
        contact_id = row["id"]
        state = row["state"]
        entries = []
        new = dict(row)
        new.update(change.updates)
        seq = row["seq"]
        for step in change.steps:
            to_state = machine.run(contact_id, state, step.trigger, step.to_state)
            seq += 1
            entries.append((
                contact_id, seq, state, to_state, step.trigger, now, actor, new["attempts"],
                new["call_id"], change.outcome, change.raw_code, change.dialect,
                cfg.policy_version, step.note,
            ))
            state = to_state
        new["state"] = state
        if state == "ready" and row["state"] != "ready":
            new["ready_since"] = now
        if state == row["state"] and state in _TIMED_STATES and row["due_at"] is not None:
            new["due_at"] = row["due_at"]  # a correction in place does not restart the state's timer
        else:
            new["due_at"] = cfg.due_at(state, now, new["next_attempt_at"], new["personal_until"])
        new["updated_at"] = now
        new["version"] = row["version"] + 1
        new["seq"] = seq
        columns = tuple(k for k in dict.fromkeys((*change.updates, *_ALWAYS)) if k in _ALWAYS or new[k] != row[k])
        sql = _UPDATES.get(columns)
        if sql is None:
            sets = ", ".join(f"{k} = ?" for k in columns)
            sql = _UPDATES[columns] = f"UPDATE ds_contact SET {sets} WHERE id = ? AND version = ?"
        params = [json.dumps(new[k]) if k == "data" and new[k] is not None else new[k] for k in columns]
        db = self._db
        cur = db.execute(conn, sql, (*params, contact_id, row["version"]))
        if cur.rowcount != 1:
            raise ConcurrentUpdate(contact_id, change.steps[0].trigger if change.steps else "?", row["version"])
        if len(entries) == 1:
            db.execute(conn, INSERT_HISTORY, entries[0])
        elif entries:
            db.executemany(conn, INSERT_HISTORY, entries)
        new["_entries"] = entries  # rows as written; made into HistoryEntry only for subscribers
        return new

    def _idempotent_reply(self, conn: Any, key: str, contact_id: int, trigger: str) -> Contact | None:
        row = self._db.execute(
            conn, "SELECT contact_id, trigger, snapshot FROM ds_idempotency WHERE key = ?", (key,)
        ).fetchone()
        if row is None:
            return None
        if row[0] != contact_id or row[1] != trigger:
            raise IdempotencyConflict(key, contact_id, trigger, f"{row[1]} on contact {row[0]}")
        return Contact.from_json(json.loads(row[2]))

    def _replay_after_race(self, key: str | None, contact_id: int, trigger: str) -> Contact | None:
        """After a lost race, the winner may have been the same idempotent call."""
        if key is None:
            return None
        with self._db.reading() as conn:
            return self._idempotent_reply(conn, key, contact_id, trigger)


#: States whose due time counts from entering them.
_TIMED_STATES = frozenset({"operator_assigned", "before_call_work", "dialing", "call_in_progress",
                           "after_call_work", "awaiting_operator"})
#: Columns every write sets; the others only when the change touches them.
_ALWAYS = ("state", "version", "seq", "updated_at", "due_at", "ready_since")
#: UPDATE statements by the tuple of columns they set.
_UPDATES: dict[tuple[str, ...], str] = {}


def _entry(values: Mapping[str, Any]) -> HistoryEntry:
    outcome = values["outcome"]
    from_state = values["from_state"]
    return HistoryEntry(
        seq=values["seq"],
        from_state=ContactState(from_state) if from_state else None,
        to_state=ContactState(values["to_state"]),
        trigger=values["trigger"],
        at=from_epoch(values["at"]),  # type: ignore[arg-type]
        actor=values["actor"],
        attempt=values["attempt"],
        call_id=values["call_id"],
        outcome=Outcome(outcome) if outcome else None,
        raw_code=values["raw_code"],
        dialect=values["dialect"],
        policy_version=values["policy_version"],
        note=values["note"],
        contact_id=values["contact_id"],
    )
