"""The simulated call center: operators and a dialer driving the engine, a switch
answering, the real `Scheduler` firing the timers, all on a virtual clock.

A discrete-event loop: each step moves the clock to the earliest of the next
simulated event and the next due time in the database, runs the scheduler when
something is due, then the events. One `random.Random` decides everything, and
events run in (time, insertion) order, so a seed always gives the same day.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from dialstate.engine.engine import Engine
from dialstate.engine.snapshots import Contact, TransitionEvent
from dialstate.engine.states import ContactState, DialMode
from dialstate.errors import InvalidTransition, StaleCallEvent
from dialstate.outcomes import Outcome
from dialstate.scheduler import Scheduler
from dialstate.sim.clock import VirtualClock
from dialstate.sim.numbers import Person
from dialstate.sim.switch import DIAL_FAILURES, CallPlan, Switch

S = ContactState
#: States in which a contact is in someone's hands: the day is not over while any is.
IN_FLIGHT = frozenset({S.OPERATOR_ASSIGNED, S.BEFORE_CALL_WORK, S.DIALING, S.CALL_IN_PROGRESS,
                       S.AWAITING_OPERATOR, S.AFTER_CALL_WORK})
#: States that wait for a time or a free operator.
WAITING = frozenset({S.READY, S.RETRY_SCHEDULED})
#: Wrap-up dispositions an operator chooses, with their weights.
DISPOSITIONS = (("success", 0.55), ("not_interested", 0.2), ("callback", 0.1), ("retry", 0.08),
                ("do_not_call", 0.04), ("wrong_number", 0.03))
OVERDIAL_START, OVERDIAL_MAX = 1.5, 2.5  # predictive: calls placed per idle operator
ABANDON_TARGET = 0.03  # predictive: the abandon rate the dialer steers to (regulators cap it near 3 %)
POLL_BUSY, POLL_IDLE = 5.0, 60.0  # seconds between claims while work comes in, and when none did


@dataclass
class Call:
    """A call as the simulated world sees it."""

    contact_id: int
    call_id: str
    operator: str | None
    plan: CallPlan


@dataclass
class Tally:
    """What happened, for the report."""

    dials: int = 0
    codes_by_dialect: Counter[str] = field(default_factory=Counter)
    lost_events: int = 0
    recovered: int = 0
    duplicates_sent: int = 0
    stale_rejected: int = 0  # StaleCallEvent
    invalid_rejected: int = 0  # InvalidTransition
    duplicates_accepted: int = 0  # must stay 0
    abandoned: int = 0
    scheduler_fired: Counter[str] = field(default_factory=Counter)
    transitions: int = 0
    recovered_contacts: list[int] = field(default_factory=list)
    duplicate_contacts: list[int] = field(default_factory=list)


class Simulation:
    def __init__(self, engine: Engine, clock: VirtualClock, campaign_id: int, mode: DialMode,
                 people: dict[str, Person], rng: random.Random, operators: int, end: float,
                 progress: Callable[[float, int], Any] | None = None, parked: int = 0) -> None:
        self.engine, self.clock, self.campaign, self.mode = engine, clock, campaign_id, mode
        self.people, self.rng, self.end = people, rng, end
        self.switch = Switch(rng)
        self.scheduler = Scheduler(engine)
        self.tally = Tally()
        self.progress = progress
        self.ops: dict[str, int | None] = {f"op{i:02d}": None for i in range(1, operators + 1)}
        self.owner: dict[int, str] = {}  # contact -> the operator holding it
        self.calls: dict[int, Call] = {}  # contact -> its call in progress
        self.queue: list[int] = []  # predictive: answered contacts waiting for an operator
        self.channels = operators * 2  # agentless: lines
        self.dialed: Counter[int] = Counter()  # per contact, for explicit call ids
        self.overdial = OVERDIAL_START
        self.answered = 0
        #: Late events held back by the switch until the contact's next call is placed.
        self.held_back: dict[int, list[tuple[Call, str, str]]] = {}
        self.finished = parked
        self._heap: list[tuple[float, int, Callable[..., Any], tuple[Any, ...]]] = []
        self._seq = itertools.count()
        self._poll_at: float | None = None
        self._next_due: float | None = None
        self._dirty = True
        engine.subscribe(self._on_event)

    # -- the loop ------------------------------------------------------------------------

    def run(self) -> Tally:
        self._poll(0.0)
        steps = 0
        while True:
            t = self._next_time()
            if t is None:
                break
            self.clock.move_to(t)
            now = self.clock.seconds
            if self._next_due is not None and self._next_due <= now:
                self.scheduler.run_pending()
                self._dirty = True
            while self._heap and self._heap[0][0] <= now:
                _, _, action, args = heapq.heappop(self._heap)
                action(*args)
            steps += 1
            if self.progress is not None and steps % 50 == 0:
                self.progress(now, self.finished)
        if self.progress is not None:
            self.progress(self.clock.seconds, self.finished)
        return self.tally

    def _next_time(self) -> float | None:
        if self._dirty:
            due = self.engine.next_due_at()
            self._next_due = due.timestamp() if due is not None else None
            self._dirty = False
        candidates = [t for t in (self._heap[0][0] if self._heap else None, self._next_due) if t is not None]
        if self.clock.seconds >= self.end and not self._heap and not self._in_flight():
            return None  # the day is over and nobody holds a contact: what is left waits
        return min(candidates) if candidates else None

    def _in_flight(self) -> bool:
        by_state = self.engine.campaign_stats(self.campaign).by_state
        return any(by_state.get(state.value) for state in IN_FLIGHT)

    def at(self, delay: float, action: Callable[..., Any], *args: Any) -> None:
        heapq.heappush(self._heap, (self.clock.seconds + delay, next(self._seq), action, args))

    def _poll(self, delay: float) -> None:
        """Claim work after `delay` seconds (one claim round pending at a time)."""
        when = self.clock.seconds + delay
        if when >= self.end or (self._poll_at is not None and self._poll_at <= when):
            return
        self._poll_at = when
        self.at(delay, self._claim_round, when)

    def _on_event(self, event: TransitionEvent) -> None:
        """Every committed transition: keep count; note what the scheduler did, and react
        to it once the scheduler's run is over (never from inside it)."""
        self._dirty = True
        self.tally.transitions += 1
        entry, contact = event.entry, event.contact
        before, after = entry.from_state, entry.to_state
        self.finished += _finished(after) - (_finished(before) if before is not None else 0)
        if entry.actor != "scheduler":
            return  # our own moves are handled where they are made
        if entry.trigger not in ("decide", "requeue"):  # the first entry of a transition
            self.tally.scheduler_fired[entry.trigger] += 1
            if entry.trigger == "call_ended":  # in-flight recovery: an event was lost
                self.tally.recovered += 1
                self.tally.recovered_contacts.append(contact.id)
        if after is contact.state:  # the last entry of a transition
            self.at(0.0, self._after_scheduler, contact, entry.trigger)

    def _after_scheduler(self, contact: Contact, trigger: str) -> None:
        cid = contact.id
        if trigger == "dial":  # the before-call-work countdown ran out: place the call
            self._place(contact, self.owner.get(cid))
            return
        if contact.state not in IN_FLIGHT:
            if cid in self.queue:
                self.queue.remove(cid)
            self.calls.pop(cid, None)
            self._release(cid)

    # -- claiming ------------------------------------------------------------------------

    def _claim_round(self, when: float) -> None:
        if self._poll_at == when:
            self._poll_at = None
        if self.mode in (DialMode.PREVIEW, DialMode.PROGRESSIVE):
            got = self._assign_idle_operators()
        else:
            got = self._dial_for_capacity()
        # None: no free capacity (a release polls again); False: nothing was claimable.
        self._poll(POLL_IDLE if got is False else POLL_BUSY)

    def _assign_idle_operators(self) -> bool | None:
        idle = [op for op, cid in self.ops.items() if cid is None]
        for op in idle:
            contact = self.engine.assign_next(self.campaign, op)
            if contact is None:
                return False
            self._hold(op, contact.id)
            roll = self.rng.random()
            if roll < 0.01:
                continue  # the operator walked away: the scheduler releases the contact
            if self.mode is DialMode.PREVIEW and roll < 0.07:
                self.at(self.rng.uniform(3, 15), self._reject, contact.id, op)
            else:
                self.at(self.rng.uniform(3, 15), self._accept, contact.id, op)
        return True if idle else None

    def _dial_for_capacity(self) -> bool | None:
        ringing = sum(1 for call in self.calls.values() if call.contact_id not in self.queue
                      and call.contact_id not in self.owner)
        if self.mode is DialMode.PREDICTIVE:
            idle = sum(1 for cid in self.ops.values() if cid is None)
            self._adjust_overdial()
            want = math.ceil(idle * self.overdial) - ringing - len(self.queue)
        else:
            want = self.channels - len(self.calls)
        if want <= 0:
            return None
        contacts = self.engine.dial_next(self.campaign, want, actor="dialer")
        for contact in contacts:
            self._place(contact, None)
        return bool(contacts)

    def _adjust_overdial(self) -> None:
        """Dial fewer calls per idle operator while the abandon rate is above its target."""
        if self.answered < 50:
            return
        rate = self.tally.abandoned / self.answered
        step = -0.05 if rate > ABANDON_TARGET else 0.01
        self.overdial = min(OVERDIAL_MAX, max(1.0, self.overdial + step))

    # -- operators ---------------------------------------------------------------------------

    def _hold(self, op: str, cid: int) -> None:
        self.ops[op] = cid
        self.owner[cid] = op

    def _release(self, cid: int) -> None:
        op = self.owner.pop(cid, None)
        if op is None:
            if self.mode in (DialMode.PREDICTIVE, DialMode.AGENTLESS):
                self._poll(1.0)
            return
        self.ops[op] = None
        if self.queue:  # predictive: a client is waiting on the line
            self._connect(self.queue.pop(0), op)
        else:
            self._poll(self.rng.uniform(1, 5))

    def _reject(self, cid: int, op: str) -> None:
        self.engine.reject(cid, actor=op)
        self._release(cid)

    def _accept(self, cid: int, op: str) -> None:
        self.engine.accept(cid, actor=op)
        if self.rng.random() < 0.02:
            return  # the operator lets the countdown run out: the scheduler dials
        self.at(self.rng.uniform(5, 25), self._operator_dials, cid, op)

    def _operator_dials(self, cid: int, op: str) -> None:
        self.dialed[cid] += 1
        contact = self.engine.dial(cid, call_id=f"call-{cid}-{self.dialed[cid]}", actor=op)
        self._place(contact, op)

    def _connect(self, cid: int, op: str) -> None:
        self.engine.connect_operator(cid, op)
        self._hold(op, cid)
        call = self.calls[cid]
        call.operator = op
        self.at(self.rng.uniform(30, 400), self._hang_up, cid, call)

    def _wrap_up(self, cid: int, op: str) -> None:
        names, weights = zip(*DISPOSITIONS, strict=True)
        disposition = self.rng.choices(names, weights)[0]
        callback_at = None
        if disposition == "callback":
            callback_at = self.clock() + timedelta(hours=self.rng.choice((1, 2, 3)))
        self.engine.wrap_up(cid, disposition, callback_at=callback_at, actor=op)
        self._release(cid)

    # -- calls -------------------------------------------------------------------------------

    def _place(self, contact: Contact, op: str | None) -> None:
        assert contact.call_id is not None
        plan = self.switch.plan(self.people.get(contact.phone))
        call = Call(contact.id, contact.call_id, op, plan)
        self.calls[contact.id] = call
        self.tally.dials += 1
        for late in self.held_back.pop(contact.id, ()):
            self.at(min(plan.after, 1.0) / 2, self._duplicate, *late)
        if plan.outcome is None:
            self.at(plan.after, self._dial_failed, call)
        elif plan.answered:
            self.at(plan.after, self._answer, call)
        elif plan.lost:
            self.tally.lost_events += 1  # nothing will come: in-flight recovery must end it
        else:
            self.at(plan.after, self._end, call, plan.outcome)

    def _dial_failed(self, call: Call) -> None:
        self.engine.dial_failed(call.contact_id, self.rng.choice(DIAL_FAILURES), call_id=call.call_id,
                                actor="switch")
        self._call_over(call)

    def _answer(self, call: Call) -> None:
        cid = call.contact_id
        self.answered += 1
        if self.mode is DialMode.PREDICTIVE:
            self.engine.answered(cid, call_id=call.call_id, actor="switch")
            idle = next((op for op, held in self.ops.items() if held is None), None)
            if idle is not None:
                self._connect(cid, idle)
            else:
                self.queue.append(cid)
                self.at(self.rng.uniform(3, 25), self._client_gives_up, call)
            return
        self.engine.answered(cid, call_id=call.call_id, operator_id=call.operator, actor="switch")
        talk = (20, 60) if self.mode is DialMode.AGENTLESS else (30, 400)
        self.at(self.rng.uniform(*talk), self._hang_up, cid, call)

    def _client_gives_up(self, call: Call) -> None:
        if call.contact_id not in self.queue:
            return  # an operator took the call in time
        self.queue.remove(call.contact_id)
        self.tally.abandoned += 1
        self._end(call, Outcome.COMPLETED)  # the client hung up: the engine makes it `abandoned`

    def _hang_up(self, cid: int, call: Call) -> None:
        outcome = Outcome.COMPLETED
        if self.mode is DialMode.AGENTLESS and self.rng.random() < self.switch.shares.incomplete:
            outcome = Outcome.INCOMPLETE
        contact = self._end(call, outcome)
        if contact.state is S.AFTER_CALL_WORK and call.operator is not None:
            if self.rng.random() < 0.02:
                return  # the operator forgets to wrap up: the scheduler does it
            self.at(self.rng.uniform(10, 90), self._wrap_up, cid, call.operator)

    def _end(self, call: Call, outcome: Outcome) -> Contact:
        dialect, code = self.switch.code(outcome)
        self.tally.codes_by_dialect[dialect] += 1
        contact = self.engine.call_ended(call.contact_id, code, dialect, call_id=call.call_id, actor="switch")
        if call.plan.duplicate:
            if self.rng.random() < 0.5:
                self.at(self.rng.uniform(5, 600), self._duplicate, call, code, dialect)
            else:  # it arrives in the middle of the contact's next call
                self.held_back.setdefault(call.contact_id, []).append((call, code, dialect))
        if contact.state is S.AFTER_CALL_WORK:
            self._forget(call)  # the line is free; the operator is not, until the wrap-up
        else:
            self._call_over(call)
        return contact

    def _forget(self, call: Call) -> None:
        if self.calls.get(call.contact_id) is call:
            del self.calls[call.contact_id]

    def _call_over(self, call: Call) -> None:
        self._forget(call)
        self._release(call.contact_id)

    def _duplicate(self, call: Call, code: str, dialect: str) -> None:
        """The switch reports the end of an old call again: the engine must refuse it."""
        self.tally.duplicates_sent += 1
        try:
            self.engine.call_ended(call.contact_id, code, dialect, call_id=call.call_id, actor="switch")
        except StaleCallEvent:
            self.tally.stale_rejected += 1
        except InvalidTransition:
            self.tally.invalid_rejected += 1
        else:
            self.tally.duplicates_accepted += 1
        self.tally.duplicate_contacts.append(call.contact_id)


def _finished(state: ContactState) -> int:
    return 0 if state in IN_FLIGHT or state in WAITING else 1
