"""A process that follows the transition feed, for the feed tests.

    python tests/integration/procs/feed_subscriber.py --db URL [--consumer NAME] [--slow SECONDS]

Subscribes with `scope="all"` (as the named consumer, when given) and prints READY,
then one line per event it hears: {"position": p, "contact": id, "to": state}. It
runs until its input ends (then it unsubscribes, storing a consumer's position) or it
is killed.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time

from dialstate import Engine, TransitionEvent


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--consumer")
    parser.add_argument("--slow", type=float, default=0.0)
    args = parser.parse_args()

    engine = Engine(args.db)
    printing = threading.Lock()  # whole lines, from the subscription's thread and this one

    def say(line: str) -> None:
        with printing:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()

    def heard(event: TransitionEvent) -> None:
        say(json.dumps({"position": event.position, "contact": event.contact.id,
                        "to": event.entry.to_state.value, "at": time.time()}))
        if args.slow:
            time.sleep(args.slow)

    with printing:  # READY comes first
        subscription = engine.subscribe(heard, scope="all", consumer=args.consumer)
        sys.stdout.write("READY\n")
        sys.stdout.flush()
    for _ in sys.stdin:
        pass
    engine.unsubscribe(subscription)
    engine.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
