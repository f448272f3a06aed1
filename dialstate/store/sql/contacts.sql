-- Contacts: reading them, and what the engine's decisions need to know of them.

-- name: select_contact
-- A contact with its campaign's status and current policy version, and whether its
-- number is on the blacklist now (the facts every trigger decides on).
SELECT {c_contact_columns}, k.status, k.policy_version,
       EXISTS (SELECT 1 FROM ds_blacklist b WHERE b.phone = c.phone_key) AS blacklisted
FROM ds_contact c JOIN ds_campaign k ON k.id = c.campaign_id
WHERE c.id = ?

-- name: contact_exists
SELECT 1 FROM ds_contact WHERE id = ?

-- name: contacts_page
-- A campaign's contacts by id, for paging: ids above the given one, at most the limit.
SELECT {contact_columns} FROM ds_contact WHERE campaign_id = ? AND id > ? ORDER BY id LIMIT ?

-- name: contacts_page_in_state
SELECT {contact_columns} FROM ds_contact WHERE campaign_id = ? AND id > ? AND state = ? ORDER BY id LIMIT ?

-- name: phone_taken
-- Another contact of the campaign with this number (E.164).
SELECT id FROM ds_contact WHERE campaign_id = ? AND phone_key = ? AND id <> ?

-- name: dial_times
-- When each attempt of a contact was dialed: a congested attempt, not counted, is
-- redialed under the same attempt number, so its last dial is the one that counts.
SELECT attempt, MAX(at) FROM ds_history WHERE contact_id = ? AND trigger = 'dial' GROUP BY attempt

-- name: last_dial_at
SELECT MAX(at) FROM ds_history WHERE contact_id = ? AND trigger = 'dial'
