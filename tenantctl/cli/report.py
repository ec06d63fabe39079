"""How a run looks: a line per step as it goes, then a summary."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from tenantctl.console import Console
from tenantctl.engine import RunReport, StepResult
from tenantctl.secrets import REDACTED, Secret, scrub
from tenantctl.steps.base import Change

SYMBOLS = {"create": "+", "update": "~", "delete": "-"}
STYLES = {"create": "green", "update": "yellow", "delete": "red"}


def describe(change: Change) -> Text:
    """``+ label workflow::triage  {'color': '#FF0000'}`` and the like."""
    text = Text(f"    {SYMBOLS[change.action]} ", style=STYLES[change.action])
    text.append(scrub(f"{change.kind} {change.target}"))
    if change.old is not None or change.new is not None:
        text.append("  ")
        text.append(scrub(_values(change.old, change.new)), style="dim")
    return text


def _values(old: Any, new: Any) -> str:
    if old is None:
        return _show(new)
    if new is None:
        return _show(old)
    return f"{_show(old)} -> {_show(new)}"


def _show(value: Any) -> str:
    if isinstance(value, Secret):
        return REDACTED
    if isinstance(value, dict):
        inner = ", ".join(f"{k}={_show(v)}" for k, v in value.items())
        return "{" + inner + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return repr(value) if isinstance(value, str) else str(value)


class LiveView:
    """The engine's reporter: progress on stderr while steps run."""

    def __init__(self, console: Console, total: int, dry_run: bool) -> None:
        self.console = console
        self.total = total
        self.dry_run = dry_run
        self.index = 0

    def step_started(self, result: StepResult) -> None:
        self.index += 1
        self.console.info(f"[{self.index}/{self.total}] {result.title} ...")

    def change_applied(self, result: StepResult, change: Change) -> None:
        self.console.err.print(describe(change))

    def step_finished(self, result: StepResult) -> None:
        if self.dry_run:
            # A dry run's plan is its result: it goes to stdout.
            for change in result.changes:
                self.console.result(describe(change))
                if change.detail:
                    self.console.result(_indented(change.detail))
        for warning in result.warnings:
            self.console.warn(warning)
        if result.error:
            self.console.error(f"{result.title}: {result.error}")
        else:
            self.console.info(f"      {_outcome(result)}", style="dim")


def _indented(diff: str) -> Text:
    text = Text()
    for index, line in enumerate(diff.splitlines()):
        style = {"+": "green", "-": "red", "@": "cyan"}.get(line[:1], "")
        text.append("\n" if index else "")
        text.append(f"        {scrub(line)}", style=style)
    return text


def _outcome(result: StepResult) -> str:
    count = len(result.changes)
    if result.status == "unchanged":
        return "nothing to change"
    verb = "to change" if result.status == "planned" else "changed"
    return f"{count} {verb}"


def summary(console: Console, report: RunReport) -> None:
    """The summary on stdout (text) or the JSON document (json)."""
    console.document(report.as_dict())
    table = console.table(
        f"tenant {report.tenant}"
        + (" (dry run: nothing written)" if report.dry_run else "")
    )
    for column in ("step", "status", "create", "update", "delete"):
        table.add_column(column)
    for step in report.steps:
        counts = {a: sum(c.action == a for c in step.changes) for a in SYMBOLS}
        table.add_row(
            step.title,
            step.status,
            *(str(counts[a]) for a in ("create", "update", "delete")),
        )
    console.result(table)
    console.result(Text(_verdict(report)))


def _verdict(report: RunReport) -> str:
    if report.interrupted:
        return (
            "Interrupted (Ctrl-C); completed: "
            f"{', '.join(report.done) or 'none'}. "
            "Run the same command again to finish."
        )
    if report.failed:
        done = [s.name for s in report.steps if s.status in ("changed", "unchanged")]
        failed = next(s for s in report.steps if s.status == "failed")
        return (
            f"Step {failed.name!r} failed; completed before it: "
            f"{', '.join(done) or 'none'}. Run the same command again to finish."
        )
    if not report.changed:
        return "Nothing to change: the tenant is as the playbook says."
    if report.dry_run:
        return "Dry run: run without --dry-run to apply these changes."
    return "Done."
