"""``tenantctl onboard``: make a tenant what its playbook says."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from tenantctl import onboarding
from tenantctl.cli.app import App, pass_app
from tenantctl.cli.options import dry_run_option, output_option, yes_option
from tenantctl.cli.report import LiveView, summary
from tenantctl.config import Credentials, SiteConfig
from tenantctl.errors import InputError
from tenantctl.playbook import Playbook, load_playbook
from tenantctl.steps import onboarding_steps


@click.command()
@click.argument("group", required=False)
@click.option(
    "--playbook",
    "-p",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The tenant's playbook [default: playbooks/GROUP.yml].",
)
@click.option(
    "--runner-config",
    type=click.Path(dir_okay=False),
    help="Write the runner host's config.toml section here (no token in it).",
)
@dry_run_option
@yes_option
@output_option
@pass_app
def onboard(
    app: App,
    group: str | None,
    playbook: Path | None,
    runner_config: str | None,
    dry_run: bool,
    yes: bool,
    output: str,
) -> None:
    """Onboard a tenant: run the seven steps its playbook asks for.

    Each step reads what exists and changes only the difference, so running
    the same playbook again changes nothing, and a run that stopped half-way
    is finished by running it again.

    \b
    Examples:
      tenantctl onboard --playbook playbooks/contractors.yml --dry-run
      tenantctl onboard contractors --yes
      tenantctl onboard contractors --yes --output json
    """
    app.console.output = "json" if output == "json" else "text"
    book = _playbook(app, group, playbook)
    config = app.config()
    credentials = app.credentials(config)

    if not (dry_run or yes):
        _confirm_plan(app, config, credentials, book, runner_config)

    ctx = onboarding.build_context(
        config, credentials, book, dry_run=dry_run, runner_config_path=runner_config
    )
    view = LiveView(app.console, len(onboarding_steps()), dry_run)
    report = onboarding.onboard(ctx, view)
    summary(app.console, report)
    if report.failed:
        sys.exit(1)


def _playbook(app: App, group: str | None, path: Path | None) -> Playbook:
    if path is None and group is not None:
        path = Path("playbooks") / f"{group}.yml"
    if path is None:
        raise InputError(
            "no playbook given",
            hint="pass --playbook FILE, or GROUP when playbooks/GROUP.yml exists",
        )
    book = load_playbook(path)
    if group is not None and group != book.tenant:
        raise InputError(
            f"{path}: the playbook is for tenant {book.tenant!r}, not {group!r}"
        )
    return book


def _confirm_plan(
    app: App,
    config: SiteConfig,
    credentials: Credentials,
    book: Playbook,
    runner_config: str | None,
) -> None:
    """Show the plan and ask; without a terminal, --yes must say it."""
    if not app.console.interactive:
        raise InputError(
            "no terminal to confirm on",
            hint="pass --yes to apply, or --dry-run to see the plan",
        )
    ctx = onboarding.build_context(
        config, credentials, book, dry_run=True, runner_config_path=runner_config
    )
    view = LiveView(app.console, len(onboarding_steps()), True)
    report = onboarding.onboard(ctx, view)
    if report.failed:
        summary(app.console, report)
        sys.exit(1)
    if not report.changed:
        return
    if not click.confirm(f"Apply these changes to tenant {book.tenant}?", err=True):
        app.console.info("Nothing written.")
        sys.exit(0)
