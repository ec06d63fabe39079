"""Offboarding through the CLI against the sandbox: the state it leaves."""

from __future__ import annotations

import base64
import json
from typing import Any

import gitlab
import pytest

from tenantctl.sandbox.core import Fault
from tests.conftest import PLAYBOOKS, Site, tenantctl

CONTRACTORS = str(PLAYBOOKS / "contractors.yml")
STEPS = ["token", "dashboard", "labels", "runner", "pipeline", "keycloak", "group"]
TOKEN_PATH = "tenantctl/tenants/contractors/token"
RUNNER_PATH = "tenantctl/tenants/contractors/runner"
GROUP_FILE = ".gitlab-ci/groups/contractors.yml"


def onboard() -> None:
    result = tenantctl("onboard", "--playbook", CONTRACTORS, "--yes")
    assert result.code == 0, result.err


def offboard_json(*extra: str, code: int = 0) -> dict[str, Any]:
    result = tenantctl("offboard", "contractors", "--yes", "--output", "json", *extra)
    assert result.code == code, result.err
    doc: dict[str, Any] = json.loads(result.out)
    return doc


def statuses(doc: dict[str, Any]) -> dict[str, str]:
    return {step["name"]: step["status"] for step in doc["steps"]}


def file_text(project: Any, path: str) -> str:
    raw = project.files.get(path, ref="main").content
    return base64.b64decode(raw).decode()


def has_file(project: Any, path: str) -> bool:
    try:
        project.files.get(path, ref="main")
    except gitlab.GitlabGetError:
        return False
    return True


def metadata(site: Site, path: str) -> dict[str, Any]:
    answer = site.vault.secrets.kv.v2.read_secret_metadata(
        path=path, mount_point="secret"
    )
    data: dict[str, Any] = answer["data"]
    return data


def add_project(site: Site, name: str) -> int:
    group = site.gl.groups.get("contractors")
    project = site.gl.projects.create({"name": name, "namespace_id": group.id})
    return int(project.id)


def test_offboard_undoes_every_step(site: Site) -> None:
    gl = site.gl
    cicd = gl.projects.get("administrators/cicd")
    dashboard = gl.projects.get("administrators/dashboard")
    ci_before = file_text(cicd, ".gitlab-ci.yml")
    allow_before = file_text(dashboard, "src/auth/groups.ts")
    onboard()
    project_id = add_project(site, "app")
    token = site.vault_read(TOKEN_PATH)
    runner = site.vault_read(RUNNER_PATH)
    assert token is not None and runner is not None
    commits_before = len(cicd.commits.list(ref_name="main", get_all=True))
    labels_before = gl.groups.get("contractors").labels.list(get_all=True)

    doc = offboard_json()

    assert [step["name"] for step in doc["steps"]] == STEPS
    assert statuses(doc)["labels"] == "unchanged"
    assert set(statuses(doc).values()) == {"changed", "unchanged"}
    group = gl.groups.get("contractors")

    # Token: revoked, unusable, and its variables gone.
    tokens = group.access_tokens.list(get_all=True)
    assert tokens and not any(t.active for t in tokens)
    as_tenant = gitlab.Gitlab(
        site.env["GITLAB_URL"], private_token=token["data"]["token"]
    )
    with pytest.raises(gitlab.GitlabAuthenticationError):
        as_tenant.http_get("/personal_access_tokens/self")
    assert "GL_TOKEN" not in {v.key for v in group.variables.list(get_all=True)}
    keys = {v.key for v in dashboard.variables.list(get_all=True)}
    assert "GITLAB_TOKEN_CONTRACTORS" not in keys
    assert {"GITLAB_TOKEN_ADMIN", "GITLAB_TOKEN_DEV"} <= keys

    # Dashboard: the allow-list as it was before onboarding, byte for byte.
    assert file_text(dashboard, "src/auth/groups.ts") == allow_before

    # Labels kept.
    names_after = {label.name for label in group.labels.list(get_all=True)}
    assert names_after == {label.name for label in labels_before}

    # Runner gone.
    assert group.runners.list(type="group_type", get_all=True) == []
    with pytest.raises(gitlab.GitlabGetError):
        gl.runners.get(runner["data"]["runner_id"])

    # Pipeline: include and file gone in one commit, the rest as before.
    assert file_text(cicd, ".gitlab-ci.yml") == ci_before
    assert not has_file(cicd, GROUP_FILE)
    commits = cicd.commits.list(ref_name="main", get_all=True)
    assert len(commits) == commits_before + 1
    assert "CI_GROUP" not in {v.key for v in group.variables.list(get_all=True)}

    # Keycloak: group and role gone, the shared mapper kept.
    kc = site.kc
    assert [g for g in kc.get_groups() if g["name"] == "contractors"] == []
    assert "contractors" not in {r["name"] for r in kc.get_realm_roles()}
    client = kc.get_client_id("dashboard")
    assert client is not None
    mappers = [m for m in kc.get_mappers_from_client(client) if m["name"] == "groups"]
    assert len(mappers) == 1

    # GitLab group archived in place.
    assert group.marked_for_deletion_on is None
    assert gl.projects.get(project_id).archived is True

    # Vault: latest versions soft-deleted, every version kept.
    for path, before in ((TOKEN_PATH, token), (RUNNER_PATH, runner)):
        assert site.vault_read(path) is None
        meta = metadata(site, path)
        version = before["metadata"]["version"]
        assert meta["current_version"] == version
        assert meta["versions"][str(version)]["deletion_time"]
        assert meta["versions"][str(version)]["destroyed"] is False


