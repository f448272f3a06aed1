"""`dialstate import FILE.csv`: stream a CSV file into a campaign.

The file is read row by row (the `csv` module over an open file) and handed to
`Engine.add_contacts` as a generator, so a file of any length goes through in
bounded memory and in one transaction: a bad line stops the import and nothing of it
is kept. Columns map to the contact's fields (phone, external id, priority, time
zone); every other column goes into `data`.
"""

from __future__ import annotations

import codecs
import csv
import io
import time
from array import array
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Annotated, Any

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from dialstate.cli.campaign_file import FILE_FORMAT
from dialstate.cli.campaign_options import CampaignOptions, settings_options
from dialstate.cli.campaigns import announce
from dialstate.cli.common import DEFAULT_DB, DbOption, JsonOption, console, open_engine, print_json
from dialstate.cli.errors import CtrlC, Interrupted, UsageProblem
from dialstate.errors import CliError, ConfigurationError, DialstateError, SkipRow
from dialstate.policy import validate_timezone

#: Delimiters tried when none is given, in order of preference on a tie.
DELIMITERS = (",", ";", "\t", "|")
_DELIMITER_NAMES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
PROGRESS_EVERY = 2000


class _CountingReader(io.RawIOBase):
    """A binary file that counts the bytes read through it (for the progress bar)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        self.count += len(data)
        return len(data)

    def close(self) -> None:
        self._raw.close()
        super().close()


@dataclass
class Columns:
    """Which header position feeds which contact field; the rest go into `data`.

    Called with a CSV row, it gives the row's contact dict (the `adapt` function of
    `add_contacts`, so it runs in the worker processes): a bad priority or time zone
    skips the row with the reason.
    """

    header: list[str]
    phone: int
    external_id: int | None
    priority: int | None
    timezone: int | None
    data: list[int] = field(default_factory=list)
    #: Further phone columns (--phone-column given more than once): the contact gets
    #: every non-empty one as a number, labelled with its column's name.
    more_phones: list[int] = field(default_factory=list)

    def __call__(self, row: list[str]) -> dict[str, Any]:
        item: dict[str, Any]
        if self.more_phones:
            given = [{"phone": row[i].strip(), "label": self.header[i]} for i in (self.phone, *self.more_phones)
                     if row[i].strip()]
            item = {"phones": given or [row[self.phone]]}
        else:
            item = {"phone": row[self.phone]}
        if self.external_id is not None and (external_id := row[self.external_id].strip()):
            item["external_id"] = external_id
        if self.priority is not None and (text := row[self.priority].strip()):
            try:
                item["priority"] = int(text)
            except ValueError:
                raise SkipRow(f"priority {text!r} is not a whole number") from None
        if self.timezone is not None and (name := row[self.timezone].strip()):
            try:
                item["timezone"] = validate_timezone(name)
            except ConfigurationError:
                raise SkipRow(f"time zone {name!r} is not an IANA zone (like Europe/Berlin)") from None
        header = self.header
        data = {header[i]: row[i] for i in self.data if row[i] != ""}
        if data:
            item["data"] = data
        return item


IMPORT_HELP = f"""Import contacts from a CSV file into a campaign (one transaction: all or nothing).

