-- The blacklist of numbers never to call.

-- name: blacklist_add
-- Parameters: phone, campaign (0: every campaign), expiry, note, actor, created_at.
INSERT INTO ds_blacklist (phone, campaign_id, expires_at, note, actor, created_at) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (phone, campaign_id) DO NOTHING

-- name: blacklist_remove
DELETE FROM ds_blacklist WHERE phone = ? AND campaign_id = ?

-- name: blacklist_entries
SELECT phone, campaign_id, expires_at, note, actor, created_at FROM ds_blacklist ORDER BY created_at, phone

-- name: blacklist_not_empty
SELECT 1 FROM ds_blacklist LIMIT 1

-- name: blacklisted_among
-- Which of the numbers (?*) are blacklisted in the campaign now. Parameters: the
-- campaign, now, the numbers.
SELECT phone FROM ds_blacklist WHERE campaign_id IN (0, ?) AND (expires_at IS NULL OR expires_at > ?)
AND phone IN (?*)

-- name: is_blacklisted
-- Parameters: the number, the campaign, now.
SELECT 1 FROM ds_blacklist WHERE phone = ? AND campaign_id IN (0, ?) AND (expires_at IS NULL OR expires_at > ?)
