"""The core both faces of the engine share: its parts, each turning API calls into
units of work (`dialstate.store.ops`) that a face runs with its own I/O."""

from __future__ import annotations

import random

from dialstate.engine.blacklist import Blacklist
from dialstate.engine.campaigns import Campaigns
from dialstate.engine.claims import Claims
from dialstate.engine.clock import Clock
from dialstate.engine.configs import Configs
from dialstate.engine.contacts import Contacts
from dialstate.engine.feed import Feed
from dialstate.engine.importer import Importer
from dialstate.engine.machine import build_all
from dialstate.engine.plans import TIMEOUT_RULES
from dialstate.engine.runner import Runner
from dialstate.engine.timers import Timers
from dialstate.engine.triggers import Triggers
from dialstate.store.postgres import PostgresBackend
from dialstate.store.sqlite import SqliteBackend
from dialstate.store.statements import Queries


class Core:
    """The engine's parts, each given what it needs."""

    def __init__(self, q: Queries, backend: SqliteBackend | PostgresBackend, clock: Clock) -> None:
        build_all(TIMEOUT_RULES)  # the lifecycle table is checked once, before any use
        self.clock = clock
        self.configs = Configs(q)
        rng = random.Random()
        self.runner = Runner(q, backend, self.configs, clock, rng)
        self.triggers = Triggers(q, rng)
        self.contacts = Contacts(q, self.configs, clock)
        self.claims = Claims(q, backend, self.configs, clock)
        self.campaigns = Campaigns(q, self.configs, clock, backend)
        self.blacklist = Blacklist(q, backend, self.configs, clock)
        self.importer = Importer(q, self.configs, clock, backend)
        self.timers = Timers(q, backend, self.configs, clock, rng, self.runner)
        self.feed = Feed(q, clock)
