"""Spec section 7, across processes: several schedulers on one PostgreSQL database
fire each due item exactly once, and a scheduler killed at any moment (here: in the
middle of a batch) leaves nothing half done and nothing lost.

The processes are real (`subprocess`): `tests/integration/procs/scheduler_proc.py` runs
`run_pending` until nothing is due; the worker tests run `python -m
dialstate.scheduler.worker`, the entry point of `dialstate worker`.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

import pytest

from dialstate import ContactState, Engine
from dialstate.testing import VirtualClock
from tests.support.retries import retry_due_entries, seed_retries, states

pytestmark = pytest.mark.pg

ROOT = Path(__file__).resolve().parents[2]
PROC = Path(__file__).resolve().parent / "procs" / "scheduler_proc.py"
S = ContactState


@pytest.fixture
def db(pg_engine: Engine, clock: VirtualClock) -> Engine:
    """The test's engine on an empty database, its clock an hour behind real time,
    so that what it schedules is due for the (real-time) scheduler processes."""
    clock.set(datetime.now(UTC) - timedelta(hours=1))
    return pg_engine


@pytest.fixture
def spawn(pg_url: str) -> Iterator[_Spawner]:
    spawner = _Spawner(pg_url)
    yield spawner
    spawner.kill_all()


class _Spawner:
    def __init__(self, url: str) -> None:
        self.url = url
        self.procs: list[subprocess.Popen[str]] = []

    def scheduler(self, *args: str) -> subprocess.Popen[str]:
        """A `scheduler_proc.py` process; returns once it printed READY."""
        proc = self._popen([sys.executable, str(PROC), "--db", self.url, *args], subprocess.PIPE, subprocess.PIPE)
        assert read_line(proc) == "READY"
        return proc

    def worker(self, log: Path, *args: str) -> subprocess.Popen[str]:
        """`python -m dialstate.scheduler.worker`, logging to `log`."""
        with log.open("w") as out:
            return self._popen([sys.executable, "-m", "dialstate.scheduler.worker", "--db", self.url, *args],
                               subprocess.DEVNULL, out)

    def _popen(self, argv: list[str], stdout: int, stderr: int | IO[str]) -> subprocess.Popen[str]:
        proc = subprocess.Popen(argv, cwd=ROOT, stdout=stdout, stderr=stderr, text=True)
        self.procs.append(proc)
        return proc

    def kill_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(10)
            for stream in (proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()


def read_line(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line and proc.poll() is not None:
        stderr = proc.stderr.read() if proc.stderr else ""
        pytest.fail(f"process {proc.pid} exited with {proc.returncode}: {stderr}")
    return line


def finish(proc: subprocess.Popen[str], timeout: float = 60) -> int:
    """Wait for a `scheduler_proc.py` and return how many it fired."""
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    return int(json.loads(out.strip().splitlines()[-1])["fired"])


def wait_until(condition: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_three_scheduler_processes_fire_a_thousand_due_retries_exactly_once(
    db: Engine, spawn: _Spawner, tmp_path: Path
) -> None:
    ids = seed_retries(db, 1000, delay=60)
    go = tmp_path / "go"
    # Small batches, each contact a millisecond slow: the batches of the three
    # processes overlap, so each must skip the rows the others hold.
    procs = [spawn.scheduler("--batch-size", "25", "--slow-row", "0.001", "--go-file", str(go)) for _ in range(3)]
    go.touch()
    fired = [finish(p) for p in procs]

    assert sum(fired) == 1000
    assert sum(1 for n in fired if n) >= 2, f"the processes did not share the work: {fired}"
    entries = retry_due_entries(db)
    assert sorted(entries) == sorted(ids)
    assert all(actors == ["scheduler"] for actors in entries.values())
    assert states(db, ids) == {"ready": 1000}


def test_a_scheduler_killed_mid_batch_leaves_nothing_half_done_and_another_fires_it_all_once(
    db: Engine, spawn: _Spawner
) -> None:
    ids = seed_retries(db, 300, delay=60)
    # It starts at once and stalls after writing 50 contacts of its first batch of 100.
    victim = spawn.scheduler("--batch-size", "100", "--stall-after", "50")
    assert read_line(victim) == "STALLED"

    # While the victim holds its batch open, another process fires everything else:
    # it skips the locked rows, and sees none of the victim's uncommitted writes.
    other = finish(spawn.scheduler("--batch-size", "100"))
    assert other == 200
    assert len(retry_due_entries(db)) == 200

    victim.send_signal(signal.SIGKILL)
    victim.wait(10)
    # The killed batch rolled back: its 100 contacts, 50 of them written, are untouched.
    assert states(db, ids) == {"ready": 200, "retry_scheduled": 100}
    assert len(retry_due_entries(db)) == 200

    # --drain: the server may take a moment to notice the dead client and release its locks.
    assert finish(spawn.scheduler("--batch-size", "100", "--drain")) == 100
    entries = retry_due_entries(db)
    assert sorted(entries) == sorted(ids) and all(len(a) == 1 for a in entries.values())
    assert states(db, ids) == {"ready": 300}


def test_worker_processes_fire_in_real_time_once_and_stop_cleanly_on_sigterm(
    pg_engine: Engine, pg_url: str, spawn: _Spawner, tmp_path: Path
) -> None:
    logs = [tmp_path / f"worker{i}.log" for i in range(3)]
    workers = [spawn.worker(log, "--batch-size", "20", "--sweep-seconds", "0.2") for log in logs]
    wait_until(lambda: all("scheduler started" in log.read_text() for log in logs), timeout=20)

    live = Engine(pg_url)  # real time; the workers hear of it only through their sweeps
    try:
        ids = seed_retries(live, 200, delay=1.0)
        wait_until(lambda: len(retry_due_entries(live)) == 200, timeout=15)
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
