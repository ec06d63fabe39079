"""Step 1 undone: the GitLab group archived in place, or deleted.

By default every project of the group (and its subgroups) is archived:
read-only, its history kept, the group and its members left as they are.
With ``delete_group`` the group itself is deleted (GitLab may keep it,
marked for deletion, for some days). The site's shared pipeline and
dashboard projects are never archived or deleted with a tenant.
"""

from __future__ import annotations

from typing import Any

from tenantctl.errors import InputError
from tenantctl.steps.base import Change, Context, StepPlan

Json = dict[str, Any]


def find_tenant_group(ctx: Context) -> Json | None:
    """The tenant's GitLab group (setting ``ctx.group_id``), or None."""
    group = ctx.gitlab.find_group(ctx.playbook.full_path)
    ctx.group_id = int(group["id"]) if group is not None else None
    return group


def shared_projects(ctx: Context) -> set[str]:
    """The projects every tenant relies on, by full path."""
    return {ctx.config.pipeline.project, ctx.config.dashboard.project}


class GroupRetirement:
    name = "group"
    title = "GitLab group"

    def __init__(self, *, delete_group: bool = False) -> None:
        self.delete_group = delete_group

    def plan(self, ctx: Context) -> StepPlan:
        plan = StepPlan()
        group = find_tenant_group(ctx)
        if group is None:
            return plan
        if self.delete_group:
            self._plan_delete(ctx, group, plan)
        else:
            self._plan_archive(ctx, int(group["id"]), plan)
        return plan

    def _plan_archive(self, ctx: Context, group_id: int, plan: StepPlan) -> None:
        shared = shared_projects(ctx)
        for project in ctx.gitlab.group_projects(group_id, archived=False):
            path = str(project["path_with_namespace"])
            if path in shared:
                plan.warnings.append(
                    f"{path} serves every tenant: left as it is, not archived"
                )
                continue
            plan.add(self._archive(ctx, int(project["id"]), path))

    def _archive(self, ctx: Context, project_id: int, path: str) -> Change:
        return Change(
            "update",
            "project",
            path,
            old={"archived": False},
            new={"archived": True},
            run=lambda: ctx.gitlab.archive_project(project_id),
        )

    def _plan_delete(self, ctx: Context, group: Json, plan: StepPlan) -> None:
        if group.get("marked_for_deletion_on"):
            plan.notes.append(
                f"group {group['full_path']} is marked for deletion "
                f"since {group['marked_for_deletion_on']}"
            )
            return
        group_id = int(group["id"])
        held = sorted(
            str(p["path_with_namespace"])
            for p in ctx.gitlab.group_projects(group_id)
            if p["path_with_namespace"] in shared_projects(ctx)
        )
        if held:
            raise InputError(
                f"group {group['full_path']} holds {', '.join(held)}, which every "
                "tenant uses: it cannot be deleted with this tenant",
                hint="move those projects out first, or offboard without "
                "--delete-group (its other projects are archived)",
            )
        plan.add(
            Change(
                "delete",
                "group",
                str(group["full_path"]),
                run=lambda: ctx.gitlab.delete_group(group_id),
            )
        )
