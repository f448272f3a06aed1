-- A campaign's counters: contacts by state (kind s), finished attempts by outcome (o),
-- answered calls (a).
--
-- SQLite: the history is the counters' log. `ds_stat` holds the sums of the entries up
-- to a place in the feed (the feed consumer named '', a name no subscriber can take);
-- a reader adds the entries after it, and a writer that finds 1024 of them waiting
-- folds them in (dialstate.store.sqlite: FOLD_EVERY, COUNT_EVERY). A transition writes
-- nothing for its counters. What an entry counts: dialstate.store.counters.
--
-- PostgreSQL: each transaction adds delta rows, which no two transactions share, and a
-- reader folds them into the counters now and then.

-- name: stat_add [postgresql]
INSERT INTO ds_stat_delta (campaign_id, kind, key, n) VALUES (?, ?, ?, ?)

-- name: stat_add [sqlite]
-- Add to the counters (a fold of the feed: dialstate.store.sqlite).
INSERT INTO ds_stat (campaign_id, kind, key, n) VALUES (?, ?, ?, ?)
ON CONFLICT (campaign_id, kind, key) DO UPDATE SET n = ds_stat.n + excluded.n

-- name: unfolded_entries [sqlite]
-- The entries after the counters' place in the feed, grouped by what they count
-- (dialstate.store.counters): campaign, from_state, to_state, trigger, outcome, how
-- many.
SELECT c.campaign_id, h.from_state, h.to_state, h.trigger, h.outcome, COUNT(*)
FROM ds_history h JOIN ds_contact c ON c.id = h.contact_id
WHERE h.position > COALESCE((SELECT position FROM ds_consumer WHERE name = ''), 0)
GROUP BY c.campaign_id, h.from_state, h.to_state, h.trigger, h.outcome

-- name: unfolded_count [sqlite]
-- How many entries the counters do not hold yet (the ends of two indexes).
SELECT COALESCE((SELECT MAX(position) FROM ds_history), 0)
     - COALESCE((SELECT position FROM ds_consumer WHERE name = ''), 0)

-- name: feed_folded [sqlite]
-- The counters now hold every entry (the writer lock is held). Parameter: now.
INSERT INTO ds_consumer (name, position, updated_at)
VALUES ('', (SELECT COALESCE(MAX(position), 0) FROM ds_history), ?)
ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at

-- name: stats_of [sqlite]
-- A campaign's folded counters as (kind, key, n, NULL...), then the entries after
-- them grouped as in `unfolded_entries` (kind NULL): one statement, one snapshot.
-- Parameters: the campaign, twice.
SELECT kind, key, n, NULL, NULL, NULL, NULL FROM ds_stat WHERE campaign_id = ?
UNION ALL
SELECT NULL, NULL, COUNT(*), h.from_state, h.to_state, h.trigger, h.outcome
FROM ds_history h JOIN ds_contact c ON c.id = h.contact_id
WHERE h.position > COALESCE((SELECT position FROM ds_consumer WHERE name = ''), 0) AND c.campaign_id = ?
GROUP BY h.from_state, h.to_state, h.trigger, h.outcome

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

-- name: move_stat_out [postgresql]
-- A bulk move's contacts leave their states (`<<where>>`, `?*` as in moves.sql).
INSERT INTO ds_stat_delta (campaign_id, kind, key, n)
SELECT campaign_id, 's', state, -COUNT(*) FROM ds_contact WHERE <<where>> AND state IN (?*)
GROUP BY campaign_id, state

-- name: move_stat_in [postgresql]
-- ... and enter the state they are moved to (the first parameter).
INSERT INTO ds_stat_delta (campaign_id, kind, key, n)
SELECT campaign_id, 's', ?, COUNT(*) FROM ds_contact WHERE <<where>> AND state IN (?*)
GROUP BY campaign_id