With --new NAME the campaign is created in the same transaction, with the settings
below, from options and a campaign file. {FILE_FORMAT}"""


@settings_options
def import_csv(
    file: Annotated[Path, typer.Argument(help="The CSV file (a header line, then one contact per line).")],
    settings: CampaignOptions,
    campaign: Annotated[int | None, typer.Option(help="Import into this existing campaign (its id).")] = None,
    new: Annotated[str | None, typer.Option("--new", help="Create a campaign with this name and import "
                                                          "into it (its settings: see below).")] = None,
    phone_column: Annotated[list[str] | None, typer.Option(
        help="The column holding the phone number (default phone). Give it more than once for contacts with "
             "several numbers, in that order (e.g. --phone-column home --phone-column mobile).")] = None,
    external_id_column: Annotated[str, typer.Option(help="The column holding your own id, "
                                                         "if present.")] = "external_id",
    priority_column: Annotated[str, typer.Option(help="The column holding the priority, if present.")] = "priority",
    timezone_column: Annotated[str, typer.Option(help="The column holding the contact's time zone, "
                                                      "if present.")] = "timezone",
    delimiter: Annotated[str | None, typer.Option(help="The field delimiter (default: detected from the header: "
                                                       ", ; tab |).")] = None,
    encoding: Annotated[str, typer.Option(help="The file's text encoding.")] = "utf-8-sig",
    rejects: Annotated[Path | None, typer.Option(help="Write every row that did not become a ready contact "
                                                      "here (CSV, with the line and the reason).")] = None,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    if (campaign is None) == (new is None):
        raise typer.BadParameter("give exactly one of --campaign ID or --new NAME", param_hint="'--campaign' / '--new'")
    if campaign is not None and (given := settings.given()):
        raise UsageProblem(f"{', '.join(given)}: campaign settings apply only to a new campaign (--new NAME); "
                           f"campaign {campaign} keeps its own")
    arguments = settings.arguments() if new is not None else {}
    sep = _delimiter_option(delimiter)
    _check_encoding(encoding)
    if not file.is_file():
        raise CliError(f"{file}: no such file" if not file.exists() else f"{file}: not a regular file")
    size = file.stat().st_size
    started = time.perf_counter()
    with open_engine(db) as engine, open_counted(file, encoding) as (text, counter):
        header_line = _read_header(text, file, encoding)
        sep = sep or sniff_delimiter(header_line)
        header = next(csv.reader([header_line], delimiter=sep))
        columns = map_columns(header, file, sep, phone=phone_column or ["phone"], external_id=external_id_column,
                              priority=priority_column, timezone=timezone_column,
                              explicit={name for name, given in (("external_id", external_id_column),
                                                                 ("priority", priority_column),
                                                                 ("timezone", timezone_column))
                                        if given != name})
        if campaign is not None:
            engine.get_campaign(campaign)  # CampaignNotFound before anything is read
        lines = array("L")
        writer = RejectsWriter(rejects, header) if rejects is not None else None
        err = console(stderr=True)
        progress = Progress(TextColumn("[bold]importing[/bold] {task.description}"), BarColumn(),
                            DownloadColumn(), TextColumn("{task.fields[rows]} rows"), TimeElapsedColumn(),
                            console=err, transient=True, disable=not err.is_terminal,  # no stray line in a log
                            auto_refresh=False)  # no refresh thread: a one-thread process may fork workers
        task = progress.add_task(file.name, total=size or None, rows=0)
        ctrl_c = CtrlC()

        def tick(rows: int) -> None:
            ctrl_c.check()  # every PROGRESS_EVERY rows: the import stops there, between two reads
            progress.update(task, completed=counter.count, rows=rows)
            progress.refresh()

        rows = read_rows(text, file, encoding, sep, len(header), lines, tick)
        engine.database.before_commit.append(ctrl_c.check)  # pressed after the last row: do not commit

        def on_reject(index: int, item: object, result: str, reason: str) -> None:
            if writer is not None:
                assert isinstance(item, list)
                writer.write(lines[index], result, reason, item[:len(header)])

        created = None
        try:
            with progress, ctrl_c:
                if new is not None:  # the campaign and its contacts in one transaction
                    created, report = engine.create_campaign_with_contacts(
                        new, rows, actor="import", on_reject=on_reject, adapt=columns, **arguments)
                    campaign = created.id
                else:
                    assert campaign is not None
                    report = engine.add_contacts(campaign, rows, actor="import", on_reject=on_reject,
                                                 adapt=columns)
        except BaseException as exc:
            if writer is not None:
                writer.discard()
            nothing = " (no campaign was created)" if new is not None else ""
            if ctrl_c.pressed or isinstance(exc, KeyboardInterrupt):
                raise Interrupted("interrupted: nothing was imported, the import is one transaction"
                                  + nothing) from exc
            if new is not None and isinstance(exc, ConfigurationError) and \
                    not isinstance(blamed := settings.blame(exc), ConfigurationError):
                raise blamed from None
            if new is not None and isinstance(exc, DialstateError):
                raise CliError(f"{exc}{nothing}") from exc
            raise
        if writer is not None:
            writer.close()
        seconds = time.perf_counter() - started
        if created is not None:
            announce(engine, created, quiet=as_json)
        assert campaign is not None
        _print_report(campaign, len(lines), report, seconds, rejects, as_json)


def _print_report(campaign: int, rows: int, report: Any, seconds: float, rejects: Path | None,
                  as_json: bool) -> None:
    ready = report.added - report.invalid - report.blacklisted
    numbers = {
        "campaign": campaign, "rows": rows, "added": report.added, "ready": ready,
        "invalid_record": report.invalid, "blacklisted": report.blacklisted,
        "duplicates": report.duplicates, "skipped": report.skipped, "seconds": round(seconds, 3),
        "rows_per_second": round(rows / seconds) if seconds > 0 else None,
        "rejects": str(rejects) if rejects is not None else None,
    }
    if as_json:
        print_json(numbers)
        return
    table = Table(title=f"Import into campaign {campaign}", title_justify="left", show_header=False)
    table.add_column("what")
    table.add_column("rows", justify="right")
    for label, key in (("rows read", "rows"), ("contacts added", "added"), ("  ready to call", "ready"),
                       ("  invalid_record (bad number)", "invalid_record"), ("  blacklisted", "blacklisted"),
                       ("duplicates (not added)", "duplicates"), ("skipped (bad priority or time zone)", "skipped")):
        table.add_row(label, str(numbers[key]))
    out = console()
    out.print(table)
    rate = f" ({numbers['rows_per_second']:,} rows/s)" if numbers["rows_per_second"] else ""
    out.print(f"done in {seconds:.2f} s{rate}" + (f"; rejected rows written to {rejects}" if rejects else ""))


# -- reading ---------------------------------------------------------------------------------------


@contextmanager
def open_counted(path: Path, encoding: str) -> Iterator[tuple[IO[str], _CountingReader]]:
    """The file as text, over a counter of the bytes read so far."""
    counter = _CountingReader(open(path, "rb"))  # noqa: SIM115 - closed with the text wrapper
    text = io.TextIOWrapper(io.BufferedReader(counter, 1 << 16), encoding=encoding, newline="")
    try:
        yield text, counter
    finally:
        text.close()


def _read_header(text: IO[str], path: Path, encoding: str) -> str:
    try:
        line = text.readline()
    except UnicodeDecodeError:
        raise CliError(_decode_error(path, encoding)) from None
    if not line.strip():
        raise CliError(f"{path} line 1: the file is empty or has no header line")
    return line.rstrip("\r\n")


def sniff_delimiter(header_line: str) -> str:
    """The candidate delimiter the header line holds most of (',' when none)."""
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def map_columns(header: list[str], path: Path, sep: str, *, phone: list[str], external_id: str, priority: str,
                timezone: str, explicit: set[str]) -> Columns:
    """Find each field's column (exactly, else ignoring case and spaces)."""
    folded = {h.strip().lower(): i for i, h in reversed(list(enumerate(header)))}

    def find(name: str) -> int | None:
        if name in header:
            return header.index(name)
        return folded.get(name.strip().lower())

    shown = ", ".join(repr(h) for h in header)
    where = f"{path} line 1"
    phones = []
    for name in phone:
        position = find(name)
        if position is None:
            hint = ""
            others = [d for d in DELIMITERS if d != sep and d in sep.join(header)]
            if others:
                hint = f"; the header contains {others[0]!r}: is that the delimiter? (--delimiter {others[0]!r})"
            raise CliError(f"{where}: no column {name!r} for the phone number; the header has {shown} "
                           f"(split on {sep!r}); choose one with --phone-column{hint}")
        if position in phones:
            raise UsageProblem(f"--phone-column {name!r} is given twice")
        phones.append(position)
    position = phones[0]
    found: dict[str, int | None] = {}
    for name, column in (("external_id", external_id), ("priority", priority), ("timezone", timezone)):
        found[name] = find(column)
        if found[name] is None and name in explicit:
            raise CliError(f"{where}: no column {column!r} (--{name.replace('_', '-')}-column); the header has {shown}")
    used = {*phones, *(i for i in found.values() if i is not None)}
    return Columns(header, position, found["external_id"], found["priority"], found["timezone"],
                   [i for i in range(len(header)) if i not in used], phones[1:])


