"""The blacklist of numbers never to call (spec sections 3 and 13).

An entry holds a number (E.164, read as the campaign reads numbers) in every campaign
or in one, for good or until it expires. Adding one parks the number's waiting
contacts in `blacklisted` at once (those in a call at the call's end); taking it off,
or its expiry (the scheduler's `unblacklist` timer), returns them to `ready` unless
another entry still holds them.
"""

from __future__ import annotations

from datetime import datetime

from dialstate.engine.calls import Done
from dialstate.engine.clock import Clock
from dialstate.engine.configs import Configs
from dialstate.engine.runner import blacklist_number, blacklisted_wait, recheck_several
from dialstate.engine.snapshots import BlacklistEntry
from dialstate.engine.states import ContactState
from dialstate.errors import InvalidArgument
from dialstate.phones import blacklist_key
from dialstate.store import writer
from dialstate.store.ops import Work, all_rows, count
from dialstate.store.statements import Queries
from dialstate.store.writer import Backend

S = ContactState


class Blacklist:
    def __init__(self, q: Queries, backend: Backend, configs: Configs, clock: Clock) -> None:
        self._q = q
        self._backend = backend
        self._configs = configs
        self._clock = clock

    def add(self, phone: object, note: str | None, region: str | None, campaign_id: int | None,
            expires_at: datetime | None, actor: str | None) -> Work[Done[int]]:
        """Blacklist a number; its waiting contacts become `blacklisted` now, those in a
        call at the call's end. The value is how many contacts moved now."""
        now = self._clock.epoch()
        until = _expiry(expires_at, now)
        key = yield from self._key(phone, region, campaign_id)
        moved = yield from blacklist_number(self._q, self._backend, self._configs, key, now, actor,
                                            note or "number blacklisted", campaign_id=campaign_id or 0,
                                            expires_at=until)
        return Done(len(moved), moved=moved)

    def remove(self, phone: object, region: str | None, campaign_id: int | None,
               actor: str | None) -> Work[Done[int]]:
        """Take a number's entry off the blacklist; the contacts it held go back to
        `ready`, but those another entry still holds. The value is how many moved."""
        q = self._q
        now = self._clock.epoch()
        key = yield from self._key(phone, region, campaign_id)
        scope = campaign_id or 0
        yield count(q["blacklist_remove"], (key, scope, now))
        moved = yield from writer.bulk_move(q, self._backend, "where_number_unlisted", (scope, key, now),
                                            (S.BLACKLISTED.value,), S.READY, "unblacklist", now, actor,
                                            "number taken off the blacklist")
        # Those still held wait for the entries that hold them.
        yield from blacklisted_wait(q, "where_number", (scope, key), now)
        moved.extend((yield from recheck_several(q, self._backend, self._configs, key, scope, now, actor,
                                                 "number taken off the blacklist")))
        return Done(len(moved), moved=moved)

    def entries(self) -> Work[list[BlacklistEntry]]:
        """The entries in force, oldest first."""
        found = yield all_rows(self._q["blacklist_entries"], (self._clock.epoch(),))
        return [BlacklistEntry.from_row(tuple(r)) for r in found]

    def _key(self, phone: object, region: str | None, campaign_id: int | None) -> Work[str]:
        """The number as an entry keeps it: with `campaign_id` and no region, read as
        that campaign reads numbers."""
        if campaign_id is None:
            return blacklist_key(phone, region)
        _, cfg = yield from self._configs.current(campaign_id)
        return blacklist_key(phone, region or cfg.default_region, cfg.settings.bare_numbers)


def _expiry(expires_at: datetime | None, now: float) -> float | None:
    if expires_at is None:
        return None
    if not isinstance(expires_at, datetime) or expires_at.utcoffset() is None:
        raise InvalidArgument(f"expires_at must be a timezone-aware datetime or None, got {expires_at!r}")
    until = expires_at.timestamp()
    if until <= now:
        raise InvalidArgument(f"expires_at {expires_at.isoformat()} is not in the future; an entry that has "
                              "expired holds nothing (leave expires_at out to blacklist for good)")
    return until
