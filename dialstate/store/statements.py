"""Every SQL statement of dialstate has a name and lives in `dialstate/store/sql/`,
one file per concern, in named blocks:

    -- name: select_contact
    -- What it does, in a line.
    SELECT ...

A block named `name [postgresql]` or `name [sqlite]` replaces the plain one on that
backend, so the differences sit side by side. Statements use `?` placeholders and
`{fragment}` names from `dialstate.store.rows`; the loader fills in the fragments and
turns `?` into `%s` for psycopg.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from dialstate.store.rows import FRAGMENTS

SQL_DIR = Path(__file__).resolve().parent / "sql"
DIALECTS = ("sqlite", "postgresql")
_BLOCK = re.compile(r"^-- name: (\w+)(?: \[(\w+)\])?[ \t]*$", re.MULTILINE)


def parse(text: str, source: str = "<sql>") -> dict[tuple[str, str | None], str]:
    """The blocks of one file: (name, dialect or None) -> SQL text (comments dropped)."""
    found: dict[tuple[str, str | None], str] = {}
    parts = _BLOCK.split(text)
    for i in range(1, len(parts), 3):
        name, dialect, body = parts[i], parts[i + 1], parts[i + 2]
        if dialect is not None and dialect not in DIALECTS:
            raise ValueError(f"{source}: statement {name} names an unknown backend {dialect!r}")
        sql = "\n".join(line for line in body.strip().splitlines() if not line.lstrip().startswith("--")).strip()
        if (name, dialect) in found:
            raise ValueError(f"{source}: statement {name} [{dialect}] is defined twice")
        found[(name, dialect)] = sql.rstrip(";").format(**FRAGMENTS) if "{" in sql else sql.rstrip(";")
    return found


def for_postgresql(sql: str) -> str:
    """`sql` with psycopg's placeholders (`%s`, and `%` escaped)."""
    return sql.replace("%", "%%").replace("?", "%s")


class Queries(dict[str, str]):
    """Every named statement as one backend runs it, by name."""

    def __init__(self, dialect: str, statements: Mapping[str, str]) -> None:
        super().__init__(statements)
        self.dialect = dialect
        #: This backend's placeholder, for statements built at run time.
        self.mark = "%s" if dialect == "postgresql" else "?"

    def __missing__(self, name: str) -> str:
        raise KeyError(f"no statement named {name!r} for {self.dialect} in {SQL_DIR}")

    def marks(self, n: int) -> str:
        """`n` placeholders, comma-separated."""
        return ",".join([self.mark] * n)

    def expand(self, sql: str, n: int) -> str:
        """`sql` with its list placeholder (`?*`) made `n` placeholders long."""
        return expand(sql, n)


@cache
def queries(dialect: str) -> Queries:
    """Every named statement as the backend `dialect` runs it."""
    plain: dict[str, str] = {}
    special: dict[str, str] = {}
    for path in sorted(SQL_DIR.glob("*.sql")):
        for (name, variant), sql in parse(path.read_text(), path.name).items():
            if variant is None:
                if name in plain:
                    raise ValueError(f"{path.name}: statement {name} is also defined in another file")
                plain[name] = sql
            elif variant == dialect:
                special[name] = sql
    out = {**plain, **special}
    if dialect == "postgresql":
        out = {name: for_postgresql(sql) for name, sql in out.items()}
    return Queries(dialect, out)


def placeholders(n: int) -> str:
    return ",".join("?" * n)


def expand(sql: str, n: int) -> str:
    """`sql` with its list placeholder (`?*`, or `%s*` for psycopg) made `n` long."""
    if "%s*" in sql:
        return sql.replace("%s*", ",".join(["%s"] * n), 1)
    return sql.replace("?*", ",".join("?" * n), 1)
