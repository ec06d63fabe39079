"""``tenantctl onboard``: make a tenant what its playbook says.

With no playbook, the wizard (tenantctl.wizard) builds one from flags and
questions, writes it under the config's ``playbooks_dir``, and the run goes
on from that file exactly as a playbook run does.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from tenantctl import onboarding, wizard
from tenantctl.adapters.gitlab import GitLab
from tenantctl.cli.app import App, pass_app
from tenantctl.cli.options import (
    dry_run_option,
    lock_timeout_option,
    output_option,
    yes_option,
)
from tenantctl.cli.report import LiveView, summary
from tenantctl.config import Credentials, SiteConfig
from tenantctl.engine import RunReport
from tenantctl.errors import InputError
from tenantctl.playbook import Playbook, load_playbook
from tenantctl.steps import onboarding_steps

WIZARD_OPTIONS = [
    click.option(
        "--tier",
        type=click.Choice(["strict", "standard"]),
        help="Wizard: the tenant's tier.",
    ),
    click.option(
        "--override",
        "overrides",
        multiple=True,
        metavar="KEY=VALUE",
        help="Wizard: override one tier setting, e.g. runner_locked=true or "
        "token_scopes=api,read_repository (repeatable).",
    ),
    click.option(
        "--member",
        "members",
        multiple=True,
        metavar="USER:LEVEL",
        help="Wizard: a GitLab user and access level, e.g. erin:maintainer "
        "(repeatable; LEVEL defaults to developer).",
    ),
    click.option(
        "--labels-from",
        metavar="GROUP",
        help="Wizard: the tenant whose board labels are copied, e.g. administrators.",
    ),
    click.option(
        "--token-lifetime",
        type=click.IntRange(1, 365),
        metavar="DAYS",
        help="Wizard: lifetime of the group access token [default: from config].",
    ),
    click.option(
        "--resume",
        is_flag=True,
        help="Wizard: go on with a tenant whose GitLab group already exists.",
    ),
    click.option(
        "--overwrite",
        is_flag=True,
        help="Wizard: replace a different playbooks/GROUP.yml without asking.",
    ),
]


def wizard_options(command: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(WIZARD_OPTIONS):
        command = option(command)
    return command


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
@wizard_options
@click.option(
    "--no-input",
    is_flag=True,
    help="Never ask: a missing answer is an error that names its flag.",
)
@dry_run_option
@yes_option
@lock_timeout_option
@output_option
@pass_app
def onboard(
    app: App,
    /,
    group: str | None,
    playbook: Path | None,
    runner_config: str | None,
    no_input: bool,
    dry_run: bool,
    yes: bool,
    lock_timeout: float,
    output: str,
    **answers: Any,
) -> None:
    """Onboard a tenant: run the seven steps its playbook asks for.

    Each step reads what exists and changes only the difference, so running
    the same playbook again changes nothing, and a run that stopped half-way
    is finished by running it again.

    With no playbook (no --playbook, and no playbooks/GROUP.yml), a wizard
    asks for the tenant's name, tier, overrides, members, label source and
    token lifetime, writes playbooks/GROUP.yml, shows the plan and asks
    before applying. Each question has a flag; with --no-input or no
    terminal, a missing answer is an error naming its flag. Ctrl-C before
    the confirmation changes nothing in GitLab, Keycloak or Vault; after it,
    the run stops once the step under way is done (exit 130), and running
    again finishes the job.

    \b
    Examples:
      tenantctl onboard --playbook playbooks/contractors.yml --dry-run
      tenantctl onboard contractors --yes
      tenantctl onboard contractors --yes --output json
      tenantctl onboard                      # the wizard, on a terminal
      tenantctl onboard partners --no-input --yes --tier standard \\
          --member erin:maintainer --labels-from administrators
    """
    app.console.output = "json" if output == "json" else "text"
    given = wizard.Answers(group=group, **answers)
    config = app.config()
    credentials = app.credentials(config)
    ask = wizard.Asker() if app.console.interactive and not no_input else None

    book, made = _playbook(app, config, credentials, given, playbook, ask)
    try:
        report = _apply(
            app,
            config,
            credentials,
            book,
            made,
            ask,
            runner_config,
            dry_run=dry_run,
            yes=yes,
            lock_timeout=lock_timeout,
        )
    except InputError:
        # Refused before anything was applied: a playbook this run wrote
        # would only mislead (audit would take it for a tenant).
        if made and made.saved == "written":
            made.path.unlink(missing_ok=True)
            app.console.info(f"Removed {made.path}, written by this run.")
        raise
    if made and (report.failed or report.interrupted):
        app.console.info(f"To finish: tenantctl onboard --playbook {made.path} --yes")
    if report.interrupted:
        sys.exit(130)
    if report.failed:
        sys.exit(1)


def _apply(
    app: App,
    config: SiteConfig,
    credentials: Credentials,
    book: Playbook,
    made: wizard.Outcome | None,
    ask: wizard.Asker | None,
    runner_config: str | None,
    *,
    dry_run: bool,
    yes: bool,
    lock_timeout: float,
) -> RunReport:
    """Confirm (unless --yes or --dry-run), then run the steps."""
    try:
        if not (dry_run or yes):
            _confirm_plan(app, config, credentials, book, runner_config, ask)
    except KeyboardInterrupt:
        kept = (
            f"; only {made.path} was written"
            if made and made.saved == "written"
            else ""
        )
        app.console.info(f"Nothing was changed in GitLab, Keycloak or Vault{kept}.")
        raise

    ctx = onboarding.build_context(
        config, credentials, book, dry_run=dry_run, runner_config_path=runner_config
    )
    view = LiveView(app.console, len(onboarding_steps()), dry_run)
    report = onboarding.onboard(ctx, view, lock_timeout=lock_timeout)
    summary(app.console, report)
    return report


def _playbook(
    app: App,
    config: SiteConfig,
    credentials: Credentials,
    given: wizard.Answers,
    path: Path | None,
    ask: wizard.Asker | None,
) -> tuple[Playbook, wizard.Outcome | None]:
    """The playbook to run: a file named or found, or the wizard's."""
    found = None
    if given.group is not None:
        found = wizard.playbook_path(config, given.group)
    if path is None and found and found.exists() and not given.any_given():
        path = found
    if path is not None:
        return _from_file(path, given), None

    if ask is None and given.missing():
        where = found or Path(config.playbooks_dir) / "GROUP.yml"
        hint = f"--playbook FILE (there is no {where})"
        raise wizard.missing_answers(given.missing(), hint)
    gitlab = GitLab(config.gitlab, credentials.gitlab_token)
    try:
        made = wizard.run(gitlab, config, given, ask)
    except KeyboardInterrupt:
        app.console.info("Nothing was written.")
        raise
    if made.saved == "declined":
        app.console.info(f"Kept {made.path} as it is; nothing was written.")
        sys.exit(0)
    _show(app, made)
    return made.book, made


