"""The `dialstate` command line: every command, every error path, and the import
path behind `dialstate import` (streaming, rejects, parallel preparation).

Errors reach the user as one line on stderr, exit code 1 for runtime errors and 2 for
usage errors, and never as a traceback unless `--debug`.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import phonenumbers
import pytest
from typer.testing import CliRunner

from dialstate import CallingWindow, ConfigurationError, DialMode, Engine, InvalidArgument, Outcome, SkipRow
from dialstate.cli import app
from dialstate.engine import importer
from dialstate.phones import parse_phone, resolve_zones
from dialstate.testing import VirtualClock

runner = CliRunner()


def run(*args: str, env: dict[str, str] | None = None) -> Any:
    return runner.invoke(app, list(args), env=env)


def assert_one_line_error(result: Any, code: int, *fragments: str) -> None:
    """The command failed with `code` and said so in one line on stderr, no traceback."""
    assert result.exit_code == code, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture
def db(sqlite_url: str) -> str:
    return sqlite_url


@pytest.fixture
def campaign(db: str, clock: VirtualClock) -> int:
    """A preview campaign with three contacts, one of them called once (busy)."""
    with Engine(db, clock=clock) as engine:
        cid = engine.create_campaign("Winter renewals", DialMode.PREVIEW, default_region="DE",
                                     timezone="Europe/Berlin").id
        ids = engine.add_contacts(cid, ["+49 30 1234567", {"phone": "030 7654321", "external_id": "crm-2",
                                                           "data": {"name": "Ada"}}, "not a number"]).contact_ids
        engine.assign_operator(ids[0], "op1")
        engine.accept(ids[0])
        engine.dial(ids[0], call_id="call-1")
        engine.call_ended(ids[0], "486", "sip", call_id="call-1")
    return cid


def write_csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


# -- the root command ------------------------------------------------------------------------


def test_version_prints_the_version() -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout.startswith("dialstate ")


def test_no_arguments_shows_the_help_without_an_error_line() -> None:
    result = run()
    assert "Usage" in result.stdout
    assert "error" not in result.stderr


def test_an_unknown_command_is_a_usage_error() -> None:
    assert_one_line_error(run("frobnicate"), 2, "No such command 'frobnicate'")


def test_a_malformed_database_url_is_a_usage_error() -> None:
    assert_one_line_error(run("campaigns", "--db", "::::"), 2, "malformed database URL '::::'")


def test_an_unsupported_database_is_a_usage_error() -> None:
    assert_one_line_error(run("campaigns", "--db", "mysql://u@h/db"), 2, "unsupported database 'mysql'")


def test_a_file_that_is_not_a_database_is_a_runtime_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    assert_one_line_error(run("campaigns", "--db", f"sqlite:///{junk}"), 1, "database error", "not a database")


def test_the_database_comes_from_dialstate_db_when_not_given(campaign: int, db: str) -> None:
    result = run("campaigns", "--json", env={"DIALSTATE_DB": db})
    assert result.exit_code == 0
    assert [c["name"] for c in json.loads(result.stdout)] == ["Winter renewals"]


def test_debug_shows_the_traceback_anywhere_on_the_line(db: str) -> None:
    result = run("show", "999", "--db", db, "--debug")
    assert result.exit_code == 1
    assert "ContactNotFound" in repr(result.exception)


# -- campaigns, contacts, show, stats --------------------------------------------------------------------


def test_campaigns_lists_each_campaign_with_its_contacts(campaign: int, db: str) -> None:
    result = run("campaigns", "--db", db)
    assert result.exit_code == 0
    assert "Winter renewals" in result.stdout and "preview" in result.stdout


def test_campaigns_on_an_empty_database_says_how_to_start(db: str) -> None:
    result = run("campaigns", "--db", db)
    assert result.exit_code == 0
    assert "no campaigns yet" in result.stdout


def test_campaigns_as_json_counts_contacts_by_state(campaign: int, db: str) -> None:
    (row,) = json.loads(run("campaigns", "--db", db, "--json").stdout)
    assert row["contacts"] == {"ready": 1, "retry_scheduled": 1, "invalid_record": 1}
    assert row["total"] == 3 and row["mode"] == "preview"


def test_contacts_lists_a_campaigns_contacts(campaign: int, db: str) -> None:
    result = run("contacts", str(campaign), "--db", db)
    assert result.exit_code == 0
    assert "+49301234567" in result.stdout and "retry_scheduled" in result.stdout


def test_contacts_filters_by_state(campaign: int, db: str) -> None:
    rows = json.loads(run("contacts", str(campaign), "--state", "invalid_record", "--db", db, "--json").stdout)
    assert [(r["phone"], r["state"]) for r in rows] == [("not a number", "invalid_record")]


def test_contacts_pages_with_limit_and_after(campaign: int, db: str) -> None:
    first = run("contacts", str(campaign), "--limit", "2", "--db", db)
    assert "showing 2 of 3; next page: --after 2" in first.stdout
    rest = json.loads(run("contacts", str(campaign), "--after", "2", "--db", db, "--json").stdout)
    assert [r["id"] for r in rest] == [3]


def test_contacts_in_a_state_nobody_is_in_says_so(campaign: int, db: str) -> None:
    result = run("contacts", str(campaign), "--state", "success", "--db", db)
    assert result.exit_code == 0
    assert "no contacts in state success" in result.stdout


def test_contacts_of_an_unknown_campaign_is_an_error(db: str) -> None:
    assert_one_line_error(run("contacts", "42", "--db", db), 1, "campaign 42 does not exist")


def test_contacts_with_an_unknown_state_is_a_usage_error(campaign: int, db: str) -> None:
    assert_one_line_error(run("contacts", str(campaign), "--state", "nonsense", "--db", db), 2, "--state")


def test_show_prints_the_snapshot_and_the_history_timeline(campaign: int, db: str) -> None:
    result = run("show", "1", "--db", db)
    assert result.exit_code == 0
    for text in ("Contact 1", "History of contact 1", "dialing → retry_scheduled", "busy (sip 486)", "call-1"):
        assert text in result.stdout


def test_show_as_json_gives_the_snapshot_and_every_entry(campaign: int, db: str) -> None:
    data = json.loads(run("show", "1", "--db", db, "--json").stdout)
    assert data["contact"]["state"] == "retry_scheduled"
    assert [e["to_state"] for e in data["history"]] == [
        "ready", "operator_assigned", "before_call_work", "dialing", "retry_scheduled"]


def test_show_of_an_unknown_contact_is_an_error(db: str) -> None:
    assert_one_line_error(run("show", "999", "--db", db), 1, "contact 999 does not exist")


def test_stats_prints_states_and_attempts_by_outcome_group(campaign: int, db: str) -> None:
    result = run("stats", str(campaign), "--db", db)
    assert result.exit_code == 0
    assert "Contacts by state" in result.stdout and "no_response" in result.stdout and "busy" in result.stdout


def test_stats_as_json_adds_up(campaign: int, db: str) -> None:
    data = json.loads(run("stats", str(campaign), "--db", db, "--json").stdout)
    assert sum(data["by_state"].values()) == data["total"] == 3
    assert data["attempts_by_group"] == {"no_response": 1}
    assert data["abandon_rate"] is None


def test_stats_of_a_predictive_campaign_show_the_abandon_rate(db: str, clock: VirtualClock) -> None:
    with Engine(db, clock=clock) as engine:
        cid = engine.create_campaign("Predictive", DialMode.PREDICTIVE, default_region="DE").id
        engine.add_contacts(cid, ["+49 30 1234567", "+49 30 1234568"])
        first, second = engine.dial_next(cid, 2)
        engine.answered(first.id, call_id=first.call_id)
        engine.call_ended(first.id, Outcome.COMPLETED, call_id=first.call_id)  # hung up waiting
        engine.answered(second.id, call_id=second.call_id, operator_id="op1")
    result = run("stats", str(cid), "--db", db)
    assert "Abandon rate (abandoned / answered calls): 50.0%" in result.stdout


def test_stats_of_an_unknown_campaign_is_an_error(db: str) -> None:
    assert_one_line_error(run("stats", "7", "--db", db), 1, "campaign 7 does not exist")


# -- blacklist ------------------------------------------------------------------------------------------


def test_blacklist_add_parks_the_waiting_contacts_and_remove_brings_them_back(campaign: int, db: str) -> None:
    added = run("blacklist", "add", "030 7654321", "--region", "DE", "--note", "asked us", "--db", db)
    assert added.exit_code == 0
    assert "blacklisted +49307654321; 1 contact(s) moved to blacklisted" in added.stdout
    assert json.loads(run("blacklist", "list", "--db", db, "--json").stdout) == [
        {"phone": "+49307654321", "note": "asked us"}]
    removed = run("blacklist", "remove", "+49307654321", "--db", db)
    assert "removed +49307654321 from the blacklist; 1 contact(s) back to ready" in removed.stdout
    assert "the blacklist is empty" in run("blacklist", "list", "--db", db).stdout


def test_blacklist_list_prints_a_table(db: str) -> None:
    run("blacklist", "add", "+44 20 7946 0958", "--db", db)
    result = run("blacklist", "list", "--db", db)
    assert "Blacklist (1)" in result.stdout and "+442079460958" in result.stdout


def test_blacklist_remove_of_a_number_not_listed_changes_nothing(db: str) -> None:
    result = run("blacklist", "remove", "+49301234567", "--db", db)
    assert result.exit_code == 0
    assert "was not on the blacklist" in result.stdout


# -- diagram, db, worker ------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [m.value for m in DialMode])
def test_diagram_prints_mermaid_for_every_mode(mode: str) -> None:
    result = run("diagram", "--mode", mode)
    assert result.exit_code == 0
    assert result.stdout.startswith("stateDiagram-v2")


def test_diagram_prints_graphviz_dot() -> None:
    result = run("diagram", "--mode", "agentless", "--format", "dot")
    assert result.stdout.startswith('digraph "agentless"')


def test_diagram_with_an_unknown_format_is_a_usage_error() -> None:
    assert_one_line_error(run("diagram", "--format", "png"), 2, "--format")


def test_db_upgrade_creates_an_empty_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    result = run("db", "upgrade", "--db", url)
    assert result.exit_code == 0
    assert "upgraded from an empty database to revision" in result.stdout
    assert json.loads(run("db", "current", "--db", url, "--json").stdout)["up_to_date"] is True


def test_db_current_says_an_empty_database_is_created_on_first_use(tmp_path: Path) -> None:
    result = run("db", "current", "--db", f"sqlite:///{tmp_path / 'none.db'}")
    assert "created on first use" in result.stdout


def test_worker_runs_the_scheduler_worker_with_the_options(monkeypatch: pytest.MonkeyPatch, db: str) -> None:
    import dialstate.scheduler.worker as worker

    calls: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(worker, "run_worker", lambda url, **kw: calls.append((url, kw)) or 0)
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


def test_a_database_older_than_the_code_is_refused_in_one_line(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from dialstate.models import schema

    Engine(db).close()
    monkeypatch.setattr(schema, "HEAD", "9001")
    monkeypatch.setattr(schema, "revisions", lambda: ["0001", "9001"])
    assert_one_line_error(run("campaigns", "--db", db), 1, "run `dialstate db upgrade --db")


# -- import ------------------------------------------------------------------------------------------------


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


def test_import_into_an_existing_campaign(campaign: int, tmp_path: Path, db: str) -> None:
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


# -- the import path: fast phone reading and parallel preparation ------------------------------------------


AT = datetime(2026, 3, 2, 10, tzinfo=UTC)
WINDOW = CallingWindow("09:00", "21:00")


def _corpus() -> list[tuple[str, str]]:
    """Every region's example numbers, written three ways, and some near misses."""
    inputs = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE,
                     phonenumbers.PhoneNumberType.TOLL_FREE):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            for style in (phonenumbers.PhoneNumberFormat.E164, phonenumbers.PhoneNumberFormat.INTERNATIONAL,
                          phonenumbers.PhoneNumberFormat.NATIONAL):
                text = phonenumbers.format_number(example, style)
                inputs += [(text, region), (text[:-1], region), (text + "7", region)]
    return inputs


