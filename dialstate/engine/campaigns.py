"""Campaigns: creation, reading, pause/resume/cancel, policy versions and statistics."""

from __future__ import annotations

import json
from typing import Any

from dialstate.engine.calls import Done
from dialstate.engine.clock import Clock
from dialstate.engine.configs import Configs
from dialstate.engine.lifecycle import CANCELABLE, TIMER_SETTINGS
from dialstate.engine.settings import CANCELED, PAUSED, RUNNING, CampaignSettings
from dialstate.engine.snapshots import Campaign, CampaignChange, CampaignStats, Contact
from dialstate.engine.states import ContactState, DialMode
from dialstate.errors import CampaignNotFound, ConfigurationError, InvalidArgument
from dialstate.models.types import from_epoch
from dialstate.outcomes import Outcome
from dialstate.policy import CallingWindow, RetryPolicy
from dialstate.store import counters, rows, writer
from dialstate.store.ops import Work, all_rows, count, many, one, value
from dialstate.store.rows import CAMPAIGN_COLUMNS, CAMPAIGN_INSERT_COLUMNS, CAMPAIGN_JSON, CONTACT_COLUMNS
from dialstate.store.statements import Queries
from dialstate.store.writer import Backend

#: Where a campaign row's settings start (after its identity).
_SETTINGS_FROM = CAMPAIGN_COLUMNS.index("calling_window")
#: `contacts()` with no limit.
_NO_LIMIT = 2**62
#: PostgreSQL: delta rows of a campaign's counters that `campaign_stats` folds into them.
FOLD_AFTER = 500


