"""``tenantctl labels sync``: give targets the source's labels."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from tenantctl import labels
from tenantctl.cli.app import App, pass_app
from tenantctl.cli.labels.options import selection_options
from tenantctl.cli.labels.render import progress, results
from tenantctl.cli.labels.selection import select
from tenantctl.cli.options import dry_run_option, output_option


@click.command()
@selection_options
@dry_run_option
@output_option
@pass_app
def sync(
    app: App,
    groups: tuple[str, ...],
    from_file: Path | None,
    all_tenants: bool,
    include_inherited: bool,
    renames: tuple[str, ...],
    prune: bool,
    force: bool,
    jobs: int,
    dry_run: bool,
    output: str,
) -> None:
    """Create and update targets' labels so they match the source's.

    Missing labels are created and different ones updated, one request
    each. Extra labels stay unless --prune; a label that an issue or merge
    request uses stays unless --force too, and the plan shows how many use
    it. --rename OLD=NEW renames a target's label in place so its issues
    keep it. Labels a target inherits from a parent group are never written
    there: their drift is reported for the parent to fix.

    A target that fails (no access, not found) is reported and the others
    still sync; the exit code is then 1. Running again finishes the job.

    \b
    Examples:
      tenantctl labels sync administrators --all-tenants --dry-run
      tenantctl labels sync administrators developers --prune
      tenantctl labels sync administrators developers --rename 'bug=type::bug'
      tenantctl labels sync --from-file playbooks/labels.yml --all-tenants
    """
    app.console.output = "json" if output == "json" else "text"
    chosen = select(
        app,
        groups,
        from_file=from_file,
        all_tenants=all_tenants,
        include_inherited=include_inherited,
        renames=renames,
        prune=prune,
        force=force,
    )
    write = not dry_run
    plans = labels.sync_targets(
        chosen.connect,
        chosen.source,
        chosen.targets,
        chosen.options,
        write=write,
        jobs=jobs,
        on_done=progress(app.console, write=write),
    )
    results(app.console, chosen.source, plans, write=write, dry_run=dry_run)
    if any(plan.error is not None for plan in plans):
        sys.exit(1)
