"""Offboarding one tenant: the seven onboarding steps undone, in reverse.

The same engine as onboarding plans each step and applies its changes:
``--dry-run`` shows the plan, a second run finds nothing left to do, and a
run that stopped half-way is finished by running it again. Nothing is
destroyed that cannot be had back: the token is revoked (it must stop
working), but labels are kept, projects archived rather than deleted, and
Vault records soft-deleted with every version kept.
"""

from __future__ import annotations

from pathlib import Path

from tenantctl import engine, onboarding, tokens
from tenantctl.config import Credentials, SiteConfig
from tenantctl.errors import InputError
from tenantctl.journal import Journal, JournalingReporter
from tenantctl.locking import TenantLock
from tenantctl.offboard_steps import offboarding_steps
from tenantctl.offboard_steps.group import find_tenant_group
from tenantctl.onboarding import LockOnFirstChange, check_access, journal_path
from tenantctl.playbook import Playbook, Tier, load_playbook
from tenantctl.steps.base import Context, Step


def playbook_for(config: SiteConfig, tenant: str) -> tuple[Playbook, Path | None]:
    """The tenant's playbook from ``playbooks_dir`` when there is one (it
    knows the group's parent and tier), else a bare one naming the tenant."""
    path = Path(config.playbooks_dir) / f"{tenant}.yml"
    if path.is_file():
        book = load_playbook(path)
        if book.tenant != tenant:
            raise InputError(
                f"{path}: the playbook is for tenant {book.tenant!r}, not {tenant!r}"
            )
        return book, path
    try:
        return Playbook(tenant=tenant, tier=Tier.standard), None
    except ValueError as exc:
        raise InputError(f"{tenant!r} is not a tenant group name: {exc}") from None


def build_context(
    config: SiteConfig, credentials: Credentials, tenant: str, *, dry_run: bool
) -> Context:
    """Onboarding's context, for the tenant's playbook (or a bare one)."""
    book, _ = playbook_for(config, tenant)
    return onboarding.build_context(config, credentials, book, dry_run=dry_run)


def strict_signs(ctx: Context, from_playbook: bool) -> list[str]:
    """Why the tenant looks strict-tier: its playbook, its token's scope,
    its runner. Any one sign is enough to ask for ``--force``."""
    signs = []
    if from_playbook and ctx.playbook.tier is Tier.strict:
        signs.append("its playbook says tier strict")
    record = tokens.read_record(ctx.vault, ctx.tenant)
    if record is not None and "api" in (record.data.get("scopes") or []):
        signs.append("its token has the api scope")
    group = find_tenant_group(ctx)
    if group is not None and _has_protected_runner(ctx, int(group["id"])):
        signs.append("its runner is locked and takes protected refs only")
    return signs


def _has_protected_runner(ctx: Context, group_id: int) -> bool:
    return any(
        runner.get("locked") and runner.get("access_level") == "ref_protected"
        for runner in ctx.gitlab.group_runners(group_id)
    )


def check_force(ctx: Context, force: bool) -> list[str]:
    """The strict-tier signs; InputError when there are any and not ``force``."""
    _, path = playbook_for(ctx.config, ctx.tenant)
    signs = strict_signs(ctx, path is not None)
    if signs and not force:
        raise InputError(
            f"tenant {ctx.tenant} is a strict-tier tenant ({'; '.join(signs)}): "
            "offboarding it is refused",
            hint="pass --force if you really mean to offboard it",
        )
    return signs


def offboard(
    ctx: Context,
    reporter: engine.Reporter,
    *,
    force: bool = False,
    delete_group: bool = False,
    lock_timeout: float = 60.0,
) -> engine.RunReport:
    """Undo the tenant's onboarding; a real run refuses a strict-tier tenant
    without ``force`` and holds the tenant's lock from its first change to
    its end, journaling each change."""
    steps = offboarding_steps(delete_group=delete_group)
    check_access(ctx)
    if ctx.dry_run:
        return engine.run(steps, ctx, reporter)
    check_force(ctx, force)
    journal = Journal(journal_path(ctx.config), "offboard")
    reporter = JournalingReporter(reporter, journal, ctx.tenant)
    lock = TenantLock(ctx.vault, ctx.tenant, "offboard", timeout=lock_timeout)
    try:
        locked: list[Step] = [LockOnFirstChange(step, lock) for step in steps]
        return engine.run(locked, ctx, reporter)
    finally:
        lock.release()
