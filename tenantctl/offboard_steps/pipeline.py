"""Step 3 undone: the tenant's include entry and group file removed.

Both go in ONE commit of the shared pipeline project, after GitLab's CI
lint accepted the new ``.gitlab-ci.yml``; every other byte of that file
stays as its owners wrote it. The group's ``CI_GROUP`` variable, which only
the include rule read, goes too.
"""

from __future__ import annotations

from typing import Any

from tenantctl.adapters.gitlab import RepoFile
from tenantctl.errors import RemoteError
from tenantctl.offboard_steps.group import find_tenant_group
from tenantctl.steps.base import Change, Context, StepPlan, unified_diff
from tenantctl.steps.commits import Actions, commit_edit, file_action
from tenantctl.steps.pipeline import CI_FILE
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


class _Removal:
    """Reads the two files and works out the commit that removes the
    tenant from them."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.project = ctx.config.pipeline.project
        self.branch = ctx.config.pipeline.branch
        self.group_path = ci_include.group_file_path(ctx.tenant)
        self.before: dict[str, str] = {}

    def actions(self) -> Actions:
        ci = self._read_ci()
        group = self.ctx.gitlab.read_file(self.project, self.group_path, self.branch)
        self.before = {CI_FILE: ci.content}
        actions = []
        if group is not None:
            self.before[self.group_path] = group.content
            actions.append(
                file_action("delete", self.group_path, "", group.last_commit_id)
            )
        new_ci = ci_include.remove_include(ci.content, self.ctx.tenant)
        if new_ci != ci.content:
            actions.append(file_action("update", CI_FILE, new_ci, ci.last_commit_id))
        return actions

    def _read_ci(self) -> RepoFile:
        ci = self.ctx.gitlab.read_file(self.project, CI_FILE, self.branch)
        if ci is None:
            raise RemoteError(
                "GitLab",
                f"{self.project} has no {CI_FILE} on branch {self.branch}",
                status=404,
                hint="check pipeline.project and pipeline.branch in the site config",
            )
        return ci

    def commit(self) -> None:
        """Lint the new pipeline, then commit both removals together."""
        commit_edit(
            self.ctx.gitlab,
            self.project,
            self.branch,
            f"Remove tenant {self.ctx.tenant} from the shared pipeline",
            self.actions,
            self._lint,
        )

    def _lint(self, actions: Actions) -> None:
        ci = next((a for a in actions if a["file_path"] == CI_FILE), None)
        if ci is None:
            return
        answer = self.ctx.gitlab.lint(self.project, ci["content"], self.branch)
        if not answer.get("valid"):
            errors = "; ".join(str(e) for e in answer.get("errors") or [])
            raise RemoteError(
                "GitLab",
                f"CI lint rejects {CI_FILE} without tenant {self.ctx.tenant}: "
                f"{errors}; nothing committed",
                hint=f"fix {CI_FILE} in {self.project} and run again",
            )
