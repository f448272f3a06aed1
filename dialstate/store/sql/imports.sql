-- add_contacts: a batch of contact rows and their first history entries.

-- name: next_contact_id
SELECT COALESCE(MAX(id), 0) + 1 FROM ds_contact

-- name: insert_contact
-- A batch row starts with its position in the batch; `<<first>>` is the batch's first
-- id, so the rows the workers made go in untouched. A number already in the campaign
-- is left out by the unique index (no lookup before); those are looked up after.
INSERT INTO ds_contact (id, campaign_id, phone, phone_key, state, version, seq, attempts,
  priority, timezone, zone_key, external_id, data, ready_since, created_at, updated_at)
VALUES (? + <<first>>, ?, ?, ?, ?, 1, 1, 0, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (campaign_id, phone_key) DO NOTHING

-- name: reserve_contact_ids
SELECT nextval(pg_get_serial_sequence('ds_contact', 'id')) FROM generate_series(1, ?)

-- name: import_table
-- PostgreSQL: a batch goes into a temporary table by COPY (far less client work per
-- row than a parameterized INSERT), then into ds_contact in one statement.
CREATE TEMP TABLE IF NOT EXISTS ds_import_contact (id bigint, campaign_id integer, phone text,
  phone_key text, state text, priority integer, timezone text, zone_key text, external_id text,
  data text, ready_since double precision, created_at double precision, updated_at double precision)
ON COMMIT DROP

-- name: copy_import_rows
COPY ds_import_contact FROM STDIN

-- name: insert_imported
INSERT INTO ds_contact (id, campaign_id, phone, phone_key, state, version, seq, attempts, priority,
  timezone, zone_key, external_id, data, ready_since, created_at, updated_at)
SELECT id, campaign_id, phone, phone_key, state, 1, 1, 0, priority, timezone, zone_key, external_id,
  data, ready_since, created_at, updated_at FROM ds_import_contact
ON CONFLICT (campaign_id, phone_key) DO NOTHING

-- name: clear_import_table
TRUNCATE ds_import_contact

-- name: contacts_present
SELECT id FROM ds_contact WHERE id IN (?*)

-- name: first_entries
-- The first entry of every ready contact, written by the database from the rows just
-- inserted (looked up by primary key); the others carry a note and are written one by one.
INSERT INTO ds_history ({history_columns})
SELECT id, 1, NULL, state, 'add', created_at, ?, 0, NULL, NULL, NULL, NULL, ?, NULL
FROM ds_contact WHERE id IN (?*)

-- name: first_entries [postgresql]
-- PostgreSQL takes the ids as one array: it plans a long IN list slowly.
INSERT INTO ds_history ({history_columns})
SELECT id, 1, NULL, state, 'add', created_at, ?, 0, NULL, NULL, NULL, NULL, ?, NULL
FROM ds_contact WHERE id = ANY(?)

-- name: lock_campaign_imports [postgresql]
-- Imports into one campaign take turns, so each sees the numbers the other added
-- (SQLite's writer lock already serializes them).
SELECT pg_advisory_xact_lock(?, ?)

-- name: lock_campaign_imports
SELECT ?, ?
