-- Campaigns, their retry policy versions, the zone sets of their contacts, statistics.

-- name: insert_campaign
INSERT INTO ds_campaign ({campaign_insert_columns}) VALUES ({campaign_insert_params}) RETURNING id

-- name: select_campaigns
SELECT {campaign_columns} FROM ds_campaign ORDER BY id

-- name: select_campaign
SELECT {campaign_columns} FROM ds_campaign WHERE id = ?

-- name: select_campaign_for_update [postgresql]
SELECT {campaign_columns} FROM ds_campaign WHERE id = ? FOR UPDATE

-- name: select_campaign_for_update
SELECT {campaign_columns} FROM ds_campaign WHERE id = ?

-- name: campaign_status
-- A campaign's status and the versions of its settings and policy in force.
SELECT status, settings_version, policy_version FROM ds_campaign WHERE id = ?

-- name: campaign_status_for_update [postgresql]
SELECT status, settings_version, policy_version FROM ds_campaign WHERE id = ? FOR UPDATE

-- name: campaign_status_for_update
SELECT status, settings_version, policy_version FROM ds_campaign WHERE id = ?

-- name: set_campaign_status
UPDATE ds_campaign SET status = ? WHERE id = ?

-- name: insert_policy
INSERT INTO ds_retry_policy (campaign_id, version, policy, created_at) VALUES (?, ?, ?, ?)

-- name: select_policy
SELECT policy FROM ds_retry_policy WHERE campaign_id = ? AND version = ?

-- name: set_policy_version
UPDATE ds_campaign SET policy_version = ? WHERE id = ?

-- name: add_zone_key
-- A zone set that contacts of the campaign are checked in (claims test it once per set).
INSERT INTO ds_campaign_zone (campaign_id, zone_key) VALUES (?, ?) ON CONFLICT (campaign_id, zone_key) DO NOTHING

-- name: zone_keys
SELECT zone_key FROM ds_campaign_zone WHERE campaign_id = ?

-- name: attempts_histogram
SELECT attempts, COUNT(*) FROM ds_contact WHERE campaign_id = ? GROUP BY attempts ORDER BY attempts

-- name: update_campaign_settings
-- `<<sets>>`: the changed settings' columns; the settings version moves on.
UPDATE ds_campaign SET <<sets>>, settings_version = settings_version + 1 WHERE id = ?

-- name: add_campaign_change
INSERT INTO ds_campaign_change (campaign_id, at, actor, setting, old, new) VALUES (?, ?, ?, ?, ?, ?)

-- name: campaign_changes
SELECT at, actor, setting, old, new FROM ds_campaign_change WHERE campaign_id = ? ORDER BY id
