"""``tenantctl rotate-tokens`` against the sandbox: the state it leaves,
after clean runs, failed runs and killed runs alike."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gitlab
import hvac
import pytest
import requests

from tenantctl.sandbox.core import Fault
from tests.conftest import PLAYBOOKS, Site, tenantctl
from tests.test_sandbox_cli import cli, exports

CONTRACTORS = str(PLAYBOOKS / "contractors.yml")
TOKEN_PATH = "tenantctl/tenants/{}/token"
DAY = 86400


def onboard() -> None:
    result = tenantctl("onboard", "--playbook", CONTRACTORS, "--yes")
    assert result.code == 0, result.err


def rotate(*args: str) -> Any:
    return tenantctl("rotate-tokens", *args)


def rotate_json(*args: str, code: int = 0) -> dict[str, Any]:
    result = rotate("--output", "json", *args)
    assert result.code == code, result.err
    doc: dict[str, Any] = json.loads(result.out)
    return doc


def outcomes(doc: dict[str, Any]) -> dict[str, str]:
    return {t["tenant"]: t["outcome"] for t in doc["tenants"]}


# -- what the platform holds --------------------------------------------------


@dataclass
class Platform:
    """The official clients of a sandbox, wherever it runs."""

    gitlab_url: str
    gitlab_token: str
    vault: hvac.Client

    @property
    def gl(self) -> gitlab.Gitlab:
        return gitlab.Gitlab(self.gitlab_url, private_token=self.gitlab_token)

    def history(self, tenant: str) -> list[dict[str, Any]]:
        """Every version of the tenant's token record, oldest first."""
        kv = self.vault.secrets.kv.v2
        path = TOKEN_PATH.format(tenant)
        meta = kv.read_secret_metadata(path=path, mount_point="secret")["data"]
        return [
            kv.read_secret_version(
                path=path,
                version=int(n),
                mount_point="secret",
                raise_on_deleted_version=True,
            )["data"]["data"]
            for n in sorted(meta["versions"], key=int)
        ]

    def custom_metadata(self, tenant: str) -> dict[str, str]:
        meta = self.vault.secrets.kv.v2.read_secret_metadata(
            path=TOKEN_PATH.format(tenant), mount_point="secret"
        )
        return dict(meta["data"]["custom_metadata"] or {})

    def token_info(self, token: str) -> dict[str, Any] | None:
        client = gitlab.Gitlab(self.gitlab_url, private_token=token)
        try:
            info = client.http_get("/personal_access_tokens/self")
        except gitlab.GitlabAuthenticationError:
            return None
        assert isinstance(info, dict)
        return info


def platform_of(site: Site) -> Platform:
    return Platform(site.env["GITLAB_URL"], site.env["GITLAB_TOKEN"], site.vault)


def assert_converged(p: Platform, tenant: str = "contractors") -> dict[str, Any]:
    """Every consumer holds Vault's token, it works, and it is the one
    active token of its name in the group; Vault's latest record."""
    record = p.history(tenant)[-1]
    token = record["token"]
    group = p.gl.groups.get(tenant)
    dashboard = p.gl.projects.get("administrators/dashboard")
    assert group.variables.get("GL_TOKEN").value == token
    assert dashboard.variables.get(f"GITLAB_TOKEN_{tenant.upper()}").value == token
    info = p.token_info(token)
    assert info is not None and info["active"] is True
    assert info["id"] == record["token_id"]
    active = [
        t.id
        for t in group.access_tokens.list(get_all=True)
        if t.name == "tenantctl" and t.active
    ]
    assert active == [record["token_id"]]
    return record


