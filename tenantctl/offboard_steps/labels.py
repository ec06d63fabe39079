"""Step 5 undone, by design not at all: the tenant's labels are kept.

Deleting a label removes it from every issue, merge request and board for
good (api-notes, "Labels"); the archived group keeps its history readable.
"""

from __future__ import annotations

from tenantctl.steps.base import Context, StepPlan


class LabelsKept:
    name = "labels"
    title = "board labels (kept)"

    def plan(self, ctx: Context) -> StepPlan:
        return StepPlan(
            notes=[f"labels of {ctx.playbook.full_path} are kept with its history"]
        )
