"""``tenantctl sandbox status``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from tenantctl.cli.app import App, pass_app
from tenantctl.cli.options import output_option
from tenantctl.cli.sandbox.state_dir import run_info, state_dir_option


@click.command()
@state_dir_option
@output_option
@pass_app
def status(app: App, state_dir: Path, output: str) -> None:
    """Say whether the sandbox runs, and where. Exit 1 when it does not."""
    app.console.output = "json" if output == "json" else "text"
    info = run_info(state_dir)
    env = info["env"] if info else {}
    urls = {
        "gitlab": env.get("GITLAB_URL"),
        "keycloak": env.get("KEYCLOAK_URL"),
        "vault": env.get("VAULT_ADDR"),
    }
    app.console.document(
        {"running": info is not None, "pid": info and info["pid"], "urls": urls}
    )
    if info is None:
        app.console.result(f"no sandbox running for {state_dir}")
        sys.exit(1)
    app.console.result(f"sandbox running (pid {info['pid']}), state in {state_dir}")
    for name, url in urls.items():
        app.console.result(f"  {name:9} {url}")
