"""Reading contacts: a snapshot, its history, and the events of contacts a bulk move
changed (read back after the commit, for their subscribers)."""

from __future__ import annotations

from datetime import datetime

from dialstate.engine.change import Facts
from dialstate.engine.checks import check_external_id
from dialstate.engine.clock import Clock
from dialstate.engine.configs import Configs
from dialstate.engine.gates import Callability, callability
from dialstate.engine.runner import load_banned
from dialstate.engine.snapshots import Contact, HistoryEntry, TransitionEvent, history_entry
from dialstate.errors import ContactNotFound, InvalidArgument, InvalidPhone
from dialstate.phones import blacklist_key, parse_phone
from dialstate.store import rows
from dialstate.store.ops import Work, all_rows, one
from dialstate.store.rows import CONTACT_COLUMNS
from dialstate.store.statements import Queries


class Contacts:
    def __init__(self, q: Queries, configs: Configs, clock: Clock) -> None:
        self._q = q
        self._configs = configs
        self._clock = clock

    def get(self, contact_id: int) -> Work[Contact]:
        now = self._clock.epoch()
        found = yield one(self._q["select_contact"], (now, contact_id))
        if found is None:
            raise ContactNotFound(contact_id)
        row = rows.contact(found)
        if row["numbers"]:  # which of its numbers are blacklisted, for their status
            row["banned_numbers"] = yield from load_banned(self._q, row, now)
        return Contact.from_row(row)

    def find_call(self, call_id: str) -> Work[Contact]:
        """The contact that has or had the call `call_id`."""
        if not isinstance(call_id, str) or not call_id.strip() or "\x00" in call_id:
            raise InvalidArgument(f"call_id must be non-empty text, got {call_id!r}")
        found = yield one(self._q["call_contact"], (call_id,))
        if found is None:
            raise ContactNotFound(call_id=call_id)
        return (yield from self.get(found[0]))

    def find(self, campaign_id: int | None, external_id: object, phone: object,
             region: str | None) -> Work[list[Contact]]:
        """The contacts with an external id or a number, in one campaign or in all."""
        q = self._q
        if (external_id is None) == (phone is None):
            raise InvalidArgument("find_contacts takes one of external_id= or phone=")
        if external_id is not None:
            key = check_external_id(external_id)
            found = (yield all_rows(q["contacts_by_external_id"], (key,)) if campaign_id is None else
                     all_rows(q["contacts_by_external_id_in_campaign"], (key, campaign_id)))
        elif campaign_id is None:
            found = yield all_rows(q["contacts_by_number"], (blacklist_key(phone, region),))
        else:
            _, cfg = yield from self._configs.current(campaign_id)
            e164, reason = parse_phone(phone, region or cfg.default_region, cfg.settings.bare_numbers)
            if e164 is None:
                raise InvalidPhone(phone, reason or "not a valid number")
            found = yield all_rows(q["contacts_by_number_in_campaign"], (campaign_id, e164))
        return Contact.from_rows([rows.contact(r, CONTACT_COLUMNS) for r in found])

    def why_not(self, contact_id: int, at: datetime | None) -> Work[Callability]:
        """Whether the contact may be called at `at` (now by default): every rule that
        blocks it, and from when none does."""
        when = self._clock.epoch() if at is None else at.timestamp()
        found = yield one(self._q["select_contact"], (when, contact_id))
        if found is None:
            raise ContactNotFound(contact_id)
        row = rows.contact(found)
        cfg = yield from self._configs.get(row["campaign_id"], row["settings_version"], row["policy_version"])
        facts = Facts(row, cfg, when)
        if row["numbers"]:
            facts.banned = yield from load_banned(self._q, row, when)
        if cfg.policy.rolling_limits:
            dials = yield all_rows(self._q["dial_times"], (contact_id,))
            facts.dial_times = tuple(sorted(((int(a), float(t)) for a, t in dials if t <= when),
                                            key=lambda d: d[1]))
        return callability(facts, when, check_state=True)

    def history(self, contact_id: int) -> Work[list[HistoryEntry]]:
        """The contact's transitions, oldest first."""
        q = self._q
        found = yield all_rows(q["entries_of"], (contact_id,))
        if not found and (yield one(q["contact_exists"], (contact_id,))) is None:
            raise ContactNotFound(contact_id)
        return [history_entry(rows.history(r)) for r in found]

    def events(self, moved: list[tuple[int, int]]) -> Work[list[TransitionEvent]]:
        """The event of each (contact id, seq of its new entry) a bulk move made."""
        q = self._q
        out = []
        for contact_id, seq in moved:
            entry = yield one(q["entry"], (contact_id, seq))
            if entry is None:  # pragma: no cover - deleted meanwhile: nothing to tell
                continue
            contact = yield from self.get(contact_id)
            out.append(TransitionEvent(contact, history_entry(rows.history(entry))))
        return out
