"""The seven onboarding steps, in the order platform.md gives them."""

from __future__ import annotations

from tenantctl.steps.base import Step
from tenantctl.steps.dashboard import DashboardStep
from tenantctl.steps.group import GroupStep
from tenantctl.steps.keycloak_group import KeycloakGroupStep
from tenantctl.steps.labels import LabelsStep
from tenantctl.steps.pipeline import PipelineStep
from tenantctl.steps.runner import RunnerStep
from tenantctl.steps.token import TokenStep


def onboarding_steps() -> list[Step]:
    return [
        GroupStep(),
        KeycloakGroupStep(),
        PipelineStep(),
        RunnerStep(),
        LabelsStep(),
        DashboardStep(),
        TokenStep(),
    ]
