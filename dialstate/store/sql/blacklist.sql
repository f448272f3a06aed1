-- The blacklist of numbers never to call.

-- name: blacklist_add
INSERT INTO ds_blacklist (phone, note, created_at) VALUES (?, ?, ?) ON CONFLICT (phone) DO NOTHING

-- name: blacklist_remove
DELETE FROM ds_blacklist WHERE phone = ?

-- name: blacklist_entries
SELECT phone, note FROM ds_blacklist ORDER BY phone

-- name: blacklist_not_empty
SELECT 1 FROM ds_blacklist LIMIT 1

-- name: blacklisted_among
-- Which of the numbers (a list of placeholders) are blacklisted.
SELECT phone FROM ds_blacklist WHERE phone IN (?*)

-- name: is_blacklisted
SELECT 1 FROM ds_blacklist WHERE phone = ?
