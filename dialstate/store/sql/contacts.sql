-- Contacts: reading them, and what the engine's decisions need to know of them.

-- name: select_contact
-- A contact with its campaign's status and the versions of its settings and policy in
-- force, and whether its number is on the blacklist now (the facts every trigger
-- decides on). Parameters: now, the contact's id.
SELECT {c_contact_columns}, k.status, k.settings_version, k.policy_version,
       EXISTS (SELECT 1 FROM ds_blacklist b WHERE b.phone = c.phone_key AND b.campaign_id IN (0, c.campaign_id)
               AND (b.expires_at IS NULL OR b.expires_at > ?)) AS blacklisted
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
SELECT contact_id FROM ds_number WHERE campaign_id = ? AND phone_key = ? AND contact_id <> ?

-- name: drop_numbers
DELETE FROM ds_number WHERE contact_id = ?

-- name: add_number
INSERT INTO ds_number (campaign_id, phone_key, contact_id) VALUES (?, ?, ?)

-- name: dial_times
-- When each attempt of a contact was dialed: a congested attempt, not counted, is
-- redialed under the same attempt number, so its last dial is the one that counts.
SELECT attempt, MAX(at) FROM ds_history WHERE contact_id = ? AND trigger = 'dial' GROUP BY attempt

-- name: last_dial_at
SELECT MAX(at) FROM ds_history WHERE contact_id = ? AND trigger = 'dial'