def _from_file(path: Path, given: wizard.Answers) -> Playbook:
    flags = given.any_given()
    if flags:
        raise InputError(
            f"{', '.join(flags)} answer the wizard's questions, and a playbook "
            "answers them all",
            hint=f"edit {path} instead, or leave out --playbook to use the wizard",
        )
    book = load_playbook(path)
    if given.group is not None and given.group != book.tenant:
        raise InputError(
            f"{path}: the playbook is for tenant {book.tenant!r}, not {given.group!r}"
        )
    return book


def _show(app: App, made: wizard.Outcome) -> None:
    verb = "Wrote" if made.saved == "written" else "Using the same"
    app.console.info(f"{verb} {made.path}:")
    for line in made.text.splitlines():
        app.console.info(f"  {line}", style="dim")


def _confirm_plan(
    app: App,
    config: SiteConfig,
    credentials: Credentials,
    book: Playbook,
    runner_config: str | None,
    ask: wizard.Asker | None,
) -> None:
    """Show the plan and ask; without a terminal, --yes must say it."""
    if ask is None:
        raise InputError(
            "no terminal to confirm on",
            hint="pass --yes to apply, or --dry-run to see the plan",
        )
    ctx = onboarding.build_context(
        config, credentials, book, dry_run=True, runner_config_path=runner_config
    )
    view = LiveView(app.console, len(onboarding_steps()), True)
    report = onboarding.onboard(ctx, view)
    if report.interrupted:
        raise KeyboardInterrupt
    if report.failed:
        summary(app.console, report)
        sys.exit(1)
    if not report.changed:
        return
    if not ask.confirm(f"Apply these changes to tenant {book.tenant}?"):
        app.console.info("Nothing written.")
        sys.exit(0)
