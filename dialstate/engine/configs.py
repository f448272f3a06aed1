"""Campaign configs, read once and cached per (campaign, policy version)."""

from __future__ import annotations

import json
import threading

from dialstate.engine.settings import CampaignConfig, CampaignSettings
from dialstate.errors import CampaignNotFound
from dialstate.policy import RetryPolicy
from dialstate.store import rows
from dialstate.store.ops import Work, one
from dialstate.store.statements import Queries


class Configs:
    """The configs decisions read, by (campaign, settings version, policy version): a
    change of settings or a new policy is a new version, so an entry never goes stale;
    only a campaign whose creation was rolled back is forgotten (SQLite gives its id
    out again)."""

    def __init__(self, q: Queries) -> None:
        self._q = q
        self._configs: dict[tuple[int, int, int], CampaignConfig] = {}
        self._lock = threading.Lock()

    def known(self, campaign_id: int, settings_version: int, policy_version: int) -> CampaignConfig | None:
        """The config if it was read already (no unit of work: on every trigger)."""
        return self._configs.get((campaign_id, settings_version, policy_version))

    def get(self, campaign_id: int, settings_version: int, policy_version: int) -> Work[CampaignConfig]:
        cfg = self.known(campaign_id, settings_version, policy_version)
        if cfg is None:
            q = self._q
            found = yield one(q["select_campaign"], (campaign_id,))
            if found is None:
                raise CampaignNotFound(campaign_id)
            campaign = rows.campaign(found)
            # Kept under the version read (the current one, if it changed meanwhile).
            key = (campaign_id, campaign["settings_version"], policy_version)
            policy = yield from self.policy(campaign_id, policy_version)
            cfg = CampaignConfig(campaign_id, CampaignSettings.from_row(campaign), policy, policy_version,
                                 campaign["settings_version"])
            with self._lock:
                self._configs[key] = cfg
        return cfg

    def policy(self, campaign_id: int, version: int) -> Work[RetryPolicy]:
        """One version of a campaign's retry policy."""
        found = yield one(self._q["select_policy"], (campaign_id, version))
        if found is None:
            raise CampaignNotFound(campaign_id)
        return RetryPolicy.from_json(json.loads(found[0]))

    def current(self, campaign_id: int) -> Work[tuple[str, CampaignConfig]]:
        """The campaign's status and its config under the policy version in force."""
        found = yield one(self._q["campaign_status"], (campaign_id,))
        if found is None:
            raise CampaignNotFound(campaign_id)
        status, settings_version, policy_version = found
        return status, (yield from self.get(campaign_id, settings_version, policy_version))

    def forget(self, campaign_id: int) -> None:
        with self._lock:
            for key in [key for key in self._configs if key[0] == campaign_id]:
                del self._configs[key]