@pytest.mark.parametrize("window", [None, WINDOW], ids=["no-window", "window"])
def test_the_fast_phone_path_agrees_with_parse_phone_and_resolve_zones(window: CallingWindow | None) -> None:
    for raw, region in _corpus():
        e164, reason = parse_phone(raw, region)
        expected = (e164, reason, resolve_zones(window, None, e164, "Europe/Berlin", at=AT))
        assert importer.phone_and_zones(raw, region, window, None, "Europe/Berlin", AT) == expected, raw


def test_preparing_in_worker_processes_gives_the_serial_result() -> None:
    settings = importer.ImportSettings("DE", WINDOW, "Europe/Berlin", AT)
    items: list[object] = [f"+49 30 {2000000 + i}" if i % 7 else f"030 {3000000 + i}" for i in range(9000)]
    parallel = list(importer.prepared_batches(items, settings, workers=2, parallel_after=2000))
    assert [start for start, _, _ in parallel] == list(range(0, 9000, importer.BATCH))
    serial = [importer.prepare_batch(items[start:start + importer.BATCH], settings, start)
              for start in range(0, 9000, importer.BATCH)]
    assert [batch for _, _, batch in parallel] == serial
    assert sum(len(batch.rows) for batch in serial) == 9000


def test_add_contacts_tells_on_reject_of_each_row_that_is_not_ready(sqlite_engine: Engine) -> None:
    cid = sqlite_engine.create_campaign("C", DialMode.PREVIEW, default_region="DE").id
    sqlite_engine.blacklist_phone("+49 30 9999999")
    heard: list[tuple[int, object, str]] = []
    report = sqlite_engine.add_contacts(
        cid, ["+49 30 1234567", "", "+49 30 9999999", "030 1234567"],
        on_reject=lambda index, item, result, reason: heard.append((index, item, result)))
    assert (report.added, report.invalid, report.blacklisted, report.duplicates) == (3, 1, 1, 1)
    assert heard == [(1, "", "invalid_record"), (2, "+49 30 9999999", "blacklisted"),
                     (3, "030 1234567", "duplicate")]


