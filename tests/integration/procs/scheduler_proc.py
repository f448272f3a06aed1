"""A scheduler process for the multi-process tests, started with subprocess.

    python tests/integration/procs/scheduler_proc.py --db URL [--batch-size N] [--go-file PATH]
        [--first-batch-barrier DIR --parties N] [--slow-row SECONDS] [--stall] [--drain]

Prints READY once its engine is open, waits until --go-file exists (so that several
processes start firing together), then calls `Scheduler.run_pending` until a run
fires nothing (with --drain: until nothing is due at all, including rows other
processes hold), and prints {"fired": n} as its last line.

--first-batch-barrier makes the processes share the work by construction: once its
first batch has committed (its first transition heard through `Engine.subscribe`),
a process leaves a file in DIR and waits until the --parties processes all have, so
that none can fire everything before the others start.

The two test-only options hold a batch's transaction open just before it commits,
after its due rows were selected, locked and written (the database's public
`before_commit` hooks): --slow-row sleeps, so that the processes' batches overlap;
--stall prints STALLED and sleeps, holding the first batch written and uncommitted
until the test kills the process.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from dialstate import Engine, TransitionEvent
from dialstate.scheduler import Scheduler


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--go-file")
    parser.add_argument("--slow-row", type=float, default=0.0)
    parser.add_argument("--stall", action="store_true")
    parser.add_argument("--drain", action="store_true")
    parser.add_argument("--first-batch-barrier")
    parser.add_argument("--parties", type=int, default=1)
    args = parser.parse_args()

    engine = Engine(args.db)
    _hook_commits(engine, args.slow_row, args.batch_size, args.stall)
    if args.first_batch_barrier:
        _meet_after_first_batch(engine, Path(args.first_batch_barrier), args.parties)
    scheduler = Scheduler(engine, batch_size=args.batch_size)
    print("READY", flush=True)
    while args.go_file and not os.path.exists(args.go_file):
        time.sleep(0.005)
    fired = 0
    while True:
        n = scheduler.run_pending()
        fired += n
        if n == 0:
            # Rows that another process holds (or a dead one held, until the server
            # notices) are still due: --drain waits for them, otherwise they are left.
            if not args.drain or engine.due_count() == 0:
                break
            time.sleep(0.02)
    print(json.dumps({"fired": fired, "pid": os.getpid()}), flush=True)
    engine.close()
    return 0


def _meet_after_first_batch(engine: Engine, barrier: Path, parties: int, timeout: float = 60) -> None:
    """After this process's first committed batch, wait until `parties` processes
    have committed one (a file each in `barrier`)."""
    arrived = False

    def on_transition(event: TransitionEvent) -> None:
        nonlocal arrived
        if arrived:
            return
        arrived = True
        (barrier / str(os.getpid())).touch()
        deadline = time.monotonic() + timeout
        while len(list(barrier.iterdir())) < parties:
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {len(list(barrier.iterdir()))} of {parties} processes fired a batch")
            time.sleep(0.005)

    engine.subscribe(on_transition)


def _hook_commits(engine: Engine, slow_row: float, batch_size: int, stall: bool) -> None:
    """Hold each batch's transaction open before it commits, through the database's
    `before_commit` hooks (its due rows selected, locked and written by then):
    --slow-row sleeps `slow_row` per contact of the batch, so that the processes'
    batches overlap; --stall prints STALLED and sleeps, holding the first batch
    written and uncommitted until the test kills the process."""
    if slow_row:
        engine.database.before_commit.append(lambda: time.sleep(slow_row * batch_size))
    if stall:
        def stall_here() -> None:
            print("STALLED", flush=True)
            time.sleep(3600)

        engine.database.before_commit.append(stall_here)


if __name__ == "__main__":
    sys.exit(main())
