"""``tenantctl labels diff``: how targets' labels differ from the source's."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from tenantctl import labels
from tenantctl.cli.app import App, pass_app
from tenantctl.cli.labels.options import selection_options
from tenantctl.cli.labels.render import progress, results
from tenantctl.cli.labels.selection import select
from tenantctl.cli.options import output_option


@click.command()
@selection_options
@output_option
@pass_app
def diff(
    app: App,
    groups: tuple[str, ...],
    from_file: Path | None,
    all_tenants: bool,
    include_inherited: bool,
    renames: tuple[str, ...],
    prune: bool,
    force: bool,
    jobs: int,
    output: str,
) -> None:
    """Show how each target's labels differ from the source's; write nothing.

    Per target: labels missing (+), different field by field, old -> new
    (~), renamed (~ with the new name), extra (=, or - with --prune), and
    drift that a sync cannot fix there (!), such as a label inherited from
    a parent group. The flags are those of `labels sync`, so the diff is
    exactly what that sync would do.

    Exit codes: 0 when every target matches, 3 when one differs, 1 when a
    target could not be read. Extra labels count as a difference only with
    --prune, as only then would a sync remove them.

    \b
    Examples:
      tenantctl labels diff administrators developers contractors
      tenantctl labels diff administrators --all-tenants --output json
      tenantctl labels diff --from-file playbooks/labels.yml developers
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
    plans = labels.sync_targets(
        chosen.connect,
        chosen.source,
        chosen.targets,
        chosen.options,
        write=False,
        jobs=jobs,
        on_done=progress(app.console, write=False),
    )
    results(app.console, chosen.source, plans, write=False)
    if any(plan.error is not None for plan in plans):
        sys.exit(1)
    if any(plan.differs for plan in plans):
        sys.exit(3)
