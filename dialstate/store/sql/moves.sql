-- Writing transitions: one guarded UPDATE of the contact and its history entries, for
-- one contact, a batch, or set-wise (`<<where>>` chooses the contacts; `?*` lists the
-- states they may be in). The per-contact UPDATE is built from the columns a change
-- touches (dialstate.store.writer).

-- name: move_select
-- The contacts a bulk move takes, with the seq of their new entry's predecessor, in
-- the order their entries take (by id).
SELECT id, seq FROM ds_contact WHERE <<where>> AND state IN (?*) ORDER BY id

-- name: move_select [postgresql]
SELECT id, seq FROM ds_contact WHERE <<where>> AND state IN (?*) ORDER BY id FOR UPDATE

-- name: move_history [sqlite]
-- The 6th parameter is the feed position of the first entry.
INSERT INTO ds_history ({history_columns}, position)
SELECT id, seq + 1, state, ?, ?, ?, ?, attempts, call_id, NULL, NULL, NULL,
       (SELECT k.policy_version FROM ds_campaign k WHERE k.id = ds_contact.campaign_id), ?, NULL,
       ? + row_number() OVER (ORDER BY id) - 1
FROM ds_contact WHERE <<where>> AND state IN (?*)

-- name: move_history [postgresql]
-- The 6th parameter is the ordinal of the first entry in this transaction.
INSERT INTO ds_history ({history_columns}, tx, ordinal)
SELECT id, seq + 1, state, ?, ?, ?, ?, attempts, call_id, NULL, NULL, NULL,
       (SELECT k.policy_version FROM ds_campaign k WHERE k.id = ds_contact.campaign_id), ?, NULL,
       pg_current_xact_id()::text::bigint, ? + row_number() OVER (ORDER BY id) - 1
FROM ds_contact WHERE <<where>> AND state IN (?*)

-- name: move_update
UPDATE ds_contact SET state = ?, version = version + 1, seq = seq + 1, updated_at = ?, due_at = NULL,
       ready_since = COALESCE(?, ready_since), <<clears>>
WHERE <<where>> AND state IN (?*)

-- name: where_campaign
campaign_id = ?

-- name: where_number
-- A number's contacts in the campaigns an entry covers (the first parameter: one
-- campaign, or 0 for all), through the (campaign_id, phone_key) unique index one
-- campaign at a time (campaigns are few; contacts are many). Contacts with several
-- numbers are left to `recheck_several`.
campaign_id IN (SELECT id FROM ds_campaign WHERE ? IN (0, id)) AND phone_key = ? AND numbers IS NULL

-- name: where_number_not_on_a_call
-- The same, leaving out a predictive client waiting for an operator: like every
-- contact in a call it keeps it, and becomes blacklisted when the call ends.
campaign_id IN (SELECT id FROM ds_campaign WHERE ? IN (0, id)) AND phone_key = ? AND numbers IS NULL
AND NOT (state = 'awaiting_operator' AND campaign_id IN (SELECT id FROM ds_campaign WHERE mode = 'predictive'))
AND id <> ?

-- name: where_number_unlisted
-- The same contacts, those that no blacklist entry in force (as of the third
-- parameter) holds any more.
campaign_id IN (SELECT id FROM ds_campaign WHERE ? IN (0, id)) AND phone_key = ? AND numbers IS NULL
AND NOT EXISTS (SELECT 1 FROM ds_blacklist b WHERE b.phone = ds_contact.phone_key
                AND b.campaign_id IN (0, ds_contact.campaign_id) AND (b.expires_at IS NULL OR b.expires_at > ?))
