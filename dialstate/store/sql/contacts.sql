-- Contacts: reading them, and what the engine's decisions need to know of them.

-- name: select_contact
-- A contact with its campaign's status and the versions of its settings and policy in
-- force, and until when its number is on the blacklist (the facts every trigger
-- decides on). Parameters: now, the contact's id.
SELECT {c_contact_columns}, k.status, k.settings_version, k.policy_version,
       {blacklisted_until} AS blacklisted
FROM ds_contact c JOIN ds_campaign k ON k.id = c.campaign_id
WHERE c.id = ?

-- name: data_version [sqlite]
-- Changes when another connection commits (dialstate.store.rowcache).
PRAGMA data_version

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
-- A contact's numbers (?*), which its row says. Parameters: the campaign, the contact.
DELETE FROM ds_number WHERE campaign_id = ? AND contact_id = ? AND phone_key IN (?*)

-- name: add_number
INSERT INTO ds_number (campaign_id, phone_key, contact_id) VALUES (?, ?, ?)

-- name: dial_times
-- When each attempt of a contact was dialed: a congested attempt, not counted, is
-- redialed under the same attempt number, so its last dial is the one that counts.
SELECT attempt, MAX(at) FROM ds_history WHERE contact_id = ? AND trigger = 'dial' GROUP BY attempt

-- name: last_dial_at
SELECT MAX(at) FROM ds_history WHERE contact_id = ? AND trigger = 'dial'

-- name: call_contact
-- The contact that has or had a call (its dial, or a failure to place it).
SELECT contact_id FROM ds_history WHERE call_id = ? AND trigger IN ('dial', 'dial_failed') LIMIT 1

-- name: contacts_by_external_id
SELECT {contact_columns} FROM ds_contact WHERE external_id = ? ORDER BY id

-- name: contacts_by_external_id_in_campaign
SELECT {contact_columns} FROM ds_contact WHERE external_id = ? AND campaign_id = ? ORDER BY id

-- name: contacts_by_number
-- A number's contacts in every campaign (through ds_number's key, campaign by campaign).
SELECT {c_contact_columns} FROM ds_number n JOIN ds_contact c ON c.id = n.contact_id
WHERE n.campaign_id IN (SELECT id FROM ds_campaign) AND n.phone_key = ? ORDER BY c.id

-- name: contacts_by_number_in_campaign
SELECT {c_contact_columns} FROM ds_number n JOIN ds_contact c ON c.id = n.contact_id
WHERE n.campaign_id = ? AND n.phone_key = ?

-- name: external_id_taken
-- Another contact of the campaign with this external id.
SELECT id FROM ds_contact WHERE external_id = ? AND campaign_id = ? AND id <> ? LIMIT 1

-- name: external_ids_in_campaign
-- Which of the external ids (?*) contacts of the campaign have. Parameters: the
-- campaign, the ids.
SELECT external_id FROM ds_contact WHERE campaign_id = ? AND external_id IN (?*)

-- name: dial_times_of
-- `dial_times` for several contacts (?*): contact, attempt, when.
SELECT contact_id, attempt, MAX(at) FROM ds_history WHERE contact_id IN (?*) AND trigger = 'dial'
GROUP BY contact_id, attempt
