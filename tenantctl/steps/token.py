"""Step 7: the tenant's scoped group access token, kept in Vault.

The token is minted with the operator's own token (a group access token
cannot mint tokens), always with an explicit expiry, written to Vault (the
system of record) and published to the two variables that consume it:
the group's ``GL_TOKEN`` and the dashboard's ``GITLAB_TOKEN_<GROUP>``.
A run after onboarding finds the working token in Vault and mints nothing.
"""

from __future__ import annotations

from tenantctl import tokens
from tenantctl.adapters.vault import Record
from tenantctl.secrets import Secret
from tenantctl.steps.base import Action, Change, Context, StepPlan
from tenantctl.steps.dashboard import dashboard_variable
from tenantctl.steps.variables import Variable


class TokenStep:
    name = "token"
    title = "scoped access token"

    def plan(self, ctx: Context) -> StepPlan:
        plan = StepPlan()
        record = ctx.vault.read(ctx.vault_path("token"), secret_keys=("token",))
        usable = self._usable(ctx, record)

        if usable is not None:
            ctx.results["token"] = usable
            self._plan_publish(ctx, usable, plan)
            return plan

        for change in self._mint(ctx, record):
            plan.add(change)
        for variable in self._consumers(ctx):
            action: Action = "create" if variable.current() is None else "update"
            plan.add(variable.change(action, lambda: ctx.results["token"]))
        return plan

    def _consumers(self, ctx: Context) -> list[Variable]:
        dash = ctx.config.dashboard
        return [
            Variable(ctx, "GL_TOKEN", masked=True, protected=True),
            Variable(
                ctx,
                dashboard_variable(ctx.config, ctx.tenant),
                masked=True,
                protected=False,
                project=dash.project,
            ),
        ]

    def _usable(self, ctx: Context, record: Record | None) -> Secret | None:
        """The token in Vault when it works and is what the tier asks for."""
        if record is None or not isinstance(record.data.get("token"), Secret):
            return None
        token: Secret = record.data["token"]
        info = ctx.gitlab.token_self(token)
        if info is None or not info.get("active", False):
            return None
        settings = ctx.settings
        if sorted(info.get("scopes") or []) != sorted(settings.token_scopes):
            return None
        level = record.data.get("access_level")
        if level is not None and int(level) != settings.token_access_level:
            return None
        return token

    def _plan_publish(self, ctx: Context, token: Secret, plan: StepPlan) -> None:
        for variable in self._consumers(ctx):
            change = variable.plan(token)
            if change is not None:
                plan.add(change)

    def _mint(self, ctx: Context, record: Record | None) -> list[Change]:
        """The token to mint, shown as GitLab will see it: a rotation when an
        active token of the name exists (its value lost), a creation
        otherwise, and a revocation for each stale token of the name."""
        lifetime = ctx.playbook.token.lifetime_days or ctx.config.tokens.lifetime_days
        settings = ctx.settings
        spec = tokens.TokenSpec(
            name=ctx.config.tokens.name,
            scopes=tuple(settings.token_scopes),
            access_level=settings.token_access_level,
        )
        expires_at = tokens.gitlab_expiry(lifetime, ctx.gitlab.server_time())

        def mint() -> None:
            assert ctx.group_id is not None
            minted = tokens.mint_or_recover(ctx.gitlab, ctx.group_id, spec, expires_at)
            if minted.replaced_id is None and record is not None:
                # The id the record held, so Vault's history links the two.
                previous = record.data.get("token_id")
                replaced = int(previous) if previous is not None else None
                minted = tokens.Minted(minted.data, minted.token, replaced)
            tokens.record(
                ctx.vault,
                ctx.tenant,
                ctx.group_id,
                minted,
                reason="onboard",
                lifetime_days=lifetime,
            )
            ctx.results["token"] = minted.token

        shown = {k: v for k, v in spec.fields(expires_at).items() if k != "name"}
        target = f"{ctx.tenant}:{spec.name}"
        same = []
        if ctx.group_id is not None:
            same = tokens.named(ctx.gitlab, ctx.group_id, spec.name)
        keep = next((t for t in same if tokens.is_active(t) and spec.matches(t)), None)
        if keep is None:
            first = Change("create", "access token", target, new=shown, run=mint)
        else:
            first = Change(
                "update",
                "access token",
                f"{target} #{keep['id']} (rotated: its value is not in Vault)",
                new=shown,
                run=mint,
            )
        stale = [
            Change("delete", "access token", f"{target} #{t['id']} (stale)")
            for t in same
            if t is not keep and not t.get("revoked")
        ]
        return [first, *stale]
