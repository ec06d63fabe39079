"""``tenantctl sandbox clock``."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click
import requests

from tenantctl.cli.app import App, pass_app
from tenantctl.cli.sandbox.state_dir import run_info, state_dir_option
from tenantctl.errors import TenantctlError
from tenantctl.rotation import parse_duration


@click.command()
@click.argument("advance", required=False, metavar="[+DURATION]")
@state_dir_option
@pass_app
def clock(app: App, advance: str | None, state_dir: Path) -> None:
    """Show the sandbox's clock, or move it forward, e.g. +91d.

    GitLab, Keycloak and Vault of the sandbox share one clock, so tokens
    expire and age on it: move it past a token's lifetime to try
    rotate-tokens and status end to end. It only moves forward. A stopped
    sandbox keeps the change for its next start.

    \b
    Examples:
      tenantctl sandbox clock --state-dir .sandbox
      tenantctl sandbox clock --state-dir .sandbox +91d
    """
    seconds = 0.0
    if advance is not None:
        seconds = parse_duration(advance.removeprefix("+")).total_seconds()

    info = run_info(state_dir)
    if info is not None:
        now = _advance_running(info, seconds)
    else:
        now = _advance_stopped(state_dir, seconds)
    moment = dt.datetime.fromtimestamp(now, dt.UTC).isoformat(timespec="seconds")
    app.console.result(f"sandbox time: {moment}")


def _advance_running(info: dict[str, object], seconds: float) -> float:
    env = info["env"]
    assert isinstance(env, dict)
    url = f"{env['VAULT_ADDR']}/_sandbox/clock"
    try:
        answer = requests.post(url, json={"advance_seconds": seconds}, timeout=10)
        answer.raise_for_status()
    except requests.RequestException as exc:
        raise TenantctlError(f"the sandbox did not answer at {url}: {exc}") from None
    return float(answer.json()["now"])


def _advance_stopped(state_dir: Path, seconds: float) -> float:
    """Move the clock of a sandbox that is not running (its clock.json)."""
    if not (state_dir / "gitlab.json").exists():
        raise TenantctlError(
            f"no sandbox state in {state_dir}",
            hint="start one with: tenantctl sandbox up --state-dir " + str(state_dir),
        )
    path = state_dir / "clock.json"
    offset = json.loads(path.read_text())["offset"] if path.exists() else 0.0
    offset = float(offset) + seconds
    path.write_text(json.dumps({"offset": offset}))
    return dt.datetime.now(dt.UTC).timestamp() + offset
