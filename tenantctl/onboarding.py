"""Onboarding one tenant: the clients, the checks, the engine run."""

from __future__ import annotations

from typing import Protocol

from tenantctl import engine
from tenantctl.adapters.gitlab import GitLab
from tenantctl.adapters.keycloak import Keycloak
from tenantctl.adapters.vault import Vault
from tenantctl.config import Credentials, SiteConfig
from tenantctl.playbook import Playbook
from tenantctl.steps import onboarding_steps
from tenantctl.steps.base import Context, Step


class Checked(Protocol):
    def check(self, ctx: Context) -> None: ...


def build_context(
    config: SiteConfig,
    credentials: Credentials,
    playbook: Playbook,
    *,
    dry_run: bool,
    runner_config_path: str | None = None,
) -> Context:
    return Context(
        config=config,
        playbook=playbook,
        settings=playbook.settings(),
        gitlab=GitLab(config.gitlab, credentials.gitlab_token),
        keycloak=Keycloak(config.keycloak, credentials),
        vault=Vault(config.vault, credentials.vault_token),
        dry_run=dry_run,
        runner_config_path=runner_config_path,
    )


def preflight(steps: list[Step], ctx: Context) -> None:
    """Checks that must pass before anything is written."""
    for step in steps:
        check = getattr(step, "check", None)
        if check is not None:
            check(ctx)


def onboard(ctx: Context, reporter: engine.Reporter) -> engine.RunReport:
    steps = onboarding_steps()
    preflight(steps, ctx)
    return engine.run(steps, ctx, reporter)
