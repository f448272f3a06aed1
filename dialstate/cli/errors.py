"""How errors reach the user: one readable line on stderr, exit code 1 for runtime
errors and 2 for usage errors, a traceback only with `--debug`.

The handling lives in the root command's `main`, so the installed `dialstate` script
and typer's test runner behave the same.
"""

from __future__ import annotations

import csv
import os
import sys
from collections.abc import Sequence
from typing import Any

import typer
from typer.core import TyperGroup

from dialstate.errors import DialstateError

USAGE = 2
FAILURE = 1
DEBUG_FLAG = "--debug"


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
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted", 130
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
