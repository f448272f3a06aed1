"""`dialstate demo`: a simulated day on a virtual clock, end to end. Every contact ends
final, parked or waiting; every history is continuous; the tables add up; a seed
always gives the same day."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from dialstate import DialMode, Engine, StateKind
from dialstate.engine.states import ContactState
from dialstate.sim import DemoResult, DemoSettings, run_demo
from dialstate.sim.demo import DemoDatabaseInUse
from dialstate.sim.switch import check_codes
from tests.support import assert_history_continuous, assert_no_contact_lost
from tests.support.cli import run

S = ContactState
WAITING = {S.READY, S.RETRY_SCHEDULED}
SMALL = 150


def _demo(tmp_path: Path, mode: DialMode, seed: int = 11) -> DemoResult:
    return run_demo(DemoSettings(f"sqlite:///{tmp_path / f'{mode.value}.db'}", SMALL, mode, seed))


@pytest.fixture(scope="module", params=list(DialMode), ids=[m.value for m in DialMode])
def result(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    return _demo(tmp_path_factory.mktemp("demo"), request.param)


def test_every_contact_ends_the_day_final_parked_or_waiting(result: DemoResult) -> None:
    for state in result.stats.by_state:
        s = ContactState(state)
        assert s in WAITING or s.kind in (StateKind.FINAL, StateKind.PARKED, StateKind.PASSING), state


def test_every_history_is_continuous(result: DemoResult) -> None:
    with Engine(result.settings.url) as engine:
        ids = [c.id for c in engine.contacts(result.campaign.id)]
        assert len(ids) == result.stats.total
        for cid in ids:
            assert_history_continuous(engine, cid)


def test_no_contact_is_lost(result: DemoResult) -> None:
    with Engine(result.settings.url) as engine:
        assert_no_contact_lost(engine, result.campaign.id, result.imported.contact_ids)


def test_the_tables_add_up(result: DemoResult) -> None:
    stats, tally = result.stats, result.tally
    assert sum(stats.by_state.values()) == stats.total == result.imported.added
    assert result.imported.added + result.imported.duplicates == result.rows == SMALL
    assert sum(result.attempts_per_contact.values()) == stats.total
    assert sum(stats.attempts_by_group.values()) == sum(stats.attempts_by_outcome.values())
    assert sum(tally.codes_by_dialect.values()) + tally.recovered <= tally.dials


def test_lost_events_are_recovered_and_stale_duplicates_refused(result: DemoResult) -> None:
    tally = result.tally
    assert tally.recovered == tally.lost_events
    assert tally.duplicates_accepted == 0
    assert tally.stale_rejected + tally.invalid_rejected == tally.duplicates_sent > 0


def test_the_switch_speaks_several_dialects(result: DemoResult) -> None:
    assert len(result.tally.codes_by_dialect) >= 5


def test_the_scheduler_fires_the_retries(result: DemoResult) -> None:
    assert result.tally.scheduler_fired["retry_due"] > 0


def test_a_predictive_day_has_an_abandon_rate(result: DemoResult) -> None:
    assert (result.stats.abandon_rate is not None) == (result.settings.mode is DialMode.PREDICTIVE)


def test_two_sample_histories_are_shown(result: DemoResult) -> None:
    assert len(result.samples) == 2
    assert all(len(entries) >= 2 for _, entries in result.samples)


def test_every_vendor_code_the_switch_sends_means_what_it_intends() -> None:
    check_codes()


# -- the command ------------------------------------------------------------------------------------


def test_the_demo_command_prints_every_table(tmp_path: Path) -> None:
    result = run("demo", "--db", f"sqlite:///{tmp_path / 'd.db'}", "--contacts", str(SMALL))
    assert result.exit_code == 0, result.stderr
    for title in ("Contacts by state", "Finished attempts by outcome group", "Attempts per contact",
                  "Abandon rate", "The switch and the scheduler", "History of contact"):
        assert title in result.stdout
    assert "simulated 24 h" in result.stderr


def test_the_same_seed_gives_the_same_output(tmp_path: Path) -> None:
    outputs = [
        run("demo", "--db", f"sqlite:///{tmp_path / name}", "--contacts", str(SMALL),
                            "--mode", "preview", "--seed", "5").stdout
        for name in ("a.db", "b.db")
    ]
    assert outputs[0] == outputs[1]
    other = run("demo", "--db", f"sqlite:///{tmp_path / 'c.db'}", "--contacts", str(SMALL),
                                "--mode", "preview", "--seed", "6").stdout
    assert other != outputs[0]


def test_the_demo_replaces_its_previous_database_and_says_so(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    first = run("demo", "--db", url, "--contacts", "40")
    second = run("demo", "--db", url, "--contacts", "40")
    assert "removed the previous demo database" in second.stderr
    assert first.stdout == second.stdout
    with Engine(url) as engine:
        assert len(engine.campaigns()) == 1


def test_the_demo_refuses_a_database_with_other_campaigns(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'real.db'}"
    with Engine(url) as engine:
        engine.create_campaign("Real customers")
    result = run("demo", "--db", url, "--contacts", "40")
    assert result.exit_code == 1
    assert "not demos (e.g. 'Real customers')" in result.stderr
    with Engine(url) as engine:
        assert [c.name for c in engine.campaigns()] == ["Real customers"]


def test_the_demo_refuses_a_file_that_is_not_a_dialstate_database(tmp_path: Path) -> None:
    other = tmp_path / "notes.db"
    other.write_text("my notes")
    with pytest.raises(DemoDatabaseInUse, match="not a dialstate demo database"):
        run_demo(DemoSettings(f"sqlite:///{other}", 40))
    assert other.read_text() == "my notes"


@pytest.fixture
def empty_pg(new_pg_database: Callable[[], str]) -> str:
    return new_pg_database()


@pytest.mark.pg
def test_the_demo_runs_on_postgresql_and_cancels_its_earlier_campaign(empty_pg: str) -> None:
    first = run_demo(DemoSettings(empty_pg, 60, DialMode.PROGRESSIVE, 3))
    second = run_demo(DemoSettings(empty_pg, 60, DialMode.PROGRESSIVE, 3))
    assert second.notes == [f"canceled the earlier demo campaign {first.campaign.id}"]
    assert second.stats.by_state == first.stats.by_state
    with Engine(empty_pg) as engine:
        assert engine.get_campaign(first.campaign.id).status == "canceled"
        for contact in engine.contacts(second.campaign.id):
            assert_history_continuous(engine, contact.id)


@pytest.mark.slow
def test_the_default_demo_finishes_well_under_a_minute(tmp_path: Path) -> None:
    started = time.perf_counter()
    result = run("demo", "--db", f"sqlite:///{tmp_path / 'full.db'}")
    assert result.exit_code == 0
    assert time.perf_counter() - started < 60
