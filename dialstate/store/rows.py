"""The columns each statement reads or writes, spelled once, and rows as dicts.

The `.sql` files refer to these lists as `{contact_columns}`, `{history_columns}`
and so on; the loader fills them in (`dialstate.store.statements`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

from dialstate.engine.lifecycle import TIMER_SETTINGS

#: A contact row as the engine reads it.
CONTACT_COLUMNS = (
    "id", "campaign_id", "phone", "phone_key", "state", "version", "seq", "attempts",
    "next_attempt_at", "due_at", "operator_id", "callback_operator_id", "personal_until",
    "call_id", "last_outcome", "priority", "timezone", "zone_key", "external_id", "data",
    "ready_since", "created_at", "updated_at", "numbers", "last_attempt_at",
)
#: The contact columns stored as JSON text.
CONTACT_JSON = frozenset({"data", "numbers"})
#: What `select_contact` adds to a contact's columns: its campaign's status and the
#: versions of its settings and policy in force, and until when its number is on the
#: blacklist (None: not on it; `FOREVER`: until someone takes it off).
CONTACT_FACTS = (*CONTACT_COLUMNS, "campaign_status", "settings_version", "policy_version", "blacklisted")

HISTORY_COLUMNS = (
    "contact_id", "seq", "from_state", "to_state", "trigger", "at", "actor", "attempt",
    "call_id", "outcome", "raw_code", "dialect", "policy_version", "note", "phone",
)
#: A history entry as read: its columns and its feed position.
ENTRY_COLUMNS = (*HISTORY_COLUMNS, "position")

#: A campaign row: its identity, then its settings.
CAMPAIGN_COLUMNS = (
    "id", "name", "mode", "status", "timezone", "default_region", "policy_version", "created_at",
    "calling_window", "dispositions", "default_disposition", *TIMER_SETTINGS,
    "bare_numbers", "unique_external_ids", "settings_version",
)
#: The campaign columns an INSERT sets (the id comes from the database).
CAMPAIGN_INSERT_COLUMNS = CAMPAIGN_COLUMNS[1:]
#: The campaign columns stored as JSON text.
CAMPAIGN_JSON = ("calling_window", "dispositions")

#: The expiry a blacklist entry without one counts as (far beyond any real time).
FOREVER = 1e15

#: Fragments the `.sql` files use, by name.
FRAGMENTS = {
    "contact_columns": ", ".join(CONTACT_COLUMNS),
    "c_contact_columns": ", ".join(f"c.{c}" for c in CONTACT_COLUMNS),
    "history_columns": ", ".join(HISTORY_COLUMNS),
    "h_history_columns": ", ".join(f"h.{c}" for c in HISTORY_COLUMNS),
    "history_params": ", ".join("?" * len(HISTORY_COLUMNS)),
    "campaign_columns": ", ".join(CAMPAIGN_COLUMNS),
    "campaign_insert_columns": ", ".join(CAMPAIGN_INSERT_COLUMNS),
    "campaign_insert_params": ", ".join("?" * len(CAMPAIGN_INSERT_COLUMNS)),
    "forever": f"{FOREVER:.0e}",
    # Until when the number of contact `c` is blacklisted for its campaign, as of the
    # parameter (None: it is not), read through the (phone, campaign_id) key.
    "blacklisted_until": (f"(SELECT MAX(COALESCE(b.expires_at, {FOREVER:.0e})) FROM ds_blacklist b "
                          "WHERE b.phone = c.phone_key AND b.campaign_id IN (0, c.campaign_id) "
                          "AND (b.expires_at IS NULL OR b.expires_at > ?))"),
}


def contact(values: Sequence[Any], keys: tuple[str, ...] = CONTACT_FACTS) -> dict[str, Any]:
    """A contact row (read with `keys`) as a dict, its `data` and `numbers` decoded."""
    return _contact_maker(keys)(values)


@cache
def _contact_maker(keys: tuple[str, ...]) -> Callable[[Sequence[Any]], dict[str, Any]]:
    """What builds a contact row from values read with `keys` (as many values as keys):
    one generated dict display, the JSON columns decoded inline (a row is built for
    every contact a trigger reads or a claim takes)."""
    names = [f"v{i}" for i in range(len(keys))]
    items = [f"{key!r}: loads({name}) if {name} else None" if key in CONTACT_JSON else f"{key!r}: {name}"
             for key, name in zip(keys, names, strict=True)]
    namespace: dict[str, Any] = {"loads": json.loads}
    exec(f"def make(values):\n    {', '.join(names)}, = values\n    return {{{', '.join(items)}}}\n", namespace)
    return namespace["make"]  # type: ignore[no-any-return]


def campaign(values: Sequence[Any]) -> dict[str, Any]:
    """A campaign row as a dict, its JSON settings decoded."""
    row = dict(zip(CAMPAIGN_COLUMNS, values, strict=True))
    for name in CAMPAIGN_JSON:
        row[name] = json.loads(row[name]) if row[name] else None
    return row


def history(values: Sequence[Any]) -> dict[str, Any]:
    """A history entry as read (`ENTRY_COLUMNS`) as a dict."""
    return dict(zip(ENTRY_COLUMNS, values, strict=True))
