"""Two Keycloaks for one suite: the sandbox's emulator and a real Keycloak.

``keycloak_server`` is parametrized: ``sandbox`` serves the KeycloakEmulator
alone; ``real`` starts one real Keycloak per session through
``scripts/keycloak-test-server`` (marked ``realkeycloak``) and stops it at the
end. ``realm`` gives each test a fresh realm on either server, made through
python-keycloak as the master admin with the password grant on
``admin-cli``, so both servers go through the very same code.

Load with ``pytest_plugins = ["tests.keycloak_servers"]`` in a test module.
The test module imports helpers from here first, so assertion rewriting is
off for this module (PYTEST_DONT_REWRITE) instead of warning that it is late.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from keycloak import KeycloakAdmin, KeycloakOpenID, KeycloakOpenIDConnection

from tenantctl import engine
from tenantctl.adapters.keycloak import Keycloak
from tenantctl.config import Credentials, KeycloakSettings, SiteConfig
from tenantctl.onboarding import build_context
from tenantctl.playbook import Playbook
from tenantctl.sandbox.core import serve
from tenantctl.sandbox.keycloak import KeycloakEmulator
from tenantctl.secrets import Secret
from tenantctl.steps.base import Change, Context
from tenantctl.steps.keycloak_group import KeycloakGroupStep
from tests.realkeycloak import start_real_keycloak, stop_real_keycloak

REPO = Path(__file__).resolve().parent.parent
HOW_TO_RUN = "run them with `make test-keycloak`"
REQUIRE_REAL = "TENANTCTL_REQUIRE_REAL_KEYCLOAK"
DASHBOARD = "dashboard"
TENANT = "contractors"
# Nothing listens here: the step under test never calls GitLab or Vault.
UNUSED_URL = "http://127.0.0.1:9"
USERS = ("erin", "carol", "dave")

Json = dict[str, Any]


@dataclass(frozen=True)
class KeycloakServer:
    """A running Keycloak (emulated or real) and its master admin."""

    kind: str
    url: str
    admin_user: str
    admin_password: str = field(repr=False)

    def admin(self, realm: str = "master") -> KeycloakAdmin:
        """python-keycloak's admin client on ``realm``, logged in to master."""
        connection = KeycloakOpenIDConnection(
            server_url=self.url,
            username=self.admin_user,
            password=self.admin_password,
            realm_name=realm,
            user_realm_name="master",
            client_id="admin-cli",
        )
        return KeycloakAdmin(connection=connection)


def _sandbox_server() -> Iterator[KeycloakServer]:
    emulator = KeycloakEmulator()
    emulator.seed_platform()
    server = serve(emulator)
    try:
        yield KeycloakServer(
            kind="sandbox",
            url=f"http://127.0.0.1:{server.server_port}",
            admin_user=emulator.admin_username,
            admin_password=emulator.admin_password,
        )
    finally:
        server.shutdown()


def _real_server() -> Iterator[KeycloakServer]:
    """A real Keycloak; without Java or network the tests skip, unless
    ``TENANTCTL_REQUIRE_REAL_KEYCLOAK=1`` (CI) makes that a failure."""
    started = start_real_keycloak(REPO)
    if isinstance(started, str):
        if os.environ.get(REQUIRE_REAL) == "1":
            pytest.fail(f"{started} ({REQUIRE_REAL}=1)", pytrace=False)
        pytest.skip(f"{started}; {HOW_TO_RUN}")
    try:
        yield KeycloakServer(
            kind="real",
            url=started.url,
            admin_user=started.admin_user,
            admin_password=started.admin_password,
        )
    finally:
        stop_real_keycloak(REPO)


@pytest.fixture(
    scope="session",
    params=["sandbox", pytest.param("real", marks=pytest.mark.realkeycloak)],
)
def keycloak_server(request: pytest.FixtureRequest) -> Iterator[KeycloakServer]:
    """One Keycloak per kind for the whole session."""
    if request.param == "sandbox":
        yield from _sandbox_server()
    else:
        yield from _real_server()


class QuietReporter:
    """An engine reporter that shows nothing."""

    def step_started(self, result: engine.StepResult) -> None:
        return None

    def change_applied(self, result: engine.StepResult, change: Change) -> None:
        return None

    def step_finished(self, result: engine.StepResult) -> None:
        return None


def payload(token: str) -> Json:
    """The claims of a JWT, decoded without checking its signature."""
    body = token.split(".")[1]
    data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    assert isinstance(data, dict)
    return data


