"""`dialstate import --phone-column A --phone-column B`: contacts with several numbers,
labelled by their columns; `--rejects` names the number that made a duplicate;
`show` and `contacts` show the numbers."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from dialstate import Engine
from tests.support.cli import assert_one_line_error, run

CSV = (
    "name,home,mobile\n"
    "Ada,030 1234567,0171 1234567\n"
    "Ben,,0171 7654321\n"
    "Cy,030 5550000,0171 1234567\n"
    "Di,,\n"
)


def test_several_phone_columns_give_each_contact_its_numbers_in_order(tmp_path: Path, db: str) -> None:
    source = tmp_path / "people.csv"
    source.write_text(CSV)
    rejects = tmp_path / "rejects.csv"
    result = run("import", str(source), "--new", "People", "--region", "DE", "--phone-column", "home",
                 "--phone-column", "mobile", "--rejects", str(rejects), "--db", db, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["added"], report["duplicates"], report["invalid_record"]) == (3, 1, 1)
    with Engine(db) as engine:
        campaign = engine.campaigns()[0].id
        ada, ben, di = engine.contacts(campaign)
        assert [(n.phone, n.label) for n in ada.numbers] == [("+49301234567", "home"), ("+491711234567", "mobile")]
        assert [(n.phone, n.label) for n in ben.numbers] == [("+491717654321", "mobile")]
        assert ada.data["name"] == "Ada" and "home" not in ada.data
        assert di.state.value == "invalid_record"
    with rejects.open() as f:
        rows = list(csv.reader(f))
    cy = next(r for r in rows if "Cy" in r)
    assert "duplicate" in cy and any("+491711234567 is already in the campaign" in v for v in cy)
    shown = run("show", str(ada.id), "--db", db)
    assert "Numbers of contact" in shown.stdout and "+491711234567" in shown.stdout and "mobile" in shown.stdout
    listed = run("contacts", str(campaign), "--db", db)
    assert "+49301234567 (+1 more)" in listed.stdout
    as_json = json.loads(run("show", str(ada.id), "--db", db, "--json").stdout)
    assert [n["label"] for n in as_json["contact"]["numbers"]] == ["home", "mobile"]


def test_a_phone_column_that_is_not_in_the_header_is_named(tmp_path: Path, db: str) -> None:
    source = tmp_path / "people.csv"
    source.write_text(CSV)
    result = run("import", str(source), "--new", "P", "--region", "DE", "--phone-column", "home",
                 "--phone-column", "work", "--db", db)
    assert_one_line_error(result, 1, "no column 'work'")
