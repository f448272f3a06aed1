-- A campaign's counters: contacts by state (kind s), finished attempts by outcome (o),
-- answered calls (a), kept in the transitions' own transactions. SQLite adds to the
-- counter rows (its writers take turns); PostgreSQL adds delta rows, which no two
-- transactions share, and folds them into the counters now and then.

-- name: stat_add
INSERT INTO ds_stat (campaign_id, kind, key, n) VALUES (?, ?, ?, ?)
ON CONFLICT (campaign_id, kind, key) DO UPDATE SET n = ds_stat.n + excluded.n

-- name: stat_add [postgresql]
INSERT INTO ds_stat_delta (campaign_id, kind, key, n) VALUES (?, ?, ?, ?)

-- name: stats_of
SELECT kind, key, SUM(n) FROM ds_stat WHERE campaign_id = ? GROUP BY kind, key

-- name: stats_of [postgresql]
-- Parameters: the campaign, twice.
SELECT kind, key, SUM(n) FROM (
  SELECT kind, key, n FROM ds_stat WHERE campaign_id = ?
  UNION ALL SELECT kind, key, n FROM ds_stat_delta WHERE campaign_id = ?) AS counted
GROUP BY kind, key

-- name: stat_deltas [postgresql]
-- How many delta rows wait to be folded (up to the limit).
SELECT COUNT(*) FROM (SELECT 1 FROM ds_stat_delta WHERE campaign_id = ? LIMIT ?) AS waiting

-- name: fold_stats [postgresql]
-- Fold a campaign's delta rows into its counters. Parameter: the campaign, twice.
WITH folded AS (DELETE FROM ds_stat_delta WHERE campaign_id = ? RETURNING kind, key, n)
INSERT INTO ds_stat (campaign_id, kind, key, n)
SELECT ?, kind, key, SUM(n) FROM folded GROUP BY kind, key ORDER BY kind, key
ON CONFLICT (campaign_id, kind, key) DO UPDATE SET n = ds_stat.n + excluded.n

-- name: move_stat_out
-- A bulk move's contacts leave their states (`<<where>>`, `?*` as in moves.sql).
INSERT INTO ds_stat (campaign_id, kind, key, n)
SELECT campaign_id, 's', state, -COUNT(*) FROM ds_contact WHERE <<where>> AND state IN (?*)
GROUP BY campaign_id, state
ON CONFLICT (campaign_id, kind, key) DO UPDATE SET n = ds_stat.n + excluded.n

-- name: move_stat_out [postgresql]
INSERT INTO ds_stat_delta (campaign_id, kind, key, n)
SELECT campaign_id, 's', state, -COUNT(*) FROM ds_contact WHERE <<where>> AND state IN (?*)
GROUP BY campaign_id, state

-- name: move_stat_in
-- ... and enter the state they are moved to (the first parameter).
INSERT INTO ds_stat (campaign_id, kind, key, n)
SELECT campaign_id, 's', ?, COUNT(*) FROM ds_contact WHERE <<where>> AND state IN (?*)
GROUP BY campaign_id
ON CONFLICT (campaign_id, kind, key) DO UPDATE SET n = ds_stat.n + excluded.n

-- name: move_stat_in [postgresql]
INSERT INTO ds_stat_delta (campaign_id, kind, key, n)
SELECT campaign_id, 's', ?, COUNT(*) FROM ds_contact WHERE <<where>> AND state IN (?*)
GROUP BY campaign_id