def read_rows(text: IO[str], path: Path, encoding: str, sep: str, width: int, lines: array[int],
              tick: Any) -> Iterator[list[str]]:
    """Each data row (its fields); `lines[i]` is the line row i started on.

    A row with more or fewer fields than the header, a decoding error or a CSV syntax
    error stops the import with the line number.
    """
    reader = csv.reader(text, delimiter=sep, strict=True)
    start = 2
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except UnicodeDecodeError:
            raise CliError(_decode_error(path, encoding)) from None
        except csv.Error as exc:
            raise CliError(f"{path} line {reader.line_num + 1}: malformed CSV ({exc}); nothing was imported") from None
        line, start = start, reader.line_num + 2  # the header was read before the reader started
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if len(row) != width and not (len(row) > width and not any(v.strip() for v in row[width:])):
            raise CliError(
                f"{path} line {line}: {len(row)} field(s) where the header has {width} (split on {sep!r}); "
                "check the delimiter (--delimiter) and the quoting; nothing was imported"
            )
        lines.append(line)
        if len(lines) % PROGRESS_EVERY == 0:
            tick(len(lines))
        yield row
    tick(len(lines))


def _decode_error(path: Path, encoding: str) -> str:
    """Where the file stops being `encoding`: the line and column of the first bad byte."""
    decoder = codecs.getincrementaldecoder(encoding)()
    with open(path, "rb") as raw:
        for number, line in enumerate(raw, 1):
            try:
                decoder.decode(line)
            except UnicodeDecodeError as exc:
                byte = line[exc.start: exc.start + 1]
                return (f"{path} line {number}: not valid {encoding} text (byte 0x{byte.hex()} at column "
                        f"{exc.start + 1}); nothing was imported; give the file's encoding with --encoding "
                        "(e.g. latin-1 or cp1252)")
    return f"{path}: not valid {encoding} text; give the file's encoding with --encoding"  # pragma: no cover


