"""`dialstate worker`: the scheduler in the foreground, with its options, until SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
from typing import Any

import pytest

from dialstate import Engine
from tests.support.cli import run


def test_worker_runs_the_scheduler_worker_with_the_options(monkeypatch: pytest.MonkeyPatch, db: str) -> None:
    import dialstate.scheduler.worker as worker

    calls: list[tuple[str, dict[str, Any]]] = []

    def run_worker(url: str, **kw: Any) -> int:
        calls.append((url, kw))
        return 0

    monkeypatch.setattr(worker, "run_worker", run_worker)
    result = run("worker", "--db", db, "--batch-size", "50", "--sweep-seconds", "0.5")
    assert result.exit_code == 0
    assert calls == [(db, {"batch_size": 50, "sweep_seconds": 0.5})]


def test_worker_stops_cleanly_on_sigterm(db: str) -> None:
    Engine(db).close()
    proc = subprocess.Popen([sys.executable, "-m", "dialstate.cli", "worker", "--db", db, "--sweep-seconds", "0.2"],
                            stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    try:
        for line in proc.stderr:
            if "worker started" in line:
                break
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stderr.close()
