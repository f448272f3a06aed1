"""How fast `dial_next` claims under a calling window, beside the same campaign without one.

    python benchmarks/claiming.py [--contacts 200000] [--rounds 400] [--batch 100] [--pg URL]

Two agentless campaigns hold the same contacts, spread evenly (interleaved) over 30
time zones by their `timezone` field: one with `CallingWindow("09:00", "21:00")`, one
with no window. The engine's clock stands at Wednesday 2026-03-04 12:00 UTC, when 16
of the 30 zones are open. `dial_next(campaign, batch)` is called `--rounds` times on
each, alternating, so both see the same machine load; each claimed contact leaves
`ready`, so later rounds claim from deeper in the list, as a dialer working through a
campaign does. The target is a windowed rate at least 0.5 of the window-less one.

SQLite: a file in a temporary folder. PostgreSQL (`--pg postgresql+psycopg://...`): a
fresh database is created on that server for the run and dropped after it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

# This script's folder comes first on sys.path, and its neighbour `transitions.py` would
# shadow the `transitions` library the engine is built on: take the folder off the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from dialstate import CallingWindow, DialMode, Engine  # noqa: E402
from dialstate.testing import scratch_pg_database  # noqa: E402

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
WINDOW = CallingWindow("09:00", "21:00")
# 30 zones across the world's offsets; at NOW (12:00 UTC) those from Sao Paulo (09:00)
# to Shanghai (20:00) are open: 16 of 30.
ZONES = (
    "Pacific/Pago_Pago", "Pacific/Honolulu", "America/Anchorage", "America/Los_Angeles",
    "America/Denver", "America/Chicago", "America/New_York", "America/Halifax",
    "America/St_Johns", "America/Sao_Paulo", "Atlantic/South_Georgia", "Atlantic/Azores",
    "Europe/London", "Europe/Berlin", "Europe/Athens", "Europe/Moscow", "Asia/Tehran",
    "Asia/Dubai", "Asia/Kabul", "Asia/Karachi", "Asia/Kolkata", "Asia/Kathmandu",
    "Asia/Dhaka", "Asia/Bangkok", "Asia/Shanghai", "Asia/Tokyo", "Australia/Adelaide",
    "Australia/Sydney", "Pacific/Noumea", "Pacific/Auckland",
)


def contacts(n: int) -> Iterator[dict[str, str]]:
    """`n` valid, distinct US numbers, each with one of ZONES in turn."""
    for i in range(n):
        yield {"phone": f"+1 212 {200 + i // 10000:03d} {i % 10000:04d}", "timezone": ZONES[i % len(ZONES)]}


@contextmanager
def database(pg: str | None, name: str = "claiming.db") -> Iterator[str]:
    """A SQLite file `name` in a temporary folder, or a scratch database on the
    PostgreSQL server `pg`."""
    if pg is None:
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{Path(tmp) / name}"
        return
    with scratch_pg_database(pg, prefix="dialstate_bench") as url:
        yield url


def claim_round(engine: Engine, campaign_id: int, batch: int) -> tuple[float, int]:
    start = time.perf_counter()
    got = len(engine.dial_next(campaign_id, batch))
    return time.perf_counter() - start, got


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=400, help="dial_next calls per campaign")
    parser.add_argument("--batch", type=int, default=100, help="the limit of each dial_next")
    parser.add_argument("--pg", metavar="URL", help="run on PostgreSQL (a fresh database on this server)")
    args = parser.parse_args()
    open_zones = sum(WINDOW.is_open((z,), NOW) for z in ZONES)
    # Each round takes `batch` open contacts: keep the rounds within what is open.
    rounds = min(args.rounds, args.contacts * open_zones // len(ZONES) // args.batch)

    with database(args.pg) as url:
        engine = Engine(url, clock=lambda: NOW)
        backend = "PostgreSQL" if args.pg else "SQLite file"
        start = time.perf_counter()
        windowed = engine.create_campaign("windowed", mode=DialMode.AGENTLESS, calling_window=WINDOW).id
        unlimited = engine.create_campaign("no window", mode=DialMode.AGENTLESS).id
        for campaign_id in (windowed, unlimited):
            report = engine.add_contacts(campaign_id, contacts(args.contacts))
            assert report.added == args.contacts, report
        print(f"{backend}: 2 campaigns x {args.contacts:,} contacts in {len(ZONES)} zones "
              f"({open_zones} open at {NOW:%a %Y-%m-%d %H:%M} UTC), built in {time.perf_counter() - start:.1f} s")

        spent = {windowed: 0.0, unlimited: 0.0}
        claimed = {windowed: 0, unlimited: 0}
        halves: dict[int, list[float]] = {windowed: [0.0, 0.0], unlimited: [0.0, 0.0]}
        for r in range(rounds):
            for campaign_id in ((windowed, unlimited) if r % 2 == 0 else (unlimited, windowed)):
                seconds, got = claim_round(engine, campaign_id, args.batch)
                assert got == args.batch, (campaign_id, r, got)
                spent[campaign_id] += seconds
                claimed[campaign_id] += got
                halves[campaign_id][0 if r < rounds // 2 else 1] += seconds
        engine.close()

    print(f"dial_next(campaign, {args.batch}) x {rounds} rounds each, alternating:")
    for label, campaign_id in (("window 09:00-21:00", windowed), ("no window", unlimited)):
        claims, done = rounds / spent[campaign_id], claimed[campaign_id] / spent[campaign_id]
        first, second = (rounds // 2 / halves[campaign_id][0]), ((rounds - rounds // 2) / halves[campaign_id][1])
        print(f"  {label:<20}: {claims:8,.1f} claims/s  {done:10,.0f} contacts/s"
              f"  (first half {first:,.1f}, second half {second:,.1f} claims/s)")
    ratio = spent[unlimited] / spent[windowed]
    print(f"  ratio windowed / no window: {ratio:.2f}  (target >= 0.5)")


if __name__ == "__main__":
    main()
