"""Every failure an operator meets gets a message that says what to do.

Each case injects the failure into the sandbox (or points tenantctl at a
server that fails that way) and asserts the exit code, the message, and
that no traceback is shown.
"""

from __future__ import annotations

import http.server
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
import yaml

from tenantctl.sandbox.core import Fault
from tests.conftest import PLAYBOOKS, Site, tenantctl

CONTRACTORS = str(PLAYBOOKS / "contractors.yml")


def onboard(*extra: str) -> Any:
    return tenantctl(*extra, "onboard", "-p", CONTRACTORS, "--yes")


def with_config(site: Site, **changes: dict[str, Any]) -> str:
    """A copy of the sandbox's site config with sections changed."""
    data = yaml.safe_load(site.config.read_text())
    for section, values in changes.items():
        data[section].update(values)
    path = site.workdir / "changed.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def assert_clean_failure(result: Any, code: int = 1) -> None:
    assert result.code == code, (result.out, result.err)
    assert "Traceback" not in result.err


def test_wrong_gitlab_token(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITLAB_TOKEN", "glpat-not-a-real-token-at-all")

    result = onboard()

    assert_clean_failure(result, code=2)
    assert "GitLab: checking GITLAB_TOKEN failed: 401 Unauthorized" in result.err
    assert "GITLAB_TOKEN is wrong, expired or revoked" in result.err
    assert site.writes() == {}


def test_expired_gitlab_token(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    site.sandbox.clock.advance(400 * 86400)

    result = onboard()

    assert_clean_failure(result, code=2)
    assert "401" in result.err
    assert "GITLAB_TOKEN is wrong, expired or revoked" in result.err


def test_wrong_keycloak_secret(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEYCLOAK_CLIENT_SECRET", "not-the-secret")

    result = onboard()

    assert_clean_failure(result, code=2)
    assert "Keycloak: logging in to realm master failed: 401" in result.err
    assert "KEYCLOAK_CLIENT_SECRET is wrong, expired or revoked" in result.err
    assert site.writes() == {}


def test_wrong_vault_token(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAULT_TOKEN", "hvs.wrongwrongwrongwrongwrong")

    result = onboard()

    assert_clean_failure(result, code=2)
    assert "Vault: checking VAULT_TOKEN failed: 403" in result.err
    assert "VAULT_TOKEN is invalid or its policy does not allow" in result.err
    assert site.writes() == {}


def test_gitlab_token_without_api_scope(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = site.sandbox.gitlab.create_token_for_user("root", ["read_api"])
    monkeypatch.setenv("GITLAB_TOKEN", token)

    result = onboard()

    assert_clean_failure(result, code=2)
    assert "GITLAB_TOKEN lacks the 'api' scope (it has: read_api)" in result.err
    assert site.writes() == {}


def test_insufficient_scope_answer_names_the_scope(site: Site) -> None:
    site.sandbox.gitlab.faults.append(
        Fault(
            method="POST",
            path=r"/api/v4/groups\?",
            status=403,
            body={
                "error": "insufficient_scope",
                "error_description": "The request requires higher privileges.",
                "scope": "api",
            },
        )
    )

    result = onboard()

    assert_clean_failure(result)
    assert "creating group contractors failed: 403 the token lacks the 'api' scope" in (
        result.err
    )


def test_missing_pipeline_project(site: Site) -> None:
    config = with_config(site, pipeline={"project": "administrators/nope"})

    result = onboard("--config", config)

    assert_clean_failure(result)
    assert "project administrators/nope not found" in result.err
    assert "pipeline.project" in result.err


def test_missing_dashboard_client(site: Site) -> None:
    config = with_config(site, keycloak={"dashboard_client_id": "dashbored"})

    result = onboard("--config", config)

    assert_clean_failure(result)
    assert "client 'dashbored' not found in realm platform" in result.err
    assert "keycloak.dashboard_client_id" in result.err
    assert site.writes() == {}


def test_conflicting_group(site: Site) -> None:
    site.sandbox.gitlab.faults.append(
        Fault(
            method="POST",
            path=r"/api/v4/groups\?",
            status=409,
            body={
                "message": 'Failed to save group {:path=>["has already been taken"]}'
            },
        )
    )

    result = onboard()

    assert_clean_failure(result)
    assert "creating group contractors failed: 409" in result.err
    assert "has already been taken" in result.err


def test_gitlab_refuses_a_value_with_its_own_message(site: Site) -> None:
    site.sandbox.gitlab.faults.append(
        Fault(
            method="POST",
            path=r"/variables\?",
            status=400,
            body={"message": {"value": ["is invalid"]}},
        )
    )

    result = onboard()

    assert_clean_failure(result)
    assert "creating variable CI_GROUP of group" in result.err
    assert "400 {'value': ['is invalid']}" in result.err


def test_rate_limit_is_waited_out_and_shown(site: Site) -> None:
    site.sandbox.gitlab.faults.append(
        Fault(method="POST", path="/labels", status=429, retry_after=1, times=2)
    )

    result = onboard()

    assert result.code == 0, result.err
    assert "GitLab is rate limiting: waiting 1 s, then retrying" in result.err
    labels = site.gl.groups.get("contractors").labels.list(get_all=True)
    assert len(labels) == 30


def test_rate_limit_asking_too_long_a_wait_fails_fast(site: Site) -> None:
    site.sandbox.gitlab.faults.append(
        Fault(method="POST", path="/labels", status=429, retry_after=3600, times=0)
    )

    result = onboard()

    assert_clean_failure(result)
    assert "rate limited: the server asks to wait 3600 s" in result.err
    assert "Step 'labels' failed" in result.out


def test_server_errors_on_reads_are_retried_then_fail(site: Site) -> None:
    config = with_config(site, gitlab={"max_retries": 2})
    site.sandbox.gitlab.faults.append(
        Fault(method="GET", path="/runners", status=503, times=0)
    )

    result = onboard("--config", config)

    assert_clean_failure(result)
    assert "listing runners of group" in result.err
    assert "503" in result.err
    assert "the server failed; the server may have made the change" in result.err
    assert site.sandbox.gitlab.counts["GET /api/v4/groups/<group_id>/runners"] == 3


def test_server_errors_on_reads_that_pass_are_retried(site: Site) -> None:
    site.sandbox.gitlab.faults.append(
        Fault(method="GET", path="/runners", status=502, times=2)
    )

    result = onboard()

    assert result.code == 0, result.err
    runners = site.gl.groups.get("contractors").runners.list(type="group_type")
    assert len(runners) == 1


def test_a_post_whose_answer_is_lost_is_not_sent_again(site: Site) -> None:
    site.sandbox.gitlab.faults.append(
        Fault(method="POST", path="/user/runners", drop_after=True)
    )

    failed = onboard()

    assert_clean_failure(failed)
    assert "the connection to" in failed.err
    assert "broke before the answer" in failed.err
    assert "run the same command again" in failed.err
    assert site.sandbox.gitlab.counts["POST /api/v4/user/runners"] == 1

    finished = onboard()

    assert finished.code == 0, finished.err
    group = site.gl.groups.get("contractors")
    assert len(group.runners.list(type="group_type", get_all=True)) == 1


def test_timeout(site: Site) -> None:
    config = with_config(site, gitlab={"timeout": 0.5})
    site.sandbox.gitlab.faults.append(
        Fault(method="GET", path="/personal_access_tokens/self", delay=2, times=0)
    )

    result = onboard("--config", config)

    assert_clean_failure(result)
    assert "did not answer in time" in result.err
    assert "gitlab.timeout" in result.err


def test_connection_refused(site: Site) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = with_config(site, vault={"url": f"http://127.0.0.1:{port}"})

    result = onboard("--config", config)

    assert_clean_failure(result)
    assert f"Vault: cannot reach http://127.0.0.1:{port} (connection refused)" in (
        result.err
    )
    assert "vault.url" in result.err


def test_unknown_host(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    real = socket.getaddrinfo

    def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "gitlab.example.invalid":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    config = with_config(site, gitlab={"url": "http://gitlab.example.invalid"})

    result = onboard("--config", config)

    assert_clean_failure(result)
    assert "cannot reach http://gitlab.example.invalid (name or service not known)" in (
        result.err
    )


@pytest.fixture
def https_server(tmp_path: Path) -> Iterator[str]:
    """An HTTPS server on loopback whose certificate no one trusts."""
    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), http.server.BaseHTTPRequestHandler
    )
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_tls_verification_failure(site: Site, https_server: str) -> None:
    config = with_config(site, gitlab={"url": https_server})

    result = onboard("--config", config)

    assert_clean_failure(result)
    assert f"GitLab: TLS verification failed for {https_server}" in result.err
    assert "gitlab.ssl_verify" in result.err


def test_debug_shows_the_traceback(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITLAB_TOKEN", "glpat-not-a-real-token-at-all")

    result = onboard("--debug")

    assert result.code == 2
    assert "Traceback" in result.err


def test_failure_midway_names_done_steps_and_a_rerun_finishes(site: Site) -> None:
    config = with_config(site, gitlab={"max_retries": 0})
    site.sandbox.gitlab.faults.append(
        Fault(method="POST", path="/user/runners", status=500, times=0)
    )

    failed = onboard("--config", config)

    assert_clean_failure(failed)
    assert (
        "Step 'runner' failed; completed before it: group, keycloak, pipeline"
        in failed.out
    )
    site.sandbox.gitlab.faults.clear()

    finished = tenantctl("--config", config, "onboard", "-p", CONTRACTORS, "-y")

    assert finished.code == 0, finished.err
    groups = site.gl.groups.list(search="contractors", get_all=True)
    assert len(groups) == 1
    group = site.gl.groups.get("contractors")
    assert len(group.runners.list(type="group_type", get_all=True)) == 1
    tokens = [t for t in group.access_tokens.list(get_all=True) if t.active]
    assert len(tokens) == 1


def test_wrong_keycloak_password(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KEYCLOAK_CLIENT_SECRET")
    monkeypatch.setenv("KEYCLOAK_USERNAME", "admin")
    monkeypatch.setenv("KEYCLOAK_PASSWORD", "not-the-password")
    data = yaml.safe_load(site.config.read_text())
    data["keycloak"]["admin_client_id"] = "admin-cli"
    config = site.workdir / "password.yaml"
    config.write_text(yaml.safe_dump(data))

    result = onboard("--config", str(config))

    assert_clean_failure(result, code=2)
    assert "Keycloak: logging in to realm master failed" in result.err
    assert "KEYCLOAK_USERNAME/KEYCLOAK_PASSWORD is wrong, expired or revoked" in (
        result.err
    )
