"""tenantctl logging in to Vault with a JWT (VAULT_AUTH=jwt), as a GitLab CI
job does with an ``id_tokens`` token, against the sandbox's JWT auth."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jwcrypto import jwk, jwt  # type: ignore[import-untyped]

from tests.conftest import PLAYBOOKS, Site, tenantctl

CONTRACTORS = str(PLAYBOOKS / "contractors.yml")
TOKEN_PATH = "tenantctl/tenants/contractors/token"
ROLE = "tenantctl-rotate"
AUDIENCE = "https://vault.example.test"
CLAIMS = {
    "iss": "https://gitlab.example.test",
    "aud": AUDIENCE,
    "sub": "project_path:administrators/cicd:ref_type:branch:ref:main",
    "project_path": "administrators/cicd",
    "ref": "main",
}
POLICY = """
path "secret/data/tenantctl/*" { capabilities = ["create", "read", "update"] }
path "secret/metadata/tenantctl/*" {
  capabilities = ["create", "read", "update", "list", "delete"]
}
path "secret/delete/tenantctl/*" { capabilities = ["update"] }
"""


@pytest.fixture
def key(site: Site) -> jwk.JWK:
    """auth/jwt of the sandbox's Vault trusting a fresh RSA key, with a role
    bound to the audience and the project."""
    signing = jwk.JWK.generate(kty="RSA", size=2048)
    root = site.vault
    root.sys.enable_auth_method("jwt")
    root.auth.jwt.configure(
        jwt_validation_pubkeys=[signing.export_to_pem().decode()],
        bound_issuer=CLAIMS["iss"],
    )
    root.sys.create_or_update_policy("tenantctl", POLICY)
    root.auth.jwt.create_role(
        ROLE,
        user_claim="sub",
        allowed_redirect_uris=[],
        bound_audiences=[AUDIENCE],
        bound_claims={"project_path": "administrators/cicd"},
        token_policies=["tenantctl"],
        token_ttl="1h",
    )
    return signing


def mint(site: Site, key: jwk.JWK, **claims: Any) -> str:
    """An id_token-like JWT, timed by the sandbox's clock."""
    now = int(site.sandbox.clock.now())
    body = {"iat": now, "nbf": now, "exp": now + 300, **CLAIMS, **claims}
    token = jwt.JWT(header={"alg": "RS256", "kid": key.thumbprint()}, claims=body)
    token.make_signed_token(key)
    return str(token.serialize())


def use_jwt(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, token: str, role: str = ROLE
) -> None:
    """The environment of a CI job: the JWT in a file, no VAULT_TOKEN."""
    path = tmp_path / "id_token"
    path.write_text(token + "\n")
    monkeypatch.delenv("VAULT_TOKEN")
    monkeypatch.setenv("VAULT_AUTH", "jwt")
    monkeypatch.setenv("VAULT_JWT_FILE", str(path))
    if role:
        monkeypatch.setenv("VAULT_ROLE", role)


def jwt_tokens(site: Site) -> list[dict[str, Any]]:
    """The Vault tokens made by JWT logins."""
    entries = site.sandbox.vault.state["tokens"].values()
    return [e for e in entries if e["path"] == "auth/jwt/login"]


def onboard() -> None:
    result = tenantctl("onboard", "--playbook", CONTRACTORS, "--yes")
    assert result.code == 0, result.err


def test_rotate_tokens_logs_in_with_the_jwt(
    site: Site, key: jwk.JWK, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    onboard()
    before = site.vault_read(TOKEN_PATH)
    token = mint(site, key)
    use_jwt(monkeypatch, tmp_path, token)

    result = tenantctl(
        "rotate-tokens", "--group", "contractors", "--force", "--output", "json"
    )

    after = site.vault_read(TOKEN_PATH)
    assert result.code == 0, result.err
    assert json.loads(result.out)["tenants"][0]["outcome"] == "rotated"
    assert before is not None and after is not None
    assert after["metadata"]["version"] > before["metadata"]["version"]
    assert after["data"]["token_id"] != before["data"]["token_id"]
    [login] = jwt_tokens(site)
    assert login["policies"] == ["default", "tenantctl"]
    assert token not in result.out + result.err


def test_onboard_logs_in_with_the_jwt_variable(
    site: Site, key: jwk.JWK, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = mint(site, key)
    monkeypatch.delenv("VAULT_TOKEN")
    monkeypatch.setenv("VAULT_AUTH", "jwt")
    monkeypatch.setenv("VAULT_ROLE", ROLE)
    monkeypatch.setenv("VAULT_JWT", token)

    result = tenantctl("onboard", "--playbook", CONTRACTORS, "--yes")

    record = site.vault_read(TOKEN_PATH)
    assert result.code == 0, result.err
    assert record is not None and record["data"]["token"]
    assert len(jwt_tokens(site)) == 1
    assert token not in result.out + result.err


@pytest.mark.parametrize(
    ("claims", "role", "message"),
    [
        ({"aud": "https://other.example.test"}, ROLE, "invalid audience (aud) claim"),
        (
            {"project_path": "developers/app"},
            ROLE,
            'claim "project_path" does not match any associated bound claim',
        ),
        ({"exp": 1, "nbf": 1, "iat": 1}, ROLE, "token is expired"),
        ({}, "no-such-role", 'role "no-such-role" could not be found'),
        ({}, "", "VAULT_ROLE (or vault.jwt_role)"),
    ],
    ids=["audience", "project_path", "expired", "unknown-role", "missing-role"],
)
def test_refused_logins_exit_2_and_change_nothing(
    site: Site,
    key: jwk.JWK,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    claims: dict[str, Any],
    role: str,
    message: str,
) -> None:
    onboard()
    before = site.vault_read(TOKEN_PATH)
    token = mint(site, key, **claims)
    use_jwt(monkeypatch, tmp_path, token, role)

    result = tenantctl("rotate-tokens", "--group", "contractors", "--force")

    assert result.code == 2
    assert message in result.err
    assert "Traceback" not in result.err
    assert token not in result.out + result.err
    assert site.vault_read(TOKEN_PATH) == before
    assert jwt_tokens(site) == []


def test_unreadable_jwt_file_is_named(
    site: Site, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("VAULT_TOKEN")
    monkeypatch.setenv("VAULT_AUTH", "jwt")
    monkeypatch.setenv("VAULT_ROLE", ROLE)
    monkeypatch.setenv("VAULT_JWT_FILE", str(tmp_path / "missing"))

    result = tenantctl("rotate-tokens", "--force")

    assert result.code == 2
    assert f"cannot read VAULT_JWT_FILE {tmp_path / 'missing'}" in result.err
    assert jwt_tokens(site) == []


def test_vault_token_keeps_working_without_vault_auth(site: Site) -> None:
    onboard()

    result = tenantctl("rotate-tokens", "--group", "contractors", "--force")

    record = site.vault_read(TOKEN_PATH)
    assert result.code == 0, result.err
    assert record is not None and record["metadata"]["version"] >= 2
    assert jwt_tokens(site) == []