def test_second_offboard_changes_nothing(site: Site) -> None:
    onboard()
    add_project(site, "app")
    offboard_json()
    site.reset_counts()

    doc = offboard_json()

    assert set(statuses(doc).values()) == {"unchanged"}
    assert site.writes() == {}, site.requests()


def test_second_offboard_says_so(site: Site) -> None:
    onboard()
    offboard_json()

    result = tenantctl("offboard", "contractors", "--yes")

    assert result.code == 0, result.err
    assert "Nothing to change: tenant contractors is offboarded." in result.out


def test_half_done_offboard_is_finished_by_a_rerun(site: Site) -> None:
    onboard()
    cicd = site.gl.projects.get("administrators/cicd")
    commits_before = len(cicd.commits.list(ref_name="main", get_all=True))
    site.sandbox.gitlab.faults.append(
        Fault(method="DELETE", path="/runners/", status=500, times=0)
    )

    failed = offboard_json(code=1)

    assert statuses(failed)["runner"] == "failed"
    assert statuses(failed)["pipeline"] == "not run"
    assert site.vault_read(TOKEN_PATH) is None
    assert has_file(cicd, GROUP_FILE)
    site.sandbox.gitlab.faults.clear()

    doc = offboard_json()

    assert statuses(doc)["token"] == "unchanged"
    assert statuses(doc)["dashboard"] == "unchanged"
    assert statuses(doc)["runner"] == "changed"
    group = site.gl.groups.get("contractors")
    assert group.runners.list(type="group_type", get_all=True) == []
    assert not has_file(cicd, GROUP_FILE)
    assert len(cicd.commits.list(ref_name="main", get_all=True)) == commits_before + 1
    assert site.vault_read(RUNNER_PATH) is None
    assert set(statuses(offboard_json()).values()) == {"unchanged"}


def test_dry_run_plans_and_writes_nothing(site: Site) -> None:
    onboard()
    site.reset_counts()

    doc = offboard_json("--dry-run")

    assert doc["dry_run"] is True
    assert site.writes() == {}, site.requests()
    planned = {
        (c["action"], c["kind"]) for step in doc["steps"] for c in step["changes"]
    }
    assert ("delete", "access token") in planned
    assert ("delete", "keycloak group") in planned
    assert site.vault_read(TOKEN_PATH) is not None


def test_strict_tier_is_refused_without_force(site: Site) -> None:
    site.reset_counts()

    result = tenantctl("offboard", "administrators", "--yes")

    assert result.code == 2
    assert "strict-tier" in result.err and "--force" in result.err
    assert site.writes() == {}, site.requests()
    group = site.gl.groups.get("administrators")
    assert len(group.runners.list(type="group_type", get_all=True)) == 1
    assert "GL_TOKEN" in {v.key for v in group.variables.list(get_all=True)}


