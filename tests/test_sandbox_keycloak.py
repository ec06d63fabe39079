"""The Keycloak emulator, driven only through python-keycloak over HTTP."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from keycloak import KeycloakAdmin, KeycloakOpenID, KeycloakOpenIDConnection
from keycloak.exceptions import (
    KeycloakAuthenticationError,
    KeycloakGetError,
    KeycloakPostError,
    KeycloakPutError,
)

from tenantctl.sandbox.core import serve
from tenantctl.sandbox.keycloak import KeycloakEmulator

GROUP_MAPPER = "oidc-group-membership-mapper"


@pytest.fixture
def kc() -> Iterator[tuple[KeycloakEmulator, str]]:
    emulator = KeycloakEmulator()
    emulator.seed_platform()
    server = serve(emulator)
    yield emulator, f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()


@pytest.fixture
def admin(kc: tuple[KeycloakEmulator, str]) -> KeycloakAdmin:
    emulator, url = kc
    connection = KeycloakOpenIDConnection(
        server_url=url,
        username=emulator.admin_username,
        password=emulator.admin_password,
        realm_name="platform",
        user_realm_name="master",
        client_id="admin-cli",
    )
    return KeycloakAdmin(connection=connection)


def payload(token: str) -> Any:
    body = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def new_group(admin: KeycloakAdmin, rep: dict[str, Any], parent: str = "") -> str:
    """Create a group and return its id (python-keycloak types it optional)."""
    group_id = admin.create_group(rep, parent=parent or None)
    assert group_id is not None
    return group_id


def dashboard(admin: KeycloakAdmin) -> str:
    client_id = admin.get_client_id("dashboard")
    assert client_id is not None
    return client_id


def example_token(admin: KeycloakAdmin, user: str, scope: str = "openid") -> Any:
    url = (
        f"admin/realms/platform/clients/{dashboard(admin)}"
        "/evaluate-scopes/generate-example-access-token"
    )
    user_id = admin.get_user_id(user)
    response = admin.connection.raw_get(url, userId=user_id, scope=scope)
    assert response.status_code == 200
    return response.json()


def dashboard_oidc(admin: KeycloakAdmin, url: str) -> KeycloakOpenID:
    """The dashboard client, with direct grants switched on for tests."""
    client_id = dashboard(admin)
    client = admin.get_client(client_id)
    admin.update_client(client_id, {**client, "directAccessGrantsEnabled": True})
    oidc = KeycloakOpenID(
        server_url=url,
        realm_name="platform",
        client_id="dashboard",
        client_secret_key=client["secret"],
    )
    return oidc


def password_token(
    kc: tuple[KeycloakEmulator, str], admin: KeycloakAdmin, user: str, scope: str
) -> Any:
    emulator, url = kc
    oidc = dashboard_oidc(admin, url)
    token = oidc.token(user, emulator.user_password(user), scope=scope)
    return payload(token["access_token"])


# -- tokens --------------------------------------------------------------


def test_admin_password_grant_and_service_account_both_work(
    kc: tuple[KeycloakEmulator, str],
) -> None:
    emulator, url = kc
    connection = KeycloakOpenIDConnection(
        server_url=url,
        client_id=emulator.admin_client_id,
        client_secret_key=emulator.admin_client_secret,
        realm_name="platform",
        user_realm_name="master",
    )
    admin = KeycloakAdmin(connection=connection)

    names = sorted(u["username"] for u in admin.get_users())

    assert names == ["alice", "bob", "carol", "dave", "erin"]
    assert connection.token is not None
    assert "refresh_token" not in connection.token


def test_bad_credentials_answer_like_keycloak(
    kc: tuple[KeycloakEmulator, str],
) -> None:
    emulator, url = kc
    oidc = KeycloakOpenID(server_url=url, realm_name="master", client_id="admin-cli")
    with pytest.raises(KeycloakPostError) as bad_user:
        oidc.token(emulator.admin_username, "wrong")
    unknown = KeycloakOpenID(server_url=url, realm_name="master", client_id="nope")
    with pytest.raises(KeycloakAuthenticationError) as bad_client:
        unknown.token(emulator.admin_username, emulator.admin_password)
    wrong_secret = KeycloakOpenID(
        server_url=url,
        realm_name="master",
        client_id="tenantctl",
        client_secret_key="wrong",
    )
    with pytest.raises(KeycloakAuthenticationError) as bad_secret:
        wrong_secret.token(grant_type="client_credentials")

    assert bad_user.value.response_code == 400
    assert json.loads(bad_user.value.response_body or b"") == {
        "error": "invalid_grant",
        "error_description": "Invalid user credentials",
    }
    assert json.loads(bad_client.value.response_body or b"")["error"] == (
        "invalid_client"
    )
    assert json.loads(bad_secret.value.response_body or b"")["error"] == (
        "unauthorized_client"
    )


def test_direct_grants_off_is_400_unauthorized_client(
    kc: tuple[KeycloakEmulator, str], admin: KeycloakAdmin
) -> None:
    emulator, url = kc
    secret = admin.get_client(dashboard(admin))["secret"]
    oidc = KeycloakOpenID(
        server_url=url,
        realm_name="platform",
        client_id="dashboard",
        client_secret_key=secret,
    )
    with pytest.raises(KeycloakPostError) as error:
        oidc.token("alice", emulator.user_password("alice"))

    assert error.value.response_code == 400
    assert b"unauthorized_client" in (error.value.response_body or b"")


def test_refresh_grant_and_expired_refresh_token(
    kc: tuple[KeycloakEmulator, str],
) -> None:
    emulator, url = kc
    oidc = KeycloakOpenID(server_url=url, realm_name="master", client_id="admin-cli")
    token = oidc.token(emulator.admin_username, emulator.admin_password)

    fresh = oidc.refresh_token(token["refresh_token"])
    emulator.clock.advance(3600)
    with pytest.raises(KeycloakPostError) as error:
        oidc.refresh_token(token["refresh_token"])

    assert payload(fresh["access_token"])["preferred_username"] == "admin"
    assert b"Token is not active" in (error.value.response_body or b"")


def admin_with_token(url: str, access_token: str) -> KeycloakAdmin:
    """An admin client holding a given token and no way to get another."""
    token = {"access_token": access_token, "expires_in": 300}
    connection = KeycloakOpenIDConnection(
        server_url=url, realm_name="platform", token=token
    )
    return KeycloakAdmin(connection=connection)


def test_admin_api_rejects_bad_and_foreign_tokens(
    kc: tuple[KeycloakEmulator, str], admin: KeycloakAdmin
) -> None:
    emulator, url = kc
    alice = dashboard_oidc(admin, url).token("alice", emulator.user_password("alice"))

    with pytest.raises(KeycloakAuthenticationError) as bad:
        admin_with_token(url, "not-a-token").get_groups()
    with pytest.raises(KeycloakGetError) as foreign:
        admin_with_token(url, alice["access_token"]).get_groups()

    assert bad.value.response_code == 401
    assert json.loads(bad.value.response_body or b"") == {
        "error": "HTTP 401 Unauthorized"
    }
    assert foreign.value.response_code == 403


def test_expired_admin_token_is_renewed_by_the_client(
    kc: tuple[KeycloakEmulator, str], admin: KeycloakAdmin
) -> None:
    emulator, _ = kc
    admin.get_groups()
    emulator.clock.advance(7200)

    assert len(admin.get_groups()) == 2


def test_well_known_and_realm_info(kc: tuple[KeycloakEmulator, str]) -> None:
    _, url = kc
    oidc = KeycloakOpenID(server_url=url, realm_name="platform", client_id="x")

    config = oidc.well_known()

    assert config["issuer"] == f"{url}realms/platform"
    assert config["token_endpoint"].endswith("/protocol/openid-connect/token")
    assert "microprofile-jwt" in config["scopes_supported"]


# -- groups --------------------------------------------------------------


def test_create_group_conflicts_and_case(admin: KeycloakAdmin) -> None:
    group_id = admin.create_group({"name": "contractors"})
    again = admin.create_group({"name": "contractors"}, skip_exists=True)
    with pytest.raises(KeycloakPostError) as error:
        admin.create_group({"name": "contractors"})
    upper = admin.create_group({"name": "Contractors"})

    assert group_id and again is None and upper and upper != group_id
    assert error.value.response_code == 409
    assert json.loads(error.value.response_body or b"") == {
        "errorMessage": "Top level group named 'contractors' already exists."
    }
    assert admin.groups_count() == {"count": 4}


def test_group_by_path_with_and_without_slash(admin: KeycloakAdmin) -> None:
    parent = new_group(admin, {"name": "contractors"})
    child = new_group(admin, {"name": "ops"}, parent)

    by_path = admin.get_group_by_path("/contractors/ops")
    no_slash = admin.get_group_by_path("contractors")
    with pytest.raises(KeycloakGetError) as error:
        admin.get_group_by_path("/missing")

    assert by_path["id"] == child and by_path["parentId"] == parent
    assert no_slash["id"] == parent and no_slash["subGroupCount"] == 1
    assert error.value.response_code == 404
    assert json.loads(error.value.response_body or b"") == {
        "error": "Group path does not exist"
    }


def test_groups_list_has_counts_and_search_returns_the_parent(
    admin: KeycloakAdmin,
) -> None:
    parent = new_group(admin, {"name": "contractors"})
    new_group(admin, {"name": "ops"}, parent)
    raw = admin.connection.raw_get("admin/realms/platform/groups")
    hit = admin.connection.raw_get("admin/realms/platform/groups", search="ops")

    top = {g["name"]: g for g in raw.json()}
    assert top["contractors"]["subGroupCount"] == 1
    assert top["contractors"]["subGroups"] == []
    assert [g["name"] for g in hit.json()] == ["contractors"]
    assert hit.json()[0]["subGroups"][0]["path"] == "/contractors/ops"
    assert admin.get_group_children(parent)[0]["name"] == "ops"


def test_rename_to_sibling_name_conflicts_and_delete_removes_tree(
    admin: KeycloakAdmin,
) -> None:
    parent = new_group(admin, {"name": "contractors"})
    new_group(admin, {"name": "ops"}, parent)
    with pytest.raises(KeycloakPutError) as error:
        admin.update_group(parent, {"name": "developers"})
    admin.delete_group(parent)

    assert error.value.response_code == 409
    assert admin.groups_count() == {"count": 2}


def test_membership_and_members(admin: KeycloakAdmin) -> None:
    group_id = new_group(admin, {"name": "contractors"})
    erin = admin.get_user_id("erin")
    assert erin is not None

    admin.group_user_add(erin, group_id)
    admin.group_user_add(erin, group_id)
    members = [u["username"] for u in admin.get_group_members(group_id)]
    paths = [g["path"] for g in admin.get_user_groups(erin)]
    admin.group_user_remove(erin, group_id)

    assert members == ["erin"]
    assert paths == ["/contractors"]
    assert admin.get_group_members(group_id) == []


def test_seeded_members(admin: KeycloakAdmin) -> None:
    group = admin.get_group_by_path("/developers")

    names = sorted(u["username"] for u in admin.get_group_members(group["id"]))

    assert names == ["carol", "dave"]
    assert group["realmRoles"] == ["developers"]


# -- users and roles -----------------------------------------------------


def test_users_create_search_and_conflict(admin: KeycloakAdmin) -> None:
    user_id = admin.create_user({"username": "Frank", "email": "f@example.com"})
    with pytest.raises(KeycloakPostError) as error:
        admin.create_user({"username": "frank"})

    assert admin.get_user(user_id)["username"] == "frank"
    assert admin.get_user_id("FRANK") == user_id
    assert [u["username"] for u in admin.get_users({"search": "ran"})] == ["frank"]
    assert admin.users_count() == 6
    assert error.value.response_code == 409
    assert json.loads(error.value.response_body or b"") == {
        "errorMessage": "User exists with same username"
    }


def test_realm_role_create_map_and_reach_the_token(
    admin: KeycloakAdmin,
) -> None:
    admin.create_realm_role({"name": "contractors"})
    with pytest.raises(KeycloakPostError) as error:
        admin.create_realm_role({"name": "contractors"})
    group_id = new_group(admin, {"name": "contractors"})
    role = admin.get_realm_role("contractors")
    erin = admin.get_user_id("erin")
    assert erin is not None

    admin.assign_group_realm_roles(group_id, [role])
    admin.group_user_add(erin, group_id)

    assert error.value.response_code == 409
    assert [r["name"] for r in admin.get_group_realm_roles(group_id)] == ["contractors"]
    assert "contractors" in example_token(admin, "erin")["realm_access"]["roles"]
    realm_roles = [r["name"] for r in admin.get_realm_roles_of_user(erin)]
    assert realm_roles == ["default-roles-platform"]


def test_role_mapping_needs_the_role_id(admin: KeycloakAdmin) -> None:
    admin.create_realm_role({"name": "contractors"})
    group_id = admin.get_group_by_path("/developers")["id"]

    with pytest.raises(KeycloakPostError) as error:
        admin.assign_group_realm_roles(group_id, [{"name": "contractors"}])

    assert error.value.response_code == 404


# -- clients, mappers and tokens -----------------------------------------


def test_mapper_duplicate_name_is_409(admin: KeycloakAdmin) -> None:
    mapper = {
        "name": "groups",
        "protocol": "openid-connect",
        "protocolMapper": GROUP_MAPPER,
        "config": {"claim.name": "groups"},
    }
    with pytest.raises(KeycloakPostError) as error:
        admin.add_mapper_to_client(dashboard(admin), mapper)

    assert error.value.response_code == 409
    assert json.loads(error.value.response_body or b"") == {
        "errorMessage": "Protocol mapper exists with same name"
    }


def test_missing_access_token_flag_leaves_the_claim_out(
    kc: tuple[KeycloakEmulator, str], admin: KeycloakAdmin
) -> None:
    client_id = dashboard(admin)
    mapper = admin.get_mappers_from_client(client_id)[0]
    admin.update_client_mapper(
        client_id,
        mapper["id"],
        {**mapper, "config": {"claim.name": "groups", "id.token.claim": "true"}},
    )

    example = example_token(admin, "alice")
    real = password_token(kc, admin, "alice", "openid")

    assert "groups" not in example
    assert "groups" not in real


def test_full_path_mapper_writes_paths_in_example_and_real_token(
    kc: tuple[KeycloakEmulator, str], admin: KeycloakAdmin
) -> None:
    client_id = dashboard(admin)
    mapper = admin.get_mappers_from_client(client_id)[0]
    admin.remove_client_mapper(client_id, mapper["id"])
    parent = admin.get_group_by_path("/administrators")["id"]
    child = new_group(admin, {"name": "oncall"}, parent)
    alice = admin.get_user_id("alice")
    assert alice is not None
    admin.group_user_add(alice, child)
    admin.add_mapper_to_client(
        client_id,
        {
            "name": "tenant-groups",
            "protocol": "openid-connect",
            "protocolMapper": GROUP_MAPPER,
            "config": {
                "claim.name": "tenants",
                "full.path": "true",
                "access.token.claim": "true",
            },
        },
    )

    example = example_token(admin, "alice")
    real = password_token(kc, admin, "alice", "openid")

    assert example["tenants"] == ["/administrators", "/administrators/oncall"]
    assert real["tenants"] == example["tenants"]
    assert real["realm_access"] == example["realm_access"]


def test_erin_without_groups_gets_no_groups_claim(admin: KeycloakAdmin) -> None:
    # Keycloak 26.7.3 leaves the claim out for a user in no group (not []).
    token = example_token(admin, "erin")

    assert "groups" not in token
    assert "administrators" not in token["realm_access"]["roles"]


def test_microprofile_scope_adds_roles_as_groups(
    kc: tuple[KeycloakEmulator, str], admin: KeycloakAdmin
) -> None:
    client_id = dashboard(admin)
    mapper = admin.get_mappers_from_client(client_id)[0]
    admin.remove_client_mapper(client_id, mapper["id"])
    optional = [s["name"] for s in admin.get_client_optional_client_scopes(client_id)]

    plain = example_token(admin, "carol")
    scoped = example_token(admin, "carol", "openid microprofile-jwt")
    real = password_token(kc, admin, "carol", "openid microprofile-jwt")

    assert "microprofile-jwt" in optional
    assert "groups" not in plain
    assert "developers" in scoped["groups"]
    assert scoped["upn"] == "carol"
    assert sorted(real["groups"]) == sorted(scoped["groups"])


def test_clients_create_filter_and_conflict(admin: KeycloakAdmin) -> None:
    new_id = admin.create_client({"clientId": "grafana", "publicClient": False})
    with pytest.raises(KeycloakPostError) as error:
        admin.create_client({"clientId": "grafana"})

    found = admin.get_clients()
    defaults = [s["name"] for s in admin.get_client_default_client_scopes(new_id)]

    assert admin.get_client_id("grafana") == new_id
    assert "grafana" in [c["clientId"] for c in found]
    assert "roles" in defaults and "profile" in defaults
    assert error.value.response_code == 409


def test_state_round_trips_through_json(kc: tuple[KeycloakEmulator, str]) -> None:
    emulator, _ = kc
    copy = KeycloakEmulator()

    copy.load_state(json.loads(json.dumps(emulator.dump_state())))

    assert copy.dump_state() == emulator.dump_state()
    assert copy.admin_password == emulator.admin_password