def _delimiter_option(value: str | None) -> str | None:
    if value is None:
        return None
    sep = _DELIMITER_NAMES.get(value.lower(), value)
    if len(sep) != 1 or sep in "\"\r\n":
        raise typer.BadParameter(f"{value!r} is not a one-character delimiter (e.g. ',' ';' tab '|')",
                                 param_hint="'--delimiter'")
    return sep


def _check_encoding(name: str) -> None:
    try:
        codecs.lookup(name)
    except LookupError:
        raise typer.BadParameter(f"unknown encoding {name!r} (e.g. utf-8, latin-1, cp1252)",
                                 param_hint="'--encoding'") from None


class RejectsWriter:
    """The rejects file: `line, result, reason`, then the row's own columns."""

    def __init__(self, path: Path, header: list[str]) -> None:
        self.path = path
        self._file = open(path, "w", newline="", encoding="utf-8")  # noqa: SIM115 - closed in close()
        self._csv = csv.writer(self._file)
        self._csv.writerow(["line", "result", "reason", *header])

    def write(self, line: int, result: str, reason: str, row: list[str]) -> None:
        self._csv.writerow([line, result, reason, *row])

    def close(self) -> None:
        self._file.close()

    def discard(self) -> None:
        self._file.close()
        self.path.unlink(missing_ok=True)
