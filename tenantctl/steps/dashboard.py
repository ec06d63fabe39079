"""Step 6: the tenant in the dashboard's allow-list.

The allow-list lives in a file of the dashboard project (a YAML or JSON
list, or an ``allowed`` array in its code); the edit keeps the file's
formatting and lands in one commit. The token variable the dashboard reads,
``GITLAB_TOKEN_<GROUP>``, is named here and written by the token step once
the token exists.
"""

from __future__ import annotations

import re

from tenantctl.adapters.gitlab import RepoFile
from tenantctl.config import SiteConfig
from tenantctl.errors import InputError, RemoteError
from tenantctl.steps.base import Change, Context, StepPlan
from tenantctl.steps.commits import Actions, commit_edit, file_action
from tenantctl.textedit import allowlist


def dashboard_variable(config: SiteConfig, tenant: str) -> str:
    """``GITLAB_TOKEN_<GROUP>``: upper case, ``-`` and ``.`` as ``_``.

    The two tenants that predate the rule keep their legacy names.
    """
    legacy = config.dashboard.legacy_variables.get(tenant)
    if legacy:
        return legacy
    return "GITLAB_TOKEN_" + re.sub(r"[^A-Z0-9_]", "_", tenant.upper())


def read_allowlist(ctx: Context) -> RepoFile:
    """The dashboard's allow-list file; missing, an error naming the setting."""
    dash = ctx.config.dashboard
    found = ctx.gitlab.read_file(dash.project, dash.allowlist.file, dash.branch)
    if found is None:
        raise RemoteError(
            "GitLab",
            f"{dash.project} has no {dash.allowlist.file} on {dash.branch}",
            status=404,
            hint="check dashboard.project and dashboard.allowlist.file in the "
            "site config",
        )
    return found


class DashboardStep:
    name = "dashboard"
    title = "dashboard allow-list"

    def check(self, ctx: Context) -> None:
        """Refuse a tenant whose variable name another tenant already maps to."""
        entries = self._entries(ctx)
        mine = dashboard_variable(ctx.config, ctx.tenant)
        others = [
            e
            for e in entries
            if e != ctx.tenant and dashboard_variable(ctx.config, e) == mine
        ]
        if others:
            raise InputError(
                f"tenant {ctx.tenant!r} and existing tenant {others[0]!r} would both "
                f"use the dashboard variable {mine}",
                hint="choose another tenant name: each needs its own variable",
            )

    def _entries(self, ctx: Context) -> list[str]:
        current = read_allowlist(ctx)
        spec = ctx.config.dashboard.allowlist
        return allowlist.read_entries(current.content, spec.format, spec.locator)

    def plan(self, ctx: Context) -> StepPlan:
        plan = StepPlan()
        if ctx.tenant in self._entries(ctx):
            return plan
        dash = ctx.config.dashboard
        plan.add(
            Change(
                "create",
                "allow-list entry",
                f"{dash.project}:{dash.allowlist.file}",
                new=ctx.tenant,
                run=lambda: self._commit(ctx),
            )
        )
        return plan

    def _commit(self, ctx: Context) -> None:
        dash = ctx.config.dashboard
        spec = dash.allowlist

        def build() -> Actions:
            current = read_allowlist(ctx)
            text = allowlist.add_entry(
                current.content, spec.format, spec.locator, ctx.tenant
            )
            if text == current.content:
                return []
            return [file_action("update", spec.file, text, current.last_commit_id)]

        commit_edit(
            ctx.gitlab,
            dash.project,
            dash.branch,
            f"Allow tenant {ctx.tenant} on the dashboard",
            build,
        )