def test_add_contacts_on_a_large_input_keeps_its_report(sqlite_engine: Engine,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importer, "PARALLEL_AFTER", 2000)
    cid = sqlite_engine.create_campaign("C", DialMode.PREVIEW, default_region="DE").id
    rows = [f"+49 30 {1000000 + i}" for i in range(7000)] + ["x"] + [f"+49 30 {1000000 + i}" for i in range(5)]
    report = sqlite_engine.add_contacts(cid, rows)
    assert (report.added, report.invalid, report.duplicates) == (7001, 1, 5)
    assert list(report.contact_ids) == list(range(1, 7002))


@pytest.mark.parametrize("parallel", [False, True], ids=["serial", "workers"])
def test_add_contacts_sets_apart_known_blacklisted_and_repeated_numbers_in_one_batch(
        engine: Engine, monkeypatch: pytest.MonkeyPatch, parallel: bool) -> None:
    if parallel:
        monkeypatch.setattr(importer, "PARALLEL_AFTER", 2000)
    cid = engine.create_campaign("C", DialMode.PREVIEW, default_region="DE",
                                 calling_window=CallingWindow("09:00", "20:00")).id
    first = engine.add_contacts(cid, ["+49 30 1000000", "+49 30 1000001"])
    engine.blacklist_phone("+49 30 1000005")
    filler = [f"+49 30 {2000000 + i}" for i in range(4000)]
    batch = ["030 1000000", "+49 30 1000002", "x", "+49 30 1000005", "+49 30 1000002",
             {"phone": "+1 212 555 0123", "timezone": "America/New_York"}, "+49 30 1000001"]
    heard: list[tuple[int, str]] = []
    report = engine.add_contacts(cid, filler + batch,
                                 on_reject=lambda index, item, result, reason: heard.append((index, result)))
    base = len(filler)
    assert heard == [(base + 0, "duplicate"), (base + 2, "invalid_record"), (base + 3, "blacklisted"),
                     (base + 4, "duplicate"), (base + 6, "duplicate")]
    assert (report.added, report.invalid, report.blacklisted, report.duplicates) == (4004, 1, 1, 3)
    ids = report.contact_ids
    assert len(ids) == len(set(ids)) == 4004 and ids == sorted(ids) and ids[0] > max(first.contact_ids)
    # Ids follow the input order of the rows that were kept.
    kept = [engine.get_contact(i) for i in ids[-4:]]
    assert [(c.phone, c.state.value) for c in kept] == [
        ("+49301000002", "ready"), ("x", "invalid_record"), ("+49301000005", "blacklisted"),
        ("+12125550123", "ready")]
    assert [(h.to_state.value, h.note) for h in engine.history(ids[-2])] == [
        ("blacklisted", "the number is on the blacklist")]
    assert engine.history(ids[-1])[0].to_state.value == "ready"
    assert engine.get_contact(ids[-1]).timezone == "America/New_York"
    stats = engine.campaign_stats(cid)
    assert stats.by_state["ready"] == 2 + 4000 + 2