class Campaigns:
    def __init__(self, q: Queries, configs: Configs, clock: Clock, backend: Backend) -> None:
        self._q = q
        self._backend = backend
        self._configs = configs
        self._clock = clock

    def create(self, settings: CampaignSettings, policy: RetryPolicy) -> Work[int]:
        """Insert a campaign and the first version of its policy; returns its id."""
        q = self._q
        now = self._clock.epoch()
        columns = {**settings.columns(), "status": RUNNING, "policy_version": 1, "settings_version": 1,
                   "created_at": now}
        campaign_id = int(value((yield one(q["insert_campaign"], tuple(columns[c] for c in CAMPAIGN_INSERT_COLUMNS)))))
        yield count(q["insert_policy"], (campaign_id, 1, _policy_json(policy), now))
        return campaign_id

    def get(self, campaign_id: int) -> Work[Campaign]:
        found = yield one(self._q["select_campaign"], (campaign_id,))
        if found is None:
            raise CampaignNotFound(campaign_id)
        return campaign_snapshot(rows.campaign(found))

    def all(self) -> Work[list[Campaign]]:
        return [campaign_snapshot(rows.campaign(r)) for r in (yield all_rows(self._q["select_campaigns"]))]

    def contacts(self, campaign_id: int, state: ContactState | str | None, limit: int | None,
                 after_id: int) -> Work[list[Contact]]:
        """The campaign's contacts (in one state, when given) by id, for paging."""
        q = self._q
        yield from self.get(campaign_id)
        if state is None:
            found = yield all_rows(q["contacts_page"], (campaign_id, after_id, limit or _NO_LIMIT))
        else:
            found = yield all_rows(q["contacts_page_in_state"],
                                   (campaign_id, after_id, _state(state).value, limit or _NO_LIMIT))
        return Contact.from_rows([rows.contact(r, CONTACT_COLUMNS) for r in found])

    def retry_policy(self, campaign_id: int, version: int | None) -> Work[RetryPolicy]:
        _, cfg = yield from self._configs.current(campaign_id)
        if version is None or version == cfg.policy_version:
            return cfg.policy
        return (yield from self._configs.policy(campaign_id, version))

    def calling_window(self, campaign_id: int) -> Work[CallingWindow | None]:
        _, cfg = yield from self._configs.current(campaign_id)
        return cfg.window

    def set_status(self, campaign_id: int, status: str) -> Work[Campaign]:
        """Pause (`paused`) or resume (`running`) a campaign that is not canceled."""
        q = self._q
        found = yield one(q["campaign_status"], (campaign_id,))
        if found is None:
            raise CampaignNotFound(campaign_id)
        if found[0] not in (RUNNING, PAUSED):
            raise ConfigurationError(f"campaign {campaign_id} is {found[0]}; it cannot become {status}")
        yield count(q["set_campaign_status"], (status, campaign_id))
        return (yield from self.get(campaign_id))

    def cancel(self, campaign_id: int, actor: str | None) -> Work[Done[int]]:
        """End the campaign: every open or parked contact -> `canceled_by_admin`."""
        q = self._q
        now = self._clock.epoch()
        if (yield one(q["campaign_status"], (campaign_id,))) is None:
            raise CampaignNotFound(campaign_id)
        yield count(q["set_campaign_status"], (CANCELED, campaign_id))
        moved = yield from writer.bulk_move(q, self._backend, "where_campaign", (campaign_id,), sorted(CANCELABLE),
                                            ContactState.CANCELED_BY_ADMIN, "cancel", now, actor,
                                            "the campaign was canceled")
        return Done(len(moved), moved=moved)

    def update(self, campaign_id: int, changes: dict[str, Any], actor: str | None, now: float) -> Work[Campaign]:
        """Change some of a campaign's settings (`update_campaign`'s arguments, checked
        as `create_campaign` checks them): each change is kept, with `actor` and time,
        for `campaign_history`; the next decisions use the new settings."""
        q = self._q
        found = yield one(q["select_campaign_for_update"], (campaign_id,))
        if found is None:
            raise CampaignNotFound(campaign_id)
        row = rows.campaign(found)
        current = CampaignSettings.from_row(row)
        timers = {**current.timers, **{k: v for k, v in changes.items() if k in TIMER_SETTINGS}}
        merged = CampaignSettings.build(
            changes.get("name", current.name), current.mode, changes.get("calling_window", current.calling_window),
            changes.get("timezone", current.timezone), changes.get("default_region", current.default_region),
            changes.get("dispositions", current.dispositions), changes.get("default_disposition",
                                                                           current.default_disposition),
            timers, changes.get("bare_numbers", current.bare_numbers),
            changes.get("unique_external_ids", current.unique_external_ids))
        before, after = current.columns(), merged.columns()
        changed = [name for name in changes if after[name] != before[name]]
        if changed:
            sets = ", ".join(f"{name} = {q.mark}" for name in changed)
            yield count(q["update_campaign_settings"].replace("<<sets>>", sets),
                        (*(after[name] for name in changed), campaign_id))
            yield many(q["add_campaign_change"], [
                (campaign_id, now, actor, name, _setting_json(name, before[name]), _setting_json(name, after[name]))
                for name in changed])
        return (yield from self.get(campaign_id))

    def changes(self, campaign_id: int) -> Work[list[CampaignChange]]:
        """Who changed which setting, when, from what to what, oldest first."""
        yield from self.get(campaign_id)
        found = yield all_rows(self._q["campaign_changes"], (campaign_id,))
        return [CampaignChange(from_epoch(at), actor, setting, json.loads(old), json.loads(new))  # type: ignore[arg-type]
                for at, actor, setting, old, new in found]

    def update_retry_policy(self, campaign_id: int, policy: RetryPolicy) -> Work[int]:
        """Store `policy` as the campaign's new version; returns the version number."""
        q = self._q
        found = yield one(q["campaign_status_for_update"], (campaign_id,))
        if found is None:
            raise CampaignNotFound(campaign_id)
        version = found[2] + 1
        yield count(q["insert_policy"], (campaign_id, version, _policy_json(policy), self._clock.epoch()))
        yield count(q["set_policy_version"], (version, campaign_id))
        return version

    @property
    def stats_write(self) -> bool:
        """Whether reading the statistics may write (fold counters)."""
        return self._backend.folds_stats

    def stats(self, campaign_id: int) -> Work[CampaignStats]:
        """Contacts by state; finished attempts by outcome and by outcome group; for
        predictive campaigns the abandon rate (abandoned over answered calls)."""
        q = self._q
        campaign = yield from self.get(campaign_id)
        if self._backend.folds_stats:
            params: tuple[int, ...] = (campaign_id, campaign_id)
            waiting = value((yield one(q["stat_deltas"], (campaign_id, FOLD_AFTER))))
            if waiting >= FOLD_AFTER:  # keep the read short: fold the deltas into the counters
                yield count(q["fold_stats"], params)
            found = yield all_rows(q["stats_of"], params)
        else:  # the counters, and the feed's entries they have not folded in yet
            found = counters.with_unfolded(campaign_id, (yield all_rows(q["stats_of"], (campaign_id, campaign_id))))
        by_kind: dict[str, dict[str, int]] = {"s": {}, "o": {}, "a": {}}
        for kind, key, n in found:
            by_kind[kind][key] = by_kind[kind].get(key, 0) + int(n)
        by_kind = {kind: {key: n for key, n in values.items() if n} for kind, values in by_kind.items()}
        by_state, by_outcome = by_kind["s"], by_kind["o"]
        answered = by_kind["a"].get("", 0)
        by_group: dict[str, int] = {}
        for outcome, n in by_outcome.items():
            group = Outcome(outcome).group.value
            by_group[group] = by_group.get(group, 0) + n
        abandon_rate = None
        if campaign.mode is DialMode.PREDICTIVE and answered:
            abandon_rate = by_outcome.get(Outcome.ABANDONED.value, 0) / answered
        return CampaignStats(campaign_id, by_state, by_outcome, by_group, abandon_rate, sum(by_state.values()))


def campaign_snapshot(values: dict[str, Any]) -> Campaign:
    return Campaign(
        id=values["id"], name=values["name"], mode=DialMode(values["mode"]), status=values["status"],
        timezone=values["timezone"], default_region=values["default_region"],
        policy_version=values["policy_version"], created_at=from_epoch(values["created_at"]),  # type: ignore[arg-type]
        settings={k: values[k] for k in CAMPAIGN_COLUMNS[_SETTINGS_FROM:]},
    )


def _setting_json(name: str, column: Any) -> str:
    """A setting's value as `campaign_history` keeps it (JSON columns decoded first)."""
    if name in CAMPAIGN_JSON and column is not None:
        column = json.loads(column)
    return json.dumps(column, sort_keys=True)


def _policy_json(policy: RetryPolicy) -> str:
    return json.dumps(policy.to_json(), sort_keys=True)


def _state(state: ContactState | str) -> ContactState:
    try:
        return ContactState(state)
    except ValueError:
        raise InvalidArgument(
            f"unknown state {state!r}; allowed: {', '.join(s.value for s in ContactState)}") from None
