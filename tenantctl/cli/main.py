"""The root command: global options, and the commands, loaded when used.

``tenantctl --help`` and ``--version`` must stay fast, so this module imports
only click: each command's module (and with it the API clients, pydantic and
rich) is imported when that command runs. The short help shown in the root
help is kept here; a test checks it against each command's own.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from tenantctl import __version__

# name -> (module:attribute, short help). Order is the order of --help.
COMMANDS: dict[str, tuple[str, str]] = {
    "onboard": (
        "tenantctl.cli.onboard:onboard",
        "Onboard a tenant: run the seven steps its playbook asks for.",
    ),
    "status": (
        "tenantctl.cli.status:status",
        "Show how a tenant differs from its playbook, changing nothing.",
    ),
    "rotate-tokens": (
        "tenantctl.cli.rotate_tokens:rotate_tokens",
        "Rotate tenants' GitLab tokens that are due, and repair half-done ones.",
    ),
    "labels": (
        "tenantctl.cli.labels:labels",
        "Compare and replicate board labels between tenant groups.",
    ),
    "offboard": (
        "tenantctl.cli.offboard:offboard",
        "Offboard a tenant: undo its seven onboarding steps, in reverse.",
    ),
    "audit": (
        "tenantctl.cli.audit:audit_command",
        "Audit every tenant: complete, isolated, tokens sound; changes nothing.",
    ),
    "sandbox": (
        "tenantctl.cli.sandbox:sandbox",
        "Run a local sandbox of GitLab, Keycloak and Vault.",
    ),
    "completion": (
        "tenantctl.cli.completion:completion",
        "Print the shell completion script for bash, zsh or fish.",
    ),
}


class Root(click.Group):
    """Loads commands on demand and runs each inside the one error handler."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, _, attribute = COMMANDS[name][0].partition(":")
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command

    def format_commands(self, ctx: click.Context, formatter: Any) -> None:
        rows = [(name, short) for name, (_, short) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        from tenantctl.cli.app import error_handler

        with error_handler(ctx):
            return super().invoke(ctx)


@click.group(
    cls=Root,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 88},
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
@click.option(
    "--log-file",
    type=click.Path(dir_okay=False),
    help="Write the log to FILE instead of stderr (secrets redacted).",
)
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def cli(
    ctx: click.Context,
    config_flag: str | None,
    verbose: int,
    log_file: str | None,
    debug: bool,
) -> None:
    """Onboard and govern tenants of a GitLab CI platform.

    A tenant is a GitLab group, with its Keycloak group, pipeline overrides,
    runner, labels, dashboard access and scoped token. tenantctl creates and
    keeps them from a short YAML playbook, idempotently.

    Credentials come from the environment only: GITLAB_TOKEN, VAULT_TOKEN (or
    VAULT_AUTH=jwt with VAULT_ROLE and VAULT_JWT or VAULT_JWT_FILE) and
    KEYCLOAK_CLIENT_SECRET (or KEYCLOAK_USERNAME and KEYCLOAK_PASSWORD).

    \b
    Example:
      tenantctl onboard --playbook playbooks/contractors.yml --dry-run
    """
    from tenantctl.cli.app import App
    from tenantctl.console import setup_logging

    app = App(config_flag=config_flag, verbosity=verbose, debug=debug)
    setup_logging(app.console, verbose, log_file)
    ctx.obj = app


def main() -> None:
    cli.main(prog_name="tenantctl")


if __name__ == "__main__":
    main()
