"""A dialer process for the claiming tests, started with subprocess.

    python tests/integration/procs/claimer.py --db URL --campaign ID --limit N

Prints READY once its engine is open, waits for a line on standard input (so that
several processes start claiming together), then calls `dial_next(campaign, limit)`
until it returns nothing, and prints {"claimed": [[contact_id, call_id], ...]} as its
last line.
"""

from __future__ import annotations

import argparse
import json
import sys

from dialstate import Engine


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--campaign", type=int, required=True)
    parser.add_argument("--limit", type=int, default=10)
    args = parser.parse_args()

    engine = Engine(args.db)
    print("READY", flush=True)
    sys.stdin.readline()
    claimed: list[list[object]] = []
    while batch := engine.dial_next(args.campaign, args.limit):
        claimed.extend([c.id, c.call_id] for c in batch)
    engine.close()
    print(json.dumps({"claimed": claimed}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
