"""Spec section 9 across processes: a subscriber process hears what a writer process
commits, in commit order; a consumer killed mid-stream and restarted resumes where it
stopped, missing nothing (at least once)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from dialstate import DialMode, Engine
from dialstate.testing import VirtualClock
from tests.support.processes import ROOT, Processes
from tests.support.walk import new_campaign, new_contacts

WRITER = (
    "import sys; from dialstate import Engine\n"
    "engine = Engine(sys.argv[1])\n"
    "for contact in engine.dial_next(int(sys.argv[2]), int(sys.argv[3])):\n"
    "    engine.call_ended(contact.id, 'busy', call_id=contact.call_id)\n"
    "engine.close()\n"
)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def url(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[str]:
    if request.param == "postgresql":
        yield request.getfixturevalue("new_pg_database")()
    else:
        yield f"sqlite:///{tmp_path}/feed.db"  # type: ignore[str-bytes-safe]


@pytest.fixture
def db(url: str, clock: VirtualClock) -> Iterator[Engine]:
    engine = Engine(url)
    yield engine
    engine.close()


def write(url: str, campaign: int, n: int) -> None:
    """Another process dials `n` contacts, each busy."""
    subprocess.run([sys.executable, "-c", WRITER, url, str(campaign), str(n)], cwd=ROOT, check=True, timeout=60)


def heard(proc: subprocess.Popen[str], n: int, timeout: float = 20) -> list[dict[str, object]]:
    """The next `n` events the subscriber process printed."""
    assert proc.stdout is not None
    out: list[dict[str, object]] = []
    deadline = time.monotonic() + timeout
    while len(out) < n:
        assert time.monotonic() < deadline, f"heard {len(out)} of {n}"
        line = proc.stdout.readline()
        assert line, f"the subscriber ended early: {proc.stderr.read() if proc.stderr else ''}"
        out.append(json.loads(line))
    return out


def campaign_of(db: Engine, n: int) -> int:
    campaign = new_campaign(db, DialMode.PREDICTIVE, default_region="US")
    new_contacts(db, campaign, *(f"+1 212 555 {i:04d}" for i in range(n)))
    return campaign


def test_a_subscriber_process_hears_what_a_writer_process_commits_in_commit_order(
    db: Engine, url: str, processes: Processes
) -> None:
    campaign = campaign_of(db, 20)
    end = db.events(0, 1000)[-1].position
    subscriber = processes.script("feed_subscriber.py", "--db", url, stdin=True)
    write(url, campaign, 20)
    events = heard(subscriber, 40)
    assert [e["position"] for e in events] == [e.position for e in db.events(end, 1000)]


def test_a_consumer_killed_mid_stream_resumes_where_it_stopped_and_misses_nothing(
    db: Engine, url: str, processes: Processes
) -> None:
    campaign = campaign_of(db, 30)
    first = processes.script("feed_subscriber.py", "--db", url, "--consumer", "dialer", "--slow", "0.02", stdin=True)
    write(url, campaign, 15)
    heard_so_far = heard(first, 25)  # the 30 entries of the import first, then some of the calls
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    assert first.stdout is not None
    before = [json.loads(line) for line in first.stdout.read().splitlines()]  # all it printed
    before = heard_so_far + before
    write(url, campaign, 15)
    second = processes.script("feed_subscriber.py", "--db", url, "--consumer", "dialer", stdin=True)
    expected = [e.position for e in db.events(0, 1000)]
    after: list[dict[str, object]] = []
    while not after or after[-1]["position"] != expected[-1]:
        after.extend(heard(second, 1))
    got = [e["position"] for e in before] + [e["position"] for e in after]
    assert sorted(set(got)) == expected, "nothing is missed"
    assert got[len(before):] == sorted(got[len(before):]), "in commit order"
    assert after[0]["position"] <= before[-1]["position"] + 1, "it resumed where it stopped (maybe again)"
