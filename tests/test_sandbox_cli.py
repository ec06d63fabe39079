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


def test_clock_moves_expiry_forward(state_dir: Path) -> None:
    env = exports(cli("sandbox", "up", "--state-dir", str(state_dir)).stdout)
    playbook = str(PLAYBOOKS / "contractors.yml")
    assert cli("onboard", "-p", playbook, "--yes", env=env).returncode == 0
    due = cli("rotate-tokens", "--dry-run", "--output", "json", env=env)
    assert "contractors" not in due.stdout or '"due"' not in due.stdout

    moved = cli("sandbox", "clock", "--state-dir", str(state_dir), "+80d")

    assert moved.returncode == 0, moved.stderr
    assert moved.stdout.startswith("sandbox time: ")
    rotated = cli("rotate-tokens", "--output", "json", env=env)
    assert rotated.returncode == 0, rotated.stderr
    results = {r["tenant"]: r for r in json.loads(rotated.stdout)["tenants"]}
    assert results["contractors"]["outcome"] == "rotated"
    again = cli("rotate-tokens", "--output", "json", env=env)
    results = {r["tenant"]: r for r in json.loads(again.stdout)["tenants"]}
    assert results["contractors"]["outcome"] == "unchanged"


def test_clock_of_a_stopped_sandbox_is_kept(state_dir: Path) -> None:
    cli("sandbox", "up", "--state-dir", str(state_dir))
    cli("sandbox", "down", "--state-dir", str(state_dir))

    moved = cli("sandbox", "clock", "--state-dir", str(state_dir), "+10d")
    env = exports(cli("sandbox", "up", "--state-dir", str(state_dir)).stdout)
    shown = cli("sandbox", "clock", "--state-dir", str(state_dir))

    assert moved.returncode == 0
    assert moved.stdout.split(": ")[1][:10] == shown.stdout.split(": ")[1][:10]
    assert env["GITLAB_URL"]


def test_clock_refuses_a_bad_duration(state_dir: Path) -> None:
    cli("sandbox", "up", "--state-dir", str(state_dir))

    result = cli("sandbox", "clock", "--state-dir", str(state_dir), "soon")

    assert result.returncode == 2
    assert "'soon' is not a duration" in result.stderr


def test_sandbox_runs_journal_into_the_state_folder(
    state_dir: Path, tmp_path: Path
) -> None:
    env = exports(cli("sandbox", "up", "--state-dir", str(state_dir)).stdout)
    home = tmp_path / "operator-home"
    playbook = str(PLAYBOOKS / "contractors.yml")

    result = cli("onboard", "-p", playbook, "--yes", env={**env, "HOME": str(home)})

    assert result.returncode == 0, result.stderr
    journal = state_dir.resolve() / "journal.jsonl"
    assert '"tenant": "contractors"' in journal.read_text()
    assert not (home / ".local" / "state" / "tenantctl").exists()
