"""Claiming: `assign_next` and `dial_next` hand each contact to exactly one caller.

PostgreSQL locks the chosen rows with `FOR UPDATE SKIP LOCKED`, so concurrent
claimers take different contacts without waiting; SQLite (which has no row locks)
serializes writers with `BEGIN IMMEDIATE`, and every UPDATE is still guarded by the
contact's state and version.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from dialstate.engine.base import CONTACT_COLUMNS, INSERT_HISTORY, EngineBase
from dialstate.engine.config import CampaignConfig
from dialstate.engine.machine import machine_for
from dialstate.engine.snapshots import Contact
from dialstate.engine.states import ContactState, DialMode
from dialstate.engine.triggers import dial_updates, new_call_id
from dialstate.errors import CampaignNotFound, ConcurrentUpdate, InvalidArgument

S = ContactState

_CLAIM_COLUMNS = ", ".join(CONTACT_COLUMNS)


class ClaimsMixin(EngineBase):
    def assign_next(self, campaign_id: int, operator_id: str, *, actor: str | None = None) -> Contact | None:
        """The next claimable `ready` contact, moved to `operator_assigned` for
        `operator_id`, or None (preview and progressive campaigns)."""
        if not isinstance(operator_id, str) or not operator_id.strip():
            raise InvalidArgument(f"operator_id must be non-empty text, got {operator_id!r}")
        claimed = self._claim(campaign_id, 1, "assign_operator", S.OPERATOR_ASSIGNED,
                              operator_id, actor or operator_id)
        return claimed[0] if claimed else None

    def dial_next(self, campaign_id: int, limit: int = 1, *, actor: str | None = None) -> list[Contact]:
        """Up to `limit` claimable `ready` contacts, each moved to `dialing` with a
        fresh call id (predictive and agentless campaigns)."""
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise InvalidArgument(f"limit must be a positive integer, got {limit!r}")
        return self._claim(campaign_id, limit, "dial", S.DIALING, None, actor)

    def _claim(self, campaign_id: int, limit: int, trigger: str, to_state: ContactState,
               operator_id: str | None, actor: str | None) -> list[Contact]:
        db = self._db
        now_dt = self.now()
        now = now_dt.timestamp()
        claimed: list[dict[str, Any]] = []
        with db.transaction() as conn:
            row = db.execute(
                conn, "SELECT status, policy_version FROM ds_campaign WHERE id = ?", (campaign_id,)
            ).fetchone()
            if row is None:
                raise CampaignNotFound(campaign_id)
            status, policy_version = row
            cfg = self._config(conn, campaign_id, policy_version)
            _check_mode(cfg, trigger)
            if status != "running":
                return []
            # A personal callback waits for its operator until its grace has passed.
            if operator_id is not None:
                personal = "(callback_operator_id IS NULL OR callback_operator_id = ? OR personal_until <= ?)"
                personal_params: tuple[Any, ...] = (operator_id, now)
            else:
                personal, personal_params = "(callback_operator_id IS NULL OR personal_until <= ?)", (now,)
            lock = " FOR UPDATE SKIP LOCKED" if db.is_pg else ""
            if cfg.window is None:
                rows = db.execute(
                    conn,
                    f"SELECT {_CLAIM_COLUMNS} FROM ds_contact WHERE campaign_id = ? AND state = 'ready'"
                    f" AND {personal} ORDER BY priority DESC, ready_since, id LIMIT ?{lock}",
                    (campaign_id, *personal_params, limit),
                ).fetchall()
            else:
                open_keys = self._open_zone_keys(conn, cfg, now_dt)
                rows = self._claim_open_zones(conn, campaign_id, open_keys, personal, personal_params, limit)
            if not rows:
                return []
            machine = machine_for(cfg.mode)
            updates, entries = [], []
            due = cfg.due_at(to_state.value, now, None, None)
            for values in rows:
                old = dict(zip(CONTACT_COLUMNS, values, strict=True))
                machine.run(old["id"], "ready", trigger, to_state.value)
                new = dict(old)
                if operator_id is None:
                    new.update(dial_updates(old, new_call_id()))
                else:
                    new.update(operator_id=operator_id, callback_operator_id=None, personal_until=None)
                new.update(state=to_state.value, version=old["version"] + 1, seq=old["seq"] + 1,
                           due_at=due, updated_at=now)
                updates.append((
                    new["state"], new["version"], new["seq"], new["attempts"], new["call_id"],
                    new["operator_id"], new["due_at"], now, old["id"], old["version"],
                ))
                entries.append((
                    old["id"], new["seq"], "ready", new["state"], trigger, now, actor, new["attempts"],
                    new["call_id"], None, None, None, policy_version, None,
                ))
                new["data"] = json.loads(new["data"]) if new["data"] else None
                new["_entry"] = entries[-1]
                claimed.append(new)
            update_sql = (
                "UPDATE ds_contact SET state = ?, version = ?, seq = ?, attempts = ?, call_id = ?,"
                " operator_id = ?, due_at = ?, updated_at = ?, next_attempt_at = NULL,"
                " callback_operator_id = NULL, personal_until = NULL"
                " WHERE id = ? AND version = ? AND state = 'ready'"
            )
            if len(updates) == 1:
                count = db.execute(conn, update_sql, updates[0]).rowcount
            else:
                count = db.executemany(conn, update_sql, updates)
            if count != len(updates):  # cannot happen under the locks; never write half a claim
                raise ConcurrentUpdate(updates[0][-2], trigger, updates[0][-1])
            if len(entries) == 1:
                db.execute(conn, INSERT_HISTORY, entries[0])
            else:
                db.executemany(conn, INSERT_HISTORY, entries)
        contacts = []
        for new in claimed:
            contact = Contact.from_row(new)
            contacts.append(contact)
            self._notify(contact, [new["_entry"]])
        return contacts

    def _claim_open_zones(self, conn: Any, campaign_id: int, open_keys: list[str], personal: str,
                          personal_params: tuple[Any, ...], limit: int) -> list[Any]:
        """Claim among the contacts whose zone set is open now.

        The candidates are the first `limit` of each open zone set, read from the
        zone-led index, merged by priority and readiness: a claim never walks past the
        contacts of closed zones however far the campaign has been worked. The chosen
        rows are then locked (SKIP LOCKED on PostgreSQL; a few rounds if another
        claimer took some first).
        """
        db = self._db
        rows: list[Any] = []
        seen: list[int] = []
        for _ in range(4 if db.is_pg else 1):
            if not open_keys or len(rows) >= limit:
                break
            want = limit - len(rows)
            skip = f" AND id NOT IN ({db.placeholders(len(seen))})" if seen else ""
            parts: list[str] = []
            params: list[Any] = []
            for i, key in enumerate(open_keys):
                parts.append(
                    f"SELECT * FROM (SELECT priority, ready_since, id FROM ds_contact WHERE campaign_id = ?"
                    f" AND zone_key = ? AND state = 'ready' AND {personal}{skip}"
                    f" ORDER BY priority DESC, ready_since, id LIMIT ?) AS z{i}"
                )
                params.extend((campaign_id, key, *personal_params, *seen, want))
            candidates = [r[2] for r in db.execute(
                conn, " UNION ALL ".join(parts) + " ORDER BY 1 DESC, 2, 3 LIMIT ?", (*params, want)
            ).fetchall()]
            if not candidates:
                break
            seen.extend(candidates)
            rows.extend(db.execute(
                conn,
                f"SELECT {_CLAIM_COLUMNS} FROM ds_contact WHERE id IN ({db.placeholders(len(candidates))})"
                " AND state = 'ready' ORDER BY priority DESC, ready_since, id"
                + (" FOR UPDATE SKIP LOCKED" if db.is_pg else ""),
                candidates,
            ).fetchall())
        if len(rows) > 1:
            order = {cid: i for i, cid in enumerate(seen)}
            rows.sort(key=lambda r: order[r[0]])
        return rows

    def _open_zone_keys(self, conn: Any, cfg: CampaignConfig, now: datetime) -> list[str]:
        """The campaign's zone sets whose calling window is open now.

        Openness is computed once per zone set and kept until the window next opens
        or closes there, not once per contact.
        """
        assert cfg.window is not None
        keys = [r[0] for r in self._db.execute(
            conn, "SELECT zone_key FROM ds_campaign_zone WHERE campaign_id = ?", (cfg.id,)
        ).fetchall()]
        cache = self._open_windows
        window = cfg.window
        out = []
        for key in keys:
            # Each zone set's answer holds until its window next opens or closes.
            hit = cache.get((window, key))
            if hit is None or not (hit[1] <= now < hit[2]):
                zones = tuple(key.split("|")) if key else (cfg.timezone,)
                is_open = window.is_open(zones, now)
                until = window.next_closing(zones, now) if is_open else window.next_opening(zones, now)
                hit = (is_open, now, until or now + timedelta(days=1))
                if len(cache) > 10_000:
                    cache.clear()
                cache[(window, key)] = hit
            if hit[0]:
                out.append(key)
        return out


def _check_mode(cfg: CampaignConfig, trigger: str) -> None:
    if trigger == "assign_operator" and cfg.mode not in (DialMode.PREVIEW, DialMode.PROGRESSIVE):
        raise InvalidArgument(
            f"assign_next is for preview and progressive campaigns; campaign {cfg.id} is "
            f"{cfg.mode.value} (use dial_next)"
        )
    if trigger == "dial" and cfg.mode not in (DialMode.PREDICTIVE, DialMode.AGENTLESS):
        raise InvalidArgument(
            f"dial_next is for predictive and agentless campaigns; campaign {cfg.id} is "
            f"{cfg.mode.value} (use assign_next)"
        )
