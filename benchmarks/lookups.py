"""Lookups at a million contacts: the engine's finders beside one raw SQL statement each.

    python benchmarks/lookups.py [--backend sqlite|postgresql|both] [--contacts 1000000]
                                 [--lookups 2000] [--calls 5000] [--stats-repeat 200]

One agentless campaign gets `--contacts` contacts, each with an external id `crm-<n>`
and its own valid New York number; `--calls` of them are then dialed (`dial_next`) and
ended (`call_ended`, completed), so call ids exist. Then, over `--lookups` random keys
each, ours and the reference take turns on every key:

- `get_contact(id)`                        vs  SELECT * FROM ds_contact WHERE id = ?
- `find_call(call_id)`                     vs  the contact of the call's dial entry (ds_history's call index)
- `find_contacts(campaign, external_id=)`  vs  SELECT * FROM ds_contact WHERE external_id = ? AND campaign_id = ?
- `find_contacts(phone="+1 212 ...")`      vs  the contacts of the number's E.164 key (ds_number), every campaign
- `campaign_stats(campaign)`, `--stats-repeat` times, vs `--stats-ref-repeat` times
  SELECT state, COUNT(*) FROM ds_contact WHERE campaign_id = ? GROUP BY state (by state only:
  the obvious count; ours also counts attempts by outcome)

The reference runs through the DBAPI connection (sqlite3 / psycopg, autocommit) on the
same database and gets what is already stored (the E.164 key, not the number as typed:
ours parses it). Reported per lookup: mean and p99 in ms, and the ratio of the means
reference / ours. Targets (spec sections 10 and 11): lookups < 1 ms, campaign_stats
< 10 ms at a million contacts.

On PostgreSQL, campaign_stats is measured again while `--writers` processes make
transitions (dial_next + call_ended) in the same campaign: one counter row per campaign
would serialize them. Processes rather than threads, so that no GIL stands between the
writers and the reader being timed. SQLite: a file in a temporary folder. PostgreSQL: a
fresh database on the `--pg` server, dropped after the run.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# This script's folder comes first on sys.path, and its neighbour `transitions.py` would
# shadow the `transitions` library the engine is built on: take the folder off the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from dialstate import DialMode, Engine  # noqa: E402
from dialstate.testing import admin_conninfo, scratch_pg_database  # noqa: E402

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
CALL_SQL = ("SELECT c.* FROM ds_contact c WHERE c.id = (SELECT contact_id FROM ds_history"
            " WHERE call_id = ? AND trigger IN ('dial', 'dial_failed') LIMIT 1)")
PHONE_SQL = ("SELECT c.* FROM ds_number n JOIN ds_contact c ON c.id = n.contact_id"
             " WHERE n.campaign_id IN (SELECT id FROM ds_campaign) AND n.phone_key = ?")
STATS_SQL = "SELECT state, COUNT(*) FROM ds_contact WHERE campaign_id = ? GROUP BY state"


def digits(i: int) -> str:
    return f"{200 + i // 10000:03d}{i % 10000:04d}"


def written(i: int) -> str:
    """The `i`-th contact's number as people write it."""
    d = digits(i)
    return f"+1 212 {d[:3]} {d[3:]}"


def contacts(n: int) -> Iterator[dict[str, str]]:
    for i in range(n):
        yield {"phone": written(i), "external_id": f"crm-{i}"}


@contextmanager
def database(backend: str, pg: str) -> Iterator[str]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{Path(tmp) / 'lookups.db'}"
    else:
        with scratch_pg_database(pg, prefix="dialstate_bench") as url:
            yield url


def raw_connection(url: str) -> tuple[Any, Callable[[str], str]]:
    """A DBAPI connection in autocommit, and how to write its placeholders."""
    if url.startswith("sqlite"):
        return sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None), lambda sql: sql
    import psycopg

    return psycopg.connect(admin_conninfo(url), autocommit=True), lambda sql: sql.replace("?", "%s")


