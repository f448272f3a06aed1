"""Fixtures of the command-line tests: a database file, and one campaign in it.

Errors reach the user as one line on stderr, exit code 1 for runtime errors and 2 for
usage errors, and never as a traceback unless `--debug`
(`tests.support.cli.assert_one_line_error`).
"""

from __future__ import annotations

import pytest

from dialstate import DialMode, Engine
from dialstate.testing import VirtualClock


@pytest.fixture
def db(sqlite_url: str) -> str:
    return sqlite_url


@pytest.fixture
def campaign(db: str, clock: VirtualClock) -> int:
    """A preview campaign with three contacts, one of them called once (busy)."""
    with Engine(db, clock=clock) as engine:
        cid = engine.create_campaign("Winter renewals", DialMode.PREVIEW, default_region="DE",
                                     timezone="Europe/Berlin").id
        ids = engine.add_contacts(cid, ["+49 30 1234567", {"phone": "030 7654321", "external_id": "crm-2",
                                                           "data": {"name": "Ada"}}, "not a number"]).contact_ids
        engine.assign_operator(ids[0], "op1")
        engine.accept(ids[0])
        engine.dial(ids[0], call_id="call-1")
        engine.call_ended(ids[0], "486", "sip", call_id="call-1")
    return cid
