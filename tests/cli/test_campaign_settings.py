"""A new campaign's settings on the command line: the campaign file (TOML or JSON, the
example in docs/ included), options overriding it key by key, and a bad value as one
line that names the option or the file key and says what is allowed."""

from __future__ import annotations

import json
import tomllib
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from dialstate import Engine, Outcome
from tests.support.cli import assert_one_line_error, run

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "campaign.example.toml"


def stored(url: str, campaign_id: int = 1) -> dict[str, Any]:
    """What the database holds of a campaign's settings."""
    with Engine(url) as engine:
        campaign = engine.get_campaign(campaign_id)
        window = engine.calling_window(campaign_id)
        return {"mode": campaign.mode.value, "timezone": campaign.timezone, "region": campaign.default_region,
                "window": window.to_json() if window else None,
                "policy": engine.retry_policy(campaign_id).to_json(), "settings": dict(campaign.settings)}


def test_the_example_campaign_file_in_docs_creates_the_campaign_it_describes(any_db: str) -> None:
    result = run("campaigns", "create", "Example", "--settings", str(EXAMPLE), "--db", any_db)
    assert result.exit_code == 0, result.stderr
    got = stored(any_db)
    assert (got["mode"], got["timezone"], got["region"]) == ("predictive", "Europe/Berlin", "DE")
    assert got["window"] == {"start": "09:00", "end": "20:00", "days": ["mon", "tue", "wed", "thu", "fri"],
                             "holidays": ["2026-12-24", "2026-12-25", "2026-12-26"]}
    policy = got["policy"]
    assert (policy["max_attempts"], policy["backoff"], policy["max_delay"], policy["jitter"]) == (5, 1.5, 86400, 0.1)
    assert {k: policy["delays"][k] for k in ("busy", "no_answer", "voicemail", "rejected")} == {
        "busy": 300, "no_answer": 1800, "voicemail": 7200, "rejected": None}
    assert policy["rolling_limits"] == [[3, 86400], [5, 604800]]
    assert got["settings"]["after_call_work_seconds"] == 90 and got["settings"]["max_call_seconds"] == 3600
    assert got["settings"]["dispositions"] == {"sale": "success", "no_budget": "final", "call_me_later": "callback"}


def test_a_json_campaign_file_holds_the_same_keys_as_a_toml_one(tmp_path: Path, any_db: str) -> None:
    with open(EXAMPLE, "rb") as f:
        data = tomllib.load(f)
    data["calling_window"]["holidays"] = [str(d) for d in data["calling_window"]["holidays"]]
    data["retry_policy"]["delays"]["rejected"] = None  # JSON says "no retry" with null
    as_json = tmp_path / "campaign.json"
    as_json.write_text(json.dumps(data))
    assert run("campaigns", "create", "From TOML", "--settings", str(EXAMPLE), "--db", any_db).exit_code == 0
    assert run("campaigns", "create", "From JSON", "--settings", str(as_json), "--db", any_db).exit_code == 0
    assert stored(any_db, 1) == stored(any_db, 2)


def test_options_override_the_campaign_file_key_by_key(tmp_path: Path, any_db: str) -> None:
    result = run("campaigns", "create", "Mixed", "--settings", str(EXAMPLE), "--mode", "preview", "--max-attempts", "2",
                 "--retry-delay", "busy=60", "--days", "sat", "--after-call-work-seconds", "30",
                 "--disposition", "sale=final", "--db", any_db)
    assert result.exit_code == 0, result.stderr
    got = stored(any_db)
    assert got["mode"] == "preview" and got["timezone"] == "Europe/Berlin"  # the file's, where no option says
    assert got["policy"]["max_attempts"] == 2 and got["policy"]["backoff"] == 1.5
    assert got["policy"]["delays"]["busy"] == 60 and got["policy"]["delays"]["no_answer"] == 1800
    assert (got["window"]["start"], got["window"]["days"]) == ("09:00", ["sat"])
    assert got["settings"]["after_call_work_seconds"] == 30 and got["settings"]["max_call_seconds"] == 3600
    assert got["settings"]["dispositions"] == {"sale": "final", "no_budget": "final", "call_me_later": "callback"}


