-- History: one entry per transition, keyed by (contact, seq).

-- name: insert_entry
INSERT INTO ds_history ({history_columns}) VALUES ({history_params})

-- name: entries_of
SELECT {history_columns} FROM ds_history WHERE contact_id = ? ORDER BY seq

-- name: entry
SELECT {history_columns} FROM ds_history WHERE contact_id = ? AND seq = ?
