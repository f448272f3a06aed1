"""How fast the engine drives contacts through the preview path, beside raw SQL.

    python benchmarks/transitions.py [--contacts 2000] [--repeat 3]

Our path: N contacts through assign_next, accept, dial, answered, call_ended and
wrap_up, through the public API, on a SQLite file. The reference: raw `sqlite3`
doing the same writes (one guarded UPDATE and one history INSERT per transition, one
commit each; WAL, synchronous=NORMAL). Both run in this process, one after the other,
and the best of `--repeat` rounds is compared. The target is a ratio of at least 0.5.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

# This file's name shadows the `transitions` library the engine is built on when run as
# a script (its folder comes first on sys.path): take the folder off the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from dialstate import DialMode, Engine  # noqa: E402

STEPS = 6  # transitions per contact on the preview path


def phones(n: int) -> list[str]:
    return [f"+1 212 {200 + i // 10000:03d} {i % 10000:04d}" for i in range(n)]


def run_engine(path: Path, n: int) -> float:
    engine = Engine(f"sqlite:///{path}")
    campaign = engine.create_campaign("bench", mode=DialMode.PREVIEW, default_region="US")
    engine.add_contacts(campaign.id, phones(n))
    start = time.perf_counter()
    for _ in range(n):
        contact = engine.assign_next(campaign.id, "op1")
        assert contact is not None
        cid = contact.id
        engine.accept(cid)
        engine.dial(cid)
        engine.answered(cid)
        engine.call_ended(cid, "completed")
        engine.wrap_up(cid, "success")
    elapsed = time.perf_counter() - start
    assert engine.campaign_stats(campaign.id)["success"] == n
    engine.close()
    return n * STEPS / elapsed


RAW_SCHEMA = """
CREATE TABLE contact (id INTEGER PRIMARY KEY, campaign_id INTEGER NOT NULL, phone TEXT NOT NULL,
    state TEXT NOT NULL, version INTEGER NOT NULL, seq INTEGER NOT NULL, attempts INTEGER NOT NULL,
    operator_id TEXT, call_id TEXT, priority INTEGER NOT NULL DEFAULT 0, ready_since REAL,
    updated_at REAL);
CREATE INDEX contact_claim ON contact (campaign_id, state, priority DESC, ready_since, id);
CREATE TABLE history (id INTEGER PRIMARY KEY, contact_id INTEGER NOT NULL, seq INTEGER NOT NULL,
    from_state TEXT, to_state TEXT NOT NULL, trigger TEXT NOT NULL, at REAL NOT NULL,
    UNIQUE (contact_id, seq));
"""

PATH = [
    ("ready", "operator_assigned", "assign_operator"),
    ("operator_assigned", "before_call_work", "accept"),
    ("before_call_work", "dialing", "dial"),
    ("dialing", "call_in_progress", "answered"),
    ("call_in_progress", "after_call_work", "call_ended"),
    ("after_call_work", "success", "wrap_up"),
]


def run_raw(path: Path, n: int) -> float:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.executescript(RAW_SCHEMA)
    with conn:
        conn.executemany(
            "INSERT INTO contact (id, campaign_id, phone, state, version, seq, attempts, ready_since)"
            " VALUES (?, 1, ?, 'ready', 1, 1, 0, ?)",
            [(i + 1, p, float(i)) for i, p in enumerate(phones(n))],
        )
    start = time.perf_counter()
    for cid in range(1, n + 1):
        version = seq = 1
        for from_state, to_state, trigger in PATH:
            now = time.time()
            cur = conn.execute(
                "UPDATE contact SET state = ?, version = version + 1, seq = seq + 1, updated_at = ?"
                " WHERE id = ? AND version = ? AND state = ?",
                (to_state, now, cid, version, from_state),
            )
            assert cur.rowcount == 1
            version += 1
            seq += 1
            conn.execute(
                "INSERT INTO history (contact_id, seq, from_state, to_state, trigger, at) VALUES (?, ?, ?, ?, ?, ?)",
                (cid, seq, from_state, to_state, trigger, now),
            )
            conn.commit()
    elapsed = time.perf_counter() - start
    conn.close()
    return n * STEPS / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    ours, raw = 0.0, 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            ours = max(ours, run_engine(Path(tmp) / f"engine{i}.db", args.contacts))
            raw = max(raw, run_raw(Path(tmp) / f"raw{i}.db", args.contacts))
    print(f"preview path, {args.contacts} contacts x {STEPS} transitions, SQLite file (best of {args.repeat})")
    print(f"  dialstate public API : {ours:10,.0f} transitions/s")
    print(f"  raw sqlite3 writes   : {raw:10,.0f} transitions/s")
    print(f"  ratio                : {ours / raw:10.2f}  (target >= 0.5)")


if __name__ == "__main__":
    main()
