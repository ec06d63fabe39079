"""``tenantctl sandbox up``."""

from __future__ import annotations

import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import click

from tenantctl.cli.app import App, pass_app
from tenantctl.cli.sandbox.state_dir import run_info, state_dir_option
from tenantctl.errors import TenantctlError

START_TIMEOUT = 30.0


@click.command()
@state_dir_option
@pass_app
def up(app: App, state_dir: Path) -> None:
    """Start the sandbox in the background; print `export` lines for a shell.

    Its state is kept in --state-dir, so a sandbox started again on the same
    folder has what it had. Use it with eval:

    \b
      eval "$(tenantctl sandbox up --state-dir .sandbox)"
    """
    state_dir = state_dir.resolve()
    info = run_info(state_dir)
    if info is None:
        info = _start(app, state_dir)
    else:
        app.console.info(f"sandbox already running (pid {info['pid']})")
    for name, value in info["env"].items():
        click.echo(f"export {name}={shlex.quote(str(value))}")


def _start(app: App, state_dir: Path) -> dict[str, Any]:
    state_dir.mkdir(parents=True, exist_ok=True)
    log = (state_dir / "sandbox.log").open("ab")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tenantctl.sandbox.serve",
            "--state-dir",
            str(state_dir),
        ],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        info = run_info(state_dir)
        if info is not None and info.get("pid") == process.pid:
            app.console.info(
                f"sandbox running (pid {process.pid}), state in {state_dir}"
            )
            return info
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.terminate()
    raise TenantctlError(
        "the sandbox did not start",
        hint=f"see {state_dir / 'sandbox.log'}",
    )
