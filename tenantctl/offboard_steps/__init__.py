"""The seven onboarding steps undone, in reverse order.

Each step follows onboarding's protocol (tenantctl.steps.base): ``plan``
reads what exists and returns the changes that remove the tenant's part,
each carrying the call that makes it, so the same engine shows the plan or
applies it, and a second run finds nothing left to do.
"""

from __future__ import annotations

from tenantctl.offboard_steps.dashboard import DashboardRemoval
from tenantctl.offboard_steps.group import GroupRetirement
from tenantctl.offboard_steps.keycloak import KeycloakRemoval
from tenantctl.offboard_steps.labels import LabelsKept
from tenantctl.offboard_steps.pipeline import PipelineRemoval
from tenantctl.offboard_steps.runner import RunnerRemoval
from tenantctl.offboard_steps.token import TokenRevocation
from tenantctl.steps.base import Step


def offboarding_steps(*, delete_group: bool = False) -> list[Step]:
    """Onboarding's steps in reverse; the GitLab group is archived in place
    unless ``delete_group``."""
    return [
        TokenRevocation(),
        DashboardRemoval(),
        LabelsKept(),
        RunnerRemoval(),
        PipelineRemoval(),
        KeycloakRemoval(),
        GroupRetirement(delete_group=delete_group),
    ]
