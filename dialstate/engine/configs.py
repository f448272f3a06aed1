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
    """The configs decisions read. A campaign's settings do not change after creation
    and a new policy is a new version, so an entry never goes stale; only a campaign
    whose creation was rolled back is forgotten (SQLite gives its id out again)."""

    def __init__(self, q: Queries) -> None:
        self._q = q
        self._configs: dict[tuple[int, int], CampaignConfig] = {}
        self._lock = threading.Lock()

    def get(self, campaign_id: int, policy_version: int) -> Work[CampaignConfig]:
        key = (campaign_id, policy_version)
        cfg = self._configs.get(key)
        if cfg is None:
            q = self._q
            found = yield one(q["select_campaign"], (campaign_id,))
            if found is None:
                raise CampaignNotFound(campaign_id)
            policy = yield one(q["select_policy"], (campaign_id, policy_version))
            if policy is None:
                raise CampaignNotFound(campaign_id)
            cfg = CampaignConfig(campaign_id, CampaignSettings.from_row(rows.campaign(found)),
                                 RetryPolicy.from_json(json.loads(policy[0])), policy_version)
            with self._lock:
                self._configs[key] = cfg
        return cfg

    def current(self, campaign_id: int) -> Work[tuple[str, CampaignConfig]]:
        """The campaign's status and its config under the policy version in force."""
        found = yield one(self._q["campaign_status"], (campaign_id,))
        if found is None:
            raise CampaignNotFound(campaign_id)
        status, version = found
        return status, (yield from self.get(campaign_id, version))

    def forget(self, campaign_id: int) -> None:
        with self._lock:
            for key in [key for key in self._configs if key[0] == campaign_id]:
                del self._configs[key]
