"""The Keycloak step, written once, run against the sandbox and a real Keycloak.

Every test gets a fresh realm (``tests/keycloak_servers.py``) on the
emulator and, when it can be started, on Keycloak 26; it runs the step
through the engine and reads the result back through python-keycloak. The
second half pins the points where the emulator once differed from the real
server: each was a sandbox bug, fixed to match.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from keycloak import exceptions as kcexc

from tenantctl.claims import check_claims, claims_of
from tenantctl.steps.keycloak_group import MAPPER_CONFIG, MAPPER_NAME, MAPPER_TYPE
from tests.keycloak_servers import DASHBOARD, TENANT, FreshRealm, payload

pytest_plugins = ["tests.keycloak_servers"]

Json = dict[str, Any]


def body(error: kcexc.KeycloakError) -> Any:
    raw = error.response_body or b""
    return json.loads(raw) if raw else None


def add_mapper(realm: FreshRealm, kind: str, config: dict[str, str]) -> None:
    realm.admin.add_mapper_to_client(
        realm.dashboard,
        {
            "name": MAPPER_NAME,
            "protocol": "openid-connect",
            "protocolMapper": kind,
            "config": config,
        },
    )


def the_groups_mapper(realm: FreshRealm) -> Json:
    (mapper,) = realm.mappers_named(MAPPER_NAME)
    return mapper


def changes_of(result: Any) -> list[tuple[str, str, str]]:
    return [(c.action, c.kind, c.target) for c in result.changes]


# -- the step ---------------------------------------------------------------


def test_fresh_realm_gets_group_members_mapper_and_role(realm: FreshRealm) -> None:
    result = realm.run_step(["erin", "carol"])

    assert result.status == "changed", result.error
    assert result.warnings == []
    group = realm.group(f"/{TENANT}")
    assert group["name"] == TENANT
    assert realm.member_names(f"/{TENANT}") == {"erin", "carol"}
    mapper = the_groups_mapper(realm)
    assert mapper["protocolMapper"] == MAPPER_TYPE
    assert mapper["config"] == MAPPER_CONFIG
    role = realm.admin.get_realm_role(TENANT)
    mapped = realm.admin.get_group_realm_roles(group["id"])
    assert [r["id"] for r in mapped] == [role["id"]]


def test_second_run_changes_nothing(realm: FreshRealm) -> None:
    realm.run_step()
    before = realm.admin.get_mappers_from_client(realm.dashboard)

    again = realm.run_step()

    assert again.status == "unchanged", again.changes
    assert again.changes == []
    assert realm.admin.get_mappers_from_client(realm.dashboard) == before
    assert realm.admin.groups_count() == {"count": 1}


def test_group_differing_in_case_is_kept_and_the_exact_one_made(
    realm: FreshRealm,
) -> None:
    # Keycloak (H2, PostgreSQL) lets both names exist side by side.
    other = realm.admin.create_group({"name": "Contractors"})
    assert other is not None
    realm.admin.group_user_add(realm.user_id("dave"), other)

    result = realm.run_step(["erin"])
    again = realm.run_step(["erin"])

    assert result.status == "changed", result.error
    assert any("'Contractors'" in w for w in result.warnings)
    assert realm.group("/Contractors")["id"] == other
    assert realm.member_names("/Contractors") == {"dave"}
    assert realm.member_names(f"/{TENANT}") == {"erin"}
    assert again.changes == []


def test_find_group_with_and_without_the_leading_slash(realm: FreshRealm) -> None:
    made = realm.admin.create_group({"name": TENANT})
    kc = realm.keycloak()

    plain = kc.find_group(TENANT)
    slashed = kc.find_group(f"/{TENANT}")
    raw = realm.admin.get_group_by_path(TENANT)

    assert plain is not None and slashed is not None
    assert plain["id"] == slashed["id"] == raw["id"] == made
    assert plain["path"] == f"/{TENANT}"
    assert kc.find_group("Contractors") is None
    assert kc.find_group("missing") is None


def test_a_subgroup_of_the_same_name_is_not_the_tenant(realm: FreshRealm) -> None:
    parent = realm.admin.create_group({"name": "developers"})
    nested = realm.admin.create_group({"name": TENANT}, parent=parent)

    result = realm.run_step(["erin"])

    top = realm.group(f"/{TENANT}")
    assert result.status == "changed", result.error
    assert top["id"] != nested and "parentId" not in top
    assert realm.member_names(f"/developers/{TENANT}") == set()


def test_mapper_called_groups_of_another_type_is_replaced(realm: FreshRealm) -> None:
    roles_as_groups = {
        "claim.name": "groups",
        "multivalued": "true",
        "access.token.claim": "true",
    }
    add_mapper(realm, "oidc-usermodel-realm-role-mapper", roles_as_groups)

    result = realm.run_step()

    assert ("update", "keycloak mapper", MAPPER_NAME) in changes_of(result)
    mapper = the_groups_mapper(realm)
    assert mapper["protocolMapper"] == MAPPER_TYPE
    assert mapper["config"] == MAPPER_CONFIG
    assert realm.access_token("erin")["groups"] == [TENANT]
    assert realm.run_step().changes == []


DRIFTS = {
    "full-path": MAPPER_CONFIG | {"full.path": "true"},
    "access-flag-off": MAPPER_CONFIG | {"access.token.claim": "false"},
    "access-flag-missing": {"claim.name": "groups", "id.token.claim": "true"},
}


@pytest.mark.parametrize("drift", sorted(DRIFTS))
def test_drifted_mapper_is_repaired_in_place(realm: FreshRealm, drift: str) -> None:
    add_mapper(realm, MAPPER_TYPE, DRIFTS[drift])
    before = the_groups_mapper(realm)

    result = realm.run_step()

    after = the_groups_mapper(realm)
    assert ("update", "keycloak mapper", MAPPER_NAME) in changes_of(result)
    assert after["id"] == before["id"]
    assert after["config"] == MAPPER_CONFIG
    assert realm.access_token("erin")["groups"] == [TENANT]


def test_existing_role_not_mapped_is_mapped_not_remade(realm: FreshRealm) -> None:
    realm.admin.create_realm_role({"name": TENANT, "description": "made by hand"})
    role = realm.admin.get_realm_role(TENANT)

    result = realm.run_step()

    kinds = [kind for _, kind, _ in changes_of(result)]
    assert "realm role" not in kinds and "role mapping" in kinds
    now = realm.admin.get_realm_role(TENANT)
    assert (now["id"], now["description"]) == (role["id"], "made by hand")
    group_id = realm.group(f"/{TENANT}")["id"]
    assert [r["name"] for r in realm.admin.get_group_realm_roles(group_id)] == [TENANT]


def test_missing_members_warn_and_the_others_are_added(realm: FreshRealm) -> None:
    result = realm.run_step(["erin", "ghost", "Carol"])
    again = realm.run_step(["erin", "ghost", "Carol"])

    assert result.status == "changed", result.error
    assert result.warnings == ["Keycloak user 'ghost' does not exist: not added"]
    assert realm.member_names(f"/{TENANT}") == {"erin", "carol"}
    assert realm.admin.get_user_id("ghost") is None
    assert again.changes == []
    assert again.warnings == result.warnings


# -- the claim, on a real token ---------------------------------------------


def test_token_carries_the_tenant_and_check_claims_agrees(realm: FreshRealm) -> None:
    realm.run_step(["erin"])

    token = claims_of(realm.access_token("erin"), TENANT)
    checked = check_claims(realm.keycloak(), DASHBOARD, "erin", TENANT)

    assert token.in_groups and token.in_realm_roles
    assert token.groups == [TENANT]
    assert checked == token


def test_without_the_mapper_only_the_role_fallback_is_left(realm: FreshRealm) -> None:
    realm.run_step(["erin"])
    realm.admin.remove_client_mapper(realm.dashboard, the_groups_mapper(realm)["id"])

    raw = realm.access_token("erin")
    token = claims_of(raw, TENANT)
    checked = check_claims(realm.keycloak(), DASHBOARD, "erin", TENANT)

    assert "groups" not in raw
    assert not token.in_groups and token.in_realm_roles
    assert checked == token


def test_a_full_path_claim_does_not_count(realm: FreshRealm) -> None:
    realm.run_step(["erin"])
    mapper = the_groups_mapper(realm)
    config = MAPPER_CONFIG | {"full.path": "true"}
    realm.admin.update_client_mapper(
        realm.dashboard, mapper["id"], {**mapper, "config": config}
    )

    token = claims_of(realm.access_token("erin"), TENANT)
    checked = check_claims(realm.keycloak(), DASHBOARD, "erin", TENANT)

    assert token.groups == [f"/{TENANT}"] and not token.in_groups
    assert checked == token


# -- where the emulator once differed from Keycloak 26.7.3 ------------------


def test_new_realm_is_disabled_unless_enabled(realm: FreshRealm) -> None:
    master = realm.server.admin()
    name = f"{realm.name}-off"
    master.create_realm({"realm": name})
    with pytest.raises(kcexc.KeycloakPostError) as twice:
        master.create_realm({"realm": name})
    with pytest.raises(kcexc.KeycloakPostError) as nameless:
        master.create_realm({"enabled": True})
    try:
        shown = master.get_realm(name)
        oidc = realm.oidc()
        oidc.realm_name = name
        with pytest.raises(kcexc.KeycloakPostError) as login:
            oidc.token("erin", "whatever")
    finally:
        master.delete_realm(name)

    assert shown["enabled"] is False and shown["realm"] == name
    assert login.value.response_code == 403
    assert body(login.value) == {
        "error": "access_denied",
        "error_description": "Realm not enabled",
    }
    assert twice.value.response_code == 409
    assert body(twice.value) == {"errorMessage": f"Realm {name} already exists"}
    assert body(nameless.value) == {"errorMessage": "Realm name cannot be empty"}


def test_user_without_names_cannot_use_the_direct_grant(realm: FreshRealm) -> None:
    realm.admin.create_user(
        {
            "username": "bare",
            "enabled": True,
            "credentials": [{"type": "password", "value": "pw-bare-1"}],
        }
    )
    realm.passwords["bare"] = "pw-bare-1"

    with pytest.raises(kcexc.KeycloakPostError) as error:
        realm.access_token("bare")

    assert error.value.response_code == 400
    assert body(error.value) == {
        "error": "invalid_grant",
        "error_description": "Account is not fully set up",
    }


def test_user_rules_username_length_case_and_defaults(realm: FreshRealm) -> None:
    with pytest.raises(kcexc.KeycloakPostError) as short:
        realm.admin.create_user({"username": "ed", "email": "ed@example.com"})
    found = realm.admin.get_users({"username": "ERIN", "exact": True})
    erin = realm.admin.get_user(realm.user_id("erin"))

    assert short.value.response_code == 400
    assert body(short.value) == {
        "field": "username",
        "errorMessage": "error-invalid-length",
        "params": ["username", 3, 255],
    }
    assert [u["username"] for u in found] == ["erin"]
    assert erin["emailVerified"] is False


def test_group_names_differing_in_case_coexist(realm: FreshRealm) -> None:
    upper = realm.admin.create_group({"name": "Contractors"})
    lower = realm.admin.create_group({"name": TENANT})
    with pytest.raises(kcexc.KeycloakPostError) as twice:
        realm.admin.create_group({"name": TENANT})

    loose = realm.admin.get_groups({"search": TENANT, "exact": False})
    exact = realm.admin.get_groups({"search": TENANT, "exact": True})

    assert upper and lower and upper != lower
    assert sorted(g["name"] for g in loose) == ["Contractors", TENANT]
    assert [g["id"] for g in exact] == [lower]
    assert body(twice.value) == {
        "errorMessage": f"Top level group named '{TENANT}' already exists."
    }


def test_group_by_path_skips_empty_segments(realm: FreshRealm) -> None:
    made = realm.admin.create_group({"name": TENANT})

    found = [
        realm.admin.get_group_by_path(path)["id"]
        for path in (f"//{TENANT}", f"/{TENANT}/", TENANT)
    ]
    with pytest.raises(kcexc.KeycloakGetError) as upper:
        realm.admin.get_group_by_path("/CONTRACTORS")

    assert found == [made, made, made]
    assert upper.value.response_code == 404
    assert body(upper.value) == {"error": "Group path does not exist"}


def test_joining_an_unknown_group_is_404(realm: FreshRealm) -> None:
    with pytest.raises(kcexc.KeycloakPutError) as error:
        realm.admin.group_user_add(realm.user_id("erin"), "no-such-group")

    assert error.value.response_code == 404
    assert body(error.value) == {"error": "Group not found"}


def test_user_in_no_group_gets_no_groups_claim(realm: FreshRealm) -> None:
    realm.run_step(["erin"])

    token = realm.access_token("carol")
    checked = check_claims(realm.keycloak(), DASHBOARD, "carol", TENANT)

    assert "groups" not in token
    assert checked == claims_of(token, TENANT)
    assert not checked.in_groups and not checked.in_realm_roles


def test_token_has_account_roles_and_scopes(realm: FreshRealm) -> None:
    token = realm.access_token("erin")

    assert token["resource_access"] == {
        "account": {"roles": ["manage-account", "manage-account-links", "view-profile"]}
    }
    assert token["aud"] == "account" and token["azp"] == DASHBOARD
    assert set(token["scope"].split()) == {"openid", "email", "profile"}
    assert set(token["realm_access"]["roles"]) == {
        "offline_access",
        "uma_authorization",
        f"default-roles-{realm.name}",
    }


def test_microprofile_roles_add_up_with_the_group_claim(realm: FreshRealm) -> None:
    realm.run_step(["erin"])

    token = realm.access_token("erin", "openid microprofile-jwt")

    assert token["upn"] == "erin"
    assert token["groups"][0] == TENANT
    assert Counter[str](token["groups"])[TENANT] == 2
    assert set(token["groups"]) == set(token["realm_access"]["roles"])


def test_mapper_flags_are_completed_on_write(realm: FreshRealm) -> None:
    add_mapper(realm, MAPPER_TYPE, {"claim.name": "groups", "id.token.claim": "true"})
    mapper = the_groups_mapper(realm)
    off = {"claim.name": "groups", "access.token.claim": "false"}
    realm.admin.update_client_mapper(
        realm.dashboard, mapper["id"], {**mapper, "config": off}
    )

    assert mapper["config"] == {
        "claim.name": "groups",
        "id.token.claim": "true",
        "userinfo.token.claim": "true",
    }
    assert the_groups_mapper(realm)["config"] == off | {
        "introspection.token.claim": "false"
    }


def test_mapper_update_needs_its_id_and_may_change_type(realm: FreshRealm) -> None:
    add_mapper(realm, MAPPER_TYPE, dict(MAPPER_CONFIG))
    mapper = the_groups_mapper(realm)
    without_id = {k: v for k, v in mapper.items() if k != "id"}
    with pytest.raises(kcexc.KeycloakPutError) as error:
        realm.admin.update_client_mapper(realm.dashboard, mapper["id"], without_id)
    roles = {**mapper, "protocolMapper": "oidc-usermodel-realm-role-mapper"}
    realm.admin.update_client_mapper(realm.dashboard, mapper["id"], roles)

    assert error.value.response_code == 500
    assert body(error.value)["error"] == "unknown_error"
    changed = the_groups_mapper(realm)
    assert changed["id"] == mapper["id"]
    assert changed["protocolMapper"] == "oidc-usermodel-realm-role-mapper"


def test_example_token_needs_a_known_user(realm: FreshRealm) -> None:
    path = (
        f"admin/realms/{realm.name}/clients/{realm.dashboard}"
        "/evaluate-scopes/generate-example-access-token"
    )
    connection = realm.admin.connection

    missing = connection.raw_get(path, scope="openid")
    unknown = connection.raw_get(path, userId="no-such-user", scope="openid")
    known = connection.raw_get(path, userId=realm.user_id("erin"), scope="openid")

    assert (missing.status_code, missing.json()) == (
        404,
        {"error": "No userId provided"},
    )
    assert (unknown.status_code, unknown.json()) == (404, {"error": "No user found"})
    real = realm.access_token("erin")
    example = known.json()
    assert example["resource_access"] == real["resource_access"]
    assert example["scope"] == real["scope"]


def test_token_for_a_missing_realm_is_404(realm: FreshRealm) -> None:
    oidc = realm.oidc()
    oidc.realm_name = f"{realm.name}-missing"

    with pytest.raises(kcexc.KeycloakError) as error:
        oidc.token("erin", realm.passwords["erin"])

    assert error.value.response_code == 404
    assert body(error.value) == {"error": "Realm does not exist"}


def test_client_and_member_shapes(realm: FreshRealm) -> None:
    realm.run_step(["erin"])

    client = realm.admin.get_client(realm.dashboard)
    members = realm.admin.get_group_members(realm.group(f"/{TENANT}")["id"])

    assert client["frontchannelLogout"] is False
    assert client["publicClient"] is False and client["secret"] == realm.secret
    assert [m["username"] for m in members] == ["erin"]
    assert "access" not in members[0]
    assert payload(realm.oidc().token("erin", realm.passwords["erin"])["id_token"])[
        "groups"
    ] == [TENANT]


def test_token_endpoint_errors(realm: FreshRealm) -> None:
    oidc = realm.oidc()
    with pytest.raises(kcexc.KeycloakPostError) as bad_password:
        oidc.token("erin", "wrong")
    oidc.client_secret_key = "wrong"
    with pytest.raises(kcexc.KeycloakAuthenticationError) as bad_secret:
        oidc.token("erin", realm.passwords["erin"])
    oidc.client_secret_key = realm.secret
    with pytest.raises(kcexc.KeycloakAuthenticationError) as no_account:
        oidc.token(grant_type="client_credentials")

    assert bad_password.value.response_code == 400
    assert body(bad_password.value) == {
        "error": "invalid_grant",
        "error_description": "Invalid user credentials",
    }
    assert body(bad_secret.value)["error"] == "unauthorized_client"
    assert body(no_account.value) == {
        "error": "unauthorized_client",
        "error_description": "Client not enabled to retrieve service account",
    }
