"""Auditing against the sandbox: each seeded drift found with its severity."""

from __future__ import annotations

import base64
import datetime as dt
import json
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import pytest

from tenantctl.textedit import allowlist
from tests.conftest import PLAYBOOKS, Site, tenantctl

CONTRACTORS = str(PLAYBOOKS / "contractors.yml")
GROUP_FILE = ".gitlab-ci/groups/contractors.yml"


@pytest.fixture
def tenant(site: Site) -> Site:
    """The sandbox with the repository's playbooks and contractors onboarded."""
    shutil.copytree(PLAYBOOKS, site.workdir / "playbooks")
    result = tenantctl("onboard", "--playbook", CONTRACTORS, "--yes")
    assert result.code == 0, result.err
    return site


def audit_json(*extra: str, code: int | None = None) -> dict[str, Any]:
    result = tenantctl("audit", "--output", "json", *extra)
    if code is not None:
        assert result.code == code, result.err
    doc: dict[str, Any] = json.loads(result.out)
    return doc


def findings(doc: dict[str, Any], tenant: str) -> list[tuple[str, str, str]]:
    audits = [doc["shared"], *doc["tenants"]]
    one = next(a for a in audits if a["tenant"] == tenant)
    return [(f["check"], f["severity"], f["message"]) for f in one["findings"]]


def has(doc: dict[str, Any], tenant: str, check: str, severity: str, text: str) -> bool:
    return any(
        c == check and s == severity and text in m for c, s, m in findings(doc, tenant)
    )


def runner_id(site: Site, group: str) -> int:
    runners = site.gl.groups.get(group).runners.list(type="group_type", get_all=True)
    return int(runners[0].id)


def commit(site: Site, project: str, action: str, path: str, content: str = "") -> None:
    site.gl.projects.get(project).commits.create(
        {
            "branch": "main",
            "commit_message": "seeded drift",
            "actions": [{"action": action, "file_path": path, "content": content}],
        }
    )


def file_text(site: Site, project: str, path: str) -> str:
    raw = site.gl.projects.get(project).files.get(path, ref="main").content
    return base64.b64decode(raw).decode()


# -- the seeded drifts ---------------------------------------------------------


def api_token(site: Site) -> None:
    expires = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    site.gl.groups.get("contractors").access_tokens.create(
        {"name": "wide", "scopes": ["api"], "access_level": 30, "expires_at": expires}
    )


def untagged_runner(site: Site) -> None:
    runner = site.gl.runners.get(runner_id(site, "contractors"))
    runner.run_untagged = True
    runner.save()


def borrowed_tag(site: Site) -> None:
    runner = site.gl.runners.get(runner_id(site, "developers"))
    runner.tag_list = [*runner.tag_list, "contractors"]
    runner.save()


def silent_runner(site: Site) -> None:
    site.sandbox.gitlab.touch_runner(runner_id(site, "contractors"), 8 * 86400)


def include_without_file(site: Site) -> None:
    commit(site, "administrators/cicd", "delete", GROUP_FILE)


def stray_entry(site: Site) -> None:
    path = "src/auth/groups.ts"
    text = file_text(site, "administrators/dashboard", path)
    edited = allowlist.add_entry(text, "js", "allowed", "ghosts")
    commit(site, "administrators/dashboard", "update", path, edited)


def unmasked_gl_token(site: Site) -> None:
    site.gl.groups.get("contractors").variables.update("GL_TOKEN", {"masked": False})


def mismatched_value(site: Site) -> None:
    site.gl.projects.get("administrators/dashboard").variables.update(
        "GITLAB_TOKEN_CONTRACTORS", {"value": "stale-value-123"}
    )


def dashboard_mappers(site: Site) -> tuple[Any, str, list[dict[str, Any]]]:
    kc = site.kc
    client = kc.get_client_id("dashboard")
    assert client is not None
    named = [m for m in kc.get_mappers_from_client(client) if m["name"] == "groups"]
    return kc, client, named


def mapper_removed(site: Site) -> None:
    kc, client, named = dashboard_mappers(site)
    for mapper in named:
        kc.remove_client_mapper(client, mapper["id"])


def full_path_mapper(site: Site) -> None:
    kc, client, named = dashboard_mappers(site)
    mapper = named[0]
    mapper["config"]["full.path"] = "true"
    kc.update_client_mapper(client, mapper["id"], mapper)


Seed = Callable[[Site], None]
# seed, tenant, check, severity, words of the message, repaired by onboard
DRIFTS: list[tuple[Seed, str, str, str, str, bool]] = [
    (api_token, "contractors", "token", "high", "has scope api", False),
    (untagged_runner, "contractors", "runner", "high", "run_untagged true", True),
    (borrowed_tag, "contractors", "runner tag", "high", "of developers carries", False),
    (silent_runner, "contractors", "runner", "medium", "not seen for 8 days", False),
    (include_without_file, "contractors", "pipeline", "high", "without its file", True),
    (stray_entry, "ghosts", "dashboard", "medium", "names no tenant", False),
    (unmasked_gl_token, "contractors", "token variables", "high", "not masked", True),
    (mismatched_value, "contractors", "token variables", "high", "differs", True),
    (
        mapper_removed,
        "(shared)",
        "keycloak mapper",
        "medium",
        "no 'groups' mapper",
        True,
    ),
    (
        mapper_removed,
        "contractors",
        "keycloak claim",
        "medium",
        "only realm_access",
        True,
    ),
    (full_path_mapper, "(shared)", "keycloak mapper", "medium", "full.path=true", True),
    (full_path_mapper, "contractors", "keycloak claim", "medium", "/contractors", True),
]


