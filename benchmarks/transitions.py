"""How fast the engine drives contacts through the preview path, beside raw SQL.

    python benchmarks/transitions.py [--contacts 2000] [--repeat 3] [--gate]

Our path: N contacts through assign_next, accept, dial, answered, call_ended and
wrap_up, through the public API, on a SQLite file. The references, raw `sqlite3`, one
guarded UPDATE and one history INSERT per transition, one transaction each (WAL,
synchronous=NORMAL), no reads and no decisions:

- the same writes: on a database dialstate made (its tables, indexes and settings,
  its contacts), the UPDATE of the columns the engine sets and the whole history entry
  at the next feed position, in BEGIN IMMEDIATE ... COMMIT. The target is a ratio of
  at least 0.5.
- a lean schema: the same promises on tables of our own with only what they need:
  the state's due time (indexed for the scheduler), each entry's place in the feed
  (the next after the last, indexed) and the call's id (indexed for late webhooks).
- UPDATE + INSERT only: 0.1.0's reference, which had no feed to keep.

All run in this process, taking turns block by block (`--block` contacts), so that a
noisy neighbour of the host slows each path's block alike; rates and ratios are over
all blocks of all `--repeat` rounds.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

# This file's name shadows the `transitions` library the engine is built on when run as
# a script (its folder comes first on sys.path): take the folder off the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from dialstate import CallingWindow, DialMode, Engine  # noqa: E402
from dialstate.engine import runner  # noqa: E402

STEPS = 6  # transitions per contact on the preview path
#: A Monday, 10:00 in New York: the window of `run_engine(window=True)` is open.
OPEN = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def phones(n: int) -> list[str]:
    return [f"+1 212 {200 + i // 10000:03d} {i % 10000:04d}" for i in range(n)]


def engine_blocks(path: Path, n: int, block: int, window: bool = False) -> Iterator[float]:
    """Our path, `block` contacts at a time (yields the seconds each block took); with
    `window`, a campaign with a calling window that is open (the rules of section 12
    then check it on every assign_operator and dial)."""
    clock = (lambda: OPEN) if window else None
    engine = Engine(f"sqlite:///{path}", clock=clock)
    hours = {"calling_window": CallingWindow("09:00", "20:00"), "timezone": "America/New_York"} if window else {}
    campaign = engine.create_campaign("bench", mode=DialMode.PREVIEW, default_region="US", **hours)
    engine.add_contacts(campaign.id, phones(n))
    for _ in range(0, n, block):
        start = time.perf_counter()
        for _ in range(block):
            contact = engine.assign_next(campaign.id, "op1")
            assert contact is not None
            cid = contact.id
            engine.accept(cid)
            engine.dial(cid)
            engine.answered(cid)
            engine.call_ended(cid, "completed")
            engine.wrap_up(cid, "success")
        yield time.perf_counter() - start
    assert engine.campaign_stats(campaign.id)["success"] == n
    engine.close()


#: The 0.1.0 reference: one guarded UPDATE and one history INSERT per transition.
PLAIN_SCHEMA = """
CREATE TABLE contact (id INTEGER PRIMARY KEY, campaign_id INTEGER NOT NULL, phone TEXT NOT NULL,
    state TEXT NOT NULL, version INTEGER NOT NULL, seq INTEGER NOT NULL, attempts INTEGER NOT NULL,
    operator_id TEXT, call_id TEXT, priority INTEGER NOT NULL DEFAULT 0, ready_since REAL,
    due_at REAL, updated_at REAL);
CREATE INDEX contact_claim ON contact (campaign_id, state, priority DESC, ready_since, id);
CREATE TABLE history (id INTEGER PRIMARY KEY, contact_id INTEGER NOT NULL, seq INTEGER NOT NULL,
    from_state TEXT, to_state TEXT NOT NULL, trigger TEXT NOT NULL, at REAL NOT NULL,
    call_id TEXT, position INTEGER, UNIQUE (contact_id, seq));
