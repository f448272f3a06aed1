"""`dialstate blacklist add/list/remove`."""

from __future__ import annotations

import json

from tests.support.cli import run


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
