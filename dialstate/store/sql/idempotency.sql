-- Idempotency keys: a trigger call made with a key, and the snapshot it returned.

-- name: idempotent_reply
SELECT contact_id, trigger, snapshot FROM ds_idempotency WHERE key = ?

-- name: remember_reply
INSERT INTO ds_idempotency (key, contact_id, trigger, snapshot, created_at) VALUES (?, ?, ?, ?, ?)
