"""What the scheduler fires: the due times kept in the contact rows (spec section 7).

`Timers.fire` takes one batch of contacts whose `due_at` has come, locks them
(`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite's writer lock), and applies to each
the timeout rule its state's timer names in the lifecycle table, all in one
transaction: a process killed mid-batch leaves nothing half done, and another process
fires the batch instead.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from typing import Any

from dialstate.engine import plans
from dialstate.engine.calls import Done
from dialstate.engine.change import Change, Facts, Move, to_move
from dialstate.engine.clock import Clock
from dialstate.engine.configs import Configs
from dialstate.engine.machine import machine_for
from dialstate.engine.runner import Runner, blacklist_numbers, load_banned
from dialstate.engine.snapshots import Contact
from dialstate.errors import ConcurrentUpdate, TimerRuleFailed
from dialstate.store import rows, writer
from dialstate.store.ops import Work, all_rows, count, one, value
from dialstate.store.statements import Queries
from dialstate.store.writer import Backend

SCHEDULER = "scheduler"
log = logging.getLogger("dialstate.scheduler")

#: How long a contact whose timer rule raised (a bug, a corrupt row) waits before the
#: scheduler tries it again; meanwhile the contacts due after it still fire.
POISON_RETRY_SECONDS = 60.0


@dataclass
class FiredBatch:
    """One batch of `fire_due`: how many due rows it took, and what it fired."""

    #: Due rows selected (and locked) in this batch; fewer than the limit means that
    #: nothing else was due and free when it ran.
    selected: int = 0
    #: (the state it was in, the snapshot after) for each contact fired.
    fired: list[tuple[str, Contact]] = field(default_factory=list)
    #: Contacts whose rule raised: the batch was rolled back and they were put off.
    deferred: int = 0


class Timers:
    def __init__(self, q: Queries, backend: Backend, configs: Configs, clock: Clock, rng: random.Random,
                 runner: Runner) -> None:
        self._q = q
        self._backend = backend
        self._configs = configs
        self._clock = clock
        self._rng = rng
        self._runner = runner
        #: Errors that fail a whole batch (the next run retries it), not one contact.
        self._transient: tuple[type[BaseException], ...] = (ConcurrentUpdate, *backend.errors)

    def fire(self, limit: int) -> Work[Done[FiredBatch]]:
        """Fire up to `limit` due contacts. Raises `TimerRuleFailed` (and writes
        nothing) when one contact's rule raised; put that one off with `put_off`."""
        q = self._q
        now = self._clock.epoch()
        found = yield all_rows(q["select_due"], (now, now, limit))
        moves: list[Move] = []
        for values in found:
            try:
                moves.append((yield from self._fire_one(values, now)))
            except Exception as exc:
                if isinstance(exc, self._transient):
                    raise  # the whole batch is retried by the next run
                log.error("the timer rule of contact %s (state %s) failed; retrying it in %.0f s",
                          values[0], values[4], POISON_RETRY_SECONDS, exc_info=exc)
                raise TimerRuleFailed(values[0], values[4], values[5]) from exc
        tx = yield from writer.write(q, self._backend, moves)
        batch = FiredBatch(selected=len(found))
        done: Done[FiredBatch] = Done(batch, tx=tx)
        for move in moves:
            if move.blacklist is not None:
                done.moved.extend((yield from blacklist_numbers(
                    q, self._backend, self._configs, move.blacklist, now, SCHEDULER, "do not call",
                    exclude=move.before["id"])))
            if move.entries:  # a stale due time cleared is no transition
                contact = Contact.from_row(move.after)
                batch.fired.append((move.before["state"], contact))
                done.events.append((contact, move.entries, move.first_ordinal))
        return done

    def _fire_one(self, values: tuple[Any, ...], now: float) -> Work[Move]:
        row = rows.contact(values)
        cfg = yield from self._configs.get(row["campaign_id"], row["settings_version"], row["policy_version"])
        facts = Facts(row, cfg, now)
        if row["numbers"]:
            facts.banned = row["banned_numbers"] = yield from load_banned(self._q, row, now)
        timer = cfg.timer(facts.state)
        if timer is None:  # nothing due in this state any more: clear the stale due time
            return to_move(facts, Change([]), SCHEDULER, machine_for(cfg.mode))
        if plans.needs_dial_times(timer.fires, cfg):
            facts.dial_times = tuple((yield from self._runner.dial_times(facts.id)))
        if timer.fires == "call_ended":
            facts.last_dial_at = value((yield one(self._q["last_dial_at"], (facts.id,))))
        change = plans.TIMEOUT_RULES[timer.fires](facts, self._rng)
        return to_move(facts, change, SCHEDULER, machine_for(cfg.mode))

    def put_off(self, failed: TimerRuleFailed) -> Work[None]:
        """Put a contact whose rule failed off for a while (the next batch is not stuck
        behind it)."""
        yield count(self._q["put_off"], (self._clock.epoch() + POISON_RETRY_SECONDS, failed.contact_id,
                                          failed.version))

    def next_due_at(self) -> Work[float | None]:
        return value((yield one(self._q["next_due_at"])))  # type: ignore[no-any-return]

    def due_count(self) -> Work[int]:
        return int(value((yield one(self._q["due_count"], (self._clock.epoch(),)))))

