"""The CLI reference in Markdown, made from the commands' own help."""

from __future__ import annotations

from collections.abc import Iterator

import click


def walk(
    command: click.Command, path: list[str]
) -> Iterator[tuple[list[str], click.Command]]:
    """Every command under ``command``, in the order they were added."""
    yield path, command
    if isinstance(command, click.Group):
        ctx = click.Context(command)
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None:
                yield from walk(sub, [*path, name])


def markdown(root: click.Command) -> str:
    """``docs/cli.md``: one section per command, with its ``--help`` text."""
    parts = [
        "# Command reference\n",
        "Made from the commands' `--help` by `make docs`; do not edit by hand.\n",
    ]
    for path, command in walk(root, ["tenantctl"]):
        name = " ".join(path)
        with click.Context(
            command,
            info_name=name,
            terminal_width=88,
            max_content_width=88,
            help_option_names=["-h", "--help"],
        ) as ctx:
            text = command.get_help(ctx)
        level = "#" * min(len(path) + 1, 4)
        parts.append(f"{level} `{name}`\n\n```text\n{text}\n```\n")
    return "\n".join(parts)


def main() -> None:
    """``python -m tenantctl.cli.reference FILE`` writes the reference."""
    import sys
    from pathlib import Path

    from tenantctl.cli.main import cli

    Path(sys.argv[1]).write_text(markdown(cli))


if __name__ == "__main__":
    main()
