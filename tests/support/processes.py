"""Child processes for the multi-process tests: the scripts of
tests/integration/procs, each of which prints READY once its engine is open and its
result as JSON on its last line."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROCS = ROOT / "tests" / "integration" / "procs"


class Processes:
    """The child processes of one test, started from the project root; whatever
    still runs at the end is killed (`kill_all`, which the fixture calls)."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen[str]] = []

    def script(self, name: str, *args: str, stdin: bool = False) -> subprocess.Popen[str]:
        """`python tests/integration/procs/<name> args`, returned once it printed READY
        (with `stdin`, a pipe to send it lines)."""
        proc = self.start([sys.executable, str(PROCS / name), *args], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, stdin=subprocess.PIPE if stdin else None)
        line = read_line(proc)
        assert line == "READY", f"{name} did not start: {line!r}"
        return proc

    def start(self, argv: list[str], stdout: int | IO[str] | None = None, stderr: int | IO[str] | None = None,
              stdin: int | None = None) -> subprocess.Popen[str]:
        """Any command, its output where the arguments say (by default inherited)."""
        proc = subprocess.Popen(argv, cwd=ROOT, stdin=stdin, stdout=stdout, stderr=stderr, text=True)
        self.started.append(proc)
        return proc

    def kill_all(self) -> None:
        for proc in self.started:
            if proc.poll() is None:
                proc.kill()
            proc.wait(10)
            for stream in (proc.stdin, proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()


def read_line(proc: subprocess.Popen[str]) -> str:
    """The next line the process prints; fails the test with its stderr if it died."""
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line and proc.poll() is not None:
        stderr = proc.stderr.read() if proc.stderr else ""
        pytest.fail(f"process {proc.pid} exited with {proc.returncode}: {stderr}")
    return line


def send_line(procs: Iterable[subprocess.Popen[str]], line: str) -> None:
    """Writes `line` to each process's standard input (to release them together)."""
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(line + "\n")
        proc.stdin.flush()


def result(proc: subprocess.Popen[str], timeout: float = 60) -> dict[str, Any]:
    """Waits for the process to end well and returns its last line, read as JSON."""
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, f"process {proc.pid} failed:\n{err}"
    return dict(json.loads(out.strip().splitlines()[-1]))
