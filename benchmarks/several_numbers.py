"""Several numbers per contact (spec section 15): claiming and importing, beside the same
work on one number each.

    python benchmarks/several_numbers.py [--contacts 200000] [--rounds 300] [--batch 100]
                                         [--import-contacts 1000000] [--pg URL]

1. Windowed `dial_next`: two agentless campaigns with a 09:00-21:00 window, at
   Wednesday 12:00 UTC (16 of 30 zones open). One holds `--contacts` contacts with one
   number each, spread over 30 zones; the other the same people with three numbers
   each (home, mobile, work), in the person's zone, but every tenth person's work
   number in another zone (seven zones east). `dial_next(campaign, batch)` alternates
   between them; the target is a rate with three numbers at least 0.5 of the rate with
   one.
2. Import: `--import-contacts` contacts with two numbers each through `add_contacts`,
   in a child process that reports its peak memory (RSS); the reference is the same
   count with one number each. Targets: at least 30,000 contacts/s, under 300 MB.

SQLite: files in a temporary folder. PostgreSQL (`--pg postgresql+psycopg://...`): fresh
databases on that server, dropped after the run.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import sys
import time
from collections.abc import Iterator
from pathlib import Path

# This script's folder comes first on sys.path, and its neighbour `transitions.py` would
# shadow the `transitions` library the engine is built on: move the folder to the end,
# where `claiming` is still found. (No script here may take a stdlib module's name:
# the others import the stdlib before they take their folder off the path.)
HERE = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(HERE)] + [HERE]

from claiming import NOW, WINDOW, ZONES, database  # noqa: E402  (the same campaign and zones)

from dialstate import DialMode, Engine  # noqa: E402


def number(i: int) -> str:
    """The i-th of 800,000 valid, distinct New York numbers."""
    return f"+1 212 {200 + i // 10000:03d} {i % 10000:04d}"


def people(n: int, count: int) -> Iterator[dict[str, object]]:
    """`n` contacts with `count` numbers each (one: the plain form)."""
    for i in range(n):
        zone = ZONES[i % len(ZONES)]
        if count == 1:
            yield {"phone": number(i), "timezone": zone}
            continue
        phones: list[dict[str, str]] = []
        for k in range(count):
            own = ZONES[(i + 7) % len(ZONES)] if k == 2 and i % 10 == 0 else zone
            phones.append({"phone": number(k * n + i), "label": ("home", "mobile", "work")[k], "timezone": own})
        yield {"phones": phones}


def claiming(args: argparse.Namespace) -> None:
    open_zones = sum(WINDOW.is_open((z,), NOW) for z in ZONES)
    rounds = min(args.rounds, args.contacts * open_zones // len(ZONES) // args.batch)
    with database(args.pg, "claiming.db") as url:
        engine = Engine(url, clock=lambda: NOW)
        start = time.perf_counter()
        one = engine.create_campaign("one number", mode=DialMode.AGENTLESS, calling_window=WINDOW).id
        three = engine.create_campaign("three numbers", mode=DialMode.AGENTLESS, calling_window=WINDOW).id
        assert engine.add_contacts(one, people(args.contacts, 1)).added == args.contacts
        assert engine.add_contacts(three, people(args.contacts, 3)).added == args.contacts
        print(f"{args.backend}: {args.contacts:,} contacts with one number and the same with three, in "
              f"{len(ZONES)} zones ({open_zones} open at {NOW:%a %H:%M} UTC), built in "
              f"{time.perf_counter() - start:.1f} s")
        spent = {one: 0.0, three: 0.0}
        for r in range(rounds):
            for campaign in (one, three) if r % 2 == 0 else (three, one):
                t = time.perf_counter()
                got = engine.dial_next(campaign, args.batch)
                spent[campaign] += time.perf_counter() - t
                assert len(got) == args.batch, (campaign, r, len(got))
        engine.close()
    rate = {c: rounds / s for c, s in spent.items()}
    print(f"  windowed dial_next(campaign, {args.batch}) x {rounds} rounds each, alternating:")
    print(f"    one number each    : {rate[one]:8.1f} claims/s  {rate[one] * args.batch:10,.0f} contacts/s")
    print(f"    three numbers each : {rate[three]:8.1f} claims/s  {rate[three] * args.batch:10,.0f} contacts/s")
    print(f"    ratio three / one  : {rate[three] / rate[one]:8.2f}  (target >= 0.5)")


def _import_child(url: str, n: int, count: int, out: mp.Queue) -> None:  # type: ignore[type-arg]
    engine = Engine(url, clock=lambda: NOW)
    campaign = engine.create_campaign("import", mode=DialMode.AGENTLESS).id
    start = time.perf_counter()
    report = engine.add_contacts(campaign, people(n, count))
    seconds = time.perf_counter() - start
    engine.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    out.put((report.added, seconds, peak, workers))


def importing(args: argparse.Namespace) -> None:
    n = args.import_contacts
    print(f"{args.backend}: add_contacts of {n:,} contacts, each in a fresh process")
    ctx = mp.get_context("spawn")
    for count in (1, 2):
        with database(args.pg, f"import{count}.db") as url:
            queue = ctx.Queue()
            child = ctx.Process(target=_import_child, args=(url, n, count, queue))
            child.start()
            added, seconds, peak, workers = queue.get()
            child.join()
        print(f"    {count} number{'s' * (count > 1)} each : {added:,} in {seconds:6.1f} s = "
              f"{added / seconds:9,.0f} contacts/s, peak RSS {peak:5.0f} MB (workers {workers:4.0f} MB)")
    print("    targets with two numbers: >= 30,000 contacts/s, < 300 MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=300, help="dial_next calls per campaign")
    parser.add_argument("--batch", type=int, default=100, help="the limit of each dial_next")
    parser.add_argument("--import-contacts", type=int, default=1_000_000)
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument("--pg", metavar="URL", help="run on PostgreSQL (fresh databases on this server)")
    args = parser.parse_args()
    args.backend = "PostgreSQL" if args.pg else "SQLite file"
    claiming(args)
    if not args.skip_import:
        importing(args)


if __name__ == "__main__":
    main()
