"""Step 6 undone: the tenant out of the dashboard's allow-list.

One commit that removes the entry and keeps every other byte of the file
(its comments, order and quoting), as onboarding's edit did.
"""

from __future__ import annotations

from tenantctl.adapters.gitlab import RepoFile
from tenantctl.steps.base import Change, Context, StepPlan, unified_diff
from tenantctl.steps.commits import Actions, commit_edit, file_action
from tenantctl.steps.dashboard import read_allowlist
from tenantctl.textedit import allowlist


class DashboardRemoval:
    name = "dashboard"
    title = "dashboard allow-list"

    def plan(self, ctx: Context) -> StepPlan:
        plan = StepPlan()
        current = read_allowlist(ctx)
        edited = self._edited(ctx, current)
        if edited == current.content:
            return plan
        dash = ctx.config.dashboard
        plan.add(
            Change(
                "delete",
                "allow-list entry",
                f"{dash.project}:{dash.allowlist.file}",
                old=ctx.tenant,
                detail=unified_diff(current.content, edited, dash.allowlist.file),
                run=lambda: self._commit(ctx),
            )
        )
        return plan

    def _edited(self, ctx: Context, current: RepoFile) -> str:
        spec = ctx.config.dashboard.allowlist
        return allowlist.remove_entry(
            current.content, spec.format, spec.locator, ctx.tenant
        )

    def _commit(self, ctx: Context) -> None:
        dash = ctx.config.dashboard

        def build() -> Actions:
            current = read_allowlist(ctx)
            text = self._edited(ctx, current)
            if text == current.content:
                return []
            file = dash.allowlist.file
            return [file_action("update", file, text, current.last_commit_id)]

        commit_edit(
            ctx.gitlab,
            dash.project,
            dash.branch,
            f"Remove tenant {ctx.tenant} from the dashboard",
            build,
        )
