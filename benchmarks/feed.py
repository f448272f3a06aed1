"""Feed latency: from a transition's commit in one process to the callback in another.

    python benchmarks/feed.py [--backend sqlite|postgresql|both] [--rate 200] [--seconds 10]

A writer process drives contacts of an agentless campaign through `dial_next(campaign, 1)`
and `call_ended(contact, "completed")`, one transition each, at a steady `--rate` per
second for `--seconds`, and notes `time.time()` right after each call returns (after
the commit). A subscriber process notes `time.time()` as each event arrives; an event
is matched to its commit by (contact id, history seq): a call that returns a contact at
version v wrote the entries up to seq v. Reported: events delivered (every one, each
once, is the promise), and the latency p50/p95/p99/max. The target is p99 < 200 ms.

Our path: `Engine(url).subscribe(callback, scope="all")` in the subscriber process.
The reference, measured in the same run with the same writer: a subscriber that polls
`ds_history` itself with raw SQL (sqlite3 / psycopg) every `--poll-ms` (by default the
engine's own interval, so both wait alike between looks): the entries whose `at` is
later than the last one seen. That is the obvious hand-written poller; it is only
right with one writer (the spec's section 9 says why), which is what runs here.

SQLite: a file in a temporary folder. PostgreSQL: a fresh database on the `--pg`
server, dropped after the run. Processes are started with the 'spawn' method.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.context import SpawnContext
from pathlib import Path
from queue import Empty
from typing import Any

# This script's folder comes first on sys.path, and its neighbour `transitions.py` would
# shadow the `transitions` library the engine is built on: take the folder off the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from dialstate import DialMode, Engine  # noqa: E402
from dialstate.engine.listeners import POLL_SECONDS  # noqa: E402
from dialstate.testing import admin_conninfo, scratch_pg_database  # noqa: E402

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
#: How long the subscriber keeps listening after the writer's last commit (s).
GRACE = 2.0

Key = tuple[int, int]  # (contact id, history seq)


@contextmanager
def database(backend: str, pg: str) -> Iterator[str]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{Path(tmp) / 'feed.db'}"
    else:
        with scratch_pg_database(pg, prefix="dialstate_bench") as url:
            yield url


def writer(url: str, campaign_id: int, rate: float, seconds: float, out: Any) -> None:
    """Transitions at `rate` per second; sends {(contact, seq): commit time}."""
    commits: dict[Key, float] = {}
    with Engine(url) as engine:
        interval, steps = 1.0 / rate, int(rate * seconds)
        start = time.perf_counter()
        contact = None
        for step in range(steps):
            pause = start + step * interval - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            if contact is None:
                (contact,) = engine.dial_next(campaign_id, 1)
                first = contact.version  # the claim wrote one entry, ready -> dialing
            else:
                first = contact.version + 1
                contact = engine.call_ended(contact.id, "completed")
            done = time.time()
            for seq in range(first, contact.version + 1):
                commits[(contact.id, seq)] = done
            if step % 2 == 1:
                contact = None
        elapsed = time.perf_counter() - start
    out.put((commits, steps / elapsed))


def ours(url: str, ready: Any, stop: Any, out: Any) -> None:
    arrivals: list[tuple[int, int, float]] = []
    with Engine(url) as engine:
        subscription = engine.subscribe(
            lambda event: arrivals.append((event.entry.contact_id, event.entry.seq, time.time())), scope="all")
        ready.set()
        stop.wait()
        engine.unsubscribe(subscription)
    out.put(arrivals)


def reference(url: str, ready: Any, stop: Any, out: Any, poll: float) -> None:
    """Poll ds_history with raw SQL: the entries whose `at` is after the last seen."""
    arrivals: list[tuple[int, int, float]] = []
    if url.startswith("sqlite"):
        conn: Any = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        mark = "?"
    else:
        import psycopg

        conn = psycopg.connect(admin_conninfo(url), autocommit=True)
        mark = "%s"
    last = conn.execute("SELECT COALESCE(MAX(at), 0) FROM ds_history").fetchone()[0]
    ready.set()
    while not stop.is_set():
        rows = conn.execute(f"SELECT contact_id, seq, at FROM ds_history WHERE at > {mark} ORDER BY at",
                            (last,)).fetchall()
        now = time.time()
        for contact_id, seq, at in rows:
            arrivals.append((contact_id, seq, now))
            last = max(last, at)
        stop.wait(poll)
    conn.close()
    out.put(arrivals)


def receive(queue: Any, proc: Any, timeout: float) -> Any:
    """What `proc` puts on `queue`; raises when it ends without (or takes too long)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            return queue.get(timeout=1)
        except Empty:
            if not proc.is_alive():
                return queue.get(timeout=1)  # raises Empty when it died without a word
    raise TimeoutError(f"{proc.name} sent nothing in {timeout:.0f} s")