def seed_tenant(site: Site, name: str) -> None:
    """A tenant as step 7 of onboarding leaves it, made directly (fast)."""
    gl = site.gl
    group = gl.groups.create({"name": name, "path": name, "visibility": "private"})
    today = site.sandbox.gitlab.today()
    made = group.access_tokens.create(
        {
            "name": "tenantctl",
            "scopes": ["read_api"],
            "access_level": 30,
            "expires_at": (today + dt.timedelta(days=90)).isoformat(),
        }
    )
    site.vault.secrets.kv.v2.create_or_update_secret(
        path=TOKEN_PATH.format(name),
        mount_point="secret",
        secret={
            "token": made.token,
            "token_id": made.id,
            "name": "tenantctl",
            "scopes": ["read_api"],
            "access_level": 30,
            "created_at": made.created_at,
            "expires_at": made.expires_at,
            "group_id": group.id,
            "tenant": name,
        },
    )
    fields = {"value": made.token, "masked": True, "raw": True}
    group.variables.create({"key": "GL_TOKEN", "protected": True, **fields})
    gl.projects.get("administrators/dashboard").variables.create(
        {"key": f"GITLAB_TOKEN_{name.upper()}", "protected": False, **fields}
    )


# -- clean runs -----------------------------------------------------------------


def test_nothing_is_due_right_after_onboarding(site: Site) -> None:
    onboard()
    site.reset_counts()

    doc = rotate_json()

    assert outcomes(doc) == {"contractors": "unchanged"}
    assert site.writes() == {}, site.requests()
    assert len(platform_of(site).history("contractors")) == 1


def test_dry_run_lists_what_is_due_and_writes_nothing(site: Site) -> None:
    onboard()
    site.sandbox.clock.advance(80 * DAY)
    site.reset_counts()

    doc = rotate_json("--dry-run")

    assert doc["dry_run"] is True
    (tenant,) = doc["tenants"]
    assert tenant["outcome"] == "due"
    assert tenant["reasons"] == [f"expires {tenant['expires_at']}, within 14d"]
    assert site.writes() == {}, site.requests()
    assert_converged(platform_of(site))


def test_clock_91_days_on_rotates_and_a_second_run_does_nothing(site: Site) -> None:
    onboard()
    p = platform_of(site)
    before = p.history("contractors")[-1]
    site.sandbox.clock.advance(91 * DAY)

    doc = rotate_json()

    assert outcomes(doc) == {"contractors": "recovered"}
    after = assert_converged(p)
    assert after["token_id"] != before["token_id"]
    assert after["reason"] == f"recovered: expired on {before['expires_at']}"
    old = p.gl.groups.get("contractors").access_tokens.get(before["token_id"])
    assert old.revoked is True
    gitlab_today = site.sandbox.gitlab.today()
    assert after["expires_at"] == (gitlab_today + dt.timedelta(days=90)).isoformat()
    assert p.token_info(before["token"]) is None

    site.reset_counts()
    again = rotate_json()

    assert outcomes(again) == {"contractors": "unchanged"}
    assert site.writes() == {}, site.requests()


def test_older_than_rotates_a_working_token_with_a_new_id(site: Site) -> None:
    onboard()
    p = platform_of(site)
    before = p.history("contractors")[-1]
    site.sandbox.clock.advance(31 * DAY)

    doc = rotate_json("--older-than", "30d", "--expiring-within", "1d")

    (tenant,) = doc["tenants"]
    assert tenant["outcome"] == "rotated"
    assert tenant["reasons"] == ["older than 30d"]
    after = assert_converged(p)
    assert after["previous_token_id"] == before["token_id"]
    assert after["reason"] == "rotated: older than 30d"
    assert p.custom_metadata("contractors")["previous_token_id"] == str(
        before["token_id"]
    )
    assert p.token_info(before["token"]) is None
    assert before["token"] not in json.dumps(doc)


def test_group_selects_tenants_and_unknown_ones_fail(site: Site) -> None:
    onboard()
    seed_tenant(site, "partners")

    result = rotate("--group", "partners", "--group", "nobody", "--force")

    assert result.code == 1
    assert "nobody" in result.err and "onboard it first" in result.err
    p = platform_of(site)
    assert len(p.history("partners")) == 2
    assert len(p.history("contractors")) == 1
    assert_converged(p, "partners")


def test_bad_duration_is_a_usage_error(site: Site) -> None:
    result = rotate("--older-than", "ninety days")

    assert result.code == 2
    assert "not a duration" in result.err


# -- failures at each point, then a second run -----------------------------


