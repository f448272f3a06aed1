-- The scheduler's work list: contacts whose due time has come.

-- name: select_due
-- One batch of due contacts, with the facts their timer rules decide on. PostgreSQL
-- locks them (another scheduler process skips them); SQLite holds the writer lock.
-- Parameters: now (the blacklist), now (due), the batch size.
SELECT {c_contact_columns}, k.status, k.settings_version, k.policy_version,
       {blacklisted_until} AS blacklisted
FROM ds_contact c JOIN ds_campaign k ON k.id = c.campaign_id
WHERE c.due_at <= ? ORDER BY c.due_at, c.id LIMIT ?

-- name: select_due [postgresql]
SELECT {c_contact_columns}, k.status, k.settings_version, k.policy_version,
       {blacklisted_until} AS blacklisted
FROM ds_contact c JOIN ds_campaign k ON k.id = c.campaign_id
WHERE c.due_at <= ? ORDER BY c.due_at, c.id LIMIT ?
FOR UPDATE OF c SKIP LOCKED

-- name: put_off
-- A contact whose timer rule failed waits a while (the others of its batch fire).
UPDATE ds_contact SET due_at = ? WHERE id = ? AND version = ?

-- name: next_due_at
-- Read from the partial due index.
SELECT MIN(due_at) FROM ds_contact WHERE due_at IS NOT NULL

-- name: due_count
SELECT COUNT(*) FROM ds_contact WHERE due_at <= ?
