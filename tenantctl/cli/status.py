"""``tenantctl status``: how a tenant stands next to its playbook."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from rich.text import Text

from tenantctl import onboarding
from tenantctl.cli.app import App, pass_app
from tenantctl.cli.options import output_option
from tenantctl.console import Console
from tenantctl.errors import DriftFound, InputError
from tenantctl.playbook import Playbook, load_playbook
from tenantctl.secrets import REDACTED, Secret
from tenantctl.status import StepStatus, TenantStatus, check
from tenantctl.steps.base import Change

STYLES = {
    "ok": "green",
    "missing": "red",
    "different": "yellow",
    "error": "bold red",
    "not checked": "dim",
}

# Changes whose plan carries no old and new values, in words.
WITHOUT_VALUES = {
    "file": "content differs from what the playbook renders",
    "include rule": "has no include entry for the tenant",
    "runner token": "Vault holds no token for this runner",
    "runner config": "differs from what the playbook renders",
}


@click.command()
@click.argument("group")
@click.option(
    "--playbook",
    "-p",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The tenant's playbook [default: GROUP.yml in the site config's "
    "playbooks_dir, ./playbooks].",
)
@output_option
@pass_app
def status(app: App, group: str, playbook: Path | None, output: str) -> None:
    """Show how a tenant differs from its playbook, changing nothing.

    For each of the seven onboarding steps: ok (present and as the playbook
    wants), missing, or different (and how: field, current -> wanted value).
    Also the token's age and expiry, the runner's tags and last contact, and
    how many labels differ from the source tenant. Only reads are sent.

    Exit status: 0 when all is as wanted, 3 when something differs, 1 when
    a system could not be read.

    \b
    Examples:
      tenantctl status contractors
      tenantctl status contractors --playbook playbooks/contractors.yml
      tenantctl status contractors --output json
    """
    app.console.output = "json" if output == "json" else "text"
    config = app.config()
    path = playbook or Path(config.playbooks_dir) / f"{group}.yml"
    book = _playbook(path, group)
    ctx = onboarding.build_context(config, app.credentials(config), book, dry_run=True)

    report = check(ctx, str(path))
    render(app.console, report)
    code = _verdict(app.console, report)
    if code:
        sys.exit(code)


def _playbook(path: Path, group: str) -> Playbook:
    book = load_playbook(path)
    if book.tenant != group:
        raise InputError(
            f"{path}: the playbook is for tenant {book.tenant!r}, not {group!r}",
            hint="pass the playbook of this tenant with --playbook",
        )
    return book


def _verdict(console: Console, report: TenantStatus) -> int:
    """Say the outcome on stderr; return 1 when a read failed, 3 on drift.

    Not raised as errors: the document is on stdout already, and the
    top-level handler would add a second one.
    """
    if report.failure is not None:
        console.error(str(report.failure))
        return report.failure.exit_code
    drifted = report.drifted
    if not drifted:
        return 0
    names = ", ".join(f"{s.name} ({s.state})" for s in drifted)
    console.warn(f"tenant {report.tenant} differs from {report.playbook}: {names}")
    console.info(
        f"  `tenantctl onboard {report.tenant} --dry-run` shows the fix; "
        "without --dry-run it applies it"
    )
    return DriftFound.exit_code


# -- rendering ---------------------------------------------------------------


def render(console: Console, report: TenantStatus) -> None:
    """The JSON document (json), or a table and the differences (text)."""
    console.document(report.as_dict())
    table = console.table(f"tenant {report.tenant} ({report.playbook})")
    for column in ("step", "status", "detail"):
        table.add_column(column)
    for step in report.steps:
        table.add_row(
            step.name, Text(step.state, style=STYLES[step.state]), detail(step)
        )
    console.result(table)

    for step in report.steps:
        _explain(console, step)
    if report.in_sync:
        console.result(Text(f"Tenant {report.tenant} is as its playbook wants."))


def _explain(console: Console, step: StepStatus) -> None:
    for warning in step.warnings:
        console.warn(f"{step.name}: {warning}")
    if step.state == "ok":
        return
    lines = [f"  {line}" for c in step.changes for line in difference_lines(c)]
    lines += [f"  note: {note}" for note in step.notes]
    if step.error:
        lines.append(f"  {step.error}")
    if lines:
        console.result(Text(f"\n{step.name} ({step.state}):"))
        console.result(Text("\n".join(lines)))


def detail(step: StepStatus) -> str:
    """The one-line summary in the table's detail column."""
    special = {"runner": _runner_detail, "labels": _labels_detail}
    if step.name in special and step.facts:
        return special[step.name](step.facts)
    if step.name == "token":
        return _token_detail(step)
    count = len(step.changes)
    return f"{count} difference{'s' if count != 1 else ''}" if count else ""


def _runner_detail(facts: dict[str, Any]) -> str:
    tags = ", ".join(facts.get("tags") or []) or "none"
    ago = facts.get("contacted_seconds_ago")
    contact = "never" if ago is None else f"{_duration(ago)} ago"
    return (
        f"#{facts.get('runner_id')}, tags: {tags}, last contact: {contact} "
        f"({facts.get('runner_status')})"
    )


def _labels_detail(facts: dict[str, Any]) -> str:
    source = facts.get("source")
    count = int(facts.get("differing") or 0)
    if not count:
        return f"as in {source}"
    return (
        f"{count} label{'s' if count != 1 else ''} differ from {source} "
        f"({facts.get('missing')} missing, {facts.get('different')} changed)"
    )


def _token_detail(step: StepStatus) -> str:
    facts = step.facts
    if "token_id" not in facts:
        return "no Vault record: not minted by tenantctl" if step.notes else ""
    age = facts.get("age_days")
    left = facts.get("expires_in_days")
    gitlab = facts.get("gitlab") or {}
    state = "revoked" if gitlab.get("revoked") else None
    state = state or ("active" if gitlab.get("active") else "not active")
    return (
        f"id {facts['token_id']}, {age if age is not None else '?'} days old, "
        f"expires {facts.get('expires_at')} (in {left} days), {state} in GitLab"
    )


def difference_lines(change: Change) -> list[str]:
    """``kind target: field current -> wanted``, one line per field."""
    head = f"{change.kind} {change.target}"
    if change.action == "create":
        return [f"{head}: missing"]
    if change.action == "delete":
        return [f"{head}: present, not wanted"]
    if isinstance(change.old, dict) and isinstance(change.new, dict):
        keys = list(dict.fromkeys([*change.old, *change.new]))
        return [
            f"{head}: {k} {_show(change.old.get(k))} -> {_show(change.new.get(k))}"
            for k in keys
        ]
    if change.kind in WITHOUT_VALUES:
        return [f"{head}: {WITHOUT_VALUES[change.kind]}"]
    if change.old is None and isinstance(change.new, Secret):
        return [f"{head}: would get a new secret value"]
    if isinstance(change.old, Secret) or isinstance(change.new, Secret):
        return [f"{head}: value differs (secret, not shown)"]
    return [f"{head}: {_show(change.old)} -> {_show(change.new)}"]


def _show(value: Any) -> str:
    if isinstance(value, Secret):
        return REDACTED
    return repr(value) if isinstance(value, str) else str(value)


def _duration(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"
