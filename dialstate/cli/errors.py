"""How errors reach the user: one readable line on stderr, exit code 1 for runtime
errors, 2 for usage errors and 130 for Ctrl-C, a traceback only with `--debug`.

The handling lives in the root command's `main`, so the installed `dialstate` script
and typer's test runner behave the same.
"""

from __future__ import annotations

import csv
import os
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

import typer
from typer.core import TyperGroup

from dialstate.errors import DialstateError

USAGE = 2
FAILURE = 1
#: The exit code of a command stopped by Ctrl-C (128 + SIGINT), as shells report it.
INTERRUPTED = 130
DEBUG_FLAG = "--debug"


class UsageProblem(typer.BadParameter):
    """A usage error (exit 2) in our own words: options that conflict, a value in the
    wrong shape. Its message is the whole line (no "Invalid value for ..." before it)."""

    def format_message(self) -> str:
        return self.message


class Interrupted(Exception):
    """Ctrl-C stopped the command; the message says what was kept and what was not.

    Not a KeyboardInterrupt: typer turns those into a silent exit 130."""


class CtrlC:
    """Ctrl-C during an import, made safe: the first press only asks the import to stop
    (`check` raises KeyboardInterrupt at the next safe point: between two reads of the
    file, or just before the commit); a second press interrupts at once.

    Raising wherever the signal lands could leave the engine's pool of worker
    processes half started or half stopped, and the import would hang. The workers,
    forked with this handler, ignore the signal: their parent stops them.
    """

    def __init__(self) -> None:
        self.pressed = False
        self._pid = os.getpid()
        self._previous: Any = None

    def __enter__(self) -> CtrlC:
        if threading.current_thread() is threading.main_thread():  # signals go to the main thread only
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None

    def _handle(self, signum: int, frame: object) -> None:
        if os.getpid() != self._pid:
            return
        if self.pressed:
            raise KeyboardInterrupt
        self.pressed = True

    def check(self) -> None:
        if self.pressed:
            raise KeyboardInterrupt


class DialstateGroup(TyperGroup):
    """The root command: runs a subcommand and turns any error into one line."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True, windows_expand_args: bool = True,
             **extra: Any) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        # `--debug` is accepted anywhere on the line, before or after the subcommand.
        debug = DEBUG_FLAG in argv or os.environ.get("DIALSTATE_DEBUG", "") not in ("", "0")
        argv = [a for a in argv if a != DEBUG_FLAG]
        try:
            result = super().main(argv, prog_name or "dialstate", complete_var, standalone_mode=False,
                                  windows_expand_args=windows_expand_args, **extra)
            code = result if isinstance(result, int) else 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else FAILURE)
        except BaseException as exc:
            if debug:
                raise
            message, code = describe(exc)
            if message:  # empty when typer already printed the help (no arguments given)
                typer.echo(f"error: {message}", err=True)
        if standalone_mode:
            sys.exit(code)
        return code

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as exc:  # a command that does not say more itself
            raise Interrupted("interrupted") from exc


def describe(exc: BaseException) -> tuple[str, int]:
    """The one line and the exit code that report `exc`."""
    if isinstance(exc, typer.TyperException):  # typer's usage errors (exit 2) and the like
        message = exc.format_message()
        ctx = getattr(exc, "ctx", None)
        if not message.strip():
            return "", exc.exit_code
        if exc.exit_code == USAGE and ctx is not None:
            message = f"{message} (see '{ctx.command_path} --help')"
        return one_line(message), exc.exit_code
    if isinstance(exc, typer.Abort):
        return "aborted", FAILURE
    if isinstance(exc, Interrupted):
        return one_line(str(exc)), INTERRUPTED
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted", INTERRUPTED
    if isinstance(exc, DialstateError):
        return one_line(str(exc)), FAILURE
    if isinstance(exc, UnicodeError):
        return one_line(f"cannot decode the input: {exc}"), FAILURE
    if isinstance(exc, csv.Error):
        return one_line(f"malformed CSV: {exc}"), FAILURE
    if isinstance(exc, OSError):
        where = f": {exc.filename}" if exc.filename else ""
        return one_line(f"{exc.strerror or exc}{where}"), FAILURE
    db_error = _database_error(exc)
    if db_error is not None:
        return db_error, FAILURE
    return one_line(f"unexpected {type(exc).__name__}: {exc} (run with --debug for the traceback)"), FAILURE


def _database_error(exc: BaseException) -> str | None:
    """Driver errors (the server is down, the file is not a database) in one line."""
    import sqlite3

    from sqlalchemy.exc import DBAPIError

    if isinstance(exc, DBAPIError):
        exc = exc.orig if isinstance(exc.orig, BaseException) else exc
    if isinstance(exc, sqlite3.Error):
        return one_line(f"database error: {exc}")
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return None
    if isinstance(exc, psycopg.Error):
        return one_line(f"database error: {exc}")
    return None


def one_line(text: str) -> str:
    """`text` with its lines joined, so an error is always a single line."""
    return " ".join(part.strip() for part in str(text).strip().splitlines() if part.strip())
