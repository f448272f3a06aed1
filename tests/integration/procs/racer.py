"""A process that races others to drive the same agentless contacts, for the
concurrency tests, started with subprocess.

    python tests/integration/procs/racer.py --db URL --contacts 1,2,3

Prints READY once its engine is open, waits for a line on standard input (so that
several processes race together), then for each contact in turn tries `dial`,
`answered` and `call_ended(completed)`, each once, counting what it won and how it
lost. Its last line is {"won": [[contact_id, trigger], ...], "lost": {error: n}}.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Callable

from dialstate import ConcurrentUpdate, Engine, InvalidTransition, Outcome

STEPS: dict[str, Callable[[Engine, int], object]] = {
    "dial": lambda e, c: e.dial(c),
    "answered": lambda e, c: e.answered(c),
    "call_ended": lambda e, c: e.call_ended(c, Outcome.COMPLETED),
}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--contacts", required=True)
    args = parser.parse_args()
    contacts = [int(c) for c in args.contacts.split(",")]

    engine = Engine(args.db)
    print("READY", flush=True)
    sys.stdin.readline()
    won: list[list[object]] = []
    lost: Counter[str] = Counter()
    for cid in contacts:
        for name, step in STEPS.items():
            try:
                step(engine, cid)
            except (InvalidTransition, ConcurrentUpdate) as exc:
                lost[type(exc).__name__] += 1
            else:
                won.append([cid, name])
    engine.close()
    print(json.dumps({"won": won, "lost": dict(lost)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
