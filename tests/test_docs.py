"""Every command has help, and the docs keep up with the commands."""

from __future__ import annotations

import click
import pytest

from tenantctl.cli.main import COMMANDS as REGISTRY
from tenantctl.cli.main import cli
from tenantctl.cli.reference import markdown, walk
from tests.conftest import REPO, tenantctl

COMMANDS = [" ".join(path) for path, _ in walk(cli, ["tenantctl"])]


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help(name: str) -> None:
    command: click.Command | None = cli
    for part in name.split()[1:]:
        assert isinstance(command, click.Group)
        command = command.get_command(click.Context(command), part)
    assert command is not None

    assert command.help and len(command.help) > 40
    assert command.get_short_help_str()
    result = tenantctl(*name.split()[1:], "--help")
    assert result.code == 0
    assert result.out.startswith("Usage: ")


@pytest.mark.parametrize("name", COMMANDS[1:])
def test_every_command_is_in_the_readme(name: str) -> None:
    assert name in (REPO / "README.md").read_text()


def test_cli_reference_is_current() -> None:
    reference = (REPO / "docs" / "cli.md").read_text()

    assert reference == markdown(cli), "docs/cli.md is stale: run `make docs`"


def test_options_name_their_environment_variable() -> None:
    config = next(p for p in cli.params if p.name == "config_flag")

    assert isinstance(config, click.Option)
    assert config.help is not None and "TENANTCTL_CONFIG" in config.help


@pytest.mark.parametrize("name", list(REGISTRY))
def test_root_help_lists_each_command_with_its_own_short_help(name: str) -> None:
    command = cli.get_command(click.Context(cli), name)

    assert command is not None
    assert REGISTRY[name][1] == command.get_short_help_str(limit=200)
