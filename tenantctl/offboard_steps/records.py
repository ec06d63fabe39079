"""The tenant's Vault records, soft-deleted so that nothing is lost."""

from __future__ import annotations

from tenantctl.steps.base import Change, Context


def soft_delete_change(ctx: Context, leaf: str) -> Change | None:
    """The KV v2 delete of the latest version of ``tenants/<tenant>/<leaf>``,
    or None when it is absent or already deleted.

    Every version's data stays in Vault (``vault kv undelete`` restores it):
    offboarding keeps the history of what the tenant held.
    """
    path = ctx.vault_path(leaf)
    record = ctx.vault.read(path)
    if record is None:
        return None
    return Change(
        "delete",
        "vault record",
        f"{ctx.config.vault.mount}/{path}",
        old={"version": record.version},
        run=lambda: ctx.vault.soft_delete(path),
    )
