"""Onboarding one tenant: the clients, the checks, the engine run."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from tenantctl import engine
from tenantctl.adapters.gitlab import GitLab
from tenantctl.adapters.keycloak import Keycloak
from tenantctl.adapters.vault import Vault
from tenantctl.config import Credentials, SiteConfig
from tenantctl.errors import CredentialError, InputError, RemoteError
from tenantctl.journal import Journal, JournalingReporter, default_path
from tenantctl.locking import TenantLock
from tenantctl.playbook import Playbook
from tenantctl.steps import onboarding_steps
from tenantctl.steps.base import Context, Step, StepPlan


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
    """Checks that must pass before anything is written: the credentials
    work, and each step's own checks."""
    check_access(ctx)
    check_references(ctx)
    for step in steps:
        check = getattr(step, "check", None)
        if check is not None:
            check(ctx)


def check_access(ctx: Context) -> None:
    """Each credential works and GITLAB_TOKEN may write, so that a bad one
    fails the run (as bad input, exit 2) before anything is half made."""
    try:
        _check_access(ctx)
    except RemoteError as exc:
        if exc.status not in (401, 403):
            raise
        raise CredentialError(exc.message, hint=exc.hint) from None


def check_references(ctx: Context) -> None:
    """The groups the playbook names exist (exit 2 if not)."""
    book = ctx.playbook
    named = [("parent", book.parent), ("labels.from", book.labels.source)]
    for field, path in named:
        if path and ctx.gitlab.find_group(path) is None:
            raise InputError(
                f"the playbook's {field} names group {path!r}, "
                "which does not exist in GitLab",
                hint=f"fix {field} in the playbook, or create that group first",
            )


def _check_access(ctx: Context) -> None:
    scopes = ctx.gitlab.operator_scopes()
    if scopes is not None and "api" not in scopes:
        raise RemoteError(
            "GitLab",
            "GITLAB_TOKEN lacks the 'api' scope (it has: "
            + (", ".join(scopes) or "none")
            + ")",
            status=403,
            hint="use a token of a group Owner with the api scope",
        )
    ctx.vault.check_access()
    ctx.keycloak.check_access()
    ctx.keycloak.client_uuid(ctx.config.keycloak.dashboard_client_id)


def onboard(
    ctx: Context, reporter: engine.Reporter, *, lock_timeout: float = 60.0
) -> engine.RunReport:
    """Run the steps for the tenant; a real run holds the tenant's lock
    (waiting up to ``lock_timeout`` seconds for it) from its first change
    to its end."""
    steps = onboarding_steps()
    preflight(steps, ctx)
    if ctx.dry_run:
        return engine.run(steps, ctx, reporter)
    journal = Journal(journal_path(ctx.config), "onboard")
    reporter = JournalingReporter(reporter, journal, ctx.tenant)
    lock = TenantLock(ctx.vault, ctx.tenant, "onboard", timeout=lock_timeout)
    try:
        locked: list[Step] = [LockOnFirstChange(step, lock) for step in steps]
        return engine.run(locked, ctx, reporter)
    finally:
        lock.release()


class LockOnFirstChange:
    """A step that takes the tenant's lock before its first change.

    The first plan that has changes takes the lock and is then made again
    under it, so every change applied was planned while holding the lock,
    and a run with nothing to change writes nothing, not even a lock.
    """

    def __init__(self, step: Step, lock: TenantLock) -> None:
        self.step = step
        self.lock = lock
        self.name = step.name
        self.title = step.title

    def plan(self, ctx: Context) -> StepPlan:
        plan = self.step.plan(ctx)
        if plan.changes and not self.lock.held:
            self.lock.acquire()
            plan = self.step.plan(ctx)
        return plan


def journal_path(config: SiteConfig) -> Path:
    return Path(config.journal) if config.journal else default_path()