def test_clean_tenant_has_no_high_finding(tenant: Site) -> None:
    doc = audit_json("--group", "contractors", code=0)

    assert doc["failed"] is False
    assert [a["tenant"] for a in doc["tenants"]] == ["contractors"]
    severities = {s for _, s, _ in findings(doc, "contractors")}
    assert "high" not in severities and "medium" not in severities
    assert findings(doc, "(shared)") == []


def test_tenants_are_playbooks_vault_records_and_allow_list(tenant: Site) -> None:
    (tenant.workdir / "playbooks" / "administrators.yml").unlink()

    doc = audit_json()

    sources = {a["tenant"]: a["sources"] for a in doc["tenants"]}
    assert sources["contractors"] == ["playbook", "vault", "allow-list"]
    assert sources["administrators"] == ["allow-list"]
    assert sources["developers"] == ["playbook", "allow-list"]
    tiers = {a["tenant"]: a["tier"] for a in doc["tenants"]}
    assert tiers["administrators"].startswith("strict (inferred")


@pytest.mark.parametrize(
    ("seed", "who", "check", "severity", "words", "repaired"),
    DRIFTS,
    ids=[f"{d[0].__name__}-{d[2]}" for d in DRIFTS],
)
def test_seeded_drift_is_found(
    tenant: Site,
    seed: Seed,
    who: str,
    check: str,
    severity: str,
    words: str,
    repaired: bool,
) -> None:
    seed(tenant)

    doc = audit_json("--fail-on", "medium", code=3)

    assert has(doc, who, check, severity, words), findings(doc, who)
    assert doc["failed"] is True
    if not repaired:
        return
    fixed = tenantctl("onboard", "--playbook", CONTRACTORS, "--yes")
    assert fixed.code == 0, fixed.err
    again = audit_json()
    assert not has(again, who, check, severity, words), findings(again, who)


def test_exit_code_follows_fail_on(tenant: Site) -> None:
    silent_runner(tenant)

    high = tenantctl("audit", "--group", "contractors")
    medium = tenantctl("audit", "--group", "contractors", "--fail-on", "medium")

    assert high.code == 0, high.out
    assert medium.code == 3
    assert "not seen for 8 days" in medium.out


def test_text_output_groups_findings_by_tenant(tenant: Site) -> None:
    untagged_runner(tenant)

    result = tenantctl("audit")

    assert result.code == 3
    out = result.out
    assert out.index("contractors (standard)") < out.index("run_untagged true")
    assert out.index("run_untagged true") < out.index("developers (standard)")
    assert "auditing contractors" in result.err


def test_junit_output_parses(tenant: Site) -> None:
    untagged_runner(tenant)

    result = tenantctl("audit", "--output", "junit")

    assert result.code == 3
    root = ET.fromstring(result.out)
    assert root.tag == "testsuites"
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert {"(shared)", "contractors", "developers", "administrators"} <= set(suites)
    cases = {c.get("name"): c for c in suites["contractors"].iter("testcase")}
    assert len(cases) == int(suites["contractors"].get("tests") or 0) == 11
    failure = cases["runner"].find("failure")
    assert failure is not None and failure.get("type") == "high"
    assert "run_untagged" in (failure.get("message") or "")
    assert cases["labels"].find("failure") is None
    assert suites["contractors"].get("failures") == "1"


def test_token_values_never_printed(tenant: Site) -> None:
    mismatched_value(tenant)
    record = tenant.vault_read("tenantctl/tenants/contractors/token")
    assert record is not None

    outputs = [tenantctl("audit", "-o", fmt) for fmt in ("text", "json", "junit")]

    for result in outputs:
        assert record["data"]["token"] not in result.out + result.err
        assert "stale-value-123" not in result.out + result.err


def test_audit_writes_nothing(tenant: Site) -> None:
    tenant.reset_counts()

    audit_json()

    writes = tenant.writes()
    # CI lint is a POST that changes nothing.
    assert set(writes) <= {"gitlab writes"}, tenant.requests()
    assert writes.get("gitlab writes", 0) == 1


def test_offboarded_tenant_is_no_longer_audited(tenant: Site) -> None:
    (tenant.workdir / "playbooks" / "contractors.yml").unlink()
    off = tenantctl("offboard", "contractors", "--yes")
    assert off.code == 0, off.err

    doc = audit_json()

    assert "contractors" not in {a["tenant"] for a in doc["tenants"]}
    assert findings(doc, "(shared)") == []


def test_a_group_that_is_no_tenant_is_refused(site: Site) -> None:
    result = tenantctl("audit", "--group", "nosuch")

    assert result.code == 2
    assert "nosuch: not a tenant" in result.err
    assert "Traceback" not in result.err