def test_vault_failing_after_gitlab_rotated_is_recovered(site: Site) -> None:
    onboard()
    p = platform_of(site)
    first = p.history("contractors")[-1]
    site.sandbox.vault.faults.append(
        Fault(method="POST", path="tenants/contractors/token", status=503, times=0)
    )

    failed = rotate("--force")

    assert failed.code == 1
    assert "contractors" in failed.err
    assert p.token_info(first["token"]) is None  # GitLab did rotate it
    assert p.history("contractors") == [first]
    site.sandbox.vault.faults.clear()

    doc = rotate_json()

    assert outcomes(doc) == {"contractors": "recovered"}
    record = assert_converged(p)
    history = p.history("contractors")
    assert len(history) == 2
    lost = record["previous_token_id"]
    assert lost not in (None, first["token_id"])  # the one the failed run made
    assert p.gl.groups.get("contractors").access_tokens.get(lost).revoked is True


@pytest.mark.parametrize(
    "failing",
    [
        r"/groups/\d+/variables/GL_TOKEN",
        r"/projects/.+/variables/GITLAB_TOKEN_CONTRACTORS",
    ],
)
def test_variable_failing_after_vault_written_is_repaired(
    site: Site, failing: str
) -> None:
    onboard()
    p = platform_of(site)
    site.sandbox.gitlab.faults.append(
        Fault(method="PUT", path=failing, status=403, times=0)
    )

    failed = rotate("--force")

    assert failed.code == 1
    rotated = p.history("contractors")[-1]
    assert p.token_info(rotated["token"]) is not None
    site.sandbox.gitlab.faults.clear()

    doc = rotate_json()

    (tenant,) = doc["tenants"]
    assert tenant["outcome"] == "repaired"
    assert tenant["repaired"]
    record = assert_converged(p)
    assert record == rotated  # repaired from Vault, not rotated again
    assert len(p.history("contractors")) == 2


# -- many tenants -----------------------------------------------------------------


def limit(site: Site, per_minute: int) -> None:
    """Turn GitLab's rate limit on (0: off)."""
    answer = requests.post(
        f"{site.env['GITLAB_URL']}/_sandbox/gitlab/rate_limit",
        json={"per_minute": per_minute},
        timeout=5,
    )
    answer.raise_for_status()


def test_parallel_tenants_under_the_rate_limit_never_fail(site: Site) -> None:
    names = ["north", "south", "east", "west", "up", "down"]
    for name in names:
        seed_tenant(site, name)
    per_minute = 40  # more than the run needs, less than it plus the filler
    limit(site, per_minute)
    # Near the end of a window, use up the operator token's budget: the run
    # then meets 429s at once, and the next window (seconds away) fits it.
    site.sandbox.clock.advance(60 - site.sandbox.clock.now() % 60 - 4)
    filler = site.gl
    for _ in range(per_minute):
        filler.http_get("/user")

    result = rotate("--force", "--jobs", "4", "--output", "json")

    assert result.code == 0, result.err
    assert "rate limiting" in result.err  # there were 429s, and they were obeyed
    doc = json.loads(result.out)
    assert set(outcomes(doc).values()) == {"rotated"}
    limit(site, 0)  # the checks below are not to wait for the limit
    p = platform_of(site)
    for name in names:
        assert len(p.history(name)) == 2
        assert_converged(p, name)


# -- killed runs, against a sandbox in another process ---------------------------


