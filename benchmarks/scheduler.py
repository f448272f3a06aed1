"""Benchmark of the scheduler (spec section 7); not a test.

    python benchmarks/scheduler.py [--n 5000] [--seconds 20] [--rate 500] [--pg URL]

1. Throughput: N due retries fired by `Scheduler.run_pending` on a SQLite file, versus
   the obvious alternative a user would build: one APScheduler 3 `date` job per retry
   in a `SQLAlchemyJobStore` on a SQLite file, each job calling `engine.retry_due(cid)`
   (all jobs due already, misfire_grace_time=None; timed from `resume()` until every
   job has run). Both start from copies of one seeded database file.
2. Lateness under steady load: `--rate` retries per second coming due for `--seconds`,
   fired in real time by the background scheduler (`Scheduler.start()`). The retries
   are scheduled by a producer thread through its own `Engine` on the same database,
   so the scheduler learns of them only from the database, as from another process.
   Lateness = when the scheduler's subscriber heard of the firing (after commit) minus
   the retry's `next_attempt_at`. On SQLite, and on PostgreSQL with `--pg URL` (a
   scratch database is created on that server and dropped afterwards).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# benchmarks/transitions.py would shadow the `transitions` library the engine is built
# on (a script's folder comes first on sys.path): take the folder off the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import apscheduler  # noqa: E402
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent  # noqa: E402
from apscheduler.executors.pool import ThreadPoolExecutor  # noqa: E402
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore  # noqa: E402
from apscheduler.schedulers.background import BackgroundScheduler  # noqa: E402

from dialstate import DialMode, Engine, Outcome, RetryPolicy, TransitionEvent  # noqa: E402
from dialstate.scheduler import Scheduler  # noqa: E402
from dialstate.testing import scratch_pg_database  # noqa: E402


def phones(n: int) -> list[str]:
    return [f"+49 30 4{i:07d}" for i in range(n)]


def campaign(engine: Engine, delay: float) -> int:
    return engine.create_campaign(
        f"bench {uuid.uuid4().hex[:8]}", mode=DialMode.AGENTLESS,
        retry_policy=RetryPolicy(max_attempts=100, delays={Outcome.BUSY: delay}),
    ).id


# -- 1. throughput ---------------------------------------------------------------------


def seed_due_retries(path: Path, n: int) -> list[int]:
    """`n` contacts in `retry_scheduled`, all due by now (scheduled an hour ago)."""
    engine = Engine(f"sqlite:///{path}", clock=lambda: datetime.now(UTC) - timedelta(hours=1))
    try:
        cid = campaign(engine, delay=60)
        ids = engine.add_contacts(cid, phones(n)).contact_ids
        engine.dial_next(cid, n)
        for contact_id in ids:
            engine.call_ended(contact_id, Outcome.BUSY)
        return ids
    finally:
        engine.close()


def fire_with_run_pending(path: Path, n: int) -> float:
    engine = Engine(f"sqlite:///{path}")
    try:
        started = time.perf_counter()
        fired = Scheduler(engine).run_pending()
        seconds = time.perf_counter() - started
        assert fired == n, (fired, n)
        assert engine.due_count() == 0
        return seconds
    finally:
        engine.close()


_JOB_ENGINE: Engine | None = None


def fire_retry(contact_id: int) -> None:
    """The job of the APScheduler alternative: one retry (module level, so that the
    SQLAlchemyJobStore can store a reference to it)."""
    assert _JOB_ENGINE is not None
    _JOB_ENGINE.retry_due(contact_id, actor="apscheduler")


def fire_with_apscheduler_jobs(path: Path, jobs_path: Path, ids: list[int],
                               threads: int) -> tuple[float, float, int]:
    """(seconds to run every job, seconds it took to add them, jobs that raised)."""
    global _JOB_ENGINE
    _JOB_ENGINE = engine = Engine(f"sqlite:///{path}")
    aps = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(url=f"sqlite:///{jobs_path}")},
        executors={"default": ThreadPoolExecutor(max_workers=threads)},
        job_defaults={"misfire_grace_time": None, "coalesce": True},
        timezone=UTC,
    )
    done = threading.Event()
    counts = {"ran": 0, "failed": 0}
    lock = threading.Lock()

    def listener(event: JobExecutionEvent) -> None:
        with lock:
            counts["ran"] += 1
            counts["failed"] += event.exception is not None
            if counts["ran"] == len(ids):
                done.set()

    try:
        aps.add_listener(listener, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        aps.start(paused=True)
        started = time.perf_counter()
        due = datetime.now(UTC) - timedelta(seconds=1)
        for contact_id in ids:
            aps.add_job(fire_retry, "date", run_date=due, args=[contact_id], id=f"retry-{contact_id}")
        adding = time.perf_counter() - started
        started = time.perf_counter()
        aps.resume()
        if not done.wait(timeout=600):
            raise RuntimeError(f"only {counts['ran']} of {len(ids)} APScheduler jobs ran in 600 s")
        seconds = time.perf_counter() - started
        aps.shutdown(wait=True)
        assert engine.due_count() == counts["failed"]
        return seconds, adding, counts["failed"]
    finally:
        _JOB_ENGINE = None
        engine.close()


def throughput(workdir: Path, n: int) -> None:
    print(f"1. Firing {n} due retries, SQLite file")
    seeded = workdir / "seeded.db"
    started = time.perf_counter()
    ids = seed_due_retries(seeded, n)
    print(f"   (seeded {n} due retries in {time.perf_counter() - started:.1f} s)")
    ours = workdir / "run_pending.db"
    shutil.copy(seeded, ours)
    a = fire_with_run_pending(ours, n)
    rate_a = n / a
    print(f"   Scheduler.run_pending (batches of 200)        {n} in {a:7.3f} s = {rate_a:9,.0f} /s")
    rates = []
    for threads in (10, 1):  # APScheduler's default pool, and one thread (no write contention)
        theirs = workdir / f"apscheduler-{threads}.db"
        shutil.copy(seeded, theirs)
        b, adding, failed = fire_with_apscheduler_jobs(theirs, workdir / f"apscheduler-jobs-{threads}.db", ids,
                                                       threads)
        rates.append(n / b)
        print(f"   APScheduler SQLAlchemyJobStore, {threads:2d} thread(s) {n} in {b:7.3f} s = {n / b:9,.0f} /s"
              f"   (+ {adding:.2f} s to add the jobs; {failed} raised)")
    print(f"   ratio to the faster APScheduler setup         {rate_a / max(rates):7.1f} x   (target >= 20 x)")


# -- 2. lateness -----------------------------------------------------------------------


def lateness(url: str, label: str, rate: float, seconds: float, delay: float, sweep: float) -> None:
    total = int(rate * seconds)
    producer_engine = Engine(url)
    engine = Engine(url)
    try:
        cid = campaign(producer_engine, delay=delay)
        ids = producer_engine.add_contacts(cid, phones(total)).contact_ids
        producer_engine.dial_next(cid, total)

        due: dict[int, float] = {}
        fired: dict[int, float] = {}
        all_fired = threading.Event()

        def heard(event: TransitionEvent) -> None:
            if event.entry.trigger == "retry_due":
                fired[event.contact.id] = time.time()
                if len(fired) == total:
                    all_fired.set()

        def produce() -> None:
            start = time.monotonic()
            for i, contact_id in enumerate(ids):
                pause = start + i / rate - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                contact = producer_engine.call_ended(contact_id, Outcome.BUSY)
                assert contact.next_attempt_at is not None
                due[contact_id] = contact.next_attempt_at.timestamp()

        engine.subscribe(heard)
        scheduler = Scheduler(engine, sweep_seconds=sweep)
        scheduler.start()
        producer = threading.Thread(target=produce)
        producer.start()
        producer.join()
        if not all_fired.wait(timeout=60):
            raise RuntimeError(f"{label}: only {len(fired)} of {total} retries fired")
        scheduler.shutdown()
    finally:
        engine.close()
        producer_engine.close()

    late = sorted(fired[c] - due[c] for c in ids)
    cuts = statistics.quantiles(late, n=100, method="inclusive")
    print(f"   {label:<11} {total} fired   p50 {cuts[49] * 1000:6.1f} ms   p99 {cuts[98] * 1000:6.1f} ms"
          f"   max {late[-1] * 1000:6.1f} ms   min {late[0] * 1000:5.1f} ms   (target p99 < 500 ms)")


# -- main ----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=5000, help="due retries to fire in part 1 (default 5000)")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the steady load (default 20)")
    parser.add_argument("--rate", type=float, default=500.0, help="retries coming due per second (default 500)")
    parser.add_argument("--delay", type=float, default=2.0, help="retry delay of the steady load (default 2 s)")
    parser.add_argument("--sweep", type=float, default=1.0, help="the scheduler's sweep_seconds (default 1)")
    parser.add_argument("--pg", metavar="URL", help="also measure lateness on this PostgreSQL server")
    parser.add_argument("--skip-throughput", action="store_true")
    args = parser.parse_args(argv)

    print("$ python " + " ".join([os.path.relpath(sys.argv[0]), *(argv if argv is not None else sys.argv[1:])]))
    print(f"python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, APScheduler {apscheduler.__version__}"
          f", {os.cpu_count()} CPUs, {platform.platform()}")
    print()
    with tempfile.TemporaryDirectory(prefix="dialstate-bench-") as tmp:
        workdir = Path(tmp)
        if not args.skip_throughput:
            throughput(workdir, args.n)
            print()
        print(f"2. Lateness: {args.rate:g} retries/s coming due for {args.seconds:g} s (retry delay {args.delay:g} s),"
              f" background Scheduler (sweep {args.sweep:g} s)")
        runs: list[tuple[str, Callable[[], Any]]] = [
            ("SQLite", lambda: lateness(f"sqlite:///{workdir / 'lateness.db'}", "SQLite", args.rate, args.seconds,
                                        args.delay, args.sweep)),
        ]
        if args.pg:
            def on_pg() -> None:
                with scratch_pg_database(args.pg, prefix="dialstate_bench") as url:
                    lateness(url, "PostgreSQL", args.rate, args.seconds, args.delay, args.sweep)

            runs.append(("PostgreSQL", on_pg))
        for _, run in runs:
            run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
