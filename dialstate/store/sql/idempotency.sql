-- Idempotency keys: a trigger call made with a key, and the snapshot it returned.

-- name: idempotent_reply
-- The call a key was used for (as `fingerprint` words it) and the snapshot it returned.
SELECT contact_id, trigger, snapshot, fingerprint FROM ds_idempotency WHERE key = ?

-- name: remember_reply
INSERT INTO ds_idempotency (key, contact_id, trigger, snapshot, created_at, fingerprint) VALUES (?, ?, ?, ?, ?, ?)
