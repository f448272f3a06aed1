"""A dialer process for the claiming tests, started with subprocess.

    python tests/integration/procs/claimer.py --db URL --campaign ID --limit N

Prints READY once its engine is open. Then, for each line "claim" on standard input,
calls `dial_next(campaign, limit)` once and prints {"claimed": [[contact_id,
call_id], ...]}: the test sends the line to every claimer at once, and the next one
when all have answered, so that they claim in lock-step rounds. On "stop" (or the end
of its input) it prints everything it claimed, in the same form, as its last line.
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
    claimed: list[list[object]] = []
    for line in sys.stdin:
        if line.strip() != "claim":
            break
        batch: list[list[object]] = [[c.id, c.call_id] for c in engine.dial_next(args.campaign, args.limit)]
        claimed.extend(batch)
        print(json.dumps({"claimed": batch}), flush=True)
    engine.close()
    print(json.dumps({"claimed": claimed}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
