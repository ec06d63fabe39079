"""The Vault emulator, driven only through hvac over HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import hvac
import pytest
from hvac import exceptions
from jwcrypto import jwk, jwt  # type: ignore[import-untyped]

from tenantctl.sandbox.core import serve
from tenantctl.sandbox.vault import VaultEmulator

PATH = "tenants/contractors/gitlab-token"


@pytest.fixture
def vault() -> Iterator[tuple[VaultEmulator, str]]:
    emulator = VaultEmulator()
    emulator.seed_platform()
    server = serve(emulator)
    yield emulator, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def client(vault: tuple[VaultEmulator, str]) -> hvac.Client:
    emulator, url = vault
    return hvac.Client(url=url, token=emulator.root_token)


def kv(client: hvac.Client) -> hvac.api.secrets_engines.KvV2:
    return client.secrets.kv.v2


def read(client: hvac.Client, path: str = PATH) -> Any:
    """The secret at ``path``; InvalidPath when deleted or missing."""
    return kv(client).read_secret_version(path, raise_on_deleted_version=True)


# -- auth and sys --------------------------------------------------------


def test_root_token_and_bad_token(vault: tuple[VaultEmulator, str]) -> None:
    emulator, url = vault
    good = hvac.Client(url=url, token=emulator.root_token)
    bad = hvac.Client(url=url, token="hvs.nope")

    with pytest.raises(exceptions.Forbidden) as error:
        bad.auth.token.lookup_self()

    assert good.is_authenticated()
    assert not bad.is_authenticated()
    assert good.auth.token.lookup_self()["data"]["policies"] == ["root"]
    assert error.value.errors == ["permission denied"]


def test_health_needs_no_token(vault: tuple[VaultEmulator, str]) -> None:
    _, url = vault

    health = hvac.Client(url=url).sys.read_health_status(method="GET")

    assert health["initialized"] is True and health["sealed"] is False


def test_mounts_show_kv_version_2(client: hvac.Client) -> None:
    mounts = client.sys.list_mounted_secrets_engines()["data"]

    assert mounts["secret/"]["type"] == "kv"
    assert mounts["secret/"]["options"] == {"version": "2"}


def test_unknown_namespace_is_refused(vault: tuple[VaultEmulator, str]) -> None:
    emulator, url = vault
    root_ns = hvac.Client(url=url, token=emulator.root_token, namespace="root")
    other = hvac.Client(url=url, token=emulator.root_token, namespace="team-a")

    assert root_ns.is_authenticated()
    assert not other.is_authenticated()


# -- KV v2 read and write -----------------------------------------------


def test_write_read_and_versions(client: hvac.Client) -> None:
    first = kv(client).create_or_update_secret(PATH, {"token": "a"})
    kv(client).create_or_update_secret(PATH, {"token": "b"})

    latest = read(client)["data"]
    old = kv(client).read_secret_version(
        PATH, version=1, raise_on_deleted_version=True
    )["data"]

    assert first["data"]["version"] == 1
    assert first["data"]["created_time"].endswith("Z")
    assert len(first["data"]["created_time"].split(".")[1]) == 10
    assert latest["data"] == {"token": "b"}
    assert latest["metadata"]["version"] == 2
    assert old["data"] == {"token": "a"}


def test_missing_secret_is_invalid_path(client: hvac.Client) -> None:
    with pytest.raises(exceptions.InvalidPath) as error:
        read(client, "tenants/nobody")

    assert error.value.errors == []


def test_cas_zero_creates_only_and_mismatch_is_400(client: hvac.Client) -> None:
    kv(client).create_or_update_secret(PATH, {"token": "a"}, cas=0)
    with pytest.raises(exceptions.InvalidRequest) as again:
        kv(client).create_or_update_secret(PATH, {"token": "b"}, cas=0)
    kv(client).create_or_update_secret(PATH, {"token": "b"}, cas=1)
    with pytest.raises(exceptions.InvalidRequest) as stale:
        kv(client).create_or_update_secret(PATH, {"token": "c"}, cas=1)

    message = "check-and-set parameter did not match the current version"
    assert again.value.errors == [message]
    assert stale.value.errors == [message]
    assert read(client)["data"]["data"] == {"token": "b"}


def test_cas_zero_fails_on_a_soft_deleted_key(client: hvac.Client) -> None:
    kv(client).create_or_update_secret(PATH, {"token": "a"})
    kv(client).delete_latest_version_of_secret(PATH)

    with pytest.raises(exceptions.InvalidRequest):
        kv(client).create_or_update_secret(PATH, {"token": "b"}, cas=0)


def test_cas_required_by_mount_config_and_by_metadata(client: hvac.Client) -> None:
    kv(client).update_metadata(PATH, cas_required=True)
    with pytest.raises(exceptions.InvalidRequest) as error:
        kv(client).create_or_update_secret(PATH, {"token": "a"})
    kv(client).create_or_update_secret(PATH, {"token": "a"}, cas=0)
    kv(client).configure(cas_required=True)
    with pytest.raises(exceptions.InvalidRequest):
        kv(client).create_or_update_secret("other", {"x": "1"})

    config = kv(client).read_configuration()["data"]

    assert error.value.errors == ["check-and-set parameter required for this call"]
    assert config["cas_required"] is True


def test_patch_merges_and_needs_an_existing_secret(client: hvac.Client) -> None:
    kv(client).create_or_update_secret(PATH, {"token": "a", "id": "1"})

    kv(client).patch(PATH, {"token": "b"})
    with pytest.raises(exceptions.InvalidPath):
        kv(client).patch("tenants/nobody", {"x": "1"})

    secret = read(client)["data"]
    assert secret["data"] == {"token": "b", "id": "1"}
    assert secret["metadata"]["version"] == 2


def test_http_patch_needs_merge_patch_content_type(
    vault: tuple[VaultEmulator, str], client: hvac.Client
) -> None:
    kv(client).create_or_update_secret(PATH, {"token": "a", "id": "1"})
    url = f"/v1/secret/data/{PATH}"
    merge = {"Content-Type": "application/merge-patch+json"}

    patched = client.adapter.request(
        "PATCH", url, data=json.dumps({"data": {"id": None}}), headers=merge
    )
    with pytest.raises(exceptions.VaultError) as error:
        client.adapter.request("PATCH", url, json={"data": {"id": "2"}})

    assert patched["data"]["version"] == 2
    assert read(client)["data"]["data"] == {"token": "a"}
    assert error.value.errors is not None
    assert "merge-patch+json" in error.value.errors[0]


def test_soft_delete_undelete_and_destroy(client: hvac.Client) -> None:
    kv(client).create_or_update_secret(PATH, {"token": "a"})
    kv(client).delete_latest_version_of_secret(PATH)

    deleted = kv(client).read_secret_version(PATH, raise_on_deleted_version=False)
    with pytest.raises(exceptions.InvalidPath):
        read(client)
    kv(client).undelete_secret_versions(PATH, [1])
    restored = read(client)["data"]["data"]
    kv(client).destroy_secret_versions(PATH, [1])
    meta = kv(client).read_secret_metadata(PATH)["data"]

    assert deleted["data"]["data"] is None
    assert deleted["data"]["metadata"]["deletion_time"] != ""
    assert restored == {"token": "a"}
    assert meta["versions"]["1"]["destroyed"] is True


def test_delete_versions_marks_only_those(client: hvac.Client) -> None:
    for value in ("a", "b", "c"):
        kv(client).create_or_update_secret(PATH, {"token": value})

    kv(client).delete_secret_versions(PATH, [1, 2])
    versions = kv(client).read_secret_metadata(PATH)["data"]["versions"]

    assert versions["1"]["deletion_time"] and versions["2"]["deletion_time"]
    assert versions["3"]["deletion_time"] == ""


def test_max_versions_drops_the_oldest(client: hvac.Client) -> None:
    kv(client).update_metadata(PATH, max_versions=3)
    for value in range(5):
        kv(client).create_or_update_secret(PATH, {"n": str(value)})

    meta = kv(client).read_secret_metadata(PATH)["data"]

    assert sorted(meta["versions"]) == ["3", "4", "5"]
    assert meta["oldest_version"] == 3 and meta["current_version"] == 5


def test_default_max_versions_is_ten(client: hvac.Client) -> None:
    for value in range(12):
        kv(client).create_or_update_secret(PATH, {"n": str(value)})

    meta = kv(client).read_secret_metadata(PATH)["data"]

    assert len(meta["versions"]) == 10 and meta["oldest_version"] == 3


# -- metadata and lists --------------------------------------------------


def test_metadata_custom_replaced_whole(client: hvac.Client) -> None:
    kv(client).create_or_update_secret(PATH, {"token": "a"})
    kv(client).update_metadata(PATH, custom_metadata={"owner": "ops", "tier": "1"})
    kv(client).update_metadata(PATH, custom_metadata={"owner": "sec"})

    meta = kv(client).read_secret_metadata(PATH)["data"]
    version_meta = read(client)["data"]["metadata"]

    assert meta["custom_metadata"] == {"owner": "sec"}
    assert version_meta["custom_metadata"] == {"owner": "sec"}
    assert meta["delete_version_after"] == "0s"


def test_list_folders_and_empty_list(client: hvac.Client) -> None:
    with pytest.raises(exceptions.InvalidPath):
        kv(client).list_secrets("")
    kv(client).create_or_update_secret("tenants/a/token", {"x": "1"})
    kv(client).create_or_update_secret("tenants/b", {"x": "1"})

    top = kv(client).list_secrets("")["data"]["keys"]
    inner = kv(client).list_secrets("tenants")["data"]["keys"]

    assert top == ["tenants/"]
    assert inner == ["a/", "b"]


def test_delete_metadata_removes_everything(client: hvac.Client) -> None:
    kv(client).create_or_update_secret(PATH, {"token": "a"})

    kv(client).delete_metadata_and_all_versions(PATH)

    with pytest.raises(exceptions.InvalidPath):
        kv(client).read_secret_metadata(PATH)


def test_doubled_mount_prefix_creates_a_literal_key(client: hvac.Client) -> None:
    kv(client).create_or_update_secret("secret/data/x", {"v": "1"})

    keys = kv(client).list_secrets("")["data"]["keys"]

    assert keys == ["secret/"]
    with pytest.raises(exceptions.InvalidPath):
        read(client, "x")


# -- ACL -----------------------------------------------------------------


def test_limited_token_follows_its_acl(vault: tuple[VaultEmulator, str]) -> None:
    emulator, url = vault
    root = hvac.Client(url=url, token=emulator.root_token)
    kv(root).create_or_update_secret("tenants/a/token", {"x": "1"})
    kv(root).create_or_update_secret("tenants/b/token", {"x": "2"})
    token = emulator.create_token(
        ["tenant-a"],
        {
            "secret/data/tenants/a/*": ["read"],
            "secret/metadata/tenants/*": ["list"],
        },
    )
    limited = hvac.Client(url=url, token=token)

    allowed = read(limited, "tenants/a/token")
    listed = kv(limited).list_secrets("tenants")["data"]["keys"]
    with pytest.raises(exceptions.Forbidden):
        read(limited, "tenants/b/token")
    with pytest.raises(exceptions.Forbidden):
        kv(limited).create_or_update_secret("tenants/a/token", {"x": "3"})
    with pytest.raises(exceptions.Forbidden):
        kv(limited).patch("tenants/a/token", {"x": "3"})

    assert allowed["data"]["data"] == {"x": "1"}
    assert listed == ["a/", "b/"]
    policies = limited.auth.token.lookup_self()["data"]["policies"]
    assert policies == ["default", "tenant-a"]


def test_state_round_trips_through_json(vault: tuple[VaultEmulator, str]) -> None:
    emulator, _ = vault
    copy = VaultEmulator()

    copy.load_state(json.loads(json.dumps(emulator.dump_state())))

    assert copy.dump_state() == emulator.dump_state()
    assert copy.root_token == emulator.root_token


# -- JWT auth (api-docs/auth/jwt.mdx) -------------------------------------

ISSUER = "https://gitlab.example.test"
CLAIMS = {"iss": ISSUER, "aud": "vault", "sub": "ci", "project_path": "a/cicd"}


@pytest.fixture
def signing_key() -> jwk.JWK:
    return jwk.JWK.generate(kty="RSA", size=2048)


@pytest.fixture
def jwt_mount(
    vault: tuple[VaultEmulator, str], client: hvac.Client, signing_key: jwk.JWK
) -> VaultEmulator:
    """auth/jwt trusting ``signing_key``, a policy, and the role ``ci``."""
    pem = signing_key.export_to_pem().decode()
    client.sys.enable_auth_method("jwt")
    client.auth.jwt.configure(jwt_validation_pubkeys=[pem], bound_issuer=ISSUER)
    client.sys.create_or_update_policy(
        "ci", 'path "secret/data/ci/*" {\n  capabilities = ["read", "create"]\n}\n'
    )
    client.auth.jwt.create_role(
        "ci",
        user_claim="sub",
        allowed_redirect_uris=[],
        bound_audiences=["vault"],
        bound_claims={"project_path": "a/cicd"},
        token_policies=["ci"],
        token_ttl="10m",
    )
    return vault[0]


def sign(key: jwk.JWK, clock_now: float, **claims: Any) -> str:
    body = {"iat": int(clock_now), "exp": int(clock_now) + 300, **CLAIMS, **claims}
    token = jwt.JWT(header={"alg": "RS256", "typ": "JWT"}, claims=body)
    token.make_signed_token(key)
    return str(token.serialize())


def login_error(url: str, role: str, token: str) -> list[str]:
    with pytest.raises(exceptions.InvalidRequest) as error:
        hvac.Client(url=url).auth.jwt.jwt_login(role=role, jwt=token)
    return list(error.value.errors)


def test_jwt_login_gives_a_token_with_the_role_policies(
    vault: tuple[VaultEmulator, str], jwt_mount: VaultEmulator, signing_key: jwk.JWK
) -> None:
    _, url = vault
    anonymous = hvac.Client(url=url)

    answer = anonymous.auth.jwt.jwt_login(
        role="ci", jwt=sign(signing_key, jwt_mount.clock.now())
    )
    token = answer["auth"]["client_token"]
    user = hvac.Client(url=url, token=token)
    kv(user).create_or_update_secret("ci/x", {"v": "1"})
    with pytest.raises(exceptions.Forbidden):
        kv(user).create_or_update_secret("other/x", {"v": "1"})

    assert answer["auth"]["policies"] == ["ci", "default"]
    assert answer["auth"]["lease_duration"] == 600
    assert answer["auth"]["metadata"] == {"role": "ci"}
    assert read(user, "ci/x")["data"]["data"] == {"v": "1"}
    assert user.auth.token.lookup_self()["data"]["path"] == "auth/jwt/login"
    assert (
        "jwt/"
        in hvac.Client(url=url, token=jwt_mount.root_token).sys.list_auth_methods()[
            "data"
        ]
    )


def test_jwt_login_token_expires_with_its_ttl(
    vault: tuple[VaultEmulator, str], jwt_mount: VaultEmulator, signing_key: jwk.JWK
) -> None:
    _, url = vault
    answer = hvac.Client(url=url).auth.jwt.jwt_login(
        role="ci", jwt=sign(signing_key, jwt_mount.clock.now())
    )
    user = hvac.Client(url=url, token=answer["auth"]["client_token"])

    jwt_mount.clock.advance(601)

    assert not user.is_authenticated()


@pytest.mark.parametrize(
    ("role", "claims", "message"),
    [
        ("", {}, "missing role"),
        ("nope", {}, 'role "nope" could not be found'),
        ("ci", {"aud": "other"}, "error validating token: invalid audience (aud)"),
        ("ci", {"iss": "https://elsewhere"}, "invalid issuer (iss) claim"),
        (
            "ci",
            {"project_path": "b/app"},
            'error validating claims: claim "project_path" does not match any '
            "associated bound claim values",
        ),
        ("ci", {"exp": 1}, "token is expired"),
    ],
)
def test_jwt_login_refusals(
    vault: tuple[VaultEmulator, str],
    jwt_mount: VaultEmulator,
    signing_key: jwk.JWK,
    role: str,
    claims: dict[str, Any],
    message: str,
) -> None:
    _, url = vault
    tokens_before = set(jwt_mount.state["tokens"])

    errors = login_error(url, role, sign(signing_key, jwt_mount.clock.now(), **claims))

    assert message in errors[0]
    assert set(jwt_mount.state["tokens"]) == tokens_before


def test_jwt_login_expires_after_the_leeway(
    vault: tuple[VaultEmulator, str], jwt_mount: VaultEmulator, signing_key: jwk.JWK
) -> None:
    _, url = vault
    token = sign(signing_key, jwt_mount.clock.now())
    jwt_mount.clock.advance(300 + 150 + 60 + 1)

    errors = login_error(url, "ci", token)

    assert "invalid expiration time (exp) claim: token is expired" in errors[0]


def test_jwt_login_checks_the_signature(
    vault: tuple[VaultEmulator, str], jwt_mount: VaultEmulator
) -> None:
    _, url = vault
    stranger = jwk.JWK.generate(kty="RSA", size=2048)

    errors = login_error(url, "ci", sign(stranger, jwt_mount.clock.now()))

    assert errors == ["error validating token: failed to verify id token signature"]


def test_jwt_role_needs_a_bound_constraint(
    client: hvac.Client, jwt_mount: VaultEmulator
) -> None:
    with pytest.raises(exceptions.InvalidRequest) as error:
        client.auth.jwt.create_role("loose", user_claim="sub", allowed_redirect_uris=[])

    assert "at least one bound constraint" in error.value.errors[0]
    assert "loose" not in jwt_mount.state["auth"]["jwt"]["roles"]


def test_login_to_a_mount_not_enabled_is_forbidden(
    vault: tuple[VaultEmulator, str], signing_key: jwk.JWK
) -> None:
    emulator, url = vault

    with pytest.raises(exceptions.Forbidden):
        hvac.Client(url=url).auth.jwt.jwt_login(
            role="ci", jwt=sign(signing_key, emulator.clock.now())
        )

    assert emulator.state["auth"] == {}


def test_enabling_a_path_twice_is_refused(
    client: hvac.Client, jwt_mount: VaultEmulator
) -> None:
    with pytest.raises(exceptions.InvalidRequest) as error:
        client.sys.enable_auth_method("jwt")

    assert error.value.errors == ["path is already in use at jwt/"]
    assert list(jwt_mount.state["auth"]) == ["jwt"]
