"""The transition feed (spec section 9): every committed transition, from every
process, in commit order, read from the history table."""

from __future__ import annotations

from dialstate.engine.clock import Clock
from dialstate.engine.snapshots import Contact, TransitionEvent, history_entry
from dialstate.errors import InvalidArgument
from dialstate.store import rows
from dialstate.store.ops import Work, all_rows, count, one, value
from dialstate.store.rows import CONTACT_COLUMNS, ENTRY_COLUMNS
from dialstate.store.statements import Queries

#: Most events one read returns.
MAX_LIMIT = 10_000


class Feed:
    def __init__(self, q: Queries, clock: Clock) -> None:
        self._q = q
        self._clock = clock
        self._pg = q.dialect == "postgresql"

    def events(self, after: int, limit: int, campaign_id: int | None) -> Work[list[TransitionEvent]]:
        """The events after position `after` (oldest first), at most `limit`, of one
        campaign's contacts when `campaign_id` is given."""
        check_position("after", after)
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            raise InvalidArgument(f"limit must be a whole number from 1 to {MAX_LIMIT}, got {limit!r}")
        q = self._q
        first = (after, after) if self._pg else (after,)
        if campaign_id is None:
            found = yield all_rows(q["events"], (*first, limit))
        else:
            found = yield all_rows(q["events_in_campaign"], (*first, campaign_id, limit))
        width = len(ENTRY_COLUMNS)
        return [TransitionEvent(Contact.from_row(rows.contact(r[width:], CONTACT_COLUMNS)),
                                history_entry(rows.history(r[:width]))) for r in found]

    def end(self) -> Work[int]:
        """The newest position in the feed (0 when it is empty)."""
        return int(value((yield one(self._q["feed_end"]))) or 0)

    def consumer_position(self, name: str) -> Work[int | None]:
        """Where the consumer `name` stopped, or None for a consumer never seen."""
        found = yield one(self._q["consumer_position"], (name,))
        return None if found is None else int(found[0])

    def save_position(self, name: str, position: int) -> Work[None]:
        yield count(self._q["consumer_save"], (name, position, self._clock.epoch()))


def check_position(name: str, position: object) -> int:
    if isinstance(position, bool) or not isinstance(position, int) or position < 0:
        raise InvalidArgument(f"{name} must be a feed position (a whole number >= 0), got {position!r}")
    return position
