"""``tenantctl sandbox``: local GitLab, Keycloak and Vault emulators."""

from __future__ import annotations

import click

from tenantctl.cli.sandbox.clock import clock
from tenantctl.cli.sandbox.demo import demo
from tenantctl.cli.sandbox.down import down
from tenantctl.cli.sandbox.status import status
from tenantctl.cli.sandbox.up import up


@click.group()
def sandbox() -> None:
    """Run a local sandbox of GitLab, Keycloak and Vault.

    The sandbox emulates the parts of their APIs tenantctl uses, over HTTP on
    127.0.0.1, seeded with the platform's two tenants. Try a playbook there
    before production.

    \b
    Example:
      eval "$(tenantctl sandbox up --state-dir .sandbox)"
      tenantctl onboard --playbook playbooks/contractors.yml --dry-run
      tenantctl sandbox down --state-dir .sandbox
    """


sandbox.add_command(up)
sandbox.add_command(down)
sandbox.add_command(status)
sandbox.add_command(demo)
sandbox.add_command(clock)
