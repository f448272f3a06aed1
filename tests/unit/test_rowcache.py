"""The rows a SQLite connection keeps after its writes (dialstate.store.rowcache)."""

from __future__ import annotations

from dialstate.store.rowcache import MAX_ROWS, RowCache


def rows(first: int, n: int) -> list[dict[str, object]]:
    return [{"id": i, "state": "dialing"} for i in range(first, first + n)]


def test_a_kept_row_is_handed_out_as_a_copy_while_nothing_else_committed() -> None:
    cache = RowCache()
    cache.keep(rows(1, 1), version=7)
    got = cache.get(1, 7)
    assert got == {"id": 1, "state": "dialing"}
    assert got is not None
    got["state"] = "ready"
    assert cache.get(1, 7) == {"id": 1, "state": "dialing"}


def test_another_connections_commit_empties_it() -> None:
    cache = RowCache()
    cache.keep(rows(1, 3), version=7)
    assert cache.get(2, 8) is None
    assert cache.get(2, 7) is None  # emptied, not just missed


def test_a_write_it_cannot_keep_empties_it() -> None:
    cache = RowCache()
    cache.keep(rows(1, 3), version=7)
    cache.keep(None, version=7)
    assert cache.get(1, 7) is None


def test_it_keeps_at_most_max_rows_and_the_latest_of_them() -> None:
    cache = RowCache()
    written = 0
    # Claims of 100 and single triggers, well past the bound.
    for size in [100] * 30 + [1] * 500:
        cache.keep(rows(written, size), version=1)
        written += size
        assert sum(cache.get(i, 1) is not None for i in range(written)) <= MAX_ROWS
    assert all(cache.get(i, 1) is not None for i in range(written - MAX_ROWS * 3 // 4, written))
    assert cache.get(0, 1) is None