def timed(fn: Callable[[Any], Any], key: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    found = fn(key)
    return (time.perf_counter() - start) * 1000, found


def compare(label: str, keys: list[Any], ours: Callable[[Any], Any], ref: Callable[[Any], Any],
            same: Callable[[Any, Any], bool] | None, ref_every: int = 1) -> None:
    """Ours and the reference take turns on each key (the reference on every
    `ref_every`-th), and find the same when `same` is given; prints mean and p99 of
    each and the ratio of the means."""
    for key in keys[:3]:  # warm up
        ours(key), ref(key)
    mine: list[float] = []
    theirs: list[float] = []
    for i, key in enumerate(keys):
        ms, got = timed(ours, key)
        mine.append(ms)
        if i % ref_every == 0:
            ms, expected = timed(ref, key)
            theirs.append(ms)
            assert same is None or same(got, expected), (label, key, got, expected)
    m, t = summary(mine), summary(theirs)
    print(f"  {label:<38} {m[0]:8.3f} {m[1]:8.3f}   {t[0]:8.3f} {t[1]:8.3f}   {t[0] / m[0]:6.2f}"
          f"   ({len(mine)} / {len(theirs)} runs)")


def summary(ms: list[float]) -> tuple[float, float]:
    ordered = sorted(ms)
    return sum(ms) / len(ms), ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def ids(found: Any) -> list[int]:
    return [c.id for c in found] if isinstance(found, list) else [found.id]


def same_rows(got: Any, rows: list[tuple[Any, ...]]) -> bool:
    return ids(got) == [row[0] for row in rows]


def writer(url: str, campaign_id: int, ready: Any, stop: Any, done: Any) -> None:
    with Engine(url) as engine:
        n = 0
        while not stop.is_set():
            (contact,) = engine.dial_next(campaign_id, 1)
            engine.call_ended(contact.id, "completed")
            n += 2
            if n == 2:
                ready.release()
        done.put(n)


def bench(backend: str, args: argparse.Namespace) -> None:
    name = "SQLite file" if backend == "sqlite" else "PostgreSQL"
    rng = random.Random(1)
    with database(backend, args.pg) as url, Engine(url) as engine:
        start = time.perf_counter()
        campaign = engine.create_campaign("lookups", mode=DialMode.AGENTLESS).id
        report = engine.add_contacts(campaign, contacts(args.contacts))
        assert report.added == args.contacts, report
        imported = time.perf_counter() - start
        start = time.perf_counter()
        call_ids = []
        while len(call_ids) < args.calls:
            for contact in engine.dial_next(campaign, min(100, args.calls - len(call_ids))):
                call_ids.append(contact.call_id)
                engine.call_ended(contact.id, "completed", call_id=contact.call_id)
        print(f"{name}: {args.contacts:,} contacts imported in {imported:.1f} s, "
              f"{len(call_ids):,} called in {time.perf_counter() - start:.1f} s")
        conn, sql = raw_connection(url)

        def ref(statement: str) -> Callable[..., list[tuple[Any, ...]]]:
            text = sql(statement)
            return lambda *params: conn.execute(text, params).fetchall()

        picks = [rng.randrange(args.contacts) for _ in range(args.lookups)]
        by_external = ref("SELECT * FROM ds_contact WHERE external_id = ? AND campaign_id = ?")
        by_phone = ref(PHONE_SQL)
        by_state = ref(STATS_SQL)
        stats_keys = [campaign] * args.stats_repeat
        every = max(1, args.stats_repeat // args.stats_ref_repeat)
        lookups: list[tuple[Any, ...]] = [
            ("get_contact(id)", [report.contact_ids[i] for i in picks], engine.get_contact,
             ref("SELECT * FROM ds_contact WHERE id = ?"), same_rows),
            ("find_call(call_id)", rng.choices(call_ids, k=args.lookups), engine.find_call, ref(CALL_SQL), same_rows),
            ("find_contacts(campaign, external_id=)", [f"crm-{i}" for i in picks],
             lambda x: engine.find_contacts(campaign, external_id=x), lambda x: by_external(x, campaign), same_rows),
            # Ours gets the number as people write it; the reference its stored E.164 key.
            ("find_contacts(phone=)", picks, lambda i: engine.find_contacts(phone=written(i)),
             lambda i: by_phone(f"+1212{digits(i)}"), same_rows),
        ]
        print(f"  {'lookup':<38} {'ours ms: mean':>13} {'p99':>8}   {'raw SQL: mean':>13} {'p99':>8}   ratio")
        if backend == "postgresql":
            # The tables as the import leaves them: no planner statistics until an
            # ANALYZE (autovacuum's, within a minute, where it is on).
            autovacuum = conn.execute("SHOW autovacuum").fetchone()[0]
            print(f"  before ANALYZE (autovacuum is {autovacuum} on this server):")
            for label, keys, *rest in lookups:
                compare(label, keys[:max(20, args.lookups // 20)], *rest)
            conn.execute("ANALYZE")
            print("  after ANALYZE:")
        for spec in lookups:
            compare(*spec)
        compare("campaign_stats(campaign)", stats_keys, engine.campaign_stats, by_state, None, every)
        if backend == "postgresql" and args.writers:
            ctx = mp.get_context("spawn")
            ready, stop, done = ctx.Semaphore(0), ctx.Event(), ctx.Queue()
            procs = [ctx.Process(target=writer, args=(url, campaign, ready, stop, done)) for _ in range(args.writers)]
            try:
                for proc in procs:
                    proc.start()
                for _ in procs:
                    if not ready.acquire(timeout=60):
                        raise RuntimeError("a writer did not start")
                start = time.perf_counter()
                compare(f"  ... with {args.writers} writers", stats_keys, engine.campaign_stats, by_state, None, every)
                stop.set()
                made = sum(done.get(timeout=60) for _ in procs)
                elapsed = time.perf_counter() - start
            finally:
                stop.set()
                for proc in procs:
                    proc.join(10)
                    if proc.is_alive():
                        proc.terminate()
                        proc.join()
            print(f"  {'':<38} (the writers made {made / elapsed:,.0f} transitions/s meanwhile)")
        stats = engine.campaign_stats(campaign)
        counted = dict(by_state(campaign))
        assert dict(stats.by_state) == counted, (stats.by_state, counted)
        conn.close()
    print("  targets: lookups < 1 ms, campaign_stats < 10 ms (at a million contacts)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=5000, help="contacts dialed and ended first")
    parser.add_argument("--lookups", type=int, default=2000, help="random keys per lookup")
    parser.add_argument("--stats-repeat", type=int, default=200)
    parser.add_argument("--stats-ref-repeat", type=int, default=20, help="the reference's full count is slow")
    parser.add_argument("--writers", type=int, default=4, help="PostgreSQL: concurrent writer processes")
    parser.add_argument("--pg", metavar="URL", default=ADMIN_URL, help="PostgreSQL server (admin URL)")
    args = parser.parse_args()
    for backend in ("sqlite", "postgresql") if args.backend == "both" else (args.backend,):
        bench(backend, args)


if __name__ == "__main__":
    main()
