"""Step 3: the tenant's pipeline overrides file and its ``include`` entry.

Both land in ONE commit of the shared pipeline project, after GitLab's CI
lint accepted the new ``.gitlab-ci.yml``. Each edited file's last commit id
goes with the commit, so a concurrent change to either makes GitLab refuse
it; the edit is then redone on the new state.
"""

from __future__ import annotations

import yaml

from tenantctl.adapters.gitlab import RepoFile
from tenantctl.errors import RemoteError
from tenantctl.steps.base import Change, Context, StepPlan, unified_diff
from tenantctl.steps.commits import Actions, commit_edit, file_action
from tenantctl.steps.variables import Variable
from tenantctl.textedit import ci_include

CI_FILE = ".gitlab-ci.yml"
HEADER = "# Pipeline overrides of tenant "


def render_group_file(ctx: Context) -> str:
    """The overrides file for the tenant, from its tier and overrides."""
    book = ctx.playbook
    settings = ctx.settings
    body = {
        "variables": {
            "TENANT": book.tenant,
            "TENANT_TIER": book.tier.value,
            "SECURITY_SCANS": settings.security_scans,
            "SECURITY_SCANS_BLOCKING": str(
                settings.security_scans == "blocking"
            ).lower(),
            "STAGING_DEPLOY": settings.staging_deploy,
            "PRODUCTION_DEPLOY": settings.production_deploy,
        },
        "default": {"tags": [book.tenant]},
    }
    head = (
        f"{HEADER}{book.tenant} ({book.tier.value} tier).\n"
        "# Written by tenantctl from the tenant's playbook: change the playbook\n"
        "# and run `tenantctl onboard` again rather than editing this file.\n"
    )
    return head + yaml.safe_dump(body, sort_keys=False, default_flow_style=False)


class PipelineStep:
    name = "pipeline"
    title = "pipeline file and include"

    def plan(self, ctx: Context) -> StepPlan:
        plan = StepPlan()
        edit = _Edit(ctx)
        actions = edit.actions()
        plan.warnings.extend(edit.warnings)
        for action in actions:
            path = action["file_path"]
            kind = "include rule" if path == CI_FILE else "file"
            target = f"{ctx.config.pipeline.project}:{path}"
            detail = unified_diff(edit.before.get(path, ""), action["content"], path)
            plan.add(Change(action["action"], kind, target, detail=detail))
        if actions:
            plan.changes[0].run = edit.commit

        ci_group = Variable(ctx, "CI_GROUP", masked=False, protected=False)
        variable = ci_group.plan(ctx.tenant)
        if variable is not None:
            plan.add(variable)
        return plan


class PipelineEdit:
    """One tenant's edit of the shared pipeline project's two files: worked
    out again on every attempt, CI-linted, and committed at once.

    Subclasses say what the edit is (``actions``) and how its commit reads
    (``message``); onboarding adds the tenant, offboarding removes it.
    """

    message = "Edit tenant {tenant} in the shared pipeline"

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.project = ctx.config.pipeline.project
        self.branch = ctx.config.pipeline.branch
        self.group_path = ci_include.group_file_path(ctx.tenant)
        self.before: dict[str, str] = {}
        self.warnings: list[str] = []

    def actions(self) -> Actions:
        raise NotImplementedError

    def read_ci(self) -> RepoFile:
        """``.gitlab-ci.yml`` on the branch; a missing project or file is an
        error that names the setting to check."""
        gitlab = self.ctx.gitlab
        ci = gitlab.read_file(self.project, CI_FILE, self.branch)
        if ci is None and gitlab.find_project(self.project) is None:
            raise RemoteError(
                "GitLab",
                f"project {self.project} not found",
                status=404,
                hint="check pipeline.project in the site config, and that "
                "GITLAB_TOKEN's user can see it",
            )
        if ci is None:
            raise RemoteError(
                "GitLab",
                f"{self.project} has no {CI_FILE} on branch {self.branch}",
                status=404,
                hint="check pipeline.project and pipeline.branch in the site config",
            )
        self.before = {CI_FILE: ci.content}
        return ci

    def read_group_file(self) -> RepoFile | None:
        group = self.ctx.gitlab.read_file(self.project, self.group_path, self.branch)
        if group is not None:
            self.before[self.group_path] = group.content
        return group

    def commit(self) -> None:
        """Lint the new pipeline, then commit the files together."""
        commit_edit(
            self.ctx.gitlab,
            self.project,
            self.branch,
            self.message.format(tenant=self.ctx.tenant),
            self.actions,
            self.lint,
        )

    def lint(self, actions: Actions) -> None:
        ci = next((a for a in actions if a["file_path"] == CI_FILE), None)
        if ci is None:
            return
        answer = self.ctx.gitlab.lint(self.project, ci["content"], self.branch)
        if not answer.get("valid"):
            errors = "; ".join(str(e) for e in answer.get("errors") or [])
            raise RemoteError(
                "GitLab",
                f"CI lint rejects the edited {CI_FILE}: {errors}; nothing committed",
                hint=f"fix {CI_FILE} in {self.project} and run again",
            )


class _Edit(PipelineEdit):
    """Adds the tenant: its group file and its include entry."""

    message = "Add tenant {tenant} to the shared pipeline"

    def actions(self) -> Actions:
        ci = self.read_ci()
        group = self.read_group_file()
        actions = []
        wanted = render_group_file(self.ctx)
        if group is None:
            actions.append(file_action("create", self.group_path, wanted))
        elif not group.content.startswith(HEADER):
            self.warnings.append(
                f"{self.group_path} was not written by tenantctl: left as its "
                "owners wrote it (the playbook's tier settings are not applied)"
            )
        elif group.content != wanted:
            actions.append(
                file_action("update", self.group_path, wanted, group.last_commit_id)
            )
        new_ci = ci_include.add_include(ci.content, self.ctx.tenant)
        if new_ci != ci.content:
            actions.append(file_action("update", CI_FILE, new_ci, ci.last_commit_id))
        return actions
