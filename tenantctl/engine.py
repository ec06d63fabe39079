"""Runs the onboarding steps in order, plan first, then apply."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from tenantctl.errors import TenantctlError
from tenantctl.steps.base import Change, Context, Step, StepPlan

Status = Literal["unchanged", "changed", "planned", "failed", "not run"]


@dataclass
class StepResult:
    name: str
    title: str
    status: Status = "not run"
    changes: list[Change] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "status": self.status,
            "changes": [change.as_dict() for change in self.changes],
        }
        if self.warnings:
            data["warnings"] = self.warnings
        if self.notes:
            data["notes"] = self.notes
        if self.error:
            data["error"] = self.error
        return data


class Reporter(Protocol):
    """Receives progress as the engine works (the live view implements it)."""

    def step_started(self, result: StepResult) -> None: ...

    def change_applied(self, result: StepResult, change: Change) -> None: ...

    def step_finished(self, result: StepResult) -> None: ...


@dataclass
class RunReport:
    tenant: str
    dry_run: bool
    steps: list[StepResult]

    @property
    def failed(self) -> bool:
        return any(step.status == "failed" for step in self.steps)

    @property
    def changed(self) -> bool:
        return any(step.changes for step in self.steps)

    def as_dict(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "dry_run": self.dry_run,
            "steps": [step.as_dict() for step in self.steps],
        }


def run(steps: Sequence[Step], ctx: Context, reporter: Reporter) -> RunReport:
    """Plan each step and, unless it is a dry run, apply it; stop at a failure.

    A failure is recorded on its step and the later steps are left "not run":
    running again picks up where this run stopped.
    """
    results = [StepResult(name=step.name, title=step.title) for step in steps]
    report = RunReport(tenant=ctx.tenant, dry_run=ctx.dry_run, steps=results)

    for step, result in zip(steps, results, strict=True):
        reporter.step_started(result)
        try:
            _run_step(step, ctx, result, reporter)
        except TenantctlError as exc:
            result.status = "failed"
            result.error = str(exc)
            reporter.step_finished(result)
            break
        reporter.step_finished(result)

    return report


def _run_step(step: Step, ctx: Context, result: StepResult, reporter: Reporter) -> None:
    plan: StepPlan = step.plan(ctx)
    result.warnings.extend(plan.warnings)
    result.notes.extend(plan.notes)

    if ctx.dry_run:
        result.changes = plan.changes
        result.status = "planned" if plan.changes else "unchanged"
        return

    for change in plan.changes:
        if change.run is not None:
            change.run()
        result.changes.append(change)
        reporter.change_applied(result, change)

    result.status = "changed" if plan.changes else "unchanged"