def run_round(ctx: SpawnContext, url: str, campaign_id: int, args: argparse.Namespace,
              label: str) -> dict[str, Any]:
    ready, stop, sub_out, write_out = ctx.Event(), ctx.Event(), ctx.Queue(), ctx.Queue()
    if label == "ours":
        subscriber = ctx.Process(target=ours, args=(url, ready, stop, sub_out))
    else:
        subscriber = ctx.Process(target=reference, args=(url, ready, stop, sub_out, args.poll_ms / 1000))
    write = ctx.Process(target=writer, args=(url, campaign_id, args.rate, args.seconds, write_out))
    procs = [subscriber, write]
    try:
        subscriber.start()
        if not ready.wait(60):
            raise RuntimeError("the subscriber did not start")
        write.start()
        commits, achieved = receive(write_out, write, args.seconds * 5 + 60)
        write.join()
        time.sleep(GRACE)
        stop.set()
        arrivals = receive(sub_out, subscriber, 60)
        subscriber.join()
    finally:
        stop.set()
        for proc in procs:
            proc.join(5)
            if proc.is_alive():
                proc.terminate()
                proc.join()
    seen: set[Key] = set()
    latencies, duplicates, unknown = [], 0, 0
    for contact_id, seq, at in arrivals:
        key = (contact_id, seq)
        if key in seen:
            duplicates += 1
        elif key not in commits:
            unknown += 1
        else:
            seen.add(key)
            latencies.append((at - commits[key]) * 1000)
    latencies.sort()
    return {"expected": len(commits), "delivered": len(seen), "duplicates": duplicates, "unknown": unknown,
            "rate": achieved, "ms": latencies}


def pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def report(label: str, r: dict[str, Any]) -> float:
    ms = r["ms"]
    missing = r["expected"] - r["delivered"]
    print(f"  {label:<34}: {r['delivered']:,}/{r['expected']:,} delivered, {missing} missing, "
          f"{r['duplicates']} twice, {r['unknown']} unknown (writer at {r['rate']:,.0f}/s)")
    print(f"  {'':<34}  latency ms: p50 {pct(ms, .50):6.1f}  p95 {pct(ms, .95):6.1f}  "
          f"p99 {pct(ms, .99):6.1f}  max {ms[-1] if ms else float('nan'):6.1f}")
    return pct(ms, .99)


def bench(backend: str, args: argparse.Namespace, ctx: SpawnContext) -> None:
    with database(backend, args.pg) as url:
        per_round = int(args.rate * args.seconds) // 2 + 1
        with Engine(url) as engine:
            campaign_id = engine.create_campaign("feed", mode=DialMode.AGENTLESS).id
            engine.add_contacts(campaign_id, (f"+1 212 {200 + i // 10000:03d} {i % 10000:04d}"
                                              for i in range(2 * per_round)))
        name = "SQLite file" if backend == "sqlite" else "PostgreSQL"
        print(f"{name}: {args.rate:g} transitions/s for {args.seconds:g} s, commit -> callback in another process")
        mine = report("dialstate subscribe(scope='all')", run_round(ctx, url, campaign_id, args, "ours"))
        theirs = report(f"raw SQL poll every {args.poll_ms:g} ms", run_round(ctx, url, campaign_id, args, "ref"))
        verdict = "met" if mine < 200 else "MISSED"
        print(f"  {'p99 ratio reference / ours':<34}: {theirs / mine:6.2f}  (target: ours p99 < 200 ms: {verdict})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--rate", type=float, default=200.0, help="transitions per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--poll-ms", type=float, default=POLL_SECONDS * 1000, help="the reference's interval")
    parser.add_argument("--pg", metavar="URL", default=ADMIN_URL, help="PostgreSQL server (admin URL)")
    args = parser.parse_args()
    ctx = mp.get_context("spawn")
    for backend in ("sqlite", "postgresql") if args.backend == "both" else (args.backend,):
        bench(backend, args, ctx)


if __name__ == "__main__":
    main()
