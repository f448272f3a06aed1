"""`dialstate blacklist add/list/remove`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from dialstate import Engine
from tests.support.cli import assert_one_line_error, run


def test_blacklist_add_parks_the_waiting_contacts_and_remove_brings_them_back(campaign: int, db: str) -> None:
    added = run("blacklist", "add", "030 7654321", "--region", "DE", "--note", "asked us", "--db", db)
    assert added.exit_code == 0
    assert "blacklisted +49307654321 in every campaign; 1 contact(s) moved to blacklisted" in added.stdout
    (entry,) = json.loads(run("blacklist", "list", "--db", db, "--json").stdout)
    assert {k: entry[k] for k in ("phone", "campaign_id", "expires_at", "note", "actor")} == {
        "phone": "+49307654321", "campaign_id": None, "expires_at": None, "note": "asked us", "actor": "cli"}
    removed = run("blacklist", "remove", "+49307654321", "--db", db)
    assert "removed +49307654321 from the blacklist of every campaign; 1 contact(s) back to ready" in removed.stdout
    assert "the blacklist is empty" in run("blacklist", "list", "--db", db).stdout


def test_a_national_number_without_a_region_is_refused_and_nothing_is_stored(campaign: int, db: str) -> None:
    result = run("blacklist", "add", "030 7654321", "--db", db)
    assert_one_line_error(result, 1, "030 7654321", "region")
    assert json.loads(run("blacklist", "list", "--db", db, "--json").stdout) == []
    assert_one_line_error(run("blacklist", "add", "hello", "--db", db), 1, "letters")


def test_an_entry_for_one_campaign_read_in_its_region_and_until_a_time(campaign: int, db: str) -> None:
    until = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
    added = run("blacklist", "add", "030 7654321", "--campaign", str(campaign), "--expires", until.isoformat(),
                "--db", db)
    assert added.exit_code == 0, added.stderr
    assert f"blacklisted +49307654321 in campaign {campaign} until {until.isoformat()}" in added.stdout
    (entry,) = json.loads(run("blacklist", "list", "--db", db, "--json").stdout)
    assert (entry["campaign_id"], entry["expires_at"]) == (campaign, until.isoformat())
    with Engine(db) as engine:
        (contact,) = engine.find_contacts(campaign, phone="+49307654321")
        assert (contact.state.value, contact.next_attempt_at) == ("blacklisted", until)
    table = run("blacklist", "list", "--db", db).stdout
    assert "+49307654321" in table and until.strftime("%Y-%m-%d %H:%M:%S") in table
    assert "was not on the blacklist of every campaign" in run("blacklist", "remove", "+49307654321",
                                                                "--db", db).stdout
    removed = run("blacklist", "remove", "030 7654321", "--campaign", str(campaign), "--db", db)
    assert f"removed +49307654321 from the blacklist of campaign {campaign}; 1 contact(s)" in removed.stdout


def test_expires_takes_a_duration(campaign: int, db: str) -> None:
    before = datetime.now(UTC)
    assert run("blacklist", "add", "+49 30 7654321", "--expires", "12h", "--db", db).exit_code == 0
    (entry,) = json.loads(run("blacklist", "list", "--db", db, "--json").stdout)
    expiry = datetime.fromisoformat(entry["expires_at"])
    assert before + timedelta(hours=12) <= expiry <= datetime.now(UTC) + timedelta(hours=12)


@pytest.mark.parametrize("value", ["tomorrow", "2026-12-31T18:00", "12 parsecs"])
def test_an_expiry_in_another_shape_is_a_usage_error(made_db: str, value: str) -> None:
    result = run("blacklist", "add", "+49 30 7654321", "--expires", value, "--db", made_db)
    assert_one_line_error(result, 2, "--expires")


def test_blacklist_list_prints_a_table(db: str) -> None:
    run("blacklist", "add", "+44 20 7946 0958", "--db", db)
    result = run("blacklist", "list", "--db", db)
    assert "Blacklist (1)" in result.stdout and "+442079460958" in result.stdout and "never" in result.stdout


def test_blacklist_remove_of_a_number_not_listed_changes_nothing(made_db: str) -> None:
    result = run("blacklist", "remove", "+49301234567", "--db", made_db)
    assert result.exit_code == 0
    assert "was not on the blacklist" in result.stdout
