"""``tenantctl sandbox down``."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import click

from tenantctl.cli.app import App, pass_app
from tenantctl.cli.sandbox.state_dir import run_info, state_dir_option
from tenantctl.sandbox.server import pid_alive


@click.command()
@state_dir_option
@pass_app
def down(app: App, state_dir: Path) -> None:
    """Stop the background sandbox; its state stays in --state-dir."""
    info = run_info(state_dir)
    if info is None:
        app.console.info("no sandbox running for " + str(state_dir))
        return
    pid = int(info["pid"])
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    app.console.info(f"sandbox stopped (pid {pid})")
