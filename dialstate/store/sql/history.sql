-- History: one entry per transition, keyed by (contact, seq). An entry's feed
-- position is its `position` on SQLite, its transaction's base plus its `ordinal` on
-- PostgreSQL (dialstate.store.feed).

-- name: insert_entry [sqlite]
-- The last parameter is the entry's feed position.
INSERT INTO ds_history ({history_columns}, position) VALUES ({history_params}, ?)

-- name: insert_entry [postgresql]
-- The last parameter is the entry's ordinal in its transaction.
INSERT INTO ds_history ({history_columns}, tx, ordinal)
VALUES ({history_params}, pg_current_xact_id()::text::bigint, ?)

-- name: entries_of [sqlite]
SELECT {history_columns}, position FROM ds_history WHERE contact_id = ? ORDER BY seq

-- name: entries_of [postgresql]
SELECT {h_history_columns}, k.base + h.ordinal
FROM ds_history h LEFT JOIN ds_commit k ON k.tx = h.tx WHERE h.contact_id = ? ORDER BY h.seq

-- name: entry [sqlite]
SELECT {history_columns}, position FROM ds_history WHERE contact_id = ? AND seq = ?

-- name: entry [postgresql]
SELECT {h_history_columns}, k.base + h.ordinal
FROM ds_history h LEFT JOIN ds_commit k ON k.tx = h.tx WHERE h.contact_id = ? AND h.seq = ?

-- name: feed_base [sqlite]
-- The position a transaction's first entry takes (the writer lock is held).
SELECT COALESCE(MAX(position), 0) + 1 FROM ds_history

-- name: feed_commit [postgresql]
-- A transaction's positions, taken last, in commit order: the ds_feed row stays locked
-- until the commit. Parameters: the number of entries, four times.
WITH taken AS (UPDATE ds_feed SET next = next + ? WHERE id = 1 RETURNING next - ? AS base)
INSERT INTO ds_commit (tx, base, n, last)
SELECT pg_current_xact_id()::text::bigint, base, ?, base + ? - 1 FROM taken
RETURNING base
