"""``tenantctl offboard``: remove a tenant, the seven steps in reverse."""

from __future__ import annotations

import sys

import click
from rich.text import Text

from tenantctl import offboarding, wizard
from tenantctl.cli.app import App, pass_app
from tenantctl.cli.options import dry_run_option, output_option, yes_option
from tenantctl.cli.report import SYMBOLS, LiveView
from tenantctl.console import Console
from tenantctl.engine import RunReport
from tenantctl.errors import InputError
from tenantctl.offboard_steps import offboarding_steps
from tenantctl.steps.base import Context


@click.command()
@click.argument("group")
@click.option(
    "--delete-group",
    is_flag=True,
    help="Delete the GitLab group instead of archiving its projects; asks you "
    "to type the group's name (or give it with --confirm-name).",
)
@click.option(
    "--confirm-name",
    metavar="NAME",
    help="The group's name, confirming --delete-group without a prompt.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Offboard a strict-tier tenant (refused without it).",
)
@dry_run_option
@yes_option
@output_option
@pass_app
def offboard(
    app: App,
    /,
    group: str,
    delete_group: bool,
    confirm_name: str | None,
    force: bool,
    dry_run: bool,
    yes: bool,
    output: str,
) -> None:
    """Offboard a tenant: undo its seven onboarding steps, in reverse.

    Revokes the tenant's token and removes GL_TOKEN and the dashboard's
    GITLAB_TOKEN_<GROUP>; removes its allow-list entry; keeps its labels;
    deletes its runner; removes its include rule and group file from the
    shared pipeline in one commit (CI lint checked); deletes its Keycloak
    group and realm role (the shared groups mapper stays); archives the
    group's projects, leaving the group in place. Vault records are
    soft-deleted: every version is kept.

    Running it again changes nothing; a run that stopped half-way is
    finished by running it again. Strict-tier tenants need --force.
    --delete-group deletes the GitLab group itself, after you type its name.

    \b
    Examples:
      tenantctl offboard contractors --dry-run
      tenantctl offboard contractors --yes
      tenantctl offboard contractors --yes --delete-group --confirm-name contractors
      tenantctl offboard contractors --yes --output json
    """
    app.console.output = "json" if output == "json" else "text"
    if confirm_name is not None and not delete_group:
        raise InputError("--confirm-name confirms --delete-group, which is not given")
    config = app.config()
    ctx = offboarding.build_context(
        config, app.credentials(config), group, dry_run=dry_run
    )
    ask = wizard.Asker() if app.console.interactive else None

    if dry_run:
        _warn_if_strict(app.console, ctx, force)
    else:
        if delete_group and confirm_name is not None:
            _confirm_name(group, confirm_name, ask)
        offboarding.check_force(ctx, force)
        if not yes:
            _confirm_plan(app, ctx, delete_group, ask)
        if delete_group and confirm_name is None:
            _confirm_name(group, None, ask)

    report = _run(app.console, ctx, delete_group, force)
    summary(app.console, report)
    if report.interrupted:
        sys.exit(130)
    if report.failed:
        sys.exit(1)


def _run(console: Console, ctx: Context, delete_group: bool, force: bool) -> RunReport:
    view = LiveView(console, len(offboarding_steps()), ctx.dry_run)
    return offboarding.offboard(ctx, view, force=force, delete_group=delete_group)


def _warn_if_strict(console: Console, ctx: Context, force: bool) -> None:
    try:
        offboarding.check_force(ctx, force)
    except InputError as exc:
        console.warn(exc.message + "; a real run needs --force")


def _confirm_plan(
    app: App, ctx: Context, delete_group: bool, ask: wizard.Asker | None
) -> None:
    """Show the plan and ask; without a terminal, --yes must say it."""
    if ask is None:
        raise InputError(
            "no terminal to confirm on",
            hint="pass --yes to apply, or --dry-run to see the plan",
        )
    planning = offboarding.build_context(
        ctx.config, app.credentials(ctx.config), ctx.tenant, dry_run=True
    )
    report = _run(app.console, planning, delete_group, True)
    if report.failed or report.interrupted:
        summary(app.console, report)
        sys.exit(130 if report.interrupted else 1)
    if not report.changed:
        return
    if not ask.confirm(f"Offboard tenant {ctx.tenant} with these changes?"):
        app.console.info("Nothing changed.")
        sys.exit(0)


def _confirm_name(
    group: str, confirm_name: str | None, ask: wizard.Asker | None
) -> None:
    """The operator names the group to delete: typed, or --confirm-name."""
    if confirm_name is None and ask is None:
        raise InputError(
            "--delete-group needs the group's name typed to confirm, and there "
            "is no terminal",
            hint=f"pass --confirm-name {group}",
        )
    given = confirm_name
    if given is None:
        assert ask is not None
        given = ask.text(f"Type the group's name ({group}) to delete it:")
    if given != group:
        raise InputError(
            f"{given!r} is not {group!r}: the group is not deleted, nothing changed",
            hint="type the group's name exactly, or leave out --delete-group to "
            "archive its projects instead",
        )


def summary(console: Console, report: RunReport) -> None:
    """The summary on stdout (text) or the JSON document (json)."""
    console.document(report.as_dict())
    title = f"offboard {report.tenant}"
    table = console.table(title + (" (dry run: nothing written)" * report.dry_run))
    for column in ("step", "status", "create", "update", "delete"):
        table.add_column(column)
    for step in report.steps:
        counts = {a: sum(c.action == a for c in step.changes) for a in SYMBOLS}
        table.add_row(step.title, step.status, *(str(n) for n in counts.values()))
    console.result(table)
    console.result(Text(_verdict(report)))


def _verdict(report: RunReport) -> str:
    if report.interrupted:
        done = ", ".join(report.done) or "none"
        return f"Interrupted; completed: {done}. Run the same command again to finish."
    if report.failed:
        failed = next(s for s in report.steps if s.status == "failed")
        return (
            f"Step {failed.name!r} failed; completed before it: "
            f"{', '.join(report.done) or 'none'}. Run the same command again "
            "to finish."
        )
    if not report.changed:
        return f"Nothing to change: tenant {report.tenant} is offboarded."
    if report.dry_run:
        return "Dry run: run without --dry-run to apply these changes."
    return "Done."