def test_durations_take_a_unit_and_toml_dates_are_holidays(tmp_path: Path, any_db: str) -> None:
    settings = tmp_path / "c.toml"
    settings.write_text('[calling_window]\nholidays = [2026-05-01]\n'
                        '[retry_policy]\nmax_delay = "1.5h"\nrolling_limits = [[2, "30m"]]\n'
                        '[retry_policy.delays]\nbusy = "90s"\nno_answer = 600\nvoicemail = "never"\n')
    assert run("campaigns", "create", "U", "--settings", str(settings), "--db", any_db).exit_code == 0
    got = stored(any_db)
    assert got["window"]["holidays"] == [date(2026, 5, 1).isoformat()]
    assert got["window"]["start"] == "09:00"  # a window table takes CallingWindow's defaults for what it leaves out
    assert got["policy"]["max_delay"] == 5400 and got["policy"]["rolling_limits"] == [[2, 1800]]
    delays = got["policy"]["delays"]
    assert (delays[Outcome.BUSY], delays[Outcome.NO_ANSWER], delays[Outcome.VOICEMAIL]) == (90, 600, None)


def test_the_help_of_both_commands_documents_the_campaign_file() -> None:
    for command in (("campaigns", "create"), ("import",)):
        text = run(*command, "--help", env={"COLUMNS": "250"}).stdout  # no option name cut short
        for key in ("[calling_window]", "[retry_policy]", "[retry_policy.delays]", "[timers]", "[dispositions]",
                    "max_attempts", "rolling_limits", "--settings", "--window", "--rolling-limit",
                    "--before-call-work-seconds", "--callback-grace-seconds", "--default-disposition"):
            assert key in text, (command, key)


BAD_OPTIONS = [
    (["--window", "0900"], "--window: '0900' is not START-END"),
    (["--window", "20:00-09:00"], "--window: CallingWindow: end 09:00 is not after start 20:00"),
    (["--window", "09:00-25:00"], "--window: CallingWindow.end: '25:00' is not allowed"),
    (["--days", "mon-fri"], "--days shapes a calling window: give its hours with --window"),
    (["--window", "09:00-17:00", "--days", "funday"], "--days: CallingWindow.days: 'funday' is not allowed; days are"),
    (["--window", "09:00-17:00", "--holiday", "2026-13-01"], "--holiday: CallingWindow.holidays: '2026-13-01'"),
    (["--max-attempts", "0"], "--max-attempts: RetryPolicy.max_attempts: 0 is not allowed; it must be a whole number"),
    (["--backoff", "0.5"], "--backoff: RetryPolicy.backoff: 0.5 is not allowed; it must be a number >= 1.0"),
    (["--jitter", "1"], "--jitter: RetryPolicy.jitter: 1.0 is not allowed"),
    (["--max-delay", "soon"], "--max-delay: 'soon' is not a duration: seconds (300), or a number with a unit"),
    (["--retry-delay", "busy"], "--retry-delay: 'busy' is not OUTCOME=SECONDS"),
    (["--retry-delay", "bogus=5"], "--retry-delay: RetryPolicy.delays: 'bogus' is not allowed; an outcome is one of"),
    (["--uncounted", "nope"], "--uncounted: RetryPolicy.uncounted: 'nope' is not allowed"),
    (["--rolling-limit", "4"], "--rolling-limit: '4' is not COUNT/PERIOD"),
    (["--rolling-limit", "0/1d"], "--rolling-limit: RetryPolicy.rolling_limits: (0, 86400.0) is not allowed"),
    (["--timezone", "Mars/Base"], "--timezone: unknown time zone 'Mars/Base'; use an IANA time zone name"),
    (["--region", "XX"], "--region: default_region 'XX' is not a region phonenumbers knows"),
    (["--disposition", "sale=bogus"], "--disposition: disposition 'sale': 'bogus' is not a meaning; one of success"),
    (["--default-disposition", "nope"], "--default-disposition: default_disposition 'nope' is not one of"),
    (["--max-call-seconds", "inf"], "--max-call-seconds: max_call_seconds must be a finite number of seconds"),
    (["--mode", "fast"], "'fast' is not one of 'preview'"),
]


