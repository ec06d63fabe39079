"""Step 7 undone: the tenant's token revoked, its variables removed.

The token is revoked first, so a copy of it that leaked stops working at
once; then the group's ``GL_TOKEN`` and the dashboard's
``GITLAB_TOKEN_<GROUP>`` go, and last the Vault record is soft-deleted.
"""

from __future__ import annotations

from typing import Any

from tenantctl import tokens
from tenantctl.adapters.vault import Record
from tenantctl.offboard_steps.group import find_tenant_group
from tenantctl.offboard_steps.records import soft_delete_change
from tenantctl.steps.base import Change, Context, StepPlan
from tenantctl.steps.dashboard import dashboard_variable

Json = dict[str, Any]


class TokenRevocation:
    name = "token"
    title = "access token and its variables"

    def plan(self, ctx: Context) -> StepPlan:
        plan = StepPlan()
        group = find_tenant_group(ctx)
        record = tokens.read_record(ctx.vault, ctx.tenant)

        if group is not None:
            group_id = int(group["id"])
            for token in self._to_revoke(ctx, group_id, record):
                plan.add(self._revoke(ctx, group_id, token))
        for change in self._variables(ctx, group):
            plan.add(change)

        removal = soft_delete_change(ctx, "token")
        if removal is not None:
            plan.add(removal)
        return plan

    def _to_revoke(
        self, ctx: Context, group_id: int, record: Record | None
    ) -> list[Json]:
        """The group's working tokens that are the tenant's: the one Vault
        records, and any other of the configured name (a run that died
        before Vault heard of it may have left one)."""
        recorded = record.data.get("token_id") if record is not None else None
        name = ctx.config.tokens.name
        return [
            token
            for token in ctx.gitlab.group_tokens(group_id)
            if tokens.is_active(token)
            and (token.get("name") == name or token.get("id") == recorded)
        ]

    def _revoke(self, ctx: Context, group_id: int, token: Json) -> Change:
        token_id = int(token["id"])
        return Change(
            "delete",
            "access token",
            f"{ctx.tenant}:{token.get('name')} (id {token_id})",
            old={"scopes": token.get("scopes"), "expires_at": token.get("expires_at")},
            run=lambda: ctx.gitlab.revoke_group_token(group_id, token_id),
        )

    def _variables(self, ctx: Context, group: Json | None) -> list[Change]:
        where: list[tuple[str, int | str, str, str]] = []
        if group is not None:
            where.append(("group", int(group["id"]), ctx.tenant, "GL_TOKEN"))
        dash = ctx.config.dashboard.project
        where.append(
            ("project", dash, dash, dashboard_variable(ctx.config, ctx.tenant))
        )
        return [
            self._delete_variable(ctx, owner, ident, label, key)
            for owner, ident, label, key in where
            if ctx.gitlab.get_variable(owner, ident, key) is not None
        ]

    def _delete_variable(
        self, ctx: Context, owner: str, ident: int | str, label: str, key: str
    ) -> Change:
        return Change(
            "delete",
            "variable",
            f"{label}:{key}",
            run=lambda: ctx.gitlab.delete_variable(owner, ident, key),
        )
