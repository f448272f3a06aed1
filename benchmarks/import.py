"""Import speed: generated contacts through `Engine.add_contacts` and through
`dialstate import` of a CSV file, beside raw `sqlite3` executemany of the same rows
without any validation (the floor the database itself sets).

    python benchmarks/import.py                 # one million rows, 2 % invalid
    python benchmarks/import.py --rows 100000

Each measurement runs in a process of its own, so its peak RSS (`ru_maxrss`) is its
own; the worker processes that prepare batches in parallel are reported apart (the
largest of them). Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

# Run as a script, this folder comes first on sys.path, where benchmarks/transitions.py
# would shadow the `transitions` library that dialstate is built on.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

#: Share of rows that are not valid numbers.
INVALID = 0.02
BATCH = 2000
#: A prime (coprime to 9,000,000): i -> i * SCATTER mod 9M is a permutation.
SCATTER = 2_654_435_761


def rows(count: int, seed: int = 1) -> Iterator[dict[str, object]]:
    """Contact rows as a CRM export has them: German numbers in national and
    international form, some British and US ones, 2 % invalid, a few data fields.
    The numbers come in no particular order (as a CRM sorts by customer, not by
    number), so the phone index takes them at random places, as it would in use."""
    rng = random.Random(seed)
    for i in range(count):
        roll = rng.random()
        n = 1_000_000 + (i * SCATTER) % 9_000_000  # distinct for each i below 9M, scattered
        if roll < INVALID:
            phone = rng.choice(("", "n/a", f"030 12O{n}", str(rng.randrange(100, 9999))))
        elif roll < 0.30:
            phone = f"030 {n}"  # national: read with the campaign's region
        elif roll < 0.80:
            phone = f"+49 30 {n}"
        elif roll < 0.90:
            phone = f"+44 20 7{n % 10_000_000:07d}"
        else:
            phone = f"+1 212 {200 + (n // 10_000) % 800} {n % 10_000:04d}"
        yield {"phone": phone, "external_id": f"crm-{i}", "data": {"segment": "renewal" if i % 3 else "winback"}}


def write_csv(path: Path, count: int) -> None:
    import csv

    with open(path, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["phone", "external_id", "segment"])
        for row in rows(count):
            out.writerow([row["phone"], row["external_id"], row["data"]["segment"]])  # type: ignore[index]


def _campaign(url: str) -> int:
    from dialstate import CallingWindow, Engine

    with Engine(url) as engine:
        return engine.create_campaign("Benchmark", "predictive", calling_window=CallingWindow("09:00", "20:00"),
                                      timezone="Europe/Berlin", default_region="DE").id


def measure_add_contacts(url: str, count: int) -> dict[str, object]:
    from dialstate import Engine

    campaign = _campaign(url)
    with Engine(url) as engine:
        started = time.perf_counter()
        report = engine.add_contacts(campaign, rows(count))
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "added": report.added, "invalid": report.invalid}


def measure_cli(url: str, count: int, csv_path: str) -> dict[str, object]:
    from typer.testing import CliRunner

    from dialstate.cli import app

    started = time.perf_counter()
    result = CliRunner().invoke(app, ["import", csv_path, "--new", "Benchmark", "--region", "DE",
                                      "--timezone", "Europe/Berlin", "--db", url, "--json"])
    seconds = time.perf_counter() - started
    if result.exit_code != 0:
        raise SystemExit(result.stderr)
    report = json.loads(result.stdout)
    return {"seconds": seconds, "added": report["added"], "invalid": report["invalid_record"]}


def measure_raw(url: str, count: int) -> dict[str, object]:
    """The same rows straight into the tables: no parsing, no zones, no duplicate check."""
    import sqlite3

    from dialstate.store.sqlite import IMPORT_CACHE_KIB

    campaign = _campaign(url)
    conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(f"PRAGMA cache_size = -{IMPORT_CACHE_KIB}")  # the page cache the import uses
    contact_sql = (
        "INSERT INTO ds_contact (id, campaign_id, phone, phone_key, state, version, seq, attempts, priority,"
        " timezone, zone_key, external_id, data, ready_since, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, 'ready', 1, 1, 0, 0, NULL, 'Europe/Berlin', ?, ?, ?, ?, ?)"
    )
    history_sql = (
        "INSERT INTO ds_history (contact_id, seq, from_state, to_state, trigger, at, actor, attempt, call_id,"
        " outcome, raw_code, dialect, policy_version, note) VALUES (?, 1, NULL, 'ready', 'add', ?, NULL, 0,"
        " NULL, NULL, NULL, NULL, 1, NULL)"
    )
    started = time.perf_counter()
    now = time.time()
    conn.execute("BEGIN IMMEDIATE")
    contacts, history = [], []
    for i, row in enumerate(rows(count), 1):
        phone = str(row["phone"])
        key = phone if len(phone) > 8 else None  # not a check: the invalid rows must not collide
        contacts.append((i, campaign, phone, key, row["external_id"], json.dumps(row["data"]), now, now, now))
        history.append((i, now))
        if len(contacts) == BATCH:
            conn.executemany(contact_sql, contacts)
            conn.executemany(history_sql, history)
            contacts, history = [], []
    if contacts:
        conn.executemany(contact_sql, contacts)
        conn.executemany(history_sql, history)
    conn.execute("COMMIT")
    seconds = time.perf_counter() - started
    conn.close()
    return {"seconds": seconds, "added": count, "invalid": 0}


def child(kind: str, url: str, count: int, csv_path: str) -> None:
    """Run one measurement in this process and print it as JSON."""
    if kind == "raw":
        result = measure_raw(url, count)
    elif kind == "add_contacts":
        result = measure_add_contacts(url, count)
    else:
        result = measure_cli(url, count, csv_path)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    result["peak_rss_mb"] = usage.ru_maxrss / 1024
    result["workers_peak_rss_mb"] = workers.ru_maxrss / 1024
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows to import (default 1,000,000)")
    parser.add_argument("--dir", type=Path, default=None, help="where the databases go (default: a temp dir)")
    parser.add_argument("--only", choices=("raw", "add_contacts", "cli"), action="append",
                        help="run only these measurements")
    parser.add_argument("--child", nargs=4, metavar=("KIND", "URL", "ROWS", "CSV"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, url, count, csv_path = args.child
        child(kind, url, int(count), csv_path)
        return
    workdir = Path(tempfile.mkdtemp(prefix="dialstate-bench-", dir=args.dir))
    csv_path = workdir / "contacts.csv"
    kinds = args.only or ["raw", "add_contacts", "cli"]
    if "cli" in kinds:
        started = time.perf_counter()
        write_csv(csv_path, args.rows)
        print(f"wrote {args.rows:,} rows to {csv_path} ({csv_path.stat().st_size / 2**20:.0f} MB) "
              f"in {time.perf_counter() - started:.1f} s")
    print(f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, {args.rows:,} rows, {INVALID:.0%} invalid\n")
    print(f"{'path':<34}{'seconds':>9}{'rows/s':>11}{'added':>11}{'invalid':>9}{'peak RSS':>10}{'workers':>9}")
    labels = {"raw": "raw sqlite3 executemany (no checks)", "add_contacts": "Engine.add_contacts",
              "cli": "dialstate import (CSV)"}
    for kind in kinds:
        url = f"sqlite:///{workdir / f'{kind}.db'}"
        done = subprocess.run([sys.executable, __file__, "--child", kind, url, str(args.rows), str(csv_path)],
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(f"{labels[kind]:<34} failed: {done.stderr.strip()[-500:]}")
            continue
        r = json.loads(done.stdout.strip().splitlines()[-1])
        rate = args.rows / r["seconds"]
        workers = f"{r['workers_peak_rss_mb']:.0f} MB" if r["workers_peak_rss_mb"] else "-"
        print(f"{labels[kind]:<34}{r['seconds']:>9.1f}{rate:>11,.0f}{r['added']:>11,}{r['invalid']:>9,}"
              f"{r['peak_rss_mb']:>7.0f} MB{workers:>9}")
    print(f"\n(databases and CSV in {workdir})")


if __name__ == "__main__":
    main()
