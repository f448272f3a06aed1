"""The scheduler of spec section 7: fires the due times kept in the contact rows.

`Scheduler(engine).run_pending()` fires what is due now; `start()` / `shutdown()` run
it in the background on APScheduler; `dialstate.scheduler.worker.run_worker` runs it
in the foreground (the `dialstate worker` command).
"""

from __future__ import annotations

from dialstate.scheduler.core import Scheduler

__all__ = ["Scheduler"]
