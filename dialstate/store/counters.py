"""A campaign's counters, as `campaign_stats` reads them: contacts by state (kind
`s`), finished attempts by outcome (`o`), answered calls (`a`, key '').

What a history entry adds to them is defined once, here: an entry moves its contact
out of `from_state` and into `to_state`; `answered` counts an answered call; the entry
of `call_ended` or `dial_failed` with an outcome counts one finished attempt (a
passing state's follow-up is a `decide`, not counted again). PostgreSQL adds each
transaction's changes as it writes (dialstate.store.writer); SQLite sums the entries
of the feed (dialstate.store.sqlite, dialstate/store/sql/stats.sql).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

#: A counter's change: (campaign, kind, key) -> delta.
Deltas = Counter[tuple[int, str, str]]

#: The entries whose outcome counts as one finished attempt.
ATTEMPT_ENDS = frozenset({"call_ended", "dial_failed"})


def add_entry(deltas: Deltas, campaign_id: int, from_state: str | None, to_state: str, trigger: str,
              outcome: str | None, n: int = 1) -> None:
    """Add to `deltas` what `n` entries alike add to the campaign's counters."""
    if from_state != to_state:
        if from_state is not None:
            deltas[(campaign_id, "s", from_state)] -= n
        deltas[(campaign_id, "s", to_state)] += n
    if trigger == "answered":
        deltas[(campaign_id, "a", "")] += n
    elif outcome is not None and trigger in ATTEMPT_ENDS:
        deltas[(campaign_id, "o", outcome)] += n


def of_groups(groups: Iterable[Sequence[Any]]) -> Deltas:
    """The deltas of entries grouped as (campaign, from_state, to_state, trigger,
    outcome, how many)."""
    deltas: Deltas = Counter()
    for campaign_id, from_state, to_state, trigger, outcome, n in groups:
        add_entry(deltas, campaign_id, from_state, to_state, trigger, outcome, n)
    return deltas


def rows(deltas: Deltas) -> list[tuple[int, str, str, int]]:
    """The non-zero deltas as (campaign, kind, key, delta), in key order (where rows
    are shared, concurrent transactions lock them in the same order)."""
    return [(*key, n) for key, n in sorted(deltas.items()) if n]


def with_unfolded(campaign_id: int, found: Iterable[Sequence[Any]]) -> list[tuple[str, str, int]]:
    """A campaign's counters as (kind, key, n) from SQLite's `stats_of`: its folded
    rows (kind, key, n), then its unfolded entries' groups (None, None, how many,
    from_state, to_state, trigger, outcome)."""
    out: list[tuple[str, str, int]] = []
    groups = []
    for kind, key, n, *group in found:
        if kind is None:
            groups.append((campaign_id, *group, n))
        else:
            out.append((kind, key, n))
    out += [(kind, key, n) for (_, kind, key), n in of_groups(groups).items()]
    return out
