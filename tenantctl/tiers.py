"""The two tiers of platform.md and what each means for a tenant."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

ACCESS_LEVELS = {
    "guest": 10,
    "reporter": 20,
    "developer": 30,
    "maintainer": 40,
    "owner": 50,
}


class TierSettings(BaseModel):
    """Everything a tier decides; a playbook may override single fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    security_scans: Literal["blocking", "advisory"]
    staging_deploy: Literal["manual", "automatic"]
    production_deploy: Literal["manual"] = "manual"
    runner_locked: bool
    runner_protected: bool
    token_scopes: list[str]
    token_access_level: int


TIERS: dict[str, TierSettings] = {
    "strict": TierSettings(
        security_scans="blocking",
        staging_deploy="manual",
        runner_locked=True,
        runner_protected=True,
        token_scopes=["api"],
        token_access_level=ACCESS_LEVELS["maintainer"],
    ),
    "standard": TierSettings(
        security_scans="advisory",
        staging_deploy="automatic",
        runner_locked=False,
        runner_protected=False,
        token_scopes=["read_api"],
        token_access_level=ACCESS_LEVELS["developer"],
    ),
}

SUMMARIES = {
    "strict": "blocking security scans, manual staging, protected locked runner, "
    "api token",
    "standard": "advisory security scans, automatic staging, shared-style runner, "
    "read-only token",
}


def tier_defaults(tier: str) -> TierSettings:
    return TIERS[tier]
