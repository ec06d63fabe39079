"""Runs the onboarding steps in order, plan first, then apply.

Ctrl-C while changes are applied does not cut a step in half: the step
under way finishes, the later ones are left "not run", and running again
completes them. A second Ctrl-C stops at once.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from types import FrameType
from typing import Any, Literal, Protocol

from tenantctl.errors import TenantctlError
from tenantctl.steps.base import Change, Context, Step, StepPlan

log = logging.getLogger(__name__)

Status = Literal["unchanged", "changed", "planned", "failed", "not run"]

# Set by Ctrl-C (or interrupt()) while runs apply; read between steps. Runs
# in several threads share it: Ctrl-C stops them all, and it is cleared only
# when no run is under way, so one run ending cannot swallow another's stop.
_stop = threading.Event()
_runs = 0
_runs_lock = threading.Lock()


def interrupt() -> None:
    """Ask the runs under way to stop at their next step boundary."""
    _stop.set()


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    if _stop.is_set():
        # The operator insists: stop now, in the middle of the step.
        raise KeyboardInterrupt
    interrupt()
    log.warning(
        "Ctrl-C: stopping after the step under way (Ctrl-C again stops at once)"
    )


@contextlib.contextmanager
def _interruptible(catch_sigint: bool) -> Iterator[None]:
    """A stop flag for the body; with ``catch_sigint``, Ctrl-C sets it.

    The previous SIGINT handler comes back afterwards. Handlers can only be
    set from the main thread, so a run in another thread keeps Ctrl-C as it
    was (interrupt() still reaches it).
    """
    _enter_run()
    install = catch_sigint and threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, _on_sigint) if install else None
    try:
        yield
    finally:
        if install:
            signal.signal(signal.SIGINT, previous or signal.default_int_handler)
        _leave_run()


def _enter_run() -> None:
    global _runs
    with _runs_lock:
        if _runs == 0:
            _stop.clear()
        _runs += 1


def _leave_run() -> None:
    global _runs
    with _runs_lock:
        _runs -= 1
        if _runs == 0:
            _stop.clear()


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
    interrupted: bool = False

    @property
    def failed(self) -> bool:
        return any(step.status == "failed" for step in self.steps)

    @property
    def done(self) -> list[str]:
        """The steps that completed: changed, or found nothing to change."""
        return [s.name for s in self.steps if s.status in ("changed", "unchanged")]

    @property
    def changed(self) -> bool:
        return any(step.changes for step in self.steps)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "tenant": self.tenant,
            "dry_run": self.dry_run,
            "steps": [step.as_dict() for step in self.steps],
        }
        if self.interrupted:
            data["interrupted"] = True
        return data


def run(steps: Sequence[Step], ctx: Context, reporter: Reporter) -> RunReport:
    """Plan each step and, unless it is a dry run, apply it; stop at a failure.

    A failure is recorded on its step and the later steps are left "not run":
    running again picks up where this run stopped. While applying, Ctrl-C
    or interrupt() ends the run after the step under way, with
    ``report.interrupted`` set; a second Ctrl-C ends it at once, the step
    under way marked failed.
    """
    results = [StepResult(name=step.name, title=step.title) for step in steps]
    report = RunReport(tenant=ctx.tenant, dry_run=ctx.dry_run, steps=results)

    # Only an apply needs the step-boundary stop: a dry run writes nothing,
    # so plain Ctrl-C may end it anywhere.
    with _interruptible(catch_sigint=not ctx.dry_run):
        _run_steps(steps, ctx, report, reporter)
    return report


def _run_steps(
    steps: Sequence[Step], ctx: Context, report: RunReport, reporter: Reporter
) -> None:
    for step, result in zip(steps, report.steps, strict=True):
        if _stop.is_set():
            report.interrupted = True
            return
        reporter.step_started(result)
        try:
            _run_step(step, ctx, result, reporter)
        except TenantctlError as exc:
            result.status = "failed"
            result.error = str(exc)
            reporter.step_finished(result)
            return
        except KeyboardInterrupt:
            result.status = "failed"
            result.error = "interrupted in the middle of this step"
            report.interrupted = True
            reporter.step_finished(result)
            return
        reporter.step_finished(result)


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
