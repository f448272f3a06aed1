"""What every command shares: the `--db` and `--json` options, the consoles, opening
the engine (and refusing to invent a database for a command that only reads), JSON
output."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from dialstate.engine.engine import Engine
from dialstate.errors import CliError

DEFAULT_DB = "sqlite:///dialstate.db"
BACKENDS = ("sqlite", "postgresql")
URL_FORMS = "expected sqlite:///PATH or postgresql+psycopg://USER@HOST:PORT/DB"
#: Rich's width when the output is not a terminal (a pipe, a file, the test runner).
PIPE_WIDTH = 160


def check_db_url(value: str) -> str:
    """Refuse a malformed database URL as a usage error, before anything is opened."""
    from sqlalchemy.engine import make_url

    try:
        url = make_url(value)
    except Exception:
        raise typer.BadParameter(f"malformed database URL {value!r}: {URL_FORMS}") from None
    if url.get_backend_name() not in BACKENDS:
        raise typer.BadParameter(
            f"unsupported database {url.get_backend_name()!r} in {value!r}: dialstate runs on sqlite or postgresql"
        )
    return value


DbOption = Annotated[str, typer.Option(
    "--db", envvar="DIALSTATE_DB", callback=check_db_url, show_default=True,
    help="Database URL: sqlite:///PATH or postgresql+psycopg://USER@HOST/DB (env DIALSTATE_DB).",
)]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables (for scripts).")]


def console(*, stderr: bool = False) -> Console:
    """A console on stdout (or stderr) of the running command."""
    out = Console(stderr=stderr, highlight=False)
    if not out.is_terminal:
        out = Console(stderr=stderr, highlight=False, width=PIPE_WIDTH)
    return out


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names (None for another database, or one in memory)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    name = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or name in ("", ":memory:"):
        return None
    if parsed.query.get("uri") in ("true", "1"):  # sqlite:///file:PATH?mode=...&uri=true
        name = name.removeprefix("file:")
        if parsed.query.get("mode") == "memory" or not name:
            return None
    return Path(name)


def require_database(url: str) -> None:
    """Refuse, in one line, a SQLite file that does not exist: the engine would create
    it (and its directories), and a mistyped path would then show an empty database."""
    path = sqlite_file(url)
    if path is not None and not path.exists():
        raise CliError(f"no database at {path} (nothing to show; `dialstate import` or "
                       "`dialstate campaigns create` make one; is --db or DIALSTATE_DB right?)")


@contextmanager
def open_engine(url: str, *, must_exist: bool = False, **kwargs: Any) -> Iterator[Engine]:
    """The engine on `url`, closed when the command ends. With `must_exist` (commands
    that only read, or change what must already be there) a missing SQLite file is an
    error instead of a new database."""
    if must_exist:
        require_database(url)
    engine = Engine(url, **kwargs)
    try:
        yield engine
    finally:
        engine.close()


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, sort_keys=False, default=str))
