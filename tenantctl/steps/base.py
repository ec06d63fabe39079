"""The protocol every onboarding step follows: read, compare, change.

A step's ``plan`` reads what exists and returns the changes that would bring
it to what the playbook asks for; each change carries the call that makes
it. The engine shows the plan, or runs the changes in order.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from tenantctl.adapters.gitlab import GitLab
from tenantctl.adapters.keycloak import Keycloak
from tenantctl.adapters.vault import Vault
from tenantctl.config import SiteConfig
from tenantctl.playbook import Playbook
from tenantctl.secrets import REDACTED, Secret
from tenantctl.tiers import TierSettings

Action = Literal["create", "update", "delete"]


@dataclass
class Change:
    """One difference between what is and what should be, and its fix."""

    action: Action
    kind: str
    target: str
    old: Any = None
    new: Any = None
    run: Callable[[], None] | None = field(default=None, repr=False, compare=False)
    detail: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "action": self.action,
            "kind": self.kind,
            "target": self.target,
        }
        if self.old is not None:
            data["old"] = _public(self.old)
        if self.new is not None:
            data["new"] = _public(self.new)
        if self.detail:
            data["diff"] = self.detail
        return data


def unified_diff(old: str, new: str, name: str) -> str:
    """The change from ``old`` to ``new`` as a unified diff, for a plan."""
    lines = difflib.unified_diff(
        old.splitlines(keepends=True),
        new.splitlines(keepends=True),
        fromfile=f"a/{name}",
        tofile=f"b/{name}",
        n=1,
    )
    return "".join(lines)


def _public(value: Any) -> Any:
    """``value`` as JSON-ready data with every Secret shown as ``***``."""
    if isinstance(value, Secret):
        return REDACTED
    if isinstance(value, dict):
        return {k: _public(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_public(v) for v in value]
    return value


@dataclass
class StepPlan:
    changes: list[Change] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, change: Change) -> None:
        self.changes.append(change)


@dataclass
class Context:
    """What every step sees: the site, the tenant, the clients, and results.

    Steps pass results forward through it: step 1 sets ``group_id``, step 7
    sets ``token``.
    """

    config: SiteConfig
    playbook: Playbook
    settings: TierSettings
    gitlab: GitLab
    keycloak: Keycloak
    vault: Vault
    dry_run: bool = False
    runner_config_path: str | None = None
    group_id: int | None = None
    results: dict[str, Any] = field(default_factory=dict)

    @property
    def tenant(self) -> str:
        return self.playbook.tenant

    def vault_path(self, leaf: str) -> str:
        return self.vault.path("tenants", self.tenant, leaf)


class Step(Protocol):
    """One onboarding step."""

    name: str
    title: str

    def plan(self, ctx: Context) -> StepPlan:
        """Read the current state; return the changes the playbook needs."""
        ...
