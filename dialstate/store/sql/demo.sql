-- What the demo reads to tell its story.

-- name: demo_sample_reached_late
-- A contact reached after several attempts, for the demo's timeline.
SELECT id FROM ds_contact WHERE campaign_id = ? AND state = 'success' AND attempts >= 2 AND id <> ?
ORDER BY attempts DESC, id LIMIT 1

-- name: demo_sample_busiest
SELECT id FROM ds_contact WHERE campaign_id = ? AND id <> ? ORDER BY seq DESC, id LIMIT 1

-- name: demo_campaign_names
SELECT name FROM ds_campaign ORDER BY id