class _Record:
    """An adapter for records of the caller's own shape: (number, customer, score)."""

    def __call__(self, record: tuple[str, str, str]) -> dict[str, object]:
        number, customer, score = record
        if not score.isdigit():
            raise SkipRow(f"score {score!r} is not a number")
        return {"phone": number, "external_id": customer, "priority": int(score)}


@pytest.mark.parametrize("parallel", [False, True], ids=["serial", "workers"])
def test_add_contacts_adapts_items_and_skips_the_ones_the_adapter_refuses(
        engine: Engine, monkeypatch: pytest.MonkeyPatch, parallel: bool) -> None:
    if parallel:
        monkeypatch.setattr(importer, "PARALLEL_AFTER", 2000)
    cid = engine.create_campaign("C", DialMode.PREVIEW, default_region="DE").id
    records = [(f"030 {3000000 + i}", f"c{i}", str(i % 10)) for i in range(4500)]
    records[4001] = ("030 7777777", "c-bad", "high")
    records[4002] = ("030 3000000", "c-again", "1")
    heard: list[tuple[int, str, str]] = []
    report = engine.add_contacts(cid, records, adapt=_Record(),
                                 on_reject=lambda index, item, result, reason: heard.append((index, result, reason)))
    assert heard == [(4001, "skipped", "score 'high' is not a number"),
                     (4002, "duplicate", "+49303000000 is already in the campaign")]
    assert (report.added, report.skipped, report.duplicates, report.invalid) == (4498, 1, 1, 0)
    last = engine.get_contact(report.contact_ids[-1])
    assert (last.phone, last.external_id, last.priority) == ("+49303004499", "c4499", 9)
    with pytest.raises(InvalidArgument, match="priority must be an integer"):
        engine.add_contacts(cid, [("030 1", "c", "1")], adapt=lambda record: {"phone": record[0], "priority": "1"})
    assert engine.campaign_stats(cid).by_state["ready"] == 4498


