"""Bad playbooks, configs and credentials: exit 2, a message naming the fault."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import PLAYBOOKS, Site, tenantctl


def write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


def test_playbook_error_names_file_line_and_field(site: Site, tmp_path: Path) -> None:
    book = write(
        tmp_path / "bad.yml",
        "tenant: contractors\ntier: gold\nmembers:\n  - username: erin\n"
        "    access: boss\n",
    )

    result = tenantctl("onboard", "--playbook", book, "--yes")

    assert result.code == 2
    assert book in result.err
    assert "line 2, tier" in result.err
    assert "line 5, members.0.access" in result.err
    assert "Traceback" not in result.err
    assert result.out == ""


def test_playbook_unknown_field_is_named(site: Site, tmp_path: Path) -> None:
    book = write(
        tmp_path / "bad.yml", "tenant: contractors\ntier: standard\nlabel: x\n"
    )

    result = tenantctl("onboard", "--playbook", book, "--yes")

    assert result.code == 2
    assert "line 3, label: unknown field" in result.err


@pytest.mark.parametrize(
    "tenant", ["Contractors", "-team", "team.", "a b", "team/x", "x.git"]
)
def test_bad_tenant_names_are_refused(site: Site, tmp_path: Path, tenant: str) -> None:
    book = write(tmp_path / "bad.yml", f"tenant: '{tenant}'\ntier: standard\n")

    result = tenantctl("onboard", "--playbook", book, "--yes")

    assert result.code == 2
    assert "line 1, tenant" in result.err
    assert site.requests() == {}


def test_playbook_that_is_not_yaml(site: Site, tmp_path: Path) -> None:
    book = write(tmp_path / "bad.yml", "tenant: [unclosed\n")

    result = tenantctl("onboard", "--playbook", book, "--yes")

    assert result.code == 2
    assert f"{book}:" in result.err
    assert "not valid YAML" in result.err


def test_missing_playbook(site: Site) -> None:
    result = tenantctl("onboard", "--playbook", "nope.yml", "--yes")

    assert result.code == 2
    assert "playbook not found: nope.yml" in result.err


def test_config_error_names_key_and_file(site: Site, tmp_path: Path) -> None:
    text = site.config.read_text().replace("  realm: platform\n", "")
    config = write(tmp_path / "site.yml", text.replace("http://", "htp://", 1))

    result = tenantctl(
        "--config", config, "onboard", "-p", str(PLAYBOOKS / "contractors.yml"), "-y"
    )

    assert result.code == 2
    assert config in result.err
    assert "gitlab.url: must start with http:// or https://" in result.err
    assert "keycloak.realm: Field required" in result.err


def test_config_from_environment_variable(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TENANTCTL_CONFIG", str(tmp_path / "absent.yaml"))

    result = tenantctl("onboard", "-p", str(PLAYBOOKS / "contractors.yml"), "-y")

    assert result.code == 2
    assert "site config not found" in result.err
    assert "absent.yaml" in result.err


def test_missing_credentials_are_named(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VAULT_TOKEN")
    monkeypatch.delenv("KEYCLOAK_CLIENT_SECRET")

    result = tenantctl("onboard", "-p", str(PLAYBOOKS / "contractors.yml"), "-y")

    assert result.code == 2
    assert "VAULT_TOKEN" in result.err
    assert "KEYCLOAK_CLIENT_SECRET" in result.err
    assert "GITLAB_TOKEN" not in result.err.split("hint")[0]


def test_vault_data_prefix_is_refused(site: Site, tmp_path: Path) -> None:
    text = site.config.read_text().replace(
        "prefix: tenantctl", "prefix: data/tenantctl"
    )
    config = write(tmp_path / "site.yml", text)

    result = tenantctl(
        "--config", config, "onboard", "-p", str(PLAYBOOKS / "contractors.yml"), "-y"
    )

    assert result.code == 2
    assert "vault.prefix" in result.err
    assert "leave out 'data/'" in result.err


def test_no_terminal_and_no_yes_asks_for_yes(site: Site) -> None:
    result = tenantctl("onboard", "-p", str(PLAYBOOKS / "contractors.yml"))

    assert result.code == 2
    assert "--yes" in result.err


def test_tenant_whose_variable_clashes_is_refused_before_writing(
    site: Site, tmp_path: Path
) -> None:
    first = write(tmp_path / "a.yml", "tenant: team-a\ntier: standard\n")
    second = write(tmp_path / "b.yml", "tenant: team.a\ntier: standard\n")
    assert tenantctl("onboard", "-p", first, "--yes").code == 0
    site.reset_counts()

    result = tenantctl("onboard", "-p", second, "--yes")

    assert result.code == 2
    assert "GITLAB_TOKEN_TEAM_A" in result.err
    assert "team-a" in result.err
    assert site.writes() == {}


def test_missing_label_source_is_refused_before_writing(
    site: Site, tmp_path: Path
) -> None:
    book = write(
        tmp_path / "b.yml", "tenant: team-x\ntier: standard\nlabels:\n  from: nosuch\n"
    )

    result = tenantctl("onboard", "-p", book, "--yes")

    assert result.code == 2
    assert "labels.from names group 'nosuch', which does not exist" in result.err
    assert site.writes() == {}


def test_missing_parent_is_refused_before_writing(site: Site, tmp_path: Path) -> None:
    book = write(
        tmp_path / "b.yml", "tenant: team-x\ntier: standard\nparent: no/such\n"
    )

    result = tenantctl("onboard", "-p", book, "--dry-run")

    assert result.code == 2
    assert "parent names group 'no/such'" in result.err
    assert site.writes() == {}


def test_runner_config_not_written_by_us_is_not_overwritten(
    site: Site, tmp_path: Path
) -> None:
    existing = tmp_path / "config.toml"
    existing.write_text('concurrent = 4\n[[runners]]\n  name = "other"\n')

    result = tenantctl(
        "onboard",
        "-p",
        str(PLAYBOOKS / "contractors.yml"),
        "--yes",
        "--runner-config",
        str(existing),
    )

    assert result.code == 2
    assert "was not written by tenantctl" in result.err
    assert existing.read_text() == 'concurrent = 4\n[[runners]]\n  name = "other"\n'
    assert site.writes() == {}


def test_refused_wizard_run_leaves_no_playbook(site: Site, tmp_path: Path) -> None:
    first = write(tmp_path / "a.yml", "tenant: team-a\ntier: standard\n")
    assert tenantctl("onboard", "-p", first, "--yes").code == 0

    result = tenantctl(
        "onboard",
        "team.a",
        "--no-input",
        "--yes",
        "--tier",
        "standard",
        "--labels-from",
        "administrators",
        "--member",
        "erin",
    )

    assert result.code == 2
    assert "GITLAB_TOKEN_TEAM_A" in result.err
    assert not (Path("playbooks") / "team.a.yml").exists()
    assert "Removed playbooks/team.a.yml" in result.err


def test_wrong_token_for_a_read_only_command_exits_2(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (
        tenantctl("onboard", "-p", str(PLAYBOOKS / "contractors.yml"), "-y").code == 0
    )
    monkeypatch.setenv("GITLAB_TOKEN", "glpat-not-a-real-token-at-all")

    result = tenantctl(
        "status", "contractors", "-p", str(PLAYBOOKS / "contractors.yml")
    )

    assert result.code == 2
    assert "401" in result.err
