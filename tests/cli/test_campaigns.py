"""`dialstate campaigns`: the listing (bare, or `list`), `create` with its settings,
`pause`, `resume` and `cancel`; on both backends."""

from __future__ import annotations

import json

import pytest

from dialstate import ContactState, DialMode, Engine, Outcome
from tests.support.cli import assert_one_line_error, run


def test_campaigns_and_campaigns_list_both_list_the_campaigns(any_db: str) -> None:
    assert run("campaigns", "create", "Winter", "--db", any_db).exit_code == 0
    bare = run("campaigns", "--db", any_db, "--json")
    listed = run("campaigns", "list", "--db", any_db, "--json")
    assert bare.exit_code == listed.exit_code == 0
    assert [c["name"] for c in json.loads(bare.stdout)] == [c["name"] for c in json.loads(listed.stdout)] == ["Winter"]


def test_campaigns_create_stores_every_setting_given_as_an_option(any_db: str) -> None:
    result = run(
        "campaigns", "create", "Spring", "--db", any_db, "--mode", "progressive", "--region", "de",
        "--timezone", "Europe/Berlin", "--window", "09:00-20:00", "--days", "mon-fri", "--holiday", "2026-12-24",
        "--holiday", "2026-12-25", "--max-attempts", "3", "--retry-delay", "busy=10m", "--retry-delay",
        "voicemail=none", "--uncounted", "congestion", "--uncounted", "failed", "--backoff", "2", "--max-delay", "1d",
        "--jitter", "0.1", "--rolling-limit", "4/2d", "--rolling-limit", "6/604800", "--before-call-work-seconds", "15",
        "--after-call-work-seconds", "60", "--assign-timeout-seconds", "100", "--dial-timeout-seconds", "50",
        "--max-call-seconds", "1800", "--operator-wait-seconds", "20", "--callback-grace-seconds", "300",
        "--disposition", "sale=success", "--disposition", "later=callback", "--default-disposition", "sale",
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("created campaign 1 'Spring': progressive, time zone Europe/Berlin, region DE; "
                                    "calls 09:00-20:00 mon-fri in each contact's local time except 2 holiday(s); "
                                    "up to 3 attempt(s)")
    assert result.stderr == ""  # a window: no warning
    with Engine(any_db) as engine:
        campaign = engine.get_campaign(1)
        window = engine.calling_window(1)
        policy = engine.retry_policy(1)
    assert (campaign.mode, campaign.timezone, campaign.default_region) == (DialMode.PROGRESSIVE, "Europe/Berlin", "DE")
    assert window is not None and window.to_json() == {
        "start": "09:00", "end": "20:00", "days": ["mon", "tue", "wed", "thu", "fri"],
        "holidays": ["2026-12-24", "2026-12-25"]}
    assert (policy.max_attempts, policy.backoff, policy.max_delay, policy.jitter) == (3, 2.0, 86400.0, 0.1)
    assert (policy.delays[Outcome.BUSY], policy.delays[Outcome.VOICEMAIL]) == (600.0, None)
    assert policy.to_json()["uncounted"] == ["congestion", "failed"]
    assert policy.to_json()["rolling_limits"] == [[4, 172800.0], [6, 604800.0]]
    assert {k: campaign.settings[k] for k in ("before_call_work_seconds", "after_call_work_seconds",
                                             "assign_timeout_seconds", "dial_timeout_seconds", "max_call_seconds",
                                             "operator_wait_seconds", "callback_grace_seconds")} == {
        "before_call_work_seconds": 15, "after_call_work_seconds": 60, "assign_timeout_seconds": 100,
        "dial_timeout_seconds": 50, "max_call_seconds": 1800, "operator_wait_seconds": 20,
        "callback_grace_seconds": 300}
    assert campaign.settings["dispositions"] == {"sale": "success", "later": "callback"}
    assert campaign.settings["default_disposition"] == "sale"


def test_campaigns_create_as_json_gives_the_campaign_with_its_window_and_policy(any_db: str) -> None:
    result = run("campaigns", "create", "J", "--window", "08:00-18:00", "--max-attempts", "2", "--db", any_db,
                 "--json")
    data = json.loads(result.stdout)
    assert (data["id"], data["name"], data["status"]) == (1, "J", "running")
    assert data["settings"]["calling_window"]["start"] == "08:00"
    assert data["retry_policy"]["max_attempts"] == 2


def test_a_campaign_without_a_window_is_created_with_a_warning_that_it_dials_around_the_clock(any_db: str) -> None:
    result = run("campaigns", "create", "Always", "--db", any_db)
    assert result.exit_code == 0
    assert "no calling window" in result.stdout
    (warning,) = result.stderr.strip().splitlines()
    assert warning.startswith("warning: campaign 1 has no calling window") and "around the clock" in warning
    assert "--window" in warning
    as_json = run("campaigns", "create", "Always too", "--db", any_db, "--json")
    json.loads(as_json.stdout)  # the warning stays on stderr
    assert "around the clock" in as_json.stderr


def test_options_placed_before_a_campaigns_subcommand_are_a_usage_error(any_db: str) -> None:
    assert_one_line_error(run("campaigns", "--db", any_db, "pause", "1"), 2,
                          "--db goes after the subcommand", "dialstate campaigns pause")


def test_pause_and_resume_change_the_status_and_say_what_it_means(any_db: str) -> None:
    run("campaigns", "create", "P", "--db", any_db)
    paused = run("campaigns", "pause", "1", "--db", any_db)
    assert paused.exit_code == 0
    assert "campaign 1 'P' paused: no contact is claimed from it until `dialstate campaigns resume 1`" in paused.stdout
    assert "was already paused; nothing changed" in run("campaigns", "pause", "1", "--db", any_db).stdout
    with Engine(any_db) as engine:
        assert engine.get_campaign(1).status == "paused"
    resumed = json.loads(run("campaigns", "resume", "1", "--db", any_db, "--json").stdout)
    assert resumed == {"campaign": 1, "status": "running", "was": "paused"}


def test_cancel_with_yes_cancels_every_open_or_parked_contact_and_says_how_many(any_db: str) -> None:
    with Engine(any_db) as engine:
        cid = engine.create_campaign("C", default_region="DE").id
        ids = engine.add_contacts(cid, ["030 1234567", "030 1234568", "not a number"]).contact_ids
        engine.assign_operator(ids[0], "op1")
        engine.accept(ids[0])
        engine.dial(ids[0])
        engine.answered(ids[0])
        engine.call_ended(ids[0], Outcome.COMPLETED)
        engine.wrap_up(ids[0], "success")
    result = run("campaigns", "cancel", str(cid), "--yes", "--db", any_db)
    assert result.exit_code == 0
    assert "campaign 1 'C' canceled: 2 contact(s) canceled" in result.stdout
    with Engine(any_db) as engine:
        assert engine.get_campaign(cid).status == "canceled"
        assert [engine.get_contact(i).state for i in ids] == [
            ContactState.SUCCESS, ContactState.CANCELED_BY_ADMIN, ContactState.CANCELED_BY_ADMIN]


def test_cancel_asks_first_and_cancels_nothing_unless_confirmed(any_db: str) -> None:
    with Engine(any_db) as engine:
        cid = engine.create_campaign("C").id
        engine.add_contacts(cid, ["+49 30 1234567"])
    for answer in ("n\n", ""):  # "no", and no answer at all (the end of the input)
        refused = run("campaigns", "cancel", str(cid), "--db", any_db, input=answer)
        assert refused.exit_code == 1
        assert "Cancel campaign 1 'C'? Its 1 open or parked contact(s) become canceled_by_admin" in refused.stderr
        # (a terminal ends the prompt's line with the answer typed, which the test runner echoes on stdout)
        assert refused.stderr.rstrip().endswith("error: campaign 1 was not canceled (confirm, or pass --yes)")
    with Engine(any_db) as engine:
        assert engine.get_campaign(cid).status == "running"
    confirmed = run("campaigns", "cancel", str(cid), "--db", any_db, "--json", input="y\n")
    assert confirmed.exit_code == 0
    assert json.loads(confirmed.stdout.split("\n", 1)[1]) == {"campaign": 1, "status": "canceled", "canceled": 1}


def test_a_canceled_campaign_cannot_be_resumed(any_db: str) -> None:
    run("campaigns", "create", "C", "--db", any_db)
    run("campaigns", "cancel", "1", "--yes", "--db", any_db)
    assert_one_line_error(run("campaigns", "resume", "1", "--db", any_db), 1, "campaign 1 is canceled")


@pytest.mark.parametrize("command", ["pause", "resume", "cancel"])
def test_pause_resume_and_cancel_of_an_unknown_campaign_are_errors(made_db: str, command: str) -> None:
    assert_one_line_error(run("campaigns", command, "7", "--yes" if command == "cancel" else "--json",
                              "--db", made_db), 1, "campaign 7 does not exist")
