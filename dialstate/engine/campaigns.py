"""Campaigns: creation, pause/resume/cancel, policy versions and statistics."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from dialstate.engine.base import CAMPAIGN_COLUMNS, CONTACT_COLUMNS, EngineBase
from dialstate.engine.config import validate_dispositions, validate_timers
from dialstate.engine.decisions import DEFAULT_DISPOSITIONS
from dialstate.engine.snapshots import Campaign, CampaignStats, Contact
from dialstate.engine.states import BLACKLISTABLE_NOW, ContactState, DialMode, StateKind
from dialstate.errors import CampaignNotFound, ConfigurationError, InvalidArgument
from dialstate.models.types import from_epoch
from dialstate.outcomes import Outcome
from dialstate.policy import CallingWindow, RetryPolicy, validate_timezone

S = ContactState

#: States that `cancel_campaign` and `cancel` move to `canceled_by_admin`.
CANCELABLE = tuple(
    s.value for s in ContactState if s.kind in (StateKind.OPEN, StateKind.PARKED)
)
RUNNING, PAUSED, CANCELED = "running", "paused", "canceled"


class CampaignsMixin(EngineBase):
    def create_campaign(
        self,
        name: str,
        mode: DialMode | str = DialMode.PREVIEW,
        retry_policy: RetryPolicy | None = None,
        calling_window: CallingWindow | None = None,
        timezone: str = "UTC",
        default_region: str | None = None,
        *,
        dispositions: Mapping[str, str] | None = None,
        default_disposition: str = "success",
        **timers: float,
    ) -> Campaign:
        """Create a campaign; the timers are `before_call_work_seconds`,
        `after_call_work_seconds`, `assign_timeout_seconds`, `dial_timeout_seconds`,
        `max_call_seconds`, `operator_wait_seconds` and `callback_grace_seconds`."""
        columns, policy = self._campaign_columns(
            name, mode, retry_policy, calling_window, timezone, default_region, dispositions=dispositions,
            default_disposition=default_disposition, **timers)
        with self._db.transaction() as conn:
            campaign_id = self._insert_campaign(conn, columns, policy)
        return self.get_campaign(campaign_id)

    def _campaign_columns(
        self,
        name: str,
        mode: DialMode | str = DialMode.PREVIEW,
        retry_policy: RetryPolicy | None = None,
        calling_window: CallingWindow | None = None,
        timezone: str = "UTC",
        default_region: str | None = None,
        *,
        dispositions: Mapping[str, str] | None = None,
        default_disposition: str = "success",
        **timers: float,
    ) -> tuple[dict[str, Any], RetryPolicy]:
        """The checked settings of a new campaign (`create_campaign`'s arguments): its
        row's columns and its retry policy."""
        if not isinstance(name, str) or not name.strip():
            raise ConfigurationError(f"a campaign name must be non-empty text, got {name!r}")
        try:
            mode = DialMode(mode)
        except ValueError:
            raise ConfigurationError(
                f"unknown dial mode {mode!r}; allowed: {', '.join(m.value for m in DialMode)}"
            ) from None
        unknown = set(timers) - set(validate_timers({}))
        if unknown:
            raise ConfigurationError(
                f"unknown campaign setting(s) {sorted(unknown)}; allowed: {sorted(validate_timers({}))}"
            )
        timer_values = validate_timers(timers)
        policy = retry_policy if retry_policy is not None else RetryPolicy()
        if not isinstance(policy, RetryPolicy):
            raise ConfigurationError(f"retry_policy must be a RetryPolicy, got {policy!r}")
        if calling_window is not None and not isinstance(calling_window, CallingWindow):
            raise ConfigurationError(f"calling_window must be a CallingWindow or None, got {calling_window!r}")
        validate_timezone(timezone)
        if default_region is not None:
            _check_region(default_region)
        own = validate_dispositions(dispositions)
        allowed = {**{k: v.value for k, v in DEFAULT_DISPOSITIONS.items()}, **own}
        if allowed.get(default_disposition) == "callback":
            raise ConfigurationError(
                f"default_disposition {default_disposition!r} is a callback, which needs a time; "
                "the scheduler wraps up timed-out after-call work with it, so choose another"
            )
        if default_disposition not in allowed:
            raise ConfigurationError(
                f"default_disposition {default_disposition!r} is not one of this campaign's "
                f"dispositions: {', '.join(sorted(allowed))}"
            )
        columns = {
            "name": name.strip(), "mode": mode.value, "status": RUNNING, "timezone": timezone,
            "default_region": default_region.upper() if default_region else None,
            "calling_window": json.dumps(calling_window.to_json()) if calling_window else None,
            "dispositions": json.dumps(own, sort_keys=True), "default_disposition": default_disposition,
            "policy_version": 1, "created_at": self.now().timestamp(), **timer_values,
        }
        return columns, policy

    def _insert_campaign(self, conn: Any, columns: dict[str, Any], policy: RetryPolicy) -> int:
        db = self._db
        sql = (
            f"INSERT INTO ds_campaign ({', '.join(columns)}) VALUES ({db.placeholders(len(columns))})"
            " RETURNING id"
        )
        campaign_id = int(db.execute(conn, sql, tuple(columns.values())).fetchone()[0])
        db.execute(
            conn,
            "INSERT INTO ds_retry_policy (campaign_id, version, policy, created_at) VALUES (?, 1, ?, ?)",
            (campaign_id, json.dumps(policy.to_json(), sort_keys=True), columns["created_at"]),
        )
        return campaign_id

    def get_campaign(self, campaign_id: int) -> Campaign:
        with self._db.reading() as conn:
            return _campaign(self._campaign_row(conn, campaign_id))

    def campaigns(self) -> list[Campaign]:
        with self._db.reading() as conn:
            return [_campaign(values) for values in self._campaign_rows(conn, "ORDER BY id")]

    def contacts(self, campaign_id: int, state: ContactState | str | None = None, *,
                 limit: int | None = None, after_id: int = 0) -> list[Contact]:
        """The campaign's contacts (in one state, when given) by id, for paging:
        those with an id above `after_id`, at most `limit` of them."""
        db = self._db
        where = "campaign_id = ? AND id > ?"
        params: list[Any] = [campaign_id, after_id]
        if state is not None:
            try:
                state = ContactState(state)
            except ValueError:
                raise InvalidArgument(
                    f"unknown state {state!r}; allowed: {', '.join(s.value for s in ContactState)}"
                ) from None
            where += " AND state = ?"
            params.append(state.value)
        sql = f"SELECT {', '.join(CONTACT_COLUMNS)} FROM ds_contact WHERE {where} ORDER BY id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        with db.reading() as conn:
            self.get_campaign(campaign_id)
            rows = db.execute(conn, sql, params).fetchall()
        out = []
        for values in rows:
            row = dict(zip(CONTACT_COLUMNS, values, strict=True))
            row["data"] = json.loads(row["data"]) if row["data"] else None
            out.append(Contact.from_row(row))
        return out

    def retry_policy(self, campaign_id: int, version: int | None = None) -> RetryPolicy:
        """The campaign's retry policy (its current version unless `version` is given)."""
        with self._db.reading() as conn:
            current = self.get_campaign(campaign_id).policy_version
            return self._policy(conn, campaign_id, version or current)

    def calling_window(self, campaign_id: int) -> CallingWindow | None:
        campaign = self.get_campaign(campaign_id)
        with self._db.reading() as conn:
            return self._config(conn, campaign.id, campaign.policy_version).window

    def pause_campaign(self, campaign_id: int) -> Campaign:
        """Stop claiming from the campaign (calls in progress go on)."""
        return self._set_status(campaign_id, PAUSED, (RUNNING, PAUSED))

    def resume_campaign(self, campaign_id: int) -> Campaign:
        return self._set_status(campaign_id, RUNNING, (RUNNING, PAUSED))

    def _set_status(self, campaign_id: int, status: str, from_statuses: tuple[str, ...]) -> Campaign:
        db = self._db
        with db.transaction() as conn:
            row = db.execute(conn, "SELECT status FROM ds_campaign WHERE id = ?", (campaign_id,)).fetchone()
            if row is None:
                raise CampaignNotFound(campaign_id)
            if row[0] not in from_statuses:
                raise ConfigurationError(
                    f"campaign {campaign_id} is {row[0]}; it cannot become {status}"
                )
            db.execute(conn, "UPDATE ds_campaign SET status = ? WHERE id = ?", (status, campaign_id))
        return self.get_campaign(campaign_id)

    def cancel_campaign(self, campaign_id: int, *, actor: str | None = None) -> int:
        """End the campaign: every open or parked contact → `canceled_by_admin`, in one
        transaction. Returns how many contacts were canceled."""
        db = self._db
        now = self.now().timestamp()
        with db.transaction() as conn:
            if db.execute(conn, "SELECT 1 FROM ds_campaign WHERE id = ?", (campaign_id,)).fetchone() is None:
                raise CampaignNotFound(campaign_id)
            db.execute(conn, "UPDATE ds_campaign SET status = ? WHERE id = ?", (CANCELED, campaign_id))
            moved = self._bulk_move(
                conn, "campaign_id = ?", (campaign_id,), CANCELABLE, S.CANCELED_BY_ADMIN, "cancel",
                now, actor, "the campaign was canceled",
            )
        self._notify_many(moved)
        return len(moved)

    def update_retry_policy(self, campaign_id: int, policy: RetryPolicy) -> int:
        """Store `policy` as the campaign's new version; returns the version number.
        Decisions already taken keep the version that made them."""
        if not isinstance(policy, RetryPolicy):
            raise ConfigurationError(f"policy must be a RetryPolicy, got {policy!r}")
        db = self._db
        now = self.now().timestamp()
        with db.transaction() as conn:
            row = db.execute(conn, "SELECT policy_version FROM ds_campaign WHERE id = ?", (campaign_id,)).fetchone()
            if row is None:
                raise CampaignNotFound(campaign_id)
            version = row[0] + 1
            db.execute(
                conn,
                "INSERT INTO ds_retry_policy (campaign_id, version, policy, created_at) VALUES (?, ?, ?, ?)",
                (campaign_id, version, json.dumps(policy.to_json(), sort_keys=True), now),
            )
            db.execute(conn, "UPDATE ds_campaign SET policy_version = ? WHERE id = ?", (version, campaign_id))
        return version

    def campaign_stats(self, campaign_id: int) -> CampaignStats:
        """Contacts by state; finished attempts by outcome and by outcome group; for
        predictive campaigns the abandon rate (abandoned over answered calls)."""
        db = self._db
        campaign = self.get_campaign(campaign_id)
        with db.reading() as conn:
            by_state = dict(db.execute(
                conn, "SELECT state, COUNT(*) FROM ds_contact WHERE campaign_id = ? GROUP BY state",
                (campaign_id,),
            ).fetchall())
            # An attempt is finished when its outcome is recorded: the first entry that
            # carries the outcome (passing states write two entries for one attempt).
            rows = db.execute(
                conn,
                "SELECT h.outcome, COUNT(*) FROM ds_history h JOIN ds_contact c ON c.id = h.contact_id"
                " WHERE c.campaign_id = ? AND h.outcome IS NOT NULL AND h.trigger IN ('call_ended', 'dial_failed')"
                " GROUP BY h.outcome",
                (campaign_id,),
            ).fetchall()
            answered = db.execute(
                conn,
                "SELECT COUNT(*) FROM ds_history h JOIN ds_contact c ON c.id = h.contact_id"
                " WHERE c.campaign_id = ? AND h.trigger = 'answered'",
                (campaign_id,),
            ).fetchone()[0]
        by_outcome = {str(k): int(v) for k, v in rows}
        by_group: dict[str, int] = {}
        for outcome, count in by_outcome.items():
            group = Outcome(outcome).group.value
            by_group[group] = by_group.get(group, 0) + count
        abandon_rate = None
        if campaign.mode is DialMode.PREDICTIVE and answered:
            abandon_rate = by_outcome.get(Outcome.ABANDONED.value, 0) / answered
        return CampaignStats(
            campaign_id, {str(k): int(v) for k, v in by_state.items()}, by_outcome, by_group,
            abandon_rate, sum(by_state.values()),
        )

    # -- bulk moves ------------------------------------------------------------------------

    def _bulk_move(self, conn: Any, where: str, params: tuple[Any, ...], from_states: tuple[str, ...],
                   to_state: ContactState, trigger: str, now: float, actor: str | None,
                   note: str) -> list[tuple[int, int]]:
        """Move every matching contact in `from_states` to `to_state` set-wise: one
        history entry each, written with the same guard, in the caller's transaction."""
        db = self._db
        in_states = db.placeholders(len(from_states))
        match = f"{where} AND state IN ({in_states})"
        moved = [(r[0], r[1] + 1) for r in db.execute(
            conn, f"SELECT id, seq FROM ds_contact WHERE {match}" + (" FOR UPDATE" if db.is_pg else ""),
            (*params, *from_states),
        ).fetchall()]
        if not moved:
            return []
        db.execute(
            conn,
            "INSERT INTO ds_history (contact_id, seq, from_state, to_state, trigger, at, actor, attempt,"
            " call_id, outcome, raw_code, dialect, policy_version, note)"
            " SELECT id, seq + 1, state, ?, ?, ?, ?, attempts, call_id, NULL, NULL, NULL,"
            " (SELECT k.policy_version FROM ds_campaign k WHERE k.id = ds_contact.campaign_id), ?"
            f" FROM ds_contact WHERE {match}",
            (to_state.value, trigger, now, actor, note, *params, *from_states),
        )
        ready = to_state is S.READY
        db.execute(
            conn,
            "UPDATE ds_contact SET state = ?, version = version + 1, seq = seq + 1, updated_at = ?,"
            " due_at = NULL, next_attempt_at = NULL, operator_id = NULL, callback_operator_id = NULL,"
            " personal_until = NULL" + (", ready_since = ?" if ready else "") + f" WHERE {match}",
            (to_state.value, now, *((now,) if ready else ()), *params, *from_states),
        )
        return moved

    def blacklist_phone(self, phone: str, note: str | None = None, *, region: str | None = None,
                        actor: str | None = None) -> int:
        """Put a number on the blacklist; its waiting contacts become `blacklisted` now,
        those in a call at the call's end. Returns how many contacts moved now."""
        from dialstate.phones import normalize_blacklist_phone

        key = normalize_blacklist_phone(phone, region)
        now = self.now().timestamp()
        with self._db.transaction() as conn:
            moved = self._blacklist_in(conn, key, now, actor, note or "number blacklisted")
        self._notify_many(moved)
        return len(moved)

    def _blacklist_in(self, conn: Any, phone: str, now: float, actor: str | None, note: str,
                      exclude: int | None = None) -> list[tuple[int, int]]:
        db = self._db
        conflict = "ON CONFLICT (phone) DO NOTHING"
        db.execute(conn, f"INSERT INTO ds_blacklist (phone, note, created_at) VALUES (?, ?, ?) {conflict}",
                   (phone, note, now))
        # A predictive client waiting for an operator is on a live call: like every
        # contact in a call it keeps it, and becomes blacklisted when the call ends.
        where: str = _BY_NUMBER + _NOT_ON_A_PREDICTIVE_CALL
        params: tuple[Any, ...] = (phone,)
        if exclude is not None:
            where, params = where + " AND id <> ?", (phone, exclude)
        return self._bulk_move(conn, where, params, tuple(s.value for s in BLACKLISTABLE_NOW),
                               S.BLACKLISTED, "blacklist", now, actor, note)

    def unblacklist_phone(self, phone: str, *, region: str | None = None, actor: str | None = None) -> int:
        """Take a number off the blacklist; its `blacklisted` contacts go back to `ready`."""
        from dialstate.phones import normalize_blacklist_phone

        key = normalize_blacklist_phone(phone, region)
        db = self._db
        now = self.now().timestamp()
        with db.transaction() as conn:
            db.execute(conn, "DELETE FROM ds_blacklist WHERE phone = ?", (key,))
            moved = self._bulk_move(conn, _BY_NUMBER, (key,), (S.BLACKLISTED.value,), S.READY,
                                    "unblacklist", now, actor, "number taken off the blacklist")
        self._notify_many(moved)
        return len(moved)

    def blacklist(self) -> list[tuple[str, str | None]]:
        """The blacklisted numbers with their notes."""
        db = self._db
        with db.reading() as conn:
            rows = db.execute(conn, "SELECT phone, note FROM ds_blacklist ORDER BY phone").fetchall()
        return [(r[0], r[1]) for r in rows]


#: A number's contacts in every campaign, found through the (campaign_id, phone_key)
#: unique index one campaign at a time (campaigns are few; contacts are many).
_BY_NUMBER = "campaign_id IN (SELECT id FROM ds_campaign) AND phone_key = ?"

_NOT_ON_A_PREDICTIVE_CALL = (
    " AND NOT (state = 'awaiting_operator'"
    " AND campaign_id IN (SELECT id FROM ds_campaign WHERE mode = 'predictive'))"
)

def _campaign(values: dict[str, Any]) -> Campaign:
    settings_from = CAMPAIGN_COLUMNS.index("calling_window")
    return Campaign(
        id=values["id"], name=values["name"], mode=DialMode(values["mode"]), status=values["status"],
        timezone=values["timezone"], default_region=values["default_region"],
        policy_version=values["policy_version"], created_at=from_epoch(values["created_at"]),  # type: ignore[arg-type]
        settings={k: values[k] for k in CAMPAIGN_COLUMNS[settings_from:]},
    )


def _check_region(region: str) -> None:
    import phonenumbers

    if region.upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise ConfigurationError(
            f"default_region {region!r} is not a region phonenumbers knows (use ISO 3166 codes like DE, US, GB)"
        )
