"""Options shared by several commands, defined once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

output_option = click.option(
    "--output",
    "-o",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text for people; json prints one JSON document on stdout.",
)

dry_run_option = click.option(
    "--dry-run",
    is_flag=True,
    help="Show what would change, old and new values side by side; write nothing.",
)

lock_timeout_option = click.option(
    "--lock-timeout",
    type=click.FloatRange(0),
    default=60.0,
    show_default=True,
    metavar="SECONDS",
    help="How long to wait while another run holds the tenant's lock.",
)

yes_option = click.option(
    "--yes", "-y", is_flag=True, help="Apply without asking for confirmation."
)
