-- The blacklist of numbers never to call: entries for every campaign (campaign_id 0)
-- or one, for good or until `expires_at`.

-- name: blacklist_add
-- Parameters: phone, campaign (0: every campaign), expiry, note, actor, created_at.
-- Blacklisting a number again replaces its entry (a new expiry, note and actor).
INSERT INTO ds_blacklist (phone, campaign_id, expires_at, note, actor, created_at) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (phone, campaign_id) DO UPDATE SET expires_at = excluded.expires_at, note = excluded.note,
  actor = excluded.actor, created_at = excluded.created_at

-- name: blacklist_remove
-- Parameters: phone, campaign (0: the entry for every campaign), now. Counts only an
-- entry still in force.
DELETE FROM ds_blacklist WHERE phone = ? AND campaign_id = ? AND (expires_at IS NULL OR expires_at > ?)

-- name: blacklist_entries
-- The entries in force as of the parameter, oldest first.
SELECT phone, campaign_id, expires_at, note, actor, created_at FROM ds_blacklist
WHERE expires_at IS NULL OR expires_at > ? ORDER BY created_at, phone, campaign_id

-- name: blacklist_not_empty
SELECT 1 FROM ds_blacklist LIMIT 1

-- name: blacklist_due
-- The `blacklisted` contacts of a number (`<<where>>`) wait until the entries that hold
-- them expire: the latest expiry of those in force, NULL when one has none, now when
-- none holds them any more (the scheduler releases them). Parameters: now (four
-- times: twice for each column), then those of `<<where>>`.
UPDATE ds_contact SET version = version + 1,
  next_attempt_at = (SELECT CASE WHEN COUNT(*) = 0 THEN ? WHEN MAX(COALESCE(b.expires_at, {forever})) >= {forever}
                            THEN NULL ELSE MAX(b.expires_at) END
                     FROM ds_blacklist b WHERE b.phone = ds_contact.phone_key
                     AND b.campaign_id IN (0, ds_contact.campaign_id) AND (b.expires_at IS NULL OR b.expires_at > ?)),
  due_at = (SELECT CASE WHEN COUNT(*) = 0 THEN ? WHEN MAX(COALESCE(b.expires_at, {forever})) >= {forever}
                   THEN NULL ELSE MAX(b.expires_at) END
            FROM ds_blacklist b WHERE b.phone = ds_contact.phone_key
            AND b.campaign_id IN (0, ds_contact.campaign_id) AND (b.expires_at IS NULL OR b.expires_at > ?))
WHERE <<where>> AND state = 'blacklisted'

-- name: blacklisted_numbers
-- Which of a contact's numbers (?*) are blacklisted in its campaign now, with until
-- when. Parameters: the campaign, now, the numbers.
SELECT phone, MAX(COALESCE(expires_at, {forever})) FROM ds_blacklist
WHERE campaign_id IN (0, ?) AND (expires_at IS NULL OR expires_at > ?) AND phone IN (?*)
GROUP BY phone

-- name: several_with_number
-- The contacts with several numbers that have this one, in the campaigns an entry
-- covers (0: all), but one. Parameters: the campaign or 0, the number, the one left out.
SELECT n.contact_id FROM ds_number n JOIN ds_contact c ON c.id = n.contact_id
WHERE n.campaign_id IN (SELECT id FROM ds_campaign WHERE ? IN (0, id)) AND n.phone_key = ?
AND c.numbers IS NOT NULL AND c.id <> ?
ORDER BY n.contact_id
