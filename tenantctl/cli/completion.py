"""``tenantctl completion SHELL``."""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class


@click.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
@click.pass_context
def completion(ctx: click.Context, shell: str) -> None:
    """Print the shell completion script for bash, zsh or fish.

    \b
    Examples:
      eval "$(tenantctl completion bash)"              # in ~/.bashrc
      tenantctl completion zsh > ~/.zfunc/_tenantctl
      tenantctl completion fish > ~/.config/fish/completions/tenantctl.fish
    """
    root = ctx.find_root().command
    cls = get_completion_class(shell)
    assert cls is not None
    script = cls(root, {}, "tenantctl", "_TENANTCTL_COMPLETE").source()
    click.echo(script)