def test_an_adapter_that_cannot_go_to_the_workers_runs_here(
        sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(importer, "PARALLEL_AFTER", 2000)
    cid = sqlite_engine.create_campaign("C", DialMode.PREVIEW, default_region="DE").id
    suffix = "x"
    report = sqlite_engine.add_contacts(cid, [f"030 {3000000 + i}" for i in range(5000)],
                                        adapt=lambda raw: {"phone": raw, "external_id": raw + suffix})
    assert report.added == 5000
    assert sqlite_engine.get_contact(report.contact_ids[-1]).external_id == "030 3004999x"
    assert "cannot be sent to worker processes" in caplog.text


def test_create_campaign_with_contacts_keeps_both_or_neither(engine: Engine) -> None:
    campaign, report = engine.create_campaign_with_contacts(
        "Spring", ["030 1234567", "x"], mode=DialMode.PROGRESSIVE, default_region="DE",
        timezone="Europe/Berlin", before_call_work_seconds=5)
    assert (campaign.name, campaign.mode, campaign.default_region) == ("Spring", DialMode.PROGRESSIVE, "DE")
    assert (report.added, report.invalid) == (2, 1)
    assert engine.get_contact(report.contact_ids[0]).campaign_id == campaign.id
    with pytest.raises(InvalidArgument, match="contact #1: priority must be an integer"):
        engine.create_campaign_with_contacts("Broken", ["030 7654321", {"phone": "030 7654322", "priority": "1"}],
                                             default_region="DE")
    assert [c.name for c in engine.campaigns()] == ["Spring"]
    with pytest.raises(ConfigurationError, match="unknown time zone"):
        engine.create_campaign_with_contacts("Bad zone", ["030 7654321"], timezone="Mars/Base")
    # The rolled-back campaign's settings are forgotten: on SQLite its id is given out again.
    other = engine.create_campaign("Summer", default_region="US", timezone="America/New_York")
    added = engine.add_contacts(other.id, ["212 555 0123"])
    assert engine.get_contact(added.contact_ids[0]).phone == "+12125550123"
    assert [c.name for c in engine.campaigns()] == ["Spring", "Summer"]


def test_the_cli_runs_as_a_module(tmp_path: Path) -> None:
    env = {**os.environ, "DIALSTATE_DB": f"sqlite:///{tmp_path / 'm.db'}"}
    done = subprocess.run([sys.executable, "-m", "dialstate.cli", "campaigns"], capture_output=True, text=True,
                          env=env, timeout=60)
    assert done.returncode == 0
    assert "no campaigns yet" in done.stdout
