"""What many tests share: campaigns and contacts brought to any state (`walk_to`),
phone numbers, the invariants, waiting with a deadline, seeded retries, and the
spec's outcome table. Import them from here:
`from tests.support import walk_to, new_phone, wait_until`.

Two modules that only some tests need are imported by name: `tests.support.cli`
(running the command line in-process) and `tests.support.processes` (child
processes). The virtual clock is `dialstate.testing.VirtualClock`, which users get
too.
"""

from tests.support.invariants import assert_history_continuous, assert_no_contact_lost
from tests.support.outcome_table import ENDING_A_DIAL, OUTCOME_TABLE, path_from_dialing
from tests.support.phones import ZONES, new_phone, new_phones, phone_number
from tests.support.retries import count_by_state, retry_due_entries, seed_retries
from tests.support.waiting import wait_until
from tests.support.walk import (
    contact_record,
    new_campaign,
    new_contact,
    new_contacts,
    resting_states,
    route,
    walk,
    walk_to,
)

__all__ = [
    "ENDING_A_DIAL",
    "OUTCOME_TABLE",
    "ZONES",
    "assert_history_continuous",
    "assert_no_contact_lost",
    "contact_record",
    "count_by_state",
    "new_campaign",
    "new_contact",
    "new_contacts",
    "new_phone",
    "new_phones",
    "path_from_dialing",
    "phone_number",
    "resting_states",
    "retry_due_entries",
    "route",
    "seed_retries",
    "wait_until",
    "walk",
    "walk_to",
]