@pytest.mark.parametrize(("args", "message"), BAD_OPTIONS, ids=[" ".join(a) for a, _ in BAD_OPTIONS])
def test_a_bad_option_value_is_a_usage_error_that_names_the_option(
        any_db: str, tmp_path: Path, args: list[str], message: str) -> None:
    assert_one_line_error(run("campaigns", "create", "X", *args, "--db", any_db), 2, message)
    source = tmp_path / "c.csv"
    source.write_text("phone\n+49 30 1234567\n")
    assert_one_line_error(run("import", str(source), "--new", "X", *args, "--db", any_db), 2, message)
    with Engine(any_db) as engine:
        assert engine.campaigns() == []


BAD_FILES = [
    ('modes = "fast"', "c.toml: modes: unknown key; a campaign file has mode, region, timezone"),
    ('mode = "fast"', "c.toml: mode: unknown dial mode 'fast'; one of preview, progressive"),
    ("calling_window = 5", "c.toml: calling_window: 5 is not a table of start, end, days, holidays"),
    ('[calling_window]\nbegin = "09:00"', "c.toml: calling_window.begin: unknown key; calling_window has start, end"),
    ('[calling_window]\nend = "07:00"', "c.toml: calling_window.end: CallingWindow: end 07:00 is not after start"),
    ('[retry_policy]\nbackoff = "x"', "c.toml: retry_policy.backoff: RetryPolicy.backoff: 'x' is not allowed"),
    ("[retry_policy]\ndelays = 5", "c.toml: retry_policy.delays: 5 is not a table of outcome = seconds"),
    ('[retry_policy.delays]\nbusy = "soon"', "c.toml: retry_policy.delays.busy: 'soon' is not a duration"),
    ("[retry_policy]\nrolling_limits = [[4]]", "c.toml: retry_policy.rolling_limits: RetryPolicy.rolling_limits"),
    ("[timers]\nnap_seconds = 1", "c.toml: timers.nap_seconds: unknown key; timers has before_call_work_seconds"),
    ("[timers]\nmax_call_seconds = -1", "c.toml: timers.max_call_seconds: max_call_seconds must be a finite number"),
    ('[dispositions]\nsale = "yes"', "c.toml: dispositions.sale: disposition 'sale': 'yes' is not a meaning"),
    ('region = "XX"', "c.toml: region: default_region 'XX' is not a region"),
    ("mode = ", "c.toml: not valid TOML"),
]


@pytest.mark.parametrize(("text", "message"), BAD_FILES, ids=[m.split(":")[1].strip() or m for _, m in BAD_FILES])
def test_a_bad_value_in_the_campaign_file_is_an_error_that_names_the_key(
        any_db: str, tmp_path: Path, text: str, message: str) -> None:
    settings = tmp_path / "c.toml"
    settings.write_text(text + "\n")
    result = run("campaigns", "create", "X", "--settings", str(settings), "--db", any_db)
    assert_one_line_error(result, 1, message.replace("c.toml", str(settings)))


def test_a_campaign_file_that_is_neither_toml_nor_json_is_a_usage_error(tmp_path: Path, any_db: str) -> None:
    settings = tmp_path / "c.yaml"
    settings.write_text("mode: preview\n")
    assert_one_line_error(run("campaigns", "create", "X", "--settings", str(settings), "--db", any_db), 2,
                          "give a .toml or .json file")


def test_a_json_campaign_file_that_is_not_an_object_is_an_error(tmp_path: Path, any_db: str) -> None:
    settings = tmp_path / "c.json"
    settings.write_text("[1, 2]")
    assert_one_line_error(run("campaigns", "create", "X", "--settings", str(settings), "--db", any_db), 1,
                          "a campaign file holds an object of settings")


def test_the_campaign_file_shown_in_the_help_creates_a_campaign(tmp_path: Path, any_db: str) -> None:
    from dialstate.cli.campaign_file import FILE_FORMAT

    example = FILE_FORMAT.split("\b\n", 1)[1].replace("\\[", "[")
    settings = tmp_path / "from_help.toml"
    settings.write_text("\n".join(line.strip() for line in example.splitlines()))
    result = run("campaigns", "create", "From the help", "--settings", str(settings), "--db", any_db)
    assert result.exit_code == 0, result.stderr
    assert stored(any_db)["policy"]["rolling_limits"] == [[4, 172800]]
