"""`run_demo`: a campaign with a calling window and a retry policy, a realistic
contact list, and a simulated day of dialing; returns what the report shows."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from dialstate.engine.engine import Engine
from dialstate.engine.snapshots import Campaign, CampaignStats, Contact, HistoryEntry, ImportReport
from dialstate.engine.states import DialMode
from dialstate.errors import DemoDatabaseInUse
from dialstate.outcomes import Outcome
from dialstate.policy import CallingWindow, RetryPolicy
from dialstate.sim.clock import VirtualClock
from dialstate.sim.numbers import generate
from dialstate.sim.simulation import Simulation, Tally
from dialstate.store.ops import Work, all_rows, one
from dialstate.store.sqlite import campaign_names_in_file

#: Campaigns the demo made carry this prefix; the demo only ever removes those.
DEMO_PREFIX = "Demo: "
ZONE = "Europe/Berlin"
#: The simulated day starts on a fixed Monday, so a seed gives the same day on any date.
START = datetime(2026, 3, 2, 8, 0, tzinfo=ZoneInfo(ZONE))
DAYS = "mon-sat"
WINDOW = CallingWindow("09:00", "20:00", days=DAYS)
POLICY = RetryPolicy(max_attempts=4, backoff=1.5, max_delay=4 * 3600,
                     delays={Outcome.NO_ANSWER: 2400, Outcome.VOICEMAIL: 5400})


@dataclass(frozen=True)
class DemoSettings:
    url: str = "sqlite:///demo.db"
    contacts: int = 2000
    mode: DialMode = DialMode.PREDICTIVE
    seed: int = 7
    operators: int | None = None
    hours: float = 24.0

    @property
    def operator_count(self) -> int:
        return self.operators or max(4, self.contacts // 100)


@dataclass
class DemoResult:
    settings: DemoSettings
    campaign: Campaign
    imported: ImportReport
    rows: int
    stats: CampaignStats
    attempts_per_contact: dict[int, int]
    tally: Tally
    samples: list[tuple[Contact, list[HistoryEntry]]]
    start: datetime
    end: datetime
    wall_seconds: float
    notes: list[str] = field(default_factory=list)


Progress = Callable[[float, int], Any]


def run_demo(settings: DemoSettings, progress: Progress | None = None,
             on_start: Callable[[float, int], Any] | None = None) -> DemoResult:
    """Run the simulated day. `on_start(seconds to simulate, contacts)` is called once
    the contacts are in; `progress(simulated seconds, contacts finished)` as it runs."""
    started = time.perf_counter()
    notes = prepare_database(settings.url)
    rng = random.Random(settings.seed)
    clock = VirtualClock(START)
    end = START + timedelta(hours=settings.hours)
    engine = Engine(settings.url, clock=clock)
    try:
        campaign = engine.create_campaign(
            f"{DEMO_PREFIX}winter renewals (seed {settings.seed})", settings.mode, retry_policy=POLICY,
            calling_window=WINDOW, timezone=ZONE, default_region="DE", before_call_work_seconds=30,
            after_call_work_seconds=120, assign_timeout_seconds=120, dial_timeout_seconds=90,
            max_call_seconds=1800, operator_wait_seconds=60,
        )
        rows, people = generate(rng, settings.contacts)
        imported = engine.add_contacts(campaign.id, rows, actor="demo")
        if on_start is not None:
            on_start(end.timestamp() - START.timestamp(), imported.added)

        def moved(now: float, finished: int) -> None:
            if progress is not None:
                progress(min(now, end.timestamp()) - START.timestamp(), finished)

        simulation = Simulation(engine, clock, campaign.id, DialMode(settings.mode), people, rng,
                                settings.operator_count, end.timestamp(), moved,
                                parked=imported.invalid + imported.blacklisted)
        tally = simulation.run()
        stats = engine.campaign_stats(campaign.id)
        samples = [(engine.get_contact(cid), engine.history(cid)) for cid in _sample_ids(engine, campaign.id, tally)]
        return DemoResult(settings, campaign, imported, len(rows), stats, attempts_histogram(engine, campaign.id),
                          tally, samples, START, clock(), time.perf_counter() - started, notes)
    finally:
        engine.close()


def prepare_database(url: str) -> list[str]:
    """Make room for a new demo: a SQLite file that holds only demo campaigns is
    removed (so ids, and the output, repeat); on a server, earlier demo campaigns are
    canceled. A database with any other campaign is refused: the demo's virtual clock
    and scheduler would fire that campaign's timers."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    path = parsed.database if parsed.get_backend_name() == "sqlite" else None
    if path and path != ":memory:" and not path.startswith("file:"):
        file = Path(path).expanduser()
        if not file.exists():
            return []
        names = campaign_names_in_file(file)
        _refuse_others(url, names)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{file}{suffix}").unlink(missing_ok=True)
        return [f"removed the previous demo database {file}"]
    engine = Engine(url)
    try:
        campaigns = engine.campaigns()
        _refuse_others(url, [c.name for c in campaigns])
        canceled = [c for c in campaigns if c.status != "canceled"]
        for c in canceled:
            engine.cancel_campaign(c.id, actor="demo")
    finally:
        engine.close()
    return [f"canceled the earlier demo campaign {c.id}" for c in canceled]


def _refuse_others(url: str, names: list[str]) -> None:
    others = [n for n in names if not n.startswith(DEMO_PREFIX)]
    if others:
        raise DemoDatabaseInUse(
            f"{url} holds {len(others)} campaign(s) that are not demos (e.g. {others[0]!r}); the demo runs "
            "a virtual clock and a scheduler that would fire their timers: give the demo its own --db"
        )


def attempts_histogram(engine: Engine, campaign_id: int) -> dict[int, int]:
    """Contacts by the number of counted attempts made on them."""
    db = engine.database

    def read() -> Work[list[Any]]:
        return (yield all_rows(db.q["attempts_histogram"], (campaign_id,)))  # type: ignore[no-any-return]

    return {int(a): int(n) for a, n in db.read(read())}


def _sample_ids(engine: Engine, campaign_id: int, tally: Tally) -> list[int]:
    """Two contacts worth reading: one whose lost event the scheduler recovered (or
    that got a stale duplicate), one reached after several attempts."""
    picks: list[int] = []
    for cid in (*tally.recovered_contacts, *tally.duplicate_contacts):
        picks.append(cid)
        break
    db = engine.database
    first = picks[0] if picks else 0

    def read() -> Work[Any]:
        row = yield one(db.q["demo_sample_reached_late"], (campaign_id, first))
        if row is None:
            row = yield one(db.q["demo_sample_busiest"], (campaign_id, first))
        return row

    row = db.read(read())
    if row is not None:
        picks.append(int(row[0]))
    return picks
