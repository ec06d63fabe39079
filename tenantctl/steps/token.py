"""Step 7: the tenant's scoped group access token, kept in Vault.

The token is minted with the operator's own token (a group access token
cannot mint tokens), always with an explicit expiry, written to Vault (the
system of record) and published to the two variables that consume it:
the group's ``GL_TOKEN`` and the dashboard's ``GITLAB_TOKEN_<GROUP>``.
A run after onboarding finds the working token in Vault and mints nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from tenantctl.adapters.vault import Record
from tenantctl.secrets import Secret
from tenantctl.steps.base import Action, Change, Context, StepPlan
from tenantctl.steps.dashboard import dashboard_variable
from tenantctl.steps.variables import Variable

Json = dict[str, Any]


def expiry_date(lifetime_days: int, today: dt.date | None = None) -> str:
    """``YYYY-MM-DD`` ``lifetime_days`` after today (UTC, as GitLab counts)."""
    today = today or dt.datetime.now(dt.UTC).date()
    return (today + dt.timedelta(days=lifetime_days)).isoformat()


class TokenStep:
    name = "token"
    title = "scoped group access token"

    def plan(self, ctx: Context) -> StepPlan:
        plan = StepPlan()
        record = ctx.vault.read(ctx.vault_path("token"), secret_keys=("token",))
        usable = self._usable(ctx, record)

        if usable is not None:
            ctx.results["token"] = usable
            self._plan_publish(ctx, usable, plan)
            return plan

        plan.add(self._mint(ctx, record))
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

    def _mint(self, ctx: Context, record: Record | None) -> Change:
        name = ctx.config.tokens.name
        lifetime = ctx.playbook.token.lifetime_days or ctx.config.tokens.lifetime_days
        settings = ctx.settings
        fields: Json = {
            "name": name,
            "scopes": list(settings.token_scopes),
            "access_level": settings.token_access_level,
            "expires_at": expiry_date(lifetime),
        }

        def mint() -> None:
            assert ctx.group_id is not None
            data, token = self._create_or_recover(ctx, fields)
            self._record(ctx, data, token, record)
            ctx.results["token"] = token

        shown = {k: v for k, v in fields.items() if k != "name"}
        return Change(
            "create", "access token", f"{ctx.tenant}:{name}", new=shown, run=mint
        )

    def _create_or_recover(self, ctx: Context, fields: Json) -> tuple[Json, Secret]:
        """A new token; an active one of that name whose value was lost (a run
        that died before Vault heard of it) is rotated rather than doubled."""
        assert ctx.group_id is not None
        gitlab = ctx.gitlab
        same = [
            t
            for t in gitlab.group_tokens(ctx.group_id)
            if t.get("name") == fields["name"]
            and t.get("active")
            and not t.get("revoked")
        ]
        matching = [
            t
            for t in same
            if sorted(t.get("scopes") or []) == sorted(fields["scopes"])
            and int(t.get("access_level", 0)) == fields["access_level"]
        ]
        if matching:
            keep = matching[0]
            data, token = gitlab.rotate_group_token(
                ctx.group_id, int(keep["id"]), fields["expires_at"]
            )
        else:
            data, token = gitlab.create_group_token(ctx.group_id, fields)
        for stale in same:
            if not matching or stale is not matching[0]:
                gitlab.revoke_group_token(ctx.group_id, int(stale["id"]))
        return data, token

    def _record(
        self, ctx: Context, data: Json, token: Secret, previous: Record | None
    ) -> None:
        ctx.vault.write(
            ctx.vault_path("token"),
            {
                "token": token,
                "token_id": data.get("id"),
                "name": data.get("name"),
                "scopes": data.get("scopes"),
                "access_level": data.get("access_level"),
                "created_at": data.get("created_at"),
                "expires_at": data.get("expires_at"),
                "group_id": ctx.group_id,
                "tenant": ctx.tenant,
            },
        )
        if previous is not None and previous.data.get("token_id") is not None:
            ctx.vault.set_custom_metadata(
                ctx.vault_path("token"),
                {"previous_token_id": str(previous.data["token_id"])},
            )
