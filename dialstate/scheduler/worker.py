"""`dialstate worker`: a scheduler process in the foreground.

Runs a `Scheduler` on APScheduler until SIGTERM or SIGINT (or `stop_event`), then
shuts down cleanly: the batch being fired finishes, nothing new starts. A kill -9 is
safe too: a batch is one transaction, and another worker fires what it held.

    python -m dialstate.scheduler.worker --db postgresql+psycopg://user@host/db
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any

from dialstate.engine.engine import Engine
from dialstate.scheduler.core import Scheduler

log = logging.getLogger("dialstate.scheduler")

_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
_CHATTY_LIBRARIES = ("apscheduler", "transitions")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(process)d]: %(message)s"


def run_worker(url: str, *, batch_size: int = 200, sweep_seconds: float = 1.0,
               stop_event: threading.Event | None = None) -> int:
    """Fire the due timers of the database at `url` until SIGTERM/SIGINT or until
    `stop_event` is set; returns the exit status (0 after a clean shutdown).

    Signal handlers are installed only when called from the main thread (a thread
    must use `stop_event`). Logs a line per batch on the `dialstate.scheduler` logger;
    when logging is not configured yet, it is sent to stderr at INFO.
    """
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    if log.getEffectiveLevel() > logging.INFO:
        log.setLevel(logging.INFO)
    for noisy in _CHATTY_LIBRARIES:  # a line per job run / per state callback, unless asked for
        if logging.getLogger(noisy).level == logging.NOTSET:
            logging.getLogger(noisy).setLevel(logging.WARNING)
    stop = stop_event if stop_event is not None else threading.Event()
    engine = Engine(url)
    restore = _on_stop_signals(stop)
    try:
        scheduler = Scheduler(engine, batch_size=batch_size, sweep_seconds=sweep_seconds)
        log.info("worker started on %s", engine.url)
        scheduler.start()
        try:
            # A timed wait, so the main thread runs signal handlers promptly.
            while not stop.wait(0.5):
                pass
            log.info("stopping: finishing the current batch")
        finally:
            scheduler.shutdown(wait=True)
    finally:
        restore()
        engine.close()
    log.info("worker stopped")
    return 0


def _on_stop_signals(stop: threading.Event) -> Callable[[], None]:
    """Make SIGTERM and SIGINT set `stop`; returns a function restoring the old handlers."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handler(signum: int, frame: FrameType | None) -> None:
        log.info("received %s", signal.Signals(signum).name)
        stop.set()

    previous: dict[signal.Signals, Any] = {sig: signal.signal(sig, handler) for sig in _STOP_SIGNALS}

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)

    return restore


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dialstate.scheduler.worker",
                                     description="Fire dialstate's due timers until SIGTERM/SIGINT.")
    parser.add_argument("--db", required=True, help="database URL (sqlite:///PATH or postgresql+psycopg://...)")
    parser.add_argument("--batch-size", type=int, default=200, help="contacts per transaction (default 200)")
    parser.add_argument("--sweep-seconds", type=float, default=1.0,
                        help="how often to look for what other processes scheduled (default 1.0)")
    args = parser.parse_args(argv)
    return run_worker(args.db, batch_size=args.batch_size, sweep_seconds=args.sweep_seconds)


if __name__ == "__main__":
    sys.exit(main())