"""
#: What a hand-written dialer keeping the same promises writes: the state's due time
#: (indexed for the scheduler), a transition feed (each entry's position, the next
#: after the last, indexed) and the calls' ids (indexed for late webhooks).
FEED_SCHEMA = PLAIN_SCHEMA + """
CREATE INDEX contact_due ON contact (due_at) WHERE due_at IS NOT NULL;
CREATE UNIQUE INDEX history_position ON history (position);
CREATE INDEX history_call ON history (call_id) WHERE trigger = 'dial';
"""

#: The preview path as the engine writes it: (from, to, trigger, timer seconds or None,
#: the columns besides those every write sets).
PATH = [
    ("ready", "operator_assigned", "assign_operator", 300.0, ("operator_id",)),
    ("operator_assigned", "before_call_work", "accept", 30.0, ()),
    ("before_call_work", "dialing", "dial", 120.0, ("attempts", "call_id", "last_attempt_at")),
    ("dialing", "call_in_progress", "answered", 7200.0, ()),
    ("call_in_progress", "after_call_work", "call_ended", 120.0, ("last_outcome",)),
    ("after_call_work", "success", "wrap_up", None, ()),
]

PLAIN_ENTRY = "INSERT INTO history (contact_id, seq, from_state, to_state, trigger, at) VALUES (?, ?, ?, ?, ?, ?)"
FEED_ENTRY = (
    "INSERT INTO history (contact_id, seq, from_state, to_state, trigger, at, call_id, position)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(position), 0) + 1 FROM history))"
)


def raw_blocks(path: Path, n: int, block: int, feed: bool) -> Iterator[float]:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.executescript(FEED_SCHEMA if feed else PLAIN_SCHEMA)
    with conn:
        conn.executemany(
            "INSERT INTO contact (id, campaign_id, phone, state, version, seq, attempts, ready_since)"
            " VALUES (?, 1, ?, 'ready', 1, 1, 0, ?)",
            [(i + 1, p, float(i)) for i, p in enumerate(phones(n))],
        )
    for first in range(1, n + 1, block):
        start = time.perf_counter()
        for cid in range(first, first + block):
            version = seq = 1
            call_id = None
            for from_state, to_state, trigger, timer, _ in PATH:
                now = time.time()
                if feed:
                    if trigger == "dial":
                        call_id = uuid.uuid4().hex
                    cur = conn.execute(
                        "UPDATE contact SET state = ?, version = version + 1, seq = seq + 1, updated_at = ?,"
                        " due_at = ?, call_id = ? WHERE id = ? AND version = ? AND state = ?",
                        (to_state, now, None if timer is None else now + timer, call_id, cid, version, from_state),
                    )
                else:
                    cur = conn.execute(
                        "UPDATE contact SET state = ?, version = version + 1, seq = seq + 1, updated_at = ?"
                        " WHERE id = ? AND version = ? AND state = ?",
                        (to_state, now, cid, version, from_state),
                    )
                assert cur.rowcount == 1
                version += 1
                seq += 1
                if feed:
                    conn.execute(FEED_ENTRY, (cid, seq, from_state, to_state, trigger, now, call_id))
                else:
                    conn.execute(PLAIN_ENTRY, (cid, seq, from_state, to_state, trigger, now))
                conn.commit()
        yield time.perf_counter() - start
    conn.close()


def gate_off(blocks: Iterator[float]) -> Iterator[float]:
    """`blocks` with the rules' check on assign_operator and dial answering "callable"
    at no cost while each block runs (to measure what it costs; never do this outside
    a benchmark)."""
    real = runner.callability
    yes = real.__globals__["Callability"](True, (), None)
    while True:
        runner.callability = lambda facts, at, **_: yes  # type: ignore
        try:
            took = next(blocks)
        except StopIteration:
            return
        finally:
            runner.callability = real
        yield took


ENTRY_COLUMNS = ("contact_id, seq, from_state, to_state, trigger, at, actor, attempt, call_id, outcome, raw_code, "
                 "dialect, policy_version, note, phone, position")


def same_schema_blocks(path: Path, n: int, block: int) -> Iterator[float]:
    """Raw sqlite3 on a database dialstate made (its tables and indexes, its contacts),
    writing per transition what the engine writes: the guarded UPDATE of the same
    columns and the full history entry at the next feed position; no reads, no
    decisions, one commit each."""
    engine = Engine(f"sqlite:///{path}")
    campaign = engine.create_campaign("bench", mode=DialMode.PREVIEW, default_region="US")
    ids = engine.add_contacts(campaign.id, phones(n)).contact_ids
    engine.close()
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode = WAL", "wal_autocheckpoint = 10000", "synchronous = NORMAL"):
        conn.execute(f"PRAGMA {pragma}")  # as dialstate's connections
    numbers = dict(conn.execute("SELECT id, phone_key FROM ds_contact"))
    updates = {trigger: "UPDATE ds_contact SET state = ?, version = ?, seq = ?, updated_at = ?, due_at = ?, "
               "ready_since = ?" + "".join(f", {c} = ?" for c in extra) + " WHERE id = ? AND version = ?"
               for _, _, trigger, _, extra in PATH}
    entry = (f"INSERT INTO ds_history ({ENTRY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, NULL, NULL, 1, "
             "NULL, ?, (SELECT COALESCE(MAX(position), 0) + 1 FROM ds_history))")
    for first in range(0, n, block):
        start = time.perf_counter()
        for cid in ids[first:first + block]:
            same_writes(conn, cid, numbers[cid], updates, entry)
        yield time.perf_counter() - start
    conn.close()


def same_writes(conn: sqlite3.Connection, cid: int, number: str, updates: dict[str, str], entry: str) -> None:
    """One contact's preview path as the engine writes it, one transaction per step."""
    version = seq = 1
    call_id = outcome = None
    attempts = 0
    for from_state, to_state, trigger, timer, extra in PATH:
        now = time.time()
        values: dict[str, object] = {"operator_id": "op1"}
        if trigger == "dial":
            attempts, call_id = 1, uuid.uuid4().hex
            values.update(attempts=attempts, call_id=call_id, last_attempt_at=now)
        elif trigger == "call_ended":
            outcome = "completed"
            values["last_outcome"] = outcome
        conn.execute("BEGIN IMMEDIATE")
        cur = conn.execute(updates[trigger], (
            to_state, version + 1, seq + 1, now, None if timer is None else now + timer, None,
            *(values[c] for c in extra), cid, version))
        assert cur.rowcount == 1
        version += 1
        seq += 1
        conn.execute(entry, (cid, seq, from_state, to_state, trigger, now, attempts, call_id,
                             outcome if trigger in ("call_ended", "wrap_up") else None,
                             number if trigger in ("dial", "call_ended") else None))
        conn.commit()


