"""The options ``labels diff`` and ``labels sync`` share, defined once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

_OPTIONS = [
    click.argument("groups", nargs=-1, metavar="[SOURCE] [TARGET]..."),
    click.option(
        "--from-file",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Take the labels from this template (see `labels export`) instead "
        "of a SOURCE group; every GROUP given is then a target.",
    ),
    click.option(
        "--all-tenants",
        is_flag=True,
        help="Target every tenant group (every top-level group) but the source.",
    ),
    click.option(
        "--include-inherited",
        is_flag=True,
        help="Also copy the labels the source group inherits from its parents.",
    ),
    click.option(
        "--rename",
        "renames",
        multiple=True,
        metavar="OLD=NEW",
        help="Rename a target's label OLD to the source's NEW in place, so its "
        "issues keep it (repeatable; also `renames:` in the template).",
    ),
    click.option(
        "--prune",
        is_flag=True,
        help="Delete target labels the source lacks, unless an issue or merge "
        "request uses them.",
    ),
    click.option(
        "--force",
        is_flag=True,
        help="With --prune, delete used labels too (they leave their issues).",
    ),
    click.option(
        "--jobs",
        "-j",
        type=click.IntRange(1, 32),
        default=4,
        show_default=True,
        help="Targets processed in parallel.",
    ),
]


def selection_options(command: F) -> F:
    """Add the source, target and behaviour options to ``command``."""
    for option in reversed(_OPTIONS):
        command = option(command)
    return command