@dataclass
class FreshRealm:
    """A new realm with a confidential ``dashboard`` client and users."""

    server: KeycloakServer
    name: str
    admin: KeycloakAdmin
    dashboard: str
    secret: str = field(repr=False)
    passwords: dict[str, str] = field(repr=False)

    def user_id(self, username: str) -> str:
        user_id = self.admin.get_user_id(username)
        assert user_id is not None, username
        return user_id

    def group(self, path: str) -> Json:
        return dict(self.admin.get_group_by_path(path))

    def member_names(self, path: str) -> set[str]:
        members = self.admin.get_group_members(self.group(path)["id"])
        return {str(m["username"]) for m in members}

    def mappers_named(self, name: str) -> list[Json]:
        mappers = self.admin.get_mappers_from_client(self.dashboard)
        return [dict(m) for m in mappers if m["name"] == name]

    def oidc(self) -> KeycloakOpenID:
        """The dashboard client, as the dashboard itself logs users in."""
        return KeycloakOpenID(
            server_url=self.server.url,
            realm_name=self.name,
            client_id=DASHBOARD,
            client_secret_key=self.secret,
        )

    def access_token(self, username: str, scope: str = "openid") -> Json:
        """A real access token from the token endpoint (direct grant)."""
        answer = self.oidc().token(username, self.passwords[username], scope=scope)
        return payload(answer["access_token"])

    def keycloak(self) -> Keycloak:
        """tenantctl's adapter on this realm, as the master admin."""
        settings = KeycloakSettings(
            url=self.server.url,
            realm=self.name,
            dashboard_client_id=DASHBOARD,
            admin_realm="master",
            admin_client_id="admin-cli",
        )
        return Keycloak(settings, self.credentials())

    def credentials(self) -> Credentials:
        return Credentials(
            gitlab_token=Secret("gitlab-token-not-used-here"),
            vault_token=Secret("vault-token-not-used-here"),
            keycloak_client_secret=None,
            keycloak_username=self.server.admin_user,
            keycloak_password=Secret(self.server.admin_password),
        )

    def context(self, members: list[str]) -> Context:
        """A real Context for the tenant with these Keycloak members."""
        return build_context(
            self.site_config(),
            self.credentials(),
            Playbook.model_validate(
                {"tenant": TENANT, "tier": "standard", "keycloak": {"members": members}}
            ),
            dry_run=False,
        )

    def site_config(self) -> SiteConfig:
        return SiteConfig.model_validate(
            {
                "gitlab": {"url": UNUSED_URL},
                "vault": {"url": UNUSED_URL},
                "keycloak": {
                    "url": self.server.url,
                    "realm": self.name,
                    "dashboard_client_id": DASHBOARD,
                    "admin_realm": "master",
                    "admin_client_id": "admin-cli",
                },
                "dashboard": {
                    "allowlist": {
                        "file": "groups.json",
                        "format": "json",
                        "locator": "allowed",
                    },
                },
            }
        )

    def run_step(self, members: list[str] | None = None) -> engine.StepResult:
        """Run the Keycloak step through the engine; its one result."""
        chosen = ["erin", "carol"] if members is None else members
        ctx = self.context(chosen)
        report = engine.run([KeycloakGroupStep()], ctx, QuietReporter())
        return report.steps[0]


def create_realm(server: KeycloakServer, name: str) -> FreshRealm:
    """Make realm ``name`` with the dashboard client and the test users."""
    server.admin().create_realm({"realm": name, "enabled": True})
    admin = server.admin(name)
    dashboard = admin.create_client(
        {
            "clientId": DASHBOARD,
            "publicClient": False,
            "standardFlowEnabled": True,
            # Tests log users in on the dashboard's own client, so the
            # tokens are the dashboard's, mappers and all.
            "directAccessGrantsEnabled": True,
            "redirectUris": ["/*"],
        }
    )
    passwords = {name: secrets.token_urlsafe(12) for name in USERS}
    for username, password in passwords.items():
        admin.create_user(
            {
                "username": username,
                "email": f"{username}@example.com",
                "firstName": username.title(),
                "lastName": "Example",
                "enabled": True,
                "credentials": [
                    {"type": "password", "value": password, "temporary": False}
                ],
            }
        )
    secret = str(admin.get_client(dashboard)["secret"])
    return FreshRealm(server, name, admin, dashboard, secret, passwords)


@pytest.fixture
def realm(keycloak_server: KeycloakServer) -> Iterator[FreshRealm]:
    """A fresh realm with a unique name, deleted afterwards."""
    name = f"t-{secrets.token_hex(4)}"
    fresh = create_realm(keycloak_server, name)
    try:
        yield fresh
    finally:
        keycloak_server.admin().delete_realm(name)
