"""Step 4 undone: the tenant's group runner deleted, its Vault record
soft-deleted.

Deleting the runner in GitLab invalidates its authentication token, so the
runner host can take no more jobs; the host's own ``config.toml`` section
is left to its operators.
"""

from __future__ import annotations

from typing import Any

from tenantctl.offboard_steps.group import find_tenant_group
from tenantctl.offboard_steps.records import soft_delete_change
from tenantctl.steps.base import Change, Context, StepPlan

Json = dict[str, Any]


class RunnerRemoval:
    name = "runner"
    title = "group runner"

    def plan(self, ctx: Context) -> StepPlan:
        plan = StepPlan()
        group = find_tenant_group(ctx)

        if group is not None:
            for runner in self._runners(ctx, int(group["id"])):
                plan.add(self._delete(ctx, runner))

        removal = soft_delete_change(ctx, "runner")
        if removal is not None:
            plan.add(removal)
        return plan

    def _runners(self, ctx: Context, group_id: int) -> list[Json]:
        """The group's own runners that are the tenant's: tagged with its
        name, or the one Vault records."""
        record = ctx.vault.read(ctx.vault_path("runner"))
        recorded = record.data.get("runner_id") if record is not None else None
        return [
            runner
            for runner in ctx.gitlab.group_runners(group_id)
            if ctx.tenant in (runner.get("tag_list") or [])
            or runner.get("id") == recorded
        ]

    def _delete(self, ctx: Context, runner: Json) -> Change:
        runner_id = int(runner["id"])
        return Change(
            "delete",
            "runner",
            f"runner {runner_id}",
            old={
                "description": runner.get("description"),
                "tag_list": runner.get("tag_list"),
            },
            run=lambda: ctx.gitlab.delete_runner(runner_id),
        )
