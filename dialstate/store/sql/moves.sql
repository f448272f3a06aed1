-- Writing transitions: one guarded UPDATE of the contact and its history entries, for
-- one contact, a batch, or set-wise (`<<where>>` chooses the contacts; `?*` lists the
-- states they may be in). The per-contact UPDATE is built from the columns a change
-- touches (dialstate.store.writer).

-- name: move_select
-- The contacts a bulk move takes, with the seq of their new entry's predecessor.
SELECT id, seq FROM ds_contact WHERE <<where>> AND state IN (?*)

-- name: move_select [postgresql]
SELECT id, seq FROM ds_contact WHERE <<where>> AND state IN (?*) FOR UPDATE

-- name: move_history
INSERT INTO ds_history ({history_columns})
SELECT id, seq + 1, state, ?, ?, ?, ?, attempts, call_id, NULL, NULL, NULL,
       (SELECT k.policy_version FROM ds_campaign k WHERE k.id = ds_contact.campaign_id), ?
FROM ds_contact WHERE <<where>> AND state IN (?*)

-- name: move_update
UPDATE ds_contact SET state = ?, version = version + 1, seq = seq + 1, updated_at = ?, due_at = NULL,
       ready_since = COALESCE(?, ready_since), <<clears>>
WHERE <<where>> AND state IN (?*)

-- name: where_campaign
campaign_id = ?

-- name: where_number
-- A number's contacts in every campaign, through the (campaign_id, phone_key) unique
-- index one campaign at a time (campaigns are few; contacts are many).
campaign_id IN (SELECT id FROM ds_campaign) AND phone_key = ?

-- name: where_number_not_on_a_call
-- The same, leaving out a predictive client waiting for an operator: like every
-- contact in a call it keeps it, and becomes blacklisted when the call ends.
campaign_id IN (SELECT id FROM ds_campaign) AND phone_key = ?
AND NOT (state = 'awaiting_operator' AND campaign_id IN (SELECT id FROM ds_campaign WHERE mode = 'predictive'))
AND id <> ?
