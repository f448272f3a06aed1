"""Spec section 7, across processes: several schedulers on one PostgreSQL database
fire each due item exactly once, and a scheduler killed at any moment (here: in the
middle of a batch) leaves nothing half done and nothing lost.

The processes are real (`subprocess`): `tests/integration/procs/scheduler_proc.py` runs
`run_pending` until nothing is due; the worker tests run `python -m
dialstate.scheduler.worker`, the entry point of `dialstate worker`. A test that needs
several processes to share the work makes them share it (a barrier after each one's
first batch) rather than hoping that they overlap.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dialstate import ContactState, Engine
from dialstate.testing import VirtualClock
from tests.support import count_by_state, retry_due_entries, seed_retries, wait_until
from tests.support.processes import Processes, read_line, result

pytestmark = pytest.mark.pg

S = ContactState


@pytest.fixture
def db(pg_engine: Engine, clock: VirtualClock) -> Engine:
    """The test's engine on an empty database, its clock an hour behind real time,
    so that what it schedules is due for the (real-time) scheduler processes."""
    clock.set(datetime.now(UTC) - timedelta(hours=1))
    return pg_engine


def scheduler(processes: Processes, url: str, *args: str) -> subprocess.Popen[str]:
    """A `scheduler_proc.py` process, once it printed READY."""
    return processes.script("scheduler_proc.py", "--db", url, *args)


def fired(proc: subprocess.Popen[str]) -> int:
    """Waits for a `scheduler_proc.py` and returns how many it fired."""
    return int(result(proc)["fired"])


def test_three_scheduler_processes_fire_a_thousand_due_retries_exactly_once(
    db: Engine, pg_url: str, processes: Processes, tmp_path: Path
) -> None:
    ids = seed_retries(db, 1000, delay=60)
    go, first_batches = tmp_path / "go", tmp_path / "first-batches"
    first_batches.mkdir()
    # Small batches, each contact a millisecond slow: the batches of the three
    # processes overlap, so each must skip the rows the others hold. And each process
    # waits after its first batch until every process has fired one: all three take
    # part by construction, however the machine schedules them.
    procs = [scheduler(processes, pg_url, "--batch-size", "25", "--slow-row", "0.001", "--go-file", str(go),
                       "--first-batch-barrier", str(first_batches), "--parties", "3") for _ in range(3)]
    go.touch()
    counts = [fired(p) for p in procs]

    assert sum(counts) == 1000
    assert all(n > 0 for n in counts), f"every process fires its first batch: {counts}"
    entries = retry_due_entries(db)
    assert sorted(entries) == sorted(ids)
    assert all(actors == ["scheduler"] for actors in entries.values())
    assert count_by_state(db, ids) == {"ready": 1000}


def test_a_scheduler_killed_mid_batch_leaves_nothing_half_done_and_another_fires_it_all_once(
    db: Engine, pg_url: str, processes: Processes
) -> None:
    ids = seed_retries(db, 300, delay=60)
    # It starts at once and stalls with its first batch of 100 written, before the commit.
    victim = scheduler(processes, pg_url, "--batch-size", "100", "--stall")
    assert read_line(victim) == "STALLED"

    # While the victim holds its batch open, another process fires everything else:
    # it skips the locked rows, and sees none of the victim's uncommitted writes.
    other = fired(scheduler(processes, pg_url, "--batch-size", "100"))
    assert other == 200
    assert len(retry_due_entries(db)) == 200

    victim.send_signal(signal.SIGKILL)
    victim.wait(10)
    # The killed batch rolled back: its 100 contacts, written but not committed, are untouched.
    assert count_by_state(db, ids) == {"ready": 200, "retry_scheduled": 100}
    assert len(retry_due_entries(db)) == 200

    # --drain: the server may take a moment to notice the dead client and release its locks.
    assert fired(scheduler(processes, pg_url, "--batch-size", "100", "--drain")) == 100
    entries = retry_due_entries(db)
    assert sorted(entries) == sorted(ids) and all(len(a) == 1 for a in entries.values())
    assert count_by_state(db, ids) == {"ready": 300}


def test_worker_processes_fire_in_real_time_once_and_stop_cleanly_on_sigterm(
    pg_engine: Engine, pg_url: str, processes: Processes, tmp_path: Path
) -> None:
    logs = [tmp_path / f"worker{i}.log" for i in range(3)]
    workers = []
    for log in logs:
        with log.open("w") as out:
            workers.append(processes.start([sys.executable, "-m", "dialstate.scheduler.worker", "--db", pg_url,
                                            "--batch-size", "20", "--sweep-seconds", "0.2"],
                                           stdout=subprocess.DEVNULL, stderr=out))
    wait_until(lambda: all("scheduler started" in log.read_text() for log in logs), timeout=20, interval=0.05)

    live = Engine(pg_url)  # real time; the workers hear of it only through their sweeps
    try:
        ids = seed_retries(live, 200, delay=1.0)
        wait_until(lambda: len(retry_due_entries(live)) == 200, timeout=15, interval=0.05)
        for w in workers:
            w.send_signal(signal.SIGTERM)
        assert [w.wait(15) for w in workers] == [0, 0, 0]

        entries = retry_due_entries(live)
        assert sorted(entries) == sorted(ids) and all(len(a) == 1 for a in entries.values())
        for cid in ids[::20]:
            h = live.history(cid)
            ended = next(e for e in h if e.trigger == "call_ended")
            retried = next(e for e in h if e.trigger == "retry_due")
            late = (retried.at - ended.at).total_seconds() - 1.0
            assert 0 <= late < 1.0, (cid, late)
    finally:
        live.close()
    text = [log.read_text() for log in logs]
    fired = [sum(int(line.split("fired ")[1].split()[0]) for line in t.splitlines() if ": fired " in line)
             for t in text]
    assert sum(fired) == 200
    assert all("received SIGTERM" in t and t.rstrip().endswith("worker stopped") for t in text)
