-- add_contacts: a batch of contact rows and their first history entries.

-- name: next_contact_id
SELECT COALESCE(MAX(id), 0) + 1 FROM ds_contact

-- name: insert_contact
-- A batch row starts with its position in the batch; `<<first>>` is the batch's first
-- id, so the rows the workers made go in untouched. '' stands for NULL in the time
-- zone, external id, data and numbers (dialstate.engine.prepare.NULL).
INSERT INTO ds_contact (id, campaign_id, phone, phone_key, state, version, seq, attempts,
  priority, timezone, zone_key, external_id, data, numbers, ready_since, created_at, updated_at)
VALUES (? + <<first>>, ?, ?, ?, ?, 1, 1, 0, ?, NULLIF(?, ''), ?, NULLIF(?, ''), NULLIF(?, ''), NULLIF(?, ''),
  ?, ?, ?)

-- name: claim_number
-- A number for a new contact: a number already in the campaign is left out by the
-- primary key (no lookup before); those are looked up after.
INSERT INTO ds_number (campaign_id, phone_key, contact_id) VALUES (?, ?, ?)
ON CONFLICT (campaign_id, phone_key) DO NOTHING

-- name: claim_inserted_numbers [sqlite]
-- SQLite: the numbers of the contacts just inserted (ids ? to ?), read from their rows
-- (no parameters a row). In number order, so the primary key takes them in its own
-- order; a number already in the campaign is left out by it.
INSERT INTO ds_number (campaign_id, phone_key, contact_id)
SELECT campaign_id, phone_key, id FROM ds_contact WHERE id BETWEEN ? AND ? AND phone_key IS NOT NULL ORDER BY phone_key, id
ON CONFLICT (campaign_id, phone_key) DO NOTHING

-- name: drop_unclaimed [sqlite]
-- SQLite: the contacts just inserted (ids ? to ?) whose number another contact has.
DELETE FROM ds_contact AS c WHERE c.id BETWEEN ? AND ? AND c.phone_key IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM ds_number n WHERE n.campaign_id = c.campaign_id AND n.phone_key = c.phone_key
                  AND n.contact_id = c.id)
RETURNING id

-- name: numbers_taken
-- Which of the numbers (?*) a contact of the campaign has.
SELECT phone_key FROM ds_number WHERE campaign_id = ? AND phone_key IN (?*)

-- name: reserve_contact_ids
SELECT nextval(pg_get_serial_sequence('ds_contact', 'id')) FROM generate_series(1, ?)

-- name: import_table
-- PostgreSQL: a batch goes into a temporary table by COPY (far less client work per
-- row than a parameterized INSERT), then into ds_contact in one statement.
CREATE TEMP TABLE IF NOT EXISTS ds_import_contact (id bigint, campaign_id integer, phone text,
  phone_key text, state text, priority integer, timezone text, zone_key text, external_id text,
  data text, numbers text, ready_since double precision, created_at double precision,
  updated_at double precision)
ON COMMIT DROP

-- name: copy_import_rows
COPY ds_import_contact FROM STDIN

-- name: claim_imported_numbers
-- The batch's numbers, those already in the campaign left out by the primary key.
INSERT INTO ds_number (campaign_id, phone_key, contact_id)
SELECT campaign_id, phone_key, id FROM ds_import_contact WHERE phone_key IS NOT NULL
ON CONFLICT (campaign_id, phone_key) DO NOTHING

-- name: insert_imported
-- The batch's contacts but those whose number another contact of the campaign has
-- ('' stands for NULL in the time zone, external id, data and numbers).
INSERT INTO ds_contact (id, campaign_id, phone, phone_key, state, version, seq, attempts, priority,
  timezone, zone_key, external_id, data, numbers, ready_since, created_at, updated_at)
SELECT i.id, i.campaign_id, i.phone, i.phone_key, i.state, 1, 1, 0, i.priority, NULLIF(i.timezone, ''),
  i.zone_key, NULLIF(i.external_id, ''), NULLIF(i.data, ''), NULLIF(i.numbers, ''), i.ready_since,
  i.created_at, i.updated_at FROM ds_import_contact i
WHERE i.phone_key IS NULL
   OR EXISTS (SELECT 1 FROM ds_number n WHERE n.campaign_id = i.campaign_id AND n.phone_key = i.phone_key
              AND n.contact_id = i.id)

-- name: clear_import_table
TRUNCATE ds_import_contact

-- name: contacts_present
SELECT id FROM ds_contact WHERE id IN (?*)

-- name: first_entries [sqlite]
-- The first entry of every ready contact of a batch, written by the database from the
-- rows just inserted (ids ? to ?, their state `ready`); the others carry a note and are
-- written one by one. An entry's feed position is its contact's id plus the third
-- parameter (the batch's first position less its first id).
INSERT INTO ds_history ({history_columns}, position)
SELECT id, 1, NULL, state, 'add', created_at, ?, 0, NULL, NULL, NULL, NULL, ?, NULL, NULL, ? + id
FROM ds_contact WHERE id BETWEEN ? AND ? AND state = 'ready'

-- name: first_entries [postgresql]
-- PostgreSQL takes the ids as one array: it plans a long IN list slowly. The third
-- parameter is the ordinal of the first entry in this transaction.
INSERT INTO ds_history ({history_columns}, tx, ordinal)
SELECT id, 1, NULL, state, 'add', created_at, ?, 0, NULL, NULL, NULL, NULL, ?, NULL, NULL,
       pg_current_xact_id()::text::bigint, ? + row_number() OVER (ORDER BY id) - 1
FROM ds_contact WHERE id = ANY(?)

-- name: lock_campaign_imports [postgresql]
-- Imports into one campaign take turns, so each sees the numbers the other added
-- (SQLite's writer lock already serializes them).
SELECT pg_advisory_xact_lock(?, ?)

-- name: lock_campaign_imports
SELECT ?, ?

-- name: analyze_imported [postgresql]
-- After a big import: the planner's statistics of the tables it filled.
ANALYZE ds_contact, ds_number, ds_history