def paired(runs: dict[str, Iterator[float]]) -> dict[str, list[float]]:
    """Run the paths block by block, taking turns, so that each block of one meets the
    host as the same block of the others did (a noisy neighbour slows them alike)."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    while runs:
        for name, blocks in list(runs.items()):
            try:
                times[name].append(next(blocks))
            except StopIteration:
                del runs[name]
    return times


def ratio(ours: list[float], reference: list[float]) -> float:
    """Our speed over the reference's, over all their blocks (each pays its share of
    the checkpoints that copy the WAL back, which a median would leave out)."""
    return sum(reference) / sum(ours)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=2000)
    parser.add_argument("--block", type=int, default=50, help="contacts per block (the paths take turns by block)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--gate", action="store_true",
                        help="also measure what the rules' check (section 12) costs, with a calling window")
    args = parser.parse_args()
    n, block = args.contacts, args.block
    times: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            d = Path(tmp) / str(i)
            d.mkdir()
            runs = {"ours": engine_blocks(d / "engine.db", n, block),
                    "same": same_schema_blocks(d / "same.db", n, block),
                    "lean": raw_blocks(d / "lean.db", n, block, feed=True),
                    "plain": raw_blocks(d / "plain.db", n, block, feed=False)}
            if args.gate:
                runs["gated"] = engine_blocks(d / "gated.db", n, block, window=True)
                runs["ungated"] = gate_off(engine_blocks(d / "ungated.db", n, block, window=True))
            for name, found in paired(runs).items():
                times.setdefault(name, []).extend(found)

    def rate(name: str) -> float:
        return len(times[name]) * block * STEPS / sum(times[name])

    print(f"preview path, {n} contacts x {STEPS} transitions, SQLite file; {args.repeat} rounds of blocks of "
          f"{block} contacts, the paths taking turns by block")
    print(f"  dialstate public API              : {rate('ours'):10,.0f} transitions/s")
    print(f"  raw sqlite3, dialstate's schema   : {rate('same'):10,.0f} transitions/s")
    print(f"  raw sqlite3, a lean schema        : {rate('lean'):10,.0f} transitions/s")
    print(f"  raw sqlite3, UPDATE + INSERT only : {rate('plain'):10,.0f} transitions/s")
    print(f"  ratio to the same writes          : {ratio(times['ours'], times['same']):10.2f}  (target >= 0.5)")
    print(f"  ratio to the lean schema          : {ratio(times['ours'], times['lean']):10.2f}")
    print(f"  ratio to UPDATE + INSERT only     : {ratio(times['ours'], times['plain']):10.2f}  (0.1.0's reference)")
    if args.gate:
        print("with a calling window (09:00-20:00, open), the rules checked on assign_operator and dial:")
        print(f"  dialstate, rules checked          : {rate('gated'):10,.0f} transitions/s")
        print(f"  dialstate, the check answering yes: {rate('ungated'):10,.0f} transitions/s")
        print(f"  cost of the check                 : {1 / ratio(times['gated'], times['ungated']) - 1:10.1%}"
              "  (target <= 15 %)")


if __name__ == "__main__":
    main()