def test_shared_projects_are_never_archived(site: Site) -> None:
    result = tenantctl(
        "offboard", "administrators", "--yes", "--force", "--output", "json"
    )

    assert result.code == 0, result.err
    assert site.gl.projects.get("administrators/cicd").archived is False
    assert site.gl.projects.get("administrators/dashboard").archived is False
    assert "serves every tenant" in result.err
    group = site.gl.groups.get("administrators")
    assert group.runners.list(type="group_type", get_all=True) == []


def test_delete_group_refused_on_a_wrong_name(site: Site) -> None:
    onboard()
    site.reset_counts()

    result = tenantctl(
        "offboard",
        "contractors",
        "--yes",
        "--delete-group",
        "--confirm-name",
        "contractor",
    )

    assert result.code == 2
    assert "is not 'contractors'" in result.err
    assert site.writes() == {}, site.requests()
    assert site.gl.groups.get("contractors").marked_for_deletion_on is None


def test_delete_group_without_a_terminal_needs_the_name(site: Site) -> None:
    onboard()

    result = tenantctl("offboard", "contractors", "--yes", "--delete-group")

    assert result.code == 2
    assert "--confirm-name contractors" in result.err
    assert site.gl.groups.get("contractors").marked_for_deletion_on is None


def test_delete_group_with_the_right_name(site: Site) -> None:
    onboard()

    doc = offboard_json("--delete-group", "--confirm-name", "contractors")

    assert statuses(doc)["group"] == "changed"
    assert site.gl.groups.get("contractors").marked_for_deletion_on
    again = offboard_json("--delete-group", "--confirm-name", "contractors")
    assert set(statuses(again).values()) == {"unchanged"}


def test_no_terminal_and_no_yes_is_refused(site: Site) -> None:
    onboard()

    result = tenantctl("offboard", "contractors")

    assert result.code == 2
    assert "--yes" in result.err
    assert site.vault_read(TOKEN_PATH) is not None


def test_offboard_then_onboard_is_a_fresh_tenant(site: Site) -> None:
    onboard()
    offboard_json()

    onboard()

    record = site.vault_read(TOKEN_PATH)
    assert record is not None
    group = site.gl.groups.get("contractors")
    active = [t for t in group.access_tokens.list(get_all=True) if t.active]
    assert [t.id for t in active] == [record["data"]["token_id"]]
    assert group.variables.get("GL_TOKEN").value == record["data"]["token"]
    assert len(group.runners.list(type="group_type", get_all=True)) == 1
    status = tenantctl("status", "contractors", "--playbook", CONTRACTORS)
    assert status.code == 0, status.out + status.err


def test_offboard_is_journaled(site: Site) -> None:
    onboard()

    offboard_json()

    # The sandbox's site config keeps its journal beside it.
    journal = site.config.parent / "journal.jsonl"
    entries = [json.loads(line) for line in journal.read_text().splitlines()]
    mine = [e for e in entries if e["command"] == "offboard"]
    assert {e["step"] for e in mine} >= {"token", "runner", "pipeline", "keycloak"}
    assert all("value" not in e for e in mine)


def test_vault_history_can_be_restored(site: Site) -> None:
    onboard()
    offboard_json()

    site.vault.secrets.kv.v2.undelete_secret_versions(
        path=TOKEN_PATH,
        versions=[metadata(site, TOKEN_PATH)["current_version"]],
        mount_point="secret",
    )

    restored = site.vault_read(TOKEN_PATH)
    assert restored is not None
    assert restored["data"]["tenant"] == "contractors"


def test_rotation_skips_an_offboarded_tenant(site: Site) -> None:
    onboard()
    offboarded = tenantctl("offboard", "contractors", "--yes")
    assert offboarded.code == 0, offboarded.err

    result = tenantctl("rotate-tokens", "--force", "--output", "json")

    assert result.code == 0, result.err
    assert "contractors" not in result.out
