"""Step 5: the board labels, replicated from an existing tenant.

This is ``tenantctl labels sync SOURCE TENANT`` for one target, through the
same code: missing labels are created, different ones updated, none
deleted; drift in labels the tenant inherits is reported, not written.
"""

from __future__ import annotations

from tenantctl import labels
from tenantctl.errors import RemoteError
from tenantctl.steps.base import Context, StepPlan


class LabelsStep:
    name = "labels"
    title = "board labels"

    def plan(self, ctx: Context) -> StepPlan:
        source_path = ctx.playbook.labels.source
        if ctx.gitlab.find_group(source_path) is None:
            raise RemoteError(
                "GitLab",
                f"label source group {source_path!r} not found",
                status=404,
                hint="fix labels.from in the playbook",
            )
        source = labels.group_source(ctx.gitlab, source_path)
        target = labels.Target(
            path=ctx.playbook.full_path,
            ref=ctx.group_id,
            nested=ctx.playbook.parent is not None,
        )
        found = labels.plan_target(
            ctx.gitlab, source, target, exists=ctx.group_id is not None
        )

        plan = StepPlan(changes=found.changes, warnings=found.drift)
        plan.notes.extend(found.notes)
        creates = sum(change.action == "create" for change in found.changes)
        plan.notes.append(
            f"{len(source.labels)} labels in {source_path}; {creates} to create, "
            f"{len(found.changes) - creates} to update"
        )
        return plan
