-- Claiming ready contacts: each is handed to exactly one caller. Placeholders `?*`
-- are lists and `<<slot>>` parts filled in at run time (dialstate.store.claims).

-- name: claim_ready
-- The first ready contacts of a campaign in claim order (no calling window).
SELECT {contact_columns} FROM ds_contact
WHERE campaign_id = ? AND state = 'ready' AND <<personal>>
ORDER BY priority DESC, ready_since, id LIMIT ?

-- name: claim_ready [postgresql]
SELECT {contact_columns} FROM ds_contact
WHERE campaign_id = ? AND state = 'ready' AND <<personal>>
ORDER BY priority DESC, ready_since, id LIMIT ?
FOR UPDATE SKIP LOCKED

-- name: personal_for_operator
-- A personal callback waits for its operator until its grace has passed.
(callback_operator_id IS NULL OR callback_operator_id = ? OR personal_until <= ?)

-- name: personal_for_anyone
(callback_operator_id IS NULL OR personal_until <= ?)

-- name: zone_candidates
-- The first ready contacts of one zone set (the `<<i>>`th), read from the zone-led
-- index: one part of a UNION ALL over the zone sets whose window is open. Each row
-- says which part it came from.
SELECT *, <<i>> FROM (SELECT priority, ready_since, id FROM ds_contact
  WHERE campaign_id = ? AND zone_key = ? AND state = 'ready' AND <<personal>> <<skip>>
  ORDER BY priority DESC, ready_since, id LIMIT ?) AS z<<i>>

-- name: lock_candidates
SELECT {contact_columns} FROM ds_contact WHERE id IN (?*) AND state = 'ready'
ORDER BY priority DESC, ready_since, id

-- name: lock_candidates [postgresql]
SELECT {contact_columns} FROM ds_contact WHERE id IN (?*) AND state = 'ready'
ORDER BY priority DESC, ready_since, id
FOR UPDATE SKIP LOCKED
