"""``tenantctl labels``: compare and replicate board labels between groups."""

from __future__ import annotations

import click

from tenantctl.cli.labels.diff import diff
from tenantctl.cli.labels.export import export
from tenantctl.cli.labels.sync import sync


@click.group()
def labels() -> None:
    """Compare and replicate board labels between tenant groups.

    A source (a group, or a template file written by `labels export`) says
    which labels every target group should have: name, color and
    description. Only groups' own labels count; labels a target inherits
    from a parent group count as present, and their drift is reported for
    the parent to fix. docs/labels.md explains the rules.

    \b
    Examples:
      tenantctl labels diff administrators developers
      tenantctl labels sync administrators --all-tenants --dry-run
      tenantctl labels export administrators --file playbooks/labels.yml
    """


labels.add_command(diff)
labels.add_command(sync)
labels.add_command(export)
