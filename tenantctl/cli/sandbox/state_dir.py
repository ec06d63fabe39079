"""The ``--state-dir`` option and what the background sandbox leaves there."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from tenantctl.sandbox.serve import RUN_FILE
from tenantctl.sandbox.server import pid_alive

state_dir_option = click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(".sandbox"),
    show_default=True,
    help="Folder that keeps the sandbox's state between runs.",
)


def run_info(state_dir: Path) -> dict[str, Any] | None:
    """What the background sandbox wrote, when it is running."""
    path = state_dir / RUN_FILE
    if not path.exists():
        return None
    info: dict[str, Any] = json.loads(path.read_text())
    pid = info.get("pid")
    if not pid or not pid_alive(int(pid)):
        return None
    return info
