-- History: one entry per transition, keyed by (contact, seq). An entry's feed
-- position is its `position` on SQLite, its transaction's base plus its `ordinal` on
-- PostgreSQL (dialstate.store.feed).

-- name: insert_entry [sqlite]
-- The last parameter is the entry's feed position.
INSERT INTO ds_history ({history_columns}, position) VALUES ({history_params}, ?)

-- name: insert_next_entry [sqlite]
-- An entry at the next position (the writer lock is held). The position is not
-- returned: a RETURNING clause costs a trigger a tenth of its time, and the position
-- is wanted only when a subscriber listens (`entry_position`, after the commit).
INSERT INTO ds_history ({history_columns}, position)
VALUES ({history_params}, (SELECT COALESCE(MAX(position), 0) + 1 FROM ds_history))

-- name: entry_position [sqlite]
SELECT position FROM ds_history WHERE contact_id = ? AND seq = ?

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

-- name: events [sqlite]
-- The feed: entries after a position, in commit order, each with its contact as it is
-- now. Parameters: the position, the limit.
SELECT {h_history_columns}, h.position, {c_contact_columns}
FROM ds_history h JOIN ds_contact c ON c.id = h.contact_id
WHERE h.position > ? ORDER BY h.position LIMIT ?

-- name: events [postgresql]
-- Parameters: the position (twice), the limit. Commits are in position order, so the
-- commit index walks them in order.
SELECT {h_history_columns}, k.base + h.ordinal, {c_contact_columns}
FROM ds_commit k JOIN ds_history h ON h.tx = k.tx JOIN ds_contact c ON c.id = h.contact_id
WHERE k.last > ? AND k.base + h.ordinal > ? ORDER BY k.last, h.ordinal LIMIT ?

-- name: events_in_campaign [sqlite]
-- The same, of one campaign's contacts. Parameters: the position, the campaign, the limit.
SELECT {h_history_columns}, h.position, {c_contact_columns}
FROM ds_history h JOIN ds_contact c ON c.id = h.contact_id
WHERE h.position > ? AND c.campaign_id = ? ORDER BY h.position LIMIT ?

-- name: events_in_campaign [postgresql]
-- Parameters: the position (twice), the campaign, the limit.
SELECT {h_history_columns}, k.base + h.ordinal, {c_contact_columns}
FROM ds_commit k JOIN ds_history h ON h.tx = k.tx JOIN ds_contact c ON c.id = h.contact_id
WHERE k.last > ? AND k.base + h.ordinal > ? AND c.campaign_id = ? ORDER BY k.last, h.ordinal LIMIT ?

-- name: feed_end [sqlite]
-- The newest position (0 for an empty feed).
SELECT COALESCE(MAX(position), 0) FROM ds_history

-- name: feed_end [postgresql]
SELECT COALESCE(MAX(last), 0) FROM ds_commit

-- name: consumer_position
SELECT position FROM ds_consumer WHERE name = ?

-- name: consumer_save
INSERT INTO ds_consumer (name, position, updated_at) VALUES (?, ?, ?)
ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at
