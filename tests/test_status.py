"""``tenantctl status`` against the sandbox: verdicts, facts, and no writes."""

from __future__ import annotations

import base64
import json
import shutil
from typing import Any

import pytest

from tenantctl.sandbox.core import Fault
from tests.conftest import PLAYBOOKS, Run, Site, tenantctl

CONTRACTORS = str(PLAYBOOKS / "contractors.yml")
STEPS = ["group", "keycloak", "pipeline", "runner", "labels", "dashboard", "token"]
TOKEN_PATH = "tenantctl/tenants/contractors/token"


def onboard() -> None:
    result = tenantctl("onboard", "--playbook", CONTRACTORS, "--yes")
    assert result.code == 0, result.err


def status(*extra: str) -> Run:
    return tenantctl("status", "contractors", "--playbook", CONTRACTORS, *extra)


def status_json(code: int, *extra: str) -> dict[str, Any]:
    result = status("--output", "json", *extra)
    assert result.code == code, result.err
    doc: dict[str, Any] = json.loads(result.out)
    return doc


def rows(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {step["name"]: step for step in doc["steps"]}


def verdicts(doc: dict[str, Any]) -> dict[str, str]:
    return {name: row["status"] for name, row in rows(doc).items()}


def only_drift(site: Site, step: str, verdict: str = "different") -> dict[str, Any]:
    """Status of an onboarded tenant with drift in ``step`` alone: that row."""
    site.reset_counts()
    doc = status_json(3)
    assert site.writes() == {}, site.requests()
    assert verdicts(doc) == {s: verdict if s == step else "ok" for s in STEPS}
    return rows(doc)[step]


def token_record(site: Site) -> dict[str, Any]:
    record = site.vault_read(TOKEN_PATH)
    assert record is not None
    data: dict[str, Any] = record["data"]
    return data


# -- whole tenants -----------------------------------------------------------


def test_onboarded_tenant_is_all_ok(site: Site) -> None:
    onboard()
    site.reset_counts()

    doc = status_json(0)

    assert verdicts(doc) == dict.fromkeys(STEPS, "ok")
    assert doc["in_sync"] is True
    assert all(row["differences"] == [] for row in doc["steps"])
    assert site.writes() == {}, site.requests()
    assert set(site.requests()) <= {
        "gitlab reads",
        "keycloak reads",
        "keycloak logins",
        "vault reads",
    }
    tokens = site.gl.groups.get("contractors").access_tokens.list(get_all=True)
    assert [t.id for t in tokens if t.active] == [token_record(site)["token_id"]]


def test_onboarded_tenant_in_text(site: Site) -> None:
    onboard()

    result = status()

    assert result.code == 0
    assert "Tenant contractors is as its playbook wants." in result.out
    assert "tags: contractors, last contact: never" in result.out
    assert "as in administrators" in result.out
    assert token_record(site)["token"] not in result.out + result.err


def test_tenant_before_onboarding_is_all_missing(site: Site) -> None:
    site.reset_counts()

    doc = status_json(3)

    assert verdicts(doc) == dict.fromkeys(STEPS, "missing")
    assert doc["in_sync"] is False
    assert not any("error" in row for row in doc["steps"])
    labels = rows(doc)["labels"]["facts"]
    assert labels["differing"] == labels["missing"] == 30
    assert site.writes() == {}, site.requests()
    assert site.gl.groups.list(search="contractors", get_all=True) == []
    assert site.vault_read(TOKEN_PATH) is None


def test_missing_tenant_in_text_names_the_fix(site: Site) -> None:
    result = status()

    assert result.code == 3
    assert "group contractors: missing" in result.out
    assert "runner contractors (group runner): missing" in result.out
    assert "differs from" in result.err
    assert "tenantctl onboard contractors --dry-run" in result.err


# -- drift, each on its own row ----------------------------------------------


def test_recolored_label(site: Site) -> None:
    onboard()
    group = site.gl.groups.get("contractors")
    group.labels.update("type::bug", {"color": "#00FF00"})

    row = only_drift(site, "labels")

    assert row["differences"] == [
        {
            "action": "update",
            "kind": "label",
            "target": "type::bug",
            "old": {"color": "#00FF00"},
            "new": {"color": "#FF0000"},
        }
    ]
    assert row["facts"]["differing"] == 1
    assert group.labels.get("type::bug").color == "#00FF00"


def test_recolored_label_in_text(site: Site) -> None:
    onboard()
    site.gl.groups.get("contractors").labels.update("type::bug", {"color": "#00FF00"})

    result = status()

    assert result.code == 3
    assert "1 label differ from administrators (0 missing, 1 changed)" in result.out
    assert "label type::bug: color '#00FF00' -> '#FF0000'" in result.out


def test_runner_flag_changed(site: Site) -> None:
    onboard()
    runner_id = token_runner_id(site)
    site.gl.runners.update(runner_id, {"locked": True})

    row = only_drift(site, "runner")

    assert row["differences"][0]["old"] == {"locked": True}
    assert row["differences"][0]["new"] == {"locked": False}
    assert row["facts"]["tags"] == ["contractors"]
    assert site.gl.runners.get(runner_id).locked is True


def token_runner_id(site: Site) -> int:
    record = site.vault_read("tenantctl/tenants/contractors/runner")
    assert record is not None
    return int(record["data"]["runner_id"])


def test_token_revoked_in_gitlab(site: Site) -> None:
    onboard()
    record = token_record(site)
    group = site.gl.groups.get("contractors")
    group.access_tokens.delete(record["token_id"])

    row = only_drift(site, "token")

    assert row["facts"]["token_id"] == record["token_id"]
    assert row["facts"]["gitlab"]["revoked"] is True
    assert any("revoked in GitLab" in note for note in row["notes"])
    assert row["differences"][0]["kind"] == "access token"
    assert token_record(site) == record
    assert group.access_tokens.get(record["token_id"]).revoked is True


def test_gl_token_changed(site: Site) -> None:
    onboard()
    group = site.gl.groups.get("contractors")
    group.variables.update("GL_TOKEN", {"value": "someone-else-1234"})

    row = only_drift(site, "token")

    assert row["differences"] == [
        {
            "action": "update",
            "kind": "variable",
            "target": "contractors:GL_TOKEN",
            "old": "***",
            "new": "***",
        }
    ]
    assert group.variables.get("GL_TOKEN").value == "someone-else-1234"
    text = status()
    assert "variable contractors:GL_TOKEN: value differs" in text.out
    assert "someone-else-1234" not in text.out + text.err


def test_allow_list_entry_removed(site: Site) -> None:
    onboard()
    project = site.gl.projects.get("administrators/dashboard")
    path = "src/auth/groups.ts"
    text = base64.b64decode(project.files.get(path, ref="main").content).decode()
    without = text.replace('  "contractors",\n', "")
    assert without != text
    project.commits.create(
        {
            "branch": "main",
            "commit_message": "Drop contractors",
            "actions": [{"action": "update", "file_path": path, "content": without}],
        }
    )

    row = only_drift(site, "dashboard", "missing")

    assert row["differences"][0]["kind"] == "allow-list entry"
    assert row["differences"][0]["new"] == "contractors"
    current = project.files.get(path, ref="main").content
    assert '"contractors"' not in base64.b64decode(current).decode()


def test_mapper_full_path_flipped(site: Site) -> None:
    onboard()
    kc = site.kc
    client = kc.get_client_id("dashboard")
    assert client is not None
    mapper = next(
        m for m in kc.get_mappers_from_client(client) if m["name"] == "groups"
    )
    mapper["config"]["full.path"] = "true"
    kc.update_client_mapper(client, mapper["id"], mapper)

    row = only_drift(site, "keycloak")

    assert row["differences"] == [
        {
            "action": "update",
            "kind": "keycloak mapper",
            "target": "groups",
            "old": {"full.path": "true"},
            "new": {"full.path": "false"},
        }
    ]
    again = next(m for m in kc.get_mappers_from_client(client) if m["name"] == "groups")
    assert again["config"]["full.path"] == "true"


# -- facts -------------------------------------------------------------------


def test_json_document_shape(site: Site) -> None:
    onboard()

    doc = status_json(0)

    assert set(doc) == {"tenant", "playbook", "checked_at", "in_sync", "steps"}
    assert doc["tenant"] == "contractors"
    assert doc["playbook"] == CONTRACTORS
    assert doc["checked_at"].endswith("Z")
    assert [row["name"] for row in doc["steps"]] == STEPS
    for row in doc["steps"]:
        assert set(row) == {
            "name",
            "title",
            "status",
            "differences",
            "facts",
            "notes",
            "warnings",
        }
    token = rows(doc)["token"]["facts"]
    record = token_record(site)
    assert token["token_id"] == record["token_id"]
    assert token["expires_at"] == record["expires_at"]
    assert token["gitlab"]["active"] is True
    assert record["token"] not in json.dumps(doc)
    runner = rows(doc)["runner"]["facts"]
    assert runner["runner_id"] == token_runner_id(site)
    assert runner["contacted_at"] is None
    assert rows(doc)["labels"]["facts"] == {
        "source": "administrators",
        "differing": 0,
        "missing": 0,
        "different": 0,
    }


def test_token_age_follows_the_clock(site: Site) -> None:
    onboard()
    first = rows(status_json(0))["token"]["facts"]

    site.sandbox.clock.advance(10 * 86400 + 60)
    later = rows(status_json(0))["token"]["facts"]

    assert first["age_days"] == 0
    assert first["expires_in_days"] == 90
    assert later["age_days"] == 10
    assert later["expires_in_days"] == 80
    assert later["created_at"] == first["created_at"]


def test_runner_last_contact_follows_the_clock(site: Site) -> None:
    onboard()
    site.sandbox.gitlab.touch_runner(token_runner_id(site), 90)
    soon = rows(status_json(0))["runner"]["facts"]

    site.sandbox.clock.advance(3 * 86400)
    result = status()

    assert soon["runner_status"] == "online"
    assert 85 <= soon["contacted_seconds_ago"] < 150  # Date has 1 s steps
    assert result.code == 0
    assert "last contact: 3 d ago (offline)" in result.out


@pytest.mark.parametrize(
    ("tenant", "scopes"), [("administrators", ["api"]), ("developers", ["read_api"])]
)
def test_existing_tenant_without_vault_record(
    site: Site, tenant: str, scopes: list[str]
) -> None:
    site.reset_counts()

    result = tenantctl(
        "status", tenant, "--playbook", str(PLAYBOOKS / f"{tenant}.yml"), "-o", "json"
    )

    assert result.code == 3, result.err
    doc = json.loads(result.out)
    row = rows(doc)["token"]
    assert row["status"] == "missing"
    assert "not minted by tenantctl" in row["notes"][0]
    listed = row["facts"]["gitlab_tokens"]
    assert [(t["name"], t["scopes"], t["active"]) for t in listed] == [
        ("tenantctl", scopes, True)
    ]
    assert verdicts(doc)["group"] == verdicts(doc)["keycloak"] == "ok"
    assert site.writes() == {}, site.requests()
    assert site.vault_read(f"tenantctl/tenants/{tenant}/token") is None
    tokens = site.gl.groups.get(tenant).access_tokens.list(get_all=True)
    assert len(tokens) == 1


# -- playbook and failures ---------------------------------------------------


def test_playbook_defaults_to_the_site_playbooks_dir(site: Site) -> None:
    books = site.workdir / "books"
    books.mkdir()
    shutil.copy(CONTRACTORS, books / "contractors.yml")
    with site.config.open("a") as config:
        config.write("playbooks_dir: books\n")

    result = tenantctl("status", "contractors", "-o", "json")

    assert result.code == 3, result.err
    assert json.loads(result.out)["playbook"] == "books/contractors.yml"


def test_playbook_of_another_tenant_is_bad_input(site: Site) -> None:
    result = tenantctl("status", "developers", "--playbook", CONTRACTORS)

    assert result.code == 2
    assert "for tenant 'contractors', not 'developers'" in result.err


def test_failed_read_stops_at_its_step(site: Site) -> None:
    onboard()
    site.sandbox.vault.faults.append(
        Fault(method="GET", path="tenants/contractors/runner", status=403, times=0)
    )
    site.reset_counts()

    result = status("--output", "json")

    assert result.code == 1
    assert "Vault" in result.err
    doc = json.loads(result.out)
    assert verdicts(doc) == {
        "group": "ok",
        "keycloak": "ok",
        "pipeline": "ok",
        "runner": "error",
        "labels": "not checked",
        "dashboard": "not checked",
        "token": "not checked",
    }
    assert site.writes() == {}, site.requests()
