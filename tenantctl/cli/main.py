"""The root command: global options, and the commands added explicitly."""

from __future__ import annotations

import click

from tenantctl import __version__
from tenantctl.cli.app import App, Root
from tenantctl.cli.onboard import onboard
from tenantctl.cli.sandbox import sandbox
from tenantctl.console import setup_logging


@click.group(
    cls=Root,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="tenantctl")
@click.option(
    "--config",
    "config_flag",
    metavar="FILE",
    help="Site configuration file [env: TENANTCTL_CONFIG; default: ./tenantctl.yaml].",
)
@click.option(
    "-v", "--verbose", count=True, help="More log output on stderr (-vv: debug)."
)
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def cli(ctx: click.Context, config_flag: str | None, verbose: int, debug: bool) -> None:
    """Onboard and govern tenants of a GitLab CI platform.

    A tenant is a GitLab group, with its Keycloak group, pipeline overrides,
    runner, labels, dashboard access and scoped token. tenantctl creates and
    keeps them from a short YAML playbook, idempotently.

    Credentials come from the environment only: GITLAB_TOKEN, VAULT_TOKEN and
    KEYCLOAK_CLIENT_SECRET (or KEYCLOAK_USERNAME and KEYCLOAK_PASSWORD).
    """
    app = App(config_flag=config_flag, verbosity=verbose, debug=debug)
    setup_logging(app.console, verbose)
    ctx.obj = app


cli.add_command(onboard)
cli.add_command(sandbox)


def main() -> None:
    cli.main(prog_name="tenantctl")


if __name__ == "__main__":
    main()
