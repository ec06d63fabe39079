"""``tenantctl sandbox up|status|down`` as a shell user runs them."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import gitlab
import pytest

from tests.conftest import PLAYBOOKS


def cli(
    *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tenantctl.cli.main", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
        check=False,
    )


def exports(stdout: str) -> dict[str, str]:
    values = {}
    for line in stdout.splitlines():
        assert line.startswith("export "), line
        name, _, value = line[len("export ") :].partition("=")
        values[name] = shlex.split(value)[0]
    return values


@pytest.fixture
def state_dir(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "sandbox-state"
    yield folder
    cli("sandbox", "down", "--state-dir", str(folder))


def test_up_prints_exports_a_shell_can_eval(state_dir: Path) -> None:
    up = cli("sandbox", "up", "--state-dir", str(state_dir))

    assert up.returncode == 0, up.stderr
    env = exports(up.stdout)
    assert {
        "TENANTCTL_CONFIG",
        "GITLAB_URL",
        "GITLAB_TOKEN",
        "KEYCLOAK_URL",
        "KEYCLOAK_CLIENT_SECRET",
        "VAULT_ADDR",
        "VAULT_TOKEN",
    } <= set(env)
    assert Path(env["TENANTCTL_CONFIG"]).parent == state_dir.resolve()
    gl = gitlab.Gitlab(env["GITLAB_URL"], private_token=env["GITLAB_TOKEN"])
    assert gl.groups.get("administrators").full_path == "administrators"


def test_state_persists_across_down_and_up(state_dir: Path) -> None:
    env = exports(cli("sandbox", "up", "--state-dir", str(state_dir)).stdout)
    playbook = str(PLAYBOOKS / "contractors.yml")
    onboard = cli("onboard", "-p", playbook, "--yes", env=env)
    assert onboard.returncode == 0, onboard.stderr

    assert cli("sandbox", "down", "--state-dir", str(state_dir)).returncode == 0
    stopped = cli("sandbox", "status", "--state-dir", str(state_dir))
    assert stopped.returncode == 1
    env = exports(cli("sandbox", "up", "--state-dir", str(state_dir)).stdout)

    again = cli("onboard", "-p", playbook, "--yes", "--output", "json", env=env)
    assert again.returncode == 0, again.stderr
    doc = json.loads(again.stdout)
    assert {step["status"] for step in doc["steps"]} == {"unchanged"}


def test_status_reports_urls(state_dir: Path) -> None:
    env = exports(cli("sandbox", "up", "--state-dir", str(state_dir)).stdout)

    status = cli("sandbox", "status", "--state-dir", str(state_dir), "-o", "json")

    assert status.returncode == 0
    doc = json.loads(status.stdout)
    assert doc["running"] is True
    assert doc["urls"]["gitlab"] == env["GITLAB_URL"]
    assert env["GITLAB_TOKEN"] not in status.stdout


def test_up_twice_reuses_the_running_sandbox(state_dir: Path) -> None:
    first = exports(cli("sandbox", "up", "--state-dir", str(state_dir)).stdout)

    second = cli("sandbox", "up", "--state-dir", str(state_dir))

    assert exports(second.stdout) == first
    assert "already running" in second.stderr
