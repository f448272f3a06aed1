"""Claiming: `assign_next` and `dial_next` hand each contact to exactly one caller.

PostgreSQL locks the chosen rows with `FOR UPDATE SKIP LOCKED`, so concurrent
claimers take different contacts without waiting; SQLite (which has no row locks)
serializes writers with `BEGIN IMMEDIATE`, and every UPDATE is still guarded by the
contact's version.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from dialstate.engine import plans
from dialstate.engine.calls import Done
from dialstate.engine.change import Facts, to_move
from dialstate.engine.clock import Clock
from dialstate.engine.configs import Configs
from dialstate.engine.gates import callability, pick_number
from dialstate.engine.lifecycle import modes_with
from dialstate.engine.machine import machine_for
from dialstate.engine.numbers import zone_sets
from dialstate.engine.runner import banned_among
from dialstate.engine.settings import RUNNING, CampaignConfig
from dialstate.engine.snapshots import Contact
from dialstate.engine.states import ContactState
from dialstate.errors import InvalidArgument
from dialstate.store import rows, writer
from dialstate.store.ops import Work, all_rows
from dialstate.store.rowcache import keep_written
from dialstate.store.statements import Queries
from dialstate.store.writer import Backend

S = ContactState
#: What each claim does to the contacts it takes, and the call that is for the others.
_CLAIMS = {"assign_operator": ("assign_next", "dial_next"), "dial": ("dial_next", "assign_next")}
#: Zone sets whose openness is remembered at most (a campaign has a few dozen).
_WINDOW_CACHE = 10_000


class Claims:
    def __init__(self, q: Queries, backend: Backend, configs: Configs, clock: Clock) -> None:
        self._q = q
        self._backend = backend
        self._configs = configs
        self._clock = clock
        self._rounds = backend.claim_rounds
        #: (calling window, zone key) -> (open?, since, until): see `_open_zone_keys`.
        self._open_windows: dict[Any, tuple[bool, datetime, datetime]] = {}

    def unit(self, campaign_id: int, limit: int, trigger: str, operator_id: str | None,
             actor: str | None) -> Work[Done[list[Contact]]]:
        """Claim up to `limit` ready contacts of the campaign, moving each by `trigger`
        (`assign_operator` for `operator_id`, or `dial`)."""
        q = self._q
        now_dt = self._clock.now()
        now = now_dt.timestamp()
        status, cfg = yield from self._configs.current(campaign_id)
        _check_mode(cfg, trigger)
        if status != RUNNING:
            return Done([])
        # A personal callback waits for its operator until its grace has passed.
        personal_params: tuple[Any, ...]
        if operator_id is not None:
            personal, personal_params = q["personal_for_operator"], (operator_id, now)
        else:
            personal, personal_params = q["personal_for_anyone"], (now,)
        if cfg.window is None:
            found = yield all_rows(q["claim_ready"].replace("<<personal>>", personal),
                                   (campaign_id, *personal_params, limit))
        else:
            keys = yield all_rows(q["zone_keys"], (campaign_id,))
            open_keys = self._open_zone_keys(cfg, [k[0] for k in keys], now_dt)
            found = yield from self._claim_open_zones(campaign_id, open_keys, personal, personal_params, limit)
        if not found:
            return Done([])
        times = (yield from self._dial_times([r[0] for r in found])) if cfg.policy.rolling_limits else {}
        # Each with the facts `select_contact` reads with a row: a ready contact's number
        # is not on the blacklist (adding an entry moves it to `blacklisted`).
        row_facts = (status, cfg.settings_version, cfg.policy_version, None)
        candidates = [rows.contact((*values, *row_facts)) for values in found]
        banned = yield from self._banned(campaign_id, candidates, now)
        machine = machine_for(cfg.mode)
        moves = []
        call_ids = iter(plans.new_call_ids(len(candidates)) if operator_id is None else ())
        for row in candidates:
            if times:
                facts = Facts(row, cfg, now, tuple(times.get(row["id"], ())))
                if not callability(facts, now).callable:
                    continue  # its retry policy's rolling cap holds it back for now
            else:
                facts = Facts(row, cfg, now)
            if facts.several is not None:  # the number this call uses: none usable now, no claim
                facts.banned = row["banned_numbers"] = banned
                facts.number = pick_number(facts, now)
                if facts.number is None:
                    continue
            change = (plans.dial(facts, next(call_ids)) if operator_id is None
                      else plans.assign_operator(facts, operator_id))
            moves.append(to_move(facts, change, actor, machine))
        if not moves:
            return Done([])
        tx = yield from writer.write(q, self._backend, moves)
        # The next trigger on one of them need not read it again.
        written = [m.after for m in moves]
        yield from keep_written(q, tx, written)
        contacts = Contact.from_rows(written)
        return Done(contacts, [(c, m.entries, m.first_ordinal) for c, m in zip(contacts, moves, strict=True)],
                    tx=tx)

    def _banned(self, campaign_id: int, candidates: list[dict[str, Any]], now: float) -> Work[dict[str, float]]:
        """The numbers on the campaign's blacklist among those of the candidates with
        several (with until when); their others' never are (they would be parked)."""
        phones = sorted({n["phone"] for row in candidates if row["numbers"] for n in row["numbers"] if n["valid"]})
        return (yield from banned_among(self._q, campaign_id, phones, now))

    def _dial_times(self, contact_ids: list[int]) -> Work[dict[int, list[tuple[int, float]]]]:
        """The past dials of each of `contact_ids`: contact -> (attempt, when), oldest first."""
        found = yield all_rows(self._q.expand(self._q["dial_times_of"], len(contact_ids)), contact_ids)
        out: dict[int, list[tuple[int, float]]] = {}
        for contact_id, attempt, at in sorted(found, key=lambda r: r[2]):
            out.setdefault(contact_id, []).append((int(attempt), float(at)))
        return out

    def _claim_open_zones(self, campaign_id: int, open_keys: list[str], personal: str,
                          personal_params: tuple[Any, ...], limit: int) -> Work[list[Any]]:
        """Claim among the contacts whose zone set is open now.

        The candidates are the first of each open zone set (`_candidates`), read from
        the zone-led index: a claim never walks past the contacts of closed zones
        however far the campaign has been worked. The chosen rows are then locked (SKIP
        LOCKED on PostgreSQL; a few rounds if another claimer took some first).
        """
        q = self._q
        found: list[Any] = []
        seen: list[int] = []
        for _ in range(self._rounds):
            if not open_keys or len(found) >= limit:
                break
            candidates = yield from self._candidates(campaign_id, open_keys, personal, personal_params, seen,
                                                     limit - len(found))
            if not candidates:
                break
            seen.extend(candidates)
            found.extend((yield all_rows(q.expand(q["lock_candidates"], len(candidates)), candidates)))
        if len(found) > 1:
            order = {cid: i for i, cid in enumerate(seen)}
            found.sort(key=lambda r: order[r[0]])
        return found

    def _candidates(self, campaign_id: int, open_keys: list[str], personal: str, personal_params: tuple[Any, ...],
                    seen: list[int], want: int) -> Work[list[int]]:
        """The ids of the first `want` ready contacts (not in `seen`) over the open zone
        sets, in claim order: the first of each zone set merged by priority and readiness.

        A zone set's part costs what it reads, so each reads a little more than its
        share of `want` at first, not `want`. A part that ran out of rows, or had one
        left out of the cut, has given every row of its own that belongs there; a part
        that read its limit and saw every row make the cut may hold more that would,
        and is read again up to `want`. So a claim reads twice at most, and takes
        exactly what one read of `want` from every part would.
        """
        q = self._q
        skip = f" AND id NOT IN ({q.marks(len(seen))})" if seen else ""
        part = q["zone_candidates"].replace("<<personal>>", personal).replace("<<skip>>", skip)
        parts = " UNION ALL ".join(part.replace("<<i>>", str(i)) for i in range(len(open_keys)))
        union = parts + f" ORDER BY 1 DESC, 2, 3 LIMIT {q.mark}"
        limits = [min(want, 2 * -(-want // len(open_keys)) + 4)] * len(open_keys)
        while True:
            params: list[Any] = []
            for key, part_limit in zip(open_keys, limits, strict=True):
                params.extend((campaign_id, key, *personal_params, *seen, part_limit))
            found = yield all_rows(union, (*params, want))
            made_it = Counter(r[3] for r in found)
            cut_short = [i for i, n in made_it.items() if n >= limits[i] and limits[i] < want]
            if not cut_short:
                return [r[2] for r in found]
            for i in cut_short:
                limits[i] = want

    def _open_zone_keys(self, cfg: CampaignConfig, keys: list[str], now: datetime) -> list[str]:
        """The campaign's zone sets whose calling window is open now.

        Openness is computed once per zone set and kept until the window next opens
        or closes there, not once per contact.
        """
        window = cfg.window
        assert window is not None
        cache = self._open_windows
        out = []
        for key in keys:
            hit = cache.get((window, key))
            if hit is None or not (hit[1] <= now < hit[2]):
                # A contact with several numbers may be called when any of its zone sets is open.
                states = []
                for zones in zone_sets(key, cfg.timezone):
                    is_open = window.is_open(zones, now)
                    states.append((is_open, window.next_closing(zones, now) if is_open
                                   else window.next_opening(zones, now)))
                is_open = any(o for o, _ in states)
                changes = [u for _, u in states if u is not None]
                hit = (is_open, now, min(changes) if changes else now + timedelta(days=1))
                if len(cache) > _WINDOW_CACHE:
                    cache.clear()
                cache[(window, key)] = hit
            if hit[0]:
                out.append(key)
        return out


def _check_mode(cfg: CampaignConfig, trigger: str) -> None:
    """`assign_next` is for the modes where `assign_operator` takes a ready contact,
    `dial_next` for those where `dial` does (the lifecycle table says which)."""
    if cfg.mode not in modes_with(trigger, S.READY):
        call, other = _CLAIMS[trigger]
        allowed = " and ".join(sorted(m.value for m in modes_with(trigger, S.READY)))
        raise InvalidArgument(
            f"{call} is for {allowed} campaigns; campaign {cfg.id} is {cfg.mode.value} (use {other})")
