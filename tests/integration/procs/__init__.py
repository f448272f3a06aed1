"""Scripts that the multi-process tests start as child processes (see tests.support.processes)."""
