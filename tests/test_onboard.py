"""Onboarding through the CLI against the sandbox: the state it leaves."""

from __future__ import annotations

import base64
import difflib
import json
from pathlib import Path
from typing import Any

import gitlab
import pytest
from keycloak import KeycloakAdmin

from tests.conftest import PLAYBOOKS, Site, tenantctl

CONTRACTORS = str(PLAYBOOKS / "contractors.yml")
STEPS = ["group", "keycloak", "pipeline", "runner", "labels", "dashboard", "token"]


def onboard(*extra: str) -> Any:
    return tenantctl("onboard", "--playbook", CONTRACTORS, "--yes", *extra)


def onboard_json(*extra: str) -> dict[str, Any]:
    result = onboard("--output", "json", *extra)
    assert result.code == 0, result.err
    doc: dict[str, Any] = json.loads(result.out)
    return doc


def statuses(doc: dict[str, Any]) -> dict[str, str]:
    return {step["name"]: step["status"] for step in doc["steps"]}


def dashboard_client(kc: KeycloakAdmin) -> str:
    uuid = kc.get_client_id("dashboard")
    assert uuid is not None
    return uuid


def file_text(project: Any, path: str) -> str:
    raw = project.files.get(path, ref="main").content
    return base64.b64decode(raw).decode()


def test_first_run_builds_the_whole_tenant(site: Site) -> None:
    doc = onboard_json()

    assert doc["tenant"] == "contractors"
    assert doc["dry_run"] is False
    assert [step["name"] for step in doc["steps"]] == STEPS
    assert set(statuses(doc).values()) == {"changed"}

    gl = site.gl
    group = gl.groups.get("contractors")
    members = {m.username: m.access_level for m in group.members.list(get_all=True)}
    assert members["erin"] == 40
    assert members["carol"] == 30

    kc = site.kc
    kc_group = kc.get_group_by_path("/contractors")
    names = {m["username"] for m in kc.get_group_members(kc_group["id"])}
    assert names == {"erin", "carol"}
    client = dashboard_client(kc)
    mappers = [m for m in kc.get_mappers_from_client(client) if m["name"] == "groups"]
    assert len(mappers) == 1
    assert mappers[0]["protocolMapper"] == "oidc-group-membership-mapper"
    assert mappers[0]["config"]["full.path"] == "false"
    assert mappers[0]["config"]["access.token.claim"] == "true"
    roles = {r["name"] for r in kc.get_group_realm_roles(kc_group["id"])}
    assert "contractors" in roles

    cicd = gl.projects.get("administrators/cicd")
    ci = file_text(cicd, ".gitlab-ci.yml")
    assert ci.count("'.gitlab-ci/groups/contractors.yml'") == 1
    assert '$CI_GROUP == "contractors"' in ci
    assert "tags:\n  - contractors" in file_text(
        cicd, ".gitlab-ci/groups/contractors.yml"
    )
    assert group.variables.get("CI_GROUP").value == "contractors"

    runners = group.runners.list(type="group_type", get_all=True)
    assert len(runners) == 1
    runner = gl.runners.get(runners[0].id)
    assert runner.tag_list == ["contractors"]
    assert runner.run_untagged is False
    assert runner.locked is False
    assert runner.access_level == "not_protected"
    runner_record = site.vault_read("tenantctl/tenants/contractors/runner")
    assert runner_record is not None
    assert runner_record["data"]["runner_id"] == runner.id
    assert runner_record["data"]["token"].startswith("glrt-")

    source = gl.groups.get("administrators").labels.list(
        get_all=True, include_ancestor_groups=False
    )
    copied = group.labels.list(get_all=True, include_ancestor_groups=False)
    assert {(label.name, label.description) for label in copied} == {
        (label.name, label.description) for label in source
    }

    dashboard = gl.projects.get("administrators/dashboard")
    assert '"contractors"' in file_text(dashboard, "src/auth/groups.ts")

    record = site.vault_read("tenantctl/tenants/contractors/token")
    assert record is not None
    token = record["data"]["token"]
    assert record["data"]["scopes"] == ["read_api"]
    assert record["data"]["expires_at"]
    assert group.variables.get("GL_TOKEN").value == token
    assert group.variables.get("GL_TOKEN").masked is True
    assert group.variables.get("GL_TOKEN").protected is True
    assert dashboard.variables.get("GITLAB_TOKEN_CONTRACTORS").value == token

    as_tenant = gitlab.Gitlab(site.env["GITLAB_URL"], private_token=token)
    info = as_tenant.http_get("/personal_access_tokens/self")
    assert isinstance(info, dict)
    assert info["active"] is True
    assert info["id"] == record["data"]["token_id"]


