"""The commands that show what is in the database: `campaigns`, `contacts`, `show`,
`stats`, and `diagram`, which draws the state machine of a mode."""

from __future__ import annotations

import json

import pytest

from dialstate import DialMode, Engine, Outcome
from dialstate.testing import VirtualClock
from tests.support.cli import assert_one_line_error, run


def test_campaigns_lists_each_campaign_with_its_contacts(campaign: int, db: str) -> None:
    result = run("campaigns", "--db", db)
    assert result.exit_code == 0
    assert "Winter renewals" in result.stdout and "preview" in result.stdout


def test_campaigns_on_an_empty_database_says_how_to_start(made_db: str) -> None:
    result = run("campaigns", "--db", made_db)
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


def test_contacts_of_an_unknown_campaign_is_an_error(made_db: str) -> None:
    assert_one_line_error(run("contacts", "42", "--db", made_db), 1, "campaign 42 does not exist")


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


def test_show_of_an_unknown_contact_is_an_error(made_db: str) -> None:
    assert_one_line_error(run("show", "999", "--db", made_db), 1, "contact 999 does not exist")


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


def test_stats_of_an_unknown_campaign_is_an_error(made_db: str) -> None:
    assert_one_line_error(run("stats", "7", "--db", made_db), 1, "campaign 7 does not exist")


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
