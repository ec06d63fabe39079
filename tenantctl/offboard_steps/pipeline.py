"""Step 3 undone: the tenant's include entry and group file removed.

Both go in ONE commit of the shared pipeline project, after GitLab's CI
lint accepted the new ``.gitlab-ci.yml``; every other byte of that file
stays as its owners wrote it. The group's ``CI_GROUP`` variable, which only
the include rule read, goes too.
"""

from __future__ import annotations

from typing import Any

from tenantctl.offboard_steps.group import find_tenant_group
from tenantctl.steps.base import Change, Context, StepPlan, unified_diff
from tenantctl.steps.commits import Actions, file_action
from tenantctl.steps.pipeline import CI_FILE, PipelineEdit
from tenantctl.textedit import ci_include

Json = dict[str, Any]


class PipelineRemoval:
    name = "pipeline"
    title = "pipeline file and include"

    def plan(self, ctx: Context) -> StepPlan:
        plan = StepPlan()
        edit = _Removal(ctx)
        actions = edit.actions()
        project = ctx.config.pipeline.project
        for action in actions:
            path = action["file_path"]
            kind = "include rule" if path == CI_FILE else "file"
            after = action["content"] if action["action"] == "update" else ""
            detail = unified_diff(edit.before[path], after, path)
            plan.add(Change("delete", kind, f"{project}:{path}", detail=detail))
        if actions:
            plan.changes[0].run = edit.commit

        group = find_tenant_group(ctx)
        if group is not None:
            variable = self._ci_group(ctx, group)
            if variable is not None:
                plan.add(variable)
        return plan

    def _ci_group(self, ctx: Context, group: Json) -> Change | None:
        group_id = int(group["id"])
        if ctx.gitlab.get_variable("group", group_id, "CI_GROUP") is None:
            return None
        return Change(
            "delete",
            "variable",
            f"{ctx.tenant}:CI_GROUP",
            run=lambda: ctx.gitlab.delete_variable("group", group_id, "CI_GROUP"),
        )


class _Removal(PipelineEdit):
    """Removes the tenant: its group file and its include entry."""

    message = "Remove tenant {tenant} from the shared pipeline"

    def actions(self) -> Actions:
        ci = self.read_ci()
        group = self.read_group_file()
        actions = []
        if group is not None:
            actions.append(
                file_action("delete", self.group_path, "", group.last_commit_id)
            )
        new_ci = ci_include.remove_include(ci.content, self.ctx.tenant)
        if new_ci != ci.content:
            actions.append(file_action("update", CI_FILE, new_ci, ci.last_commit_id))
        return actions