def test_second_run_changes_nothing(site: Site) -> None:
    onboard_json()
    cicd = site.gl.projects.get("administrators/cicd")
    commits_before = len(cicd.commits.list(ref_name="main", get_all=True))
    site.reset_counts()

    doc = onboard_json()

    assert set(statuses(doc).values()) == {"unchanged"}
    assert all(step["changes"] == [] for step in doc["steps"])
    assert site.writes() == {}, site.requests()
    assert len(cicd.commits.list(ref_name="main", get_all=True)) == commits_before
    tokens = site.gl.groups.get("contractors").access_tokens.list(get_all=True)
    assert len([t for t in tokens if t.active]) == 1


def test_second_run_says_nothing_to_change(site: Site) -> None:
    onboard()

    result = onboard()

    assert result.code == 0
    assert "Nothing to change" in result.out


def test_dry_run_writes_nothing(site: Site) -> None:
    site.reset_counts()

    doc = onboard_json("--dry-run")

    assert doc["dry_run"] is True
    assert set(statuses(doc).values()) == {"planned"}
    assert site.writes() == {}, site.requests()
    with pytest.raises(gitlab.GitlabGetError):
        site.gl.groups.get("contractors")


def test_dry_run_shows_secrets_as_stars(site: Site) -> None:
    onboard()
    record = site.vault_read("tenantctl/tenants/contractors/token")
    assert record is not None
    site.gl.projects.get("administrators/dashboard").variables.update(
        "GITLAB_TOKEN_CONTRACTORS", {"value": "stale-value-123"}
    )

    doc = onboard_json("--dry-run")

    token_step = next(s for s in doc["steps"] if s["name"] == "token")
    change = token_step["changes"][0]
    assert change["action"] == "update"
    assert change["old"] == "***"
    assert change["new"] == "***"
    assert "stale-value-123" not in json.dumps(doc)


def test_group_without_runner_is_completed(site: Site) -> None:
    site.gl.groups.create(
        {"name": "Contractors", "path": "contractors", "visibility": "private"}
    )

    onboard_json()

    groups = site.gl.groups.list(search="contractors", get_all=True)
    assert [g.full_path for g in groups] == ["contractors"]
    group = site.gl.groups.get("contractors")
    assert len(group.runners.list(type="group_type", get_all=True)) == 1


def test_runner_token_missing_from_vault_is_reset_and_stored(site: Site) -> None:
    onboard_json()
    path = "tenantctl/tenants/contractors/runner"
    old = site.vault_read(path)
    assert old is not None
    site.vault.secrets.kv.v2.delete_metadata_and_all_versions(
        path=path, mount_point="secret"
    )

    doc = onboard_json()

    assert statuses(doc)["runner"] == "changed"
    new = site.vault_read(path)
    assert new is not None
    assert new["data"]["runner_id"] == old["data"]["runner_id"]
    assert new["data"]["token"] != old["data"]["token"]
    group = site.gl.groups.get("contractors")
    assert len(group.runners.list(type="group_type", get_all=True)) == 1


def test_include_entry_without_group_file_is_completed(site: Site) -> None:
    cicd = site.gl.projects.get("administrators/cicd")
    ci = file_text(cicd, ".gitlab-ci.yml")
    entry = (
        "  - local: '.gitlab-ci/groups/contractors.yml'\n"
        "    rules:\n"
        '      - if: $CI_GROUP == "contractors"\n'
    )
    head, sep, tail = ci.partition("  - local: '.gitlab-ci/groups/developers.yml'")
    edited = head + entry + sep + tail
    cicd.commits.create(
        {
            "branch": "main",
            "commit_message": "half-done by hand",
            "actions": [
                {"action": "update", "file_path": ".gitlab-ci.yml", "content": edited}
            ],
        }
    )

    onboard_json()

    ci_after = file_text(cicd, ".gitlab-ci.yml")
    assert ci_after == edited
    assert "contractors" in file_text(cicd, ".gitlab-ci/groups/contractors.yml")


def test_pipeline_edit_is_one_commit_that_keeps_the_rest(site: Site) -> None:
    cicd = site.gl.projects.get("administrators/cicd")
    before = file_text(cicd, ".gitlab-ci.yml")
    commits_before = cicd.commits.list(ref_name="main", get_all=True)

    onboard_json()

    after = file_text(cicd, ".gitlab-ci.yml")
    commits = cicd.commits.list(ref_name="main", get_all=True)
    assert len(commits) == len(commits_before) + 1
    diff = list(difflib.unified_diff(before.splitlines(), after.splitlines(), n=0))
    removed = [line for line in diff[2:] if line.startswith("-")]
    added = [line[1:] for line in diff[2:] if line.startswith("+")]
    hunks = [line for line in diff if line.startswith("@@")]
    assert removed == []
    assert len(hunks) == 1
    assert added == [
        "  - local: '.gitlab-ci/groups/contractors.yml'",
        "    rules:",
        '      - if: $CI_GROUP == "contractors"',
    ]