@dataclass
class Background:
    env: dict[str, str]
    platform: Platform

    def control(self, system: str, route: str, body: dict[str, Any]) -> Any:
        base = {"gitlab": "GITLAB_URL", "vault": "VAULT_ADDR"}[system]
        answer = requests.post(
            f"{self.env[base]}/_sandbox/{route}", json=body, timeout=5
        )
        answer.raise_for_status()
        return answer.json()

    def faults(self, system: str) -> list[dict[str, Any]]:
        base = {"gitlab": "GITLAB_URL", "vault": "VAULT_ADDR"}[system]
        found: list[dict[str, Any]] = requests.get(
            f"{self.env[base]}/_sandbox/faults", timeout=5
        ).json()
        return found

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "tenantctl.cli.main", *args],
            env={**os.environ, **self.env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return cli(*args, env=self.env)


@pytest.fixture
def background(tmp_path: Path) -> Iterator[Background]:
    folder = tmp_path / "sandbox-state"
    env = exports(cli("sandbox", "up", "--state-dir", str(folder)).stdout)
    vault = hvac.Client(url=env["VAULT_ADDR"], token=env["VAULT_TOKEN"])
    try:
        yield Background(env, Platform(env["GITLAB_URL"], env["GITLAB_TOKEN"], vault))
    finally:
        cli("sandbox", "down", "--state-dir", str(folder))


def kill_when_hit(bg: Background, system: str, proc: subprocess.Popen[str]) -> None:
    """Kill the run (SIGKILL) once it is inside the injected delay."""
    deadline = time.monotonic() + 60
    while not any(f["hits"] for f in bg.faults(system)):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    proc.kill()
    proc.wait()


KILL_POINTS: dict[str, tuple[str, dict[str, Any]]] = {
    # GitLab rotated the token, but the run died before hearing the answer.
    "after GitLab rotated": (
        "gitlab",
        {"method": "POST", "path": "/rotate", "delay": 1.0},
    ),
    # GitLab answered; the run died before Vault stored the new token.
    "before Vault was written": (
        "vault",
        {
            "method": "POST",
            "path": "tenants/contractors/token",
            "delay": 3.0,
            "status": 503,
        },
    ),
    # Vault has the new token; the run died before GL_TOKEN was updated.
    "before the variables were updated": (
        "gitlab",
        {"method": "PUT", "path": "/variables/GL_TOKEN", "delay": 3.0, "status": 503},
    ),
}


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_killed_run_is_finished_by_the_next(background: Background, point: str) -> None:
    bg = background
    onboarded = bg.run("onboard", "-p", CONTRACTORS, "--yes")
    assert onboarded.returncode == 0, onboarded.stderr
    p = bg.platform
    first = p.history("contractors")[-1]
    system, fault = KILL_POINTS[point]
    bg.control(system, "faults", fault)

    kill_when_hit(bg, system, bg.start("rotate-tokens", "--force"))
    time.sleep(float(fault["delay"]) + 0.5)  # let the server finish that request
    if point == "after GitLab rotated":
        deadline = time.monotonic() + 30
        while p.token_info(first["token"]) is not None:  # rotation landing
            assert time.monotonic() < deadline
            time.sleep(0.1)
    again = bg.run("rotate-tokens", "--output", "json")

    assert again.returncode == 0, again.stderr
    assert "taking over the lock" in again.stderr  # the killed run held it
    assert_converged(p)
    assert p.token_info(first["token"]) is None
    history = p.history("contractors")
    assert history[0] == first
    assert len(history) == 2
    assert json.loads(again.stdout)["failed"] == []


def test_two_processes_on_one_tenant_take_turns(background: Background) -> None:
    bg = background
    assert bg.run("onboard", "-p", CONTRACTORS, "--yes").returncode == 0
    bg.control("gitlab", "faults", {"method": "POST", "path": "/rotate", "delay": 1.5})

    first = bg.start("rotate-tokens", "--force")
    kill_deadline = time.monotonic() + 30
    while not any(f["hits"] for f in bg.faults("gitlab")):
        assert time.monotonic() < kill_deadline
        time.sleep(0.05)
    second = bg.start("rotate-tokens", "--force", "--lock-timeout", "60")
    _, err1 = first.communicate(timeout=60)
    _, err2 = second.communicate(timeout=60)

    assert first.returncode == 0, err1
    assert second.returncode == 0, err2
    assert "is locked by rotate-tokens" in err2
    p = bg.platform
    record = assert_converged(p)
    history = p.history("contractors")
    assert len(history) == 3
    # One after the other: each rotation replaced the token before it.
    assert history[1]["previous_token_id"] == history[0]["token_id"]
    assert history[2]["previous_token_id"] == history[1]["token_id"]
    assert record == history[2]
