"""How ``labels diff`` and ``labels sync`` report: per target, then a total."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rich.text import Text

from tenantctl.cli.report import describe
from tenantctl.console import Console
from tenantctl.labels import Extra, Source, TargetPlan


def progress(console: Console, write: bool) -> Callable[[TargetPlan], None]:
    """A line on stderr as each target finishes."""

    def done(plan: TargetPlan) -> None:
        if plan.error is not None:
            console.error(f"{plan.target}: {plan.error}")
        else:
            console.info(f"{plan.target}: {headline(plan, write)}")

    return done


def headline(plan: TargetPlan, write: bool) -> str:
    """``in sync``, ``3 to change``, ``3 changed, 1 drift to fix elsewhere``."""
    if plan.error is not None:
        return f"failed after {plan.written} writes" if plan.written else "failed"
    parts = []
    if plan.changes:
        done = f"{plan.written} changed" if write else f"{len(plan.changes)} to change"
        parts.append(done)
    if plan.drift:
        parts.append(f"{len(plan.drift)} to fix by hand")
    in_use = sum(extra.fate == "in use" for extra in plan.extras)
    if in_use:
        parts.append(f"{in_use} extra in use, kept")
    kept = sum(extra.fate == "kept" for extra in plan.extras)
    if kept:
        parts.append(f"{kept} extra kept")
    if not plan.differs:
        parts.insert(0, "in sync")
    return ", ".join(parts)


def results(
    console: Console,
    source: Source,
    plans: Sequence[TargetPlan],
    *,
    write: bool,
    dry_run: bool = False,
) -> None:
    """Every target's differences on stdout, or the JSON document."""
    console.document(document(source, plans, write=write, dry_run=dry_run))
    for plan in plans:
        console.result(Text(f"{plan.target}: {headline(plan, write)}"))
        for change in plan.changes:
            console.result(describe(change))
        for extra in plan.extras:
            if extra.fate != "delete":
                console.result(
                    Text(f"    = label {extra.held.label.name}  " + _fate(extra))
                )
        for line in plan.drift:
            console.result(Text(f"    ! {line}"))
        for line in plan.notes:
            console.result(Text(f"    note: {line}", style="dim"))
    console.result(Text(verdict(plans, write=write, dry_run=dry_run)))


def _fate(extra: Extra) -> str:
    if extra.fate == "in use":
        return "extra, kept: in use (--force deletes it)"
    return "extra, kept (--prune deletes it)"


def verdict(plans: Sequence[TargetPlan], *, write: bool, dry_run: bool) -> str:
    """One closing line: how many targets differ, changed or failed."""
    counts = summary(plans)
    text = f"{counts['targets']} targets: "
    if write:
        text += f"{counts['synced']} synced ({counts['writes']} labels written), "
    else:
        text += f"{counts['differ']} differ, "
    text += f"{counts['failed']} failed"
    if counts["drift"]:
        text += f"; {counts['drift']} with drift to fix by hand"
    if dry_run:
        text += " (dry run: nothing written)"
    return text + "."


def summary(plans: Sequence[TargetPlan]) -> dict[str, int]:
    ok = [plan for plan in plans if plan.error is None]
    return {
        "targets": len(plans),
        "differ": sum(plan.differs for plan in ok),
        "synced": sum(plan.status == "synced" for plan in ok),
        "failed": len(plans) - len(ok),
        "drift": sum(bool(plan.drift) for plan in ok),
        "writes": sum(plan.written for plan in plans),
    }


def document(
    source: Source, plans: Sequence[TargetPlan], *, write: bool, dry_run: bool
) -> dict[str, Any]:
    """The JSON document: the source, each target, and the totals."""
    return {
        "source": source.origin,
        "dry_run": dry_run,
        "write": write,
        "targets": [plan.as_dict() for plan in plans],
        "summary": summary(plans),
    }
