"""Logs and the audit journal: what they show, and that secrets stay out."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import PLAYBOOKS, Site, tenantctl

CONTRACTORS = str(PLAYBOOKS / "contractors.yml")


def journal_config(site: Site, path: Path) -> str:
    data = yaml.safe_load(site.config.read_text())
    data["journal"] = str(path)
    config = site.workdir / "journaled.yaml"
    config.write_text(yaml.safe_dump(data))
    return str(config)


def test_v_logs_each_api_call_with_status_and_time(site: Site) -> None:
    result = tenantctl("-v", "onboard", "-p", CONTRACTORS, "--yes")

    assert result.code == 0
    calls = re.findall(
        r"(GitLab|Keycloak|Vault) (GET|POST|PUT) (\S+) -> (\d+) \(\d+ ms\)", result.err
    )
    systems = {system for system, *_ in calls}
    assert systems == {"GitLab", "Keycloak", "Vault"}
    assert ("GitLab", "POST", "/api/v4/groups", "201") in calls
    assert "request body" not in result.err


def test_vv_logs_bodies_with_secrets_redacted(site: Site) -> None:
    result = tenantctl("-vv", "onboard", "-p", CONTRACTORS, "--yes")

    assert result.code == 0
    assert "response body:" in result.err
    record = site.vault_read("tenantctl/tenants/contractors/token")
    assert record is not None
    assert record["data"]["token"] not in result.err
    assert site.env["GITLAB_TOKEN"] not in result.err
    assert site.env["KEYCLOAK_CLIENT_SECRET"] not in result.err
    assert site.env["VAULT_TOKEN"] not in result.err
    assert '"token": "***"' in result.err


def test_log_file_takes_the_log(site: Site, tmp_path: Path) -> None:
    log = tmp_path / "tenantctl.log"

    result = tenantctl("-v", "--log-file", str(log), "onboard", "-p", CONTRACTORS, "-y")

    assert result.code == 0
    assert "GitLab POST /api/v4/groups -> 201" in log.read_text()
    assert "GitLab POST" not in result.err


def test_journal_records_every_applied_change(site: Site, tmp_path: Path) -> None:
    journal = tmp_path / "journal.jsonl"
    config = journal_config(site, journal)

    doc = _doc(config)

    entries = [json.loads(line) for line in journal.read_text().splitlines()]
    applied = [c for step in doc["steps"] for c in step["changes"]]
    assert len(entries) == len(applied) > 30
    assert [e["target"] for e in entries] == [c["target"] for c in applied]
    assert {e["step"] for e in entries} == {
        "group",
        "keycloak",
        "pipeline",
        "runner",
        "labels",
        "dashboard",
        "token",
    }
    first = entries[0]
    assert set(first) >= {"time", "operator", "tenant", "step", "action", "target"}
    assert first["tenant"] == "contractors"
    assert all(e["result"] == "done" for e in entries)
    record = site.vault_read("tenantctl/tenants/contractors/token")
    assert record is not None
    assert record["data"]["token"] not in journal.read_text()


def test_journal_records_a_failure(site: Site, tmp_path: Path) -> None:
    from tenantctl.sandbox.core import Fault

    journal = tmp_path / "journal.jsonl"
    config = journal_config(site, journal)
    site.sandbox.gitlab.faults.append(
        Fault(method="POST", path="/labels", status=400, body={"message": "no"})
    )

    result = tenantctl("--config", config, "onboard", "-p", CONTRACTORS, "--yes")

    assert result.code == 1
    failed = [json.loads(line) for line in journal.read_text().splitlines()][-1]
    assert failed["step"] == "labels"
    assert failed["result"] == "failed"
    assert "400" in failed["error"]


def test_dry_run_writes_no_journal(site: Site, tmp_path: Path) -> None:
    journal = tmp_path / "journal.jsonl"
    config = journal_config(site, journal)

    result = tenantctl("--config", config, "onboard", "-p", CONTRACTORS, "--dry-run")

    assert result.code == 0, result.err
    assert not journal.exists()


def _doc(config: str) -> dict[str, Any]:
    result = tenantctl(
        "--config", config, "onboard", "-p", CONTRACTORS, "-y", "-o", "json"
    )
    assert result.code == 0, result.err
    doc: dict[str, Any] = json.loads(result.out)
    return doc


@pytest.mark.parametrize("args", [["--help"], ["--version"]])
def test_help_and_version_do_not_import_the_clients(args: list[str]) -> None:
    import subprocess
    import sys

    code = (
        "import sys; from tenantctl.cli.main import main; sys.argv=['tenantctl',"
        f"{', '.join(repr(a) for a in args)}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('gitlab', 'keycloak', 'hvac', 'rich.console', "
        "'pydantic', 'requests') if m in sys.modules]\n"
        "print('HEAVY', heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout

    assert "HEAVY []" in out
