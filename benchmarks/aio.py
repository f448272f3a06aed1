"""The asyncio face: PostgreSQL throughput against the sync face, and how free the
event loop stays on SQLite.

    python benchmarks/aio.py [--pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
                             [--contacts 3000] [--repeat 3] [--pool 10] [--loop asyncio|uvloop]
                             [--skip-pg] [--skip-sqlite]

PostgreSQL: agentless contacts driven by C concurrent workers (C = 50, then 200), each
looping `dial_next(campaign, 1)`, `answered`, `call_ended(..., "completed")` until
the campaign is empty: 3 transitions a contact. The async face runs C coroutines on
one `AsyncEngine(pool_size=--pool)`; the sync face runs C threads on one `Engine`
(a connection per thread). The sides take turns, `--repeat` rounds each; the best
round of each is compared (and the CPU this process spent per transition is shown,
a figure less sensitive to a shared machine's load). The target is an async/sync
ratio of at least 1.0. A sync side whose threads need more connections than the
server allows is reported as failed: that is the async face's point. A fresh
database is made on the server for each round and dropped after it.

SQLite: 50 coroutines drive contacts the same way on a file while a ticker asks the
loop to wake every 2 ms; its lateness is the loop's lag. The target is a p99 under
10 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

# This script's folder comes first on sys.path, and its neighbour `transitions.py` would
# shadow the `transitions` library the engine is built on: take the folder off the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from dialstate import DialMode, Engine  # noqa: E402
from dialstate.aio import AsyncEngine  # noqa: E402
from dialstate.testing import scratch_pg_database  # noqa: E402

STEPS = 3  # transitions per contact: dialing, call_in_progress, success
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def phones(n: int) -> list[str]:
    return [f"+1 212 {200 + i // 10000:03d} {i % 10000:04d}" for i in range(n)]


def seed(url: str, n: int) -> int:
    with Engine(url) as engine:
        campaign = engine.create_campaign("bench", mode=DialMode.AGENTLESS, default_region="US")
        engine.add_contacts(campaign.id, phones(n))
        return campaign.id


def check(url: str, campaign_id: int, n: int) -> None:
    with Engine(url) as engine:
        assert engine.campaign_stats(campaign_id)["success"] == n, "a contact was lost or driven twice"


# -- the two faces on PostgreSQL ---------------------------------------------------------


def run_sync(url: str, campaign_id: int, *, workers: int) -> float:
    engine = Engine(url)
    start = threading.Barrier(workers + 1)

    def worker() -> None:
        start.wait()
        while batch := engine.dial_next(campaign_id, 1):
            contact = batch[0]
            engine.answered(contact.id, call_id=contact.call_id)
            engine.call_ended(contact.id, "completed", call_id=contact.call_id)

    try:
        with ThreadPoolExecutor(workers) as pool:
            futures = [pool.submit(worker) for _ in range(workers)]
            start.wait()
            began = time.perf_counter()
            for future in futures:
                future.result()
            return time.perf_counter() - began
    finally:
        engine.close()


async def drive_async(engine: AsyncEngine, campaign_id: int, workers: int) -> float:
    async def worker() -> None:
        while batch := await engine.dial_next(campaign_id, 1):
            contact = batch[0]
            await engine.answered(contact.id, call_id=contact.call_id)
            await engine.call_ended(contact.id, "completed", call_id=contact.call_id)

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    return time.perf_counter() - began


def run_async(url: str, campaign_id: int, *, workers: int, pool: int) -> float:
    async def main() -> float:
        async with AsyncEngine(url, pool_size=pool) as engine:
            await engine.database.pool.wait()  # the connections are made before the clock starts
            return await drive_async(engine, campaign_id, workers)

    return run_loop(main())


#: The event loop's implementation: asyncio's own, or uvloop (`--loop uvloop`, when
#: installed; not a dependency of dialstate).
LOOP = "asyncio"


def run_loop(main: Any) -> Any:
    if LOOP == "uvloop":
        import uvloop

        return uvloop.run(main)
    return asyncio.run(main)


def one_round(server: str, n: int, run: Callable[[str, int], float]) -> tuple[float, float]:
    """(transitions/s, CPU seconds of this process per transition) of one run."""
    with scratch_pg_database(server, prefix="dialstate_bench_aio") as url:
        campaign_id = seed(url, n)
        cpu = time.process_time()
        seconds = run(url, campaign_id)
        cpu = time.process_time() - cpu
        check(url, campaign_id, n)
    return n * STEPS / seconds, cpu / (n * STEPS)


def postgres(server: str, n: int, repeat: int, pool: int) -> None:
    for workers in (50, 200):
        sides: dict[str, Callable[[str, int], float]] = {
            "sync": partial(run_sync, workers=workers),
            "async": partial(run_async, workers=workers, pool=pool),
        }
        results: dict[str, list[tuple[float, float]] | str] = {"sync": [], "async": []}
        for _ in range(repeat):  # the sides take turns, so both see the same machine load
            for side, run in sides.items():
                done = results[side]
                if isinstance(done, str):
                    continue
                try:
                    done.append(one_round(server, n, run))
                except Exception as exc:  # too many connections for the server, say
                    results[side] = f"failed ({type(exc).__name__}: {str(exc).strip().splitlines()[-1]})"
        shown = {}
        for side, done in results.items():
            if isinstance(done, str):
                shown[side] = done
            else:
                rate, cpu = max(done)
                shown[side] = f"{rate:.0f} transitions/s ({cpu * 1e6:.0f} us CPU each)"
        line = (f"PostgreSQL, {workers} concurrent: async, {workers} coroutines on a pool of {pool}: {shown['async']}; "
                f"sync, {workers} threads: {shown['sync']}")
        sync_done, async_done = results["sync"], results["async"]
        if not isinstance(sync_done, str) and not isinstance(async_done, str):
            line += f"; ratio {max(async_done)[0] / max(sync_done)[0]:.2f} (target >= 1.0)"
        print(line, flush=True)


# -- the event loop's lag on SQLite ------------------------------------------------------------


def sqlite_lag(n: int, workers: int = 50, every: float = 0.002) -> dict[str, Any]:
    lags: list[float] = []

    async def ticker() -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(every)
            lags.append(time.perf_counter() - before - every)

    async def main(url: str, campaign_id: int) -> float:
        async with AsyncEngine(url) as engine:
            await engine.get_contact(1)  # the worker threads and their connections are up
            tick = asyncio.ensure_future(ticker())
            seconds = await drive_async(engine, campaign_id, workers)
            tick.cancel()
            return seconds

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'lag.db'}"
        campaign_id = seed(url, n)
        seconds = run_loop(main(url, campaign_id))
        check(url, campaign_id, n)
    ordered = sorted(lags)
    return {
        "rate": n * STEPS / seconds,
        "p50": statistics.median(ordered) * 1000,
        "p99": ordered[int(len(ordered) * 0.99)] * 1000,
        "max": ordered[-1] * 1000,
        "ticks": len(ordered),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", default=DEFAULT_PG, help="a PostgreSQL server (its URL); a database is made on it")
    parser.add_argument("--contacts", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pool", type=int, default=10, help="the AsyncEngine's pool_size on PostgreSQL")
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio",
                        help="the event loop (uvloop must be installed)")
    parser.add_argument("--skip-pg", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    global LOOP
    LOOP = args.loop
    print(f"event loop: {LOOP}", flush=True)
    if not args.skip_pg:
        postgres(args.pg, args.contacts, args.repeat, args.pool)
    if not args.skip_sqlite:
        runs = [sqlite_lag(args.contacts) for _ in range(args.repeat)]
        worst = max(runs, key=lambda r: r["p99"])
        print(f"SQLite, 50 coroutines: loop lag p50 {worst['p50']:.2f} ms, p99 {worst['p99']:.2f} ms "
              f"(target < 10), max {worst['max']:.1f} ms over {worst['ticks']} ticks (worst of {len(runs)} runs); "
              f"{statistics.median(r['rate'] for r in runs):.0f} transitions/s", flush=True)


if __name__ == "__main__":
    main()