def test_mapper_of_another_type_is_replaced_not_duplicated(site: Site) -> None:
    kc = site.kc
    client = dashboard_client(kc)
    for mapper in kc.get_mappers_from_client(client):
        if mapper["name"] == "groups":
            kc.remove_client_mapper(client, mapper["id"])
    kc.add_mapper_to_client(
        client,
        {
            "name": "groups",
            "protocol": "openid-connect",
            "protocolMapper": "oidc-hardcoded-claim-mapper",
            "config": {"claim.name": "groups", "claim.value": "everyone"},
        },
    )

    onboard_json()

    named = [m for m in kc.get_mappers_from_client(client) if m["name"] == "groups"]
    assert len(named) == 1
    assert named[0]["protocolMapper"] == "oidc-group-membership-mapper"


def test_token_never_appears_in_output_or_files(site: Site, tmp_path: Path) -> None:
    runner_file = tmp_path / "runner.toml"

    args = ["onboard", "-p", CONTRACTORS, "--yes", "--runner-config", str(runner_file)]
    first = tenantctl("-vv", *args)
    second = tenantctl("-vv", *args)

    assert first.code == 0 and second.code == 0
    record = site.vault_read("tenantctl/tenants/contractors/token")
    runner = site.vault_read("tenantctl/tenants/contractors/runner")
    assert record is not None and runner is not None
    secrets = [record["data"]["token"], runner["data"]["token"]]
    written = [p.read_text() for p in tmp_path.rglob("*") if p.is_file()]
    for secret in secrets:
        for text in [first.out, first.err, second.out, second.err, *written]:
            assert secret not in text
    assert "vault kv get" in runner_file.read_text()


def test_existing_tenant_keeps_its_owners_files_and_live_runner(site: Site) -> None:
    cicd = site.gl.projects.get("administrators/cicd")
    before = file_text(cicd, ".gitlab-ci/groups/administrators.yml")
    runner_id = (
        site.gl.groups.get("administrators").runners.list(type="group_type")[0].id
    )

    result = tenantctl("onboard", "-p", str(PLAYBOOKS / "administrators.yml"), "--yes")

    assert result.code == 0, result.err
    assert file_text(cicd, ".gitlab-ci/groups/administrators.yml") == before
    assert "was not written by tenantctl: left as its owners wrote it" in result.err
    assert f"runner {runner_id} is in use" in result.err
    assert site.vault_read("tenantctl/tenants/administrators/runner") is None


def test_token_whose_value_is_lost_is_planned_as_a_rotation(site: Site) -> None:
    group = site.gl.groups.get("administrators")
    seeded = [t for t in group.access_tokens.list(get_all=True) if t.active]
    assert [t.name for t in seeded] == ["tenantctl"]

    result = tenantctl(
        "onboard",
        "-p",
        str(PLAYBOOKS / "administrators.yml"),
        "--dry-run",
        "-o",
        "json",
    )

    assert result.code == 0, result.err
    token_step = next(
        s for s in json.loads(result.out)["steps"] if s["name"] == "token"
    )
    first = token_step["changes"][0]
    assert first["action"] == "update"
    assert f"#{seeded[0].id} (rotated" in first["target"]


def test_stale_tokens_are_planned_as_revocations(site: Site) -> None:
    onboard_json()
    group = site.gl.groups.get("contractors")
    extra = group.access_tokens.create(
        {
            "name": "tenantctl",
            "scopes": ["api"],
            "access_level": 40,
            "expires_at": "2027-01-30",
        }
    )
    site.vault.secrets.kv.v2.delete_metadata_and_all_versions(
        path="tenantctl/tenants/contractors/token", mount_point="secret"
    )

    doc = onboard_json()

    token_step = next(s for s in doc["steps"] if s["name"] == "token")
    actions = [(c["action"], c["target"]) for c in token_step["changes"]]
    assert ("delete", f"contractors:tenantctl #{extra.id} (stale)") in actions
    active = [t for t in group.access_tokens.list(get_all=True) if t.active]
    assert len(active) == 1
    assert active[0].scopes == ["read_api"]


def test_group_scheduled_for_deletion_is_not_reused(site: Site) -> None:
    onboard_json()
    offboarded = tenantctl(
        "offboard",
        "contractors",
        "--yes",
        "--delete-group",
        "--confirm-name",
        "contractors",
    )
    assert offboarded.code == 0, offboarded.err
    assert site.gl.groups.get("contractors").marked_for_deletion_on

    result = onboard()

    assert result.code == 1
    assert "scheduled for deletion" in result.err
    assert site.vault_read("tenantctl/tenants/contractors/token") is None
