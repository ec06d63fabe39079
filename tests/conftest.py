"""Fixtures: a fresh sandbox per test, the CLI, and the official clients.

Tests drive the real code path (CLI, engine, adapters, python-gitlab,
python-keycloak and hvac over HTTP) against the sandbox, and assert what the
emulated GitLab, Keycloak and Vault hold afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gitlab
import hvac
import pytest
from click.testing import CliRunner, Result
from keycloak import KeycloakAdmin, KeycloakOpenIDConnection

from tenantctl.cli.main import cli
from tenantctl.sandbox.server import Sandbox

REPO = Path(__file__).resolve().parent.parent
PLAYBOOKS = REPO / "playbooks"

_CREDENTIAL_VARS = (
    "GITLAB_TOKEN",
    "VAULT_TOKEN",
    "VAULT_ADDR",
    "KEYCLOAK_CLIENT_SECRET",
    "KEYCLOAK_USERNAME",
    "KEYCLOAK_PASSWORD",
    "TENANTCTL_CONFIG",
    "VAULT_AUTH",
    "VAULT_ROLE",
    "VAULT_JWT",
    "VAULT_JWT_FILE",
    "VAULT_NAMESPACE",
    "XDG_STATE_HOME",
)


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the user's credentials, config or home; output is plain."""
    for name in _CREDENTIAL_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.chdir(tmp_path)


@dataclass
class Site:
    """A running sandbox with its config file and environment."""

    sandbox: Sandbox
    config: Path
    env: dict[str, str]
    workdir: Path

    @property
    def gl(self) -> gitlab.Gitlab:
        return gitlab.Gitlab(
            self.env["GITLAB_URL"], private_token=self.env["GITLAB_TOKEN"]
        )

    @property
    def kc(self) -> KeycloakAdmin:
        connection = KeycloakOpenIDConnection(
            server_url=self.env["KEYCLOAK_URL"],
            realm_name="platform",
            user_realm_name="master",
            client_id="tenantctl",
            client_secret_key=self.env["KEYCLOAK_CLIENT_SECRET"],
        )
        return KeycloakAdmin(connection=connection)

    @property
    def vault(self) -> hvac.Client:
        return hvac.Client(url=self.env["VAULT_ADDR"], token=self.env["VAULT_TOKEN"])

    def vault_read(self, path: str) -> dict[str, Any] | None:
        try:
            answer = self.vault.secrets.kv.v2.read_secret_version(
                path=path, mount_point="secret", raise_on_deleted_version=True
            )
        except hvac.exceptions.InvalidPath:
            return None
        data: dict[str, Any] = answer["data"]
        return data

    def requests(self) -> dict[str, int]:
        """Request counts by system and kind since the last reset."""
        return dict(self.sandbox.request_totals())

    def writes(self) -> dict[str, int]:
        return {k: v for k, v in self.requests().items() if k.endswith("writes")}

    def reset_counts(self) -> None:
        self.sandbox.reset_counts()


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    sandbox = Sandbox()
    sandbox.start()
    config = sandbox.write_config(tmp_path / "tenantctl.yaml")
    env = sandbox.env(config)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    try:
        yield Site(sandbox=sandbox, config=config, env=env, workdir=tmp_path)
    finally:
        sandbox.stop()


@dataclass
class Run:
    result: Result

    @property
    def code(self) -> int:
        return self.result.exit_code

    @property
    def out(self) -> str:
        return self.result.stdout

    @property
    def err(self) -> str:
        return self.result.stderr


def tenantctl(*args: str, input: str | None = None) -> Run:
    """Run the CLI in this process, as a user would from a shell."""
    runner = CliRunner()
    result = runner.invoke(cli, list(args), input=input, env=dict(os.environ))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Run(result)


@pytest.fixture
def run() -> Any:
    return tenantctl
