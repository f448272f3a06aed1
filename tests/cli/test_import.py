"""`dialstate import`: a CSV file into a new or existing campaign, its columns mapped,
its rejected rows reported, its errors named by line; large files through the
worker processes."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dialstate import Engine
from dialstate.engine import importer
from tests.support.cli import assert_one_line_error, run


def write_csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


CSV = (
    "phone,external_id,priority,timezone,name,city\n"
    "+49 30 1234567,a1,5,,Ada,Berlin\n"
    "030 7654321,a2,,Europe/Berlin,Ben,Berlin\n"
    "030 7654321,a3,,,Dup,Berlin\n"
    "abc,a4,,,Bad,X\n"
    "+1 212 555 0199,a5,x,,Pri,NY\n"
    "+44 20 7946 0958,a6,,Mars/Base,Tz,London\n"
    "\n"
)


def test_import_into_a_new_campaign_maps_the_columns_and_reports(tmp_path: Path, db: str) -> None:
    source = write_csv(tmp_path / "c.csv", CSV)
    result = run("import", str(source), "--new", "Spring", "--region", "DE", "--timezone", "Europe/Berlin",
                 "--db", db, "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert {k: report[k] for k in ("rows", "added", "ready", "invalid_record", "duplicates", "skipped")} == {
        "rows": 6, "added": 3, "ready": 2, "invalid_record": 1, "duplicates": 1, "skipped": 2}
    with Engine(db) as engine:
        first = engine.get_contact(1)
        assert (first.phone, first.external_id, first.priority) == ("+49301234567", "a1", 5)
        assert dict(first.data) == {"name": "Ada", "city": "Berlin"}
        assert engine.get_contact(2).timezone == "Europe/Berlin"
        assert engine.get_campaign(report["campaign"]).default_region == "DE"


def test_import_writes_every_rejected_row_with_its_line_and_reason(tmp_path: Path, db: str) -> None:
    source = write_csv(tmp_path / "c.csv", CSV)
    rejects = tmp_path / "rejects.csv"
    result = run("import", str(source), "--new", "Spring", "--region", "DE", "--rejects", str(rejects), "--db", db)
    assert result.exit_code == 0
    assert f"rejected rows written to {rejects}" in result.stdout
    with open(rejects, newline="") as f:
        rows = {int(r["line"]): r for r in csv.DictReader(f)}
    assert {line: rows[line]["result"] for line in rows} == {
        4: "duplicate", 5: "invalid_record", 6: "skipped", 7: "skipped"}
    assert rows[5]["phone"] == "abc" and "letters" in rows[5]["reason"]
    assert rows[6]["priority"] == "x" and "not a whole number" in rows[6]["reason"]
    assert rows[7]["name"] == "Tz" and "Mars/Base" in rows[7]["reason"]


def test_import_into_an_existing_campaign_adds_the_new_numbers_and_counts_the_duplicates(
    campaign: int, tmp_path: Path, db: str
) -> None:
    source = write_csv(tmp_path / "more.csv", "phone\n+49 30 5555555\n+49 30 1234567\n")
    report = json.loads(run("import", str(source), "--campaign", str(campaign), "--db", db, "--json").stdout)
    assert (report["added"], report["duplicates"]) == (1, 1)


def test_import_detects_a_semicolon_delimiter(tmp_path: Path, db: str) -> None:
    source = write_csv(tmp_path / "semi.csv", "name;tel\nAda;+49 30 1234567\n")
    result = run("import", str(source), "--new", "S", "--phone-column", "tel", "--db", db, "--json")
    assert json.loads(result.stdout)["ready"] == 1


def test_import_reads_the_encoding_it_is_given(tmp_path: Path, db: str) -> None:
    source = write_csv(tmp_path / "latin.csv", "phone,name\n+49 30 1234567,Müller\n", encoding="latin-1")
    result = run("import", str(source), "--new", "L", "--encoding", "latin-1", "--db", db, "--json")
    assert result.exit_code == 0
    with Engine(db) as engine:
        assert engine.get_contact(1).data["name"] == "Müller"


def test_import_of_a_missing_file_is_an_error(db: str) -> None:
    assert_one_line_error(run("import", "nope.csv", "--new", "X", "--db", db), 1, "nope.csv: no such file")


def test_import_without_a_phone_column_names_the_columns_it_found(tmp_path: Path, db: str) -> None:
    source = write_csv(tmp_path / "c.csv", "tel,name\n+49 30 1234567,Ada\n")
    assert_one_line_error(run("import", str(source), "--new", "X", "--db", db), 1,
                          "line 1: no column 'phone'", "'tel', 'name'", "--phone-column")


def test_import_with_a_missing_named_column_is_an_error(tmp_path: Path, db: str) -> None:
    source = write_csv(tmp_path / "c.csv", "phone,name\n+49 30 1234567,Ada\n")
    assert_one_line_error(run("import", str(source), "--new", "X", "--priority-column", "prio", "--db", db), 1,
                          "no column 'prio' (--priority-column)")


def test_import_with_the_wrong_delimiter_suggests_the_right_one(tmp_path: Path, db: str) -> None:
    source = write_csv(tmp_path / "semi.csv", "name;phone\nAda;+49 30 1234567\n")
    assert_one_line_error(run("import", str(source), "--new", "X", "--delimiter", ",", "--db", db), 1,
                          "line 1", "the header contains ';'", "--delimiter ';'")


def test_import_stops_at_a_row_with_more_fields_than_the_header(tmp_path: Path, db: str) -> None:
    source = write_csv(tmp_path / "ragged.csv", "phone,name\n+49 30 1234567,Ada\n+49 30 1234568,Ben,x\n")
    assert_one_line_error(run("import", str(source), "--new", "X", "--db", db), 1,
                          "ragged.csv line 3: 3 field(s) where the header has 2", "nothing was imported",
                          "(no campaign was created)")
    with Engine(db) as engine:
        assert engine.campaigns() == []  # one transaction: neither the campaign nor a contact kept
        assert engine.create_campaign("Y").id >= 1


def test_import_stops_at_a_line_that_is_not_in_the_encoding(tmp_path: Path, db: str) -> None:
    source = write_csv(tmp_path / "latin.csv", "phone,name\n+49 30 1234567,Ada\n+49 30 1234568,Müller\n",
                       encoding="latin-1")
    assert_one_line_error(run("import", str(source), "--new", "X", "--db", db), 1,
                          "latin.csv line 3: not valid utf-8-sig text (byte 0xfc at column 17)", "--encoding")


def test_import_stops_at_malformed_quoting_with_the_line(tmp_path: Path, db: str) -> None:
    source = write_csv(tmp_path / "quotes.csv", 'phone,name\n+49 30 1234567,Ada\n+49 30 1234568,"Be"n\n')
    assert_one_line_error(run("import", str(source), "--new", "X", "--db", db), 1, "line 3: malformed CSV")


def test_import_of_an_empty_file_is_an_error(tmp_path: Path, db: str) -> None:
    source = write_csv(tmp_path / "empty.csv", "")
    assert_one_line_error(run("import", str(source), "--new", "X", "--db", db), 1, "line 1: the file is empty")


def test_import_into_an_unknown_campaign_is_an_error(tmp_path: Path, db: str) -> None:
    source = write_csv(tmp_path / "c.csv", "phone\n+49 30 1234567\n")
    assert_one_line_error(run("import", str(source), "--campaign", "99", "--db", db), 1, "campaign 99 does not exist")


@pytest.mark.parametrize("args", [[], ["--campaign", "1", "--new", "X"]], ids=["neither", "both"])
def test_import_needs_exactly_one_of_campaign_and_new(tmp_path: Path, db: str, args: list[str]) -> None:
    source = write_csv(tmp_path / "c.csv", "phone\n+49 30 1234567\n")
    assert_one_line_error(run("import", str(source), *args, "--db", db), 2, "exactly one of --campaign ID or --new")


@pytest.mark.parametrize(("option", "value"), [("--delimiter", "ab"), ("--encoding", "klingon")])
def test_import_with_a_bad_delimiter_or_encoding_option_is_a_usage_error(
        tmp_path: Path, db: str, option: str, value: str) -> None:
    source = write_csv(tmp_path / "c.csv", "phone\n+49 30 1234567\n")
    assert_one_line_error(run("import", str(source), "--new", "X", option, value, "--db", db), 2, option)


def test_import_of_a_large_file_goes_through_the_worker_processes(
        tmp_path: Path, db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importer, "PARALLEL_AFTER", 2000)
    lines = ["phone,external_id"] + [f"+49 30 {1000000 + i},x{i}" for i in range(9000)] + ["bad,x-bad"]
    source = write_csv(tmp_path / "big.csv", "\n".join(lines) + "\n")
    report = json.loads(run("import", str(source), "--new", "Big", "--db", db, "--json").stdout)
    assert (report["added"], report["ready"], report["invalid_record"]) == (9001, 9000, 1)
    with Engine(db) as engine:
        assert engine.get_contact(9001).external_id == "x-bad"
        assert engine.get_contact(4500).phone == "+49301004499"


def test_import_new_creates_the_campaign_with_the_settings_of_the_options_and_the_file(
        tmp_path: Path, any_db: str) -> None:
    settings = write_csv(tmp_path / "c.toml", '[retry_policy]\nmax_attempts = 7\n[timers]\nmax_call_seconds = 600\n')
    source = write_csv(tmp_path / "c.csv", "phone\n030 1234567\n")
    result = run("import", str(source), "--new", "Spring", "--settings", str(settings), "--mode", "predictive",
                 "--region", "DE", "--window", "09:00-18:00", "--days", "mon-sat", "--db", any_db)
    assert result.exit_code == 0, result.stderr
    assert "created campaign 1 'Spring': predictive, time zone UTC, region DE; calls 09:00-18:00 mon-sat" \
        in result.stdout
    assert "Import into campaign 1" in result.stdout and result.stderr == ""
    with Engine(any_db) as engine:
        window = engine.calling_window(1)
        assert window is not None and (window.start, window.end) == ("09:00", "18:00")
        assert engine.retry_policy(1).max_attempts == 7
        assert engine.get_campaign(1).settings["max_call_seconds"] == 600
        assert engine.get_contact(1).phone == "+49301234567"


def test_import_new_without_a_window_warns_that_the_campaign_dials_around_the_clock(
        tmp_path: Path, any_db: str) -> None:
    source = write_csv(tmp_path / "c.csv", "phone\n+49 30 1234567\n")
    result = run("import", str(source), "--new", "Always", "--db", any_db, "--json")
    assert json.loads(result.stdout)["added"] == 1
    (warning,) = result.stderr.strip().splitlines()
    assert warning.startswith("warning: campaign 1 has no calling window") and "around the clock" in warning


@pytest.mark.parametrize("args", [
    ["--mode", "predictive"], ["--region", "DE"], ["--timezone", "Europe/Berlin"], ["--window", "09:00-17:00"],
    ["--max-attempts", "3"], ["--retry-delay", "busy=60"], ["--after-call-work-seconds", "10"],
    ["--disposition", "sale=success"], ["--settings", "SETTINGS"],
], ids=lambda args: args[0])
def test_campaign_settings_with_an_existing_campaign_are_a_usage_error(
        campaign: int, tmp_path: Path, db: str, args: list[str]) -> None:
    settings = write_csv(tmp_path / "c.toml", 'mode = "predictive"\n')
    source = write_csv(tmp_path / "c.csv", "phone\n+49 30 5555555\n")
    args = [str(settings) if a == "SETTINGS" else a for a in args]
    assert_one_line_error(run("import", str(source), "--campaign", str(campaign), *args, "--db", db), 2,
                          f"{args[0]}: campaign settings apply only to a new campaign (--new NAME); "
                          f"campaign {campaign} keeps its own")
    with Engine(db) as engine:
        assert engine.campaign_stats(campaign).total == 3  # nothing imported


def test_every_campaign_setting_given_with_an_existing_campaign_is_named(campaign: int, tmp_path: Path,
                                                                          db: str) -> None:
    source = write_csv(tmp_path / "c.csv", "phone\n+49 30 5555555\n")
    result = run("import", str(source), "--campaign", str(campaign), "--mode", "agentless", "--holiday",
                 "2026-12-25", "--jitter", "0.2", "--db", db)
    assert_one_line_error(result, 2, "--mode, --holiday, --jitter: campaign settings apply only to a new campaign")


def read_position(pid: int, path: Path) -> int | None:
    """How far process `pid` has read the file at `path` (None while it has not opened it)."""
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            if Path(os.readlink(fd)) == path:
                info = Path(f"/proc/{pid}/fdinfo/{fd.name}").read_text()
                return int(info.split("pos:")[1].split()[0])
        except (OSError, IndexError, ValueError):  # the descriptor closed meanwhile
            continue
    return None


@pytest.mark.skipif(not Path("/proc/self/fdinfo").exists(), reason="needs Linux /proc to see the import's progress")
def test_ctrl_c_during_an_import_says_nothing_was_imported_and_exits_130(tmp_path: Path, any_db: str) -> None:
    rows = 400_000
    source = tmp_path / "big.csv"
    with open(source, "w") as f:
        f.write("phone,external_id\n")
        f.writelines(f"+49 30 {1_000_000 + i},x{i}\n" for i in range(rows))
    size = source.stat().st_size
    # Its own process group, which a terminal's Ctrl-C reaches whole: the command and
    # the worker processes that prepare its batches.
    proc = subprocess.Popen([sys.executable, "-m", "dialstate.cli", "import", str(source), "--new", "Big",
                             "--db", any_db], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        position = None
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            position = read_position(proc.pid, source)
            if position is not None and position > size // 4:  # well past the header: the import is under way
                break
            time.sleep(0.01)
        assert proc.poll() is None and position is not None and position < size, "the import ended before Ctrl-C"
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and out == ""
    assert err.strip().splitlines() == [
        "error: interrupted: nothing was imported, the import is one transaction (no campaign was created)"]
    with Engine(any_db) as engine:
        assert engine.campaigns() == []


def test_a_first_ctrl_c_asks_the_import_to_stop_and_a_second_one_stops_it_at_once() -> None:
    from dialstate.cli.errors import CtrlC

    with CtrlC() as ctrl_c:
        ctrl_c.check()  # not pressed: nothing happens
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)  # the handler runs between two bytecodes of this (the main) thread
        assert ctrl_c.pressed
        with pytest.raises(KeyboardInterrupt):
            ctrl_c.check()
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
