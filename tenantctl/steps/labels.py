"""Step 5: the board labels, replicated from an existing tenant.

This is a one-target ``labels sync`` without pruning: missing labels are
created, different ones updated, none deleted.
"""

from __future__ import annotations

from tenantctl.errors import RemoteError
from tenantctl.labels import Label, diff_labels, gitlab_color
from tenantctl.steps.base import Change, Context, StepPlan


class LabelsStep:
    name = "labels"
    title = "board labels"

    def plan(self, ctx: Context) -> StepPlan:
        plan = StepPlan()
        source_path = ctx.playbook.labels.source
        source = ctx.gitlab.find_group(source_path)
        if source is None:
            raise RemoteError(
                "GitLab",
                f"label source group {source_path!r} not found",
                status=404,
                hint="fix labels.from in the playbook",
            )
        wanted = [Label.of(x) for x in ctx.gitlab.group_labels(int(source["id"]))]

        own: list[Label] = []
        inherited: list[Label] = []
        if ctx.group_id is not None:
            own = [Label.of(x) for x in ctx.gitlab.group_labels(ctx.group_id)]
            every = ctx.gitlab.group_labels(ctx.group_id, own_only=False)
            names = {label.name for label in own}
            inherited = [Label.of(x) for x in every if x["name"] not in names]

        diff = diff_labels(wanted, own, inherited)
        for label in diff.missing:
            plan.add(self._create(ctx, label))
        for have, want in diff.different:
            plan.add(self._update(ctx, have, want))
        for have, want in diff.inherited_drift:
            fields = ", ".join(sorted(have.differences(want)))
            plan.warnings.append(
                f"label {want.name!r} is inherited from a parent group and differs "
                f"in {fields}: fix it in the parent"
            )
        plan.notes.append(
            f"{len(wanted)} labels in {source_path}; "
            f"{len(diff.missing)} to create, {len(diff.different)} to update"
        )
        return plan

    def _create(self, ctx: Context, label: Label) -> Change:
        fields = {
            "name": label.name,
            "color": gitlab_color(label.color),
            "description": label.description,
        }

        def create() -> None:
            assert ctx.group_id is not None
            ctx.gitlab.create_label(ctx.group_id, fields)

        return Change("create", "label", label.name, new=fields, run=create)

    def _update(self, ctx: Context, have: Label, want: Label) -> Change:
        diff = have.differences(want)
        old = {k: v[0] for k, v in diff.items()}
        new = {k: v[1] for k, v in diff.items()}
        if "color" in new:
            new["color"] = gitlab_color(new["color"])

        def update() -> None:
            assert ctx.group_id is not None
            ctx.gitlab.update_label(ctx.group_id, have.name, new)

        return Change("update", "label", have.name, old=old, new=new, run=update)
