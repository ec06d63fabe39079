"""The GitLab emulator, driven only through python-gitlab over real HTTP."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import gitlab
import pytest
import requests

from tenantctl.sandbox.core import Fault, serve
from tenantctl.sandbox.gitlab import GitLabEmulator


@pytest.fixture
def emulator() -> Iterator[tuple[GitLabEmulator, str]]:
    """A seeded emulator served on a free loopback port, and its URL."""
    emu = GitLabEmulator()
    emu.seed_platform()
    server = serve(emu)
    yield emu, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def utc_today() -> date:
    """The emulator's calendar: token dates are UTC."""
    return datetime.now(UTC).date()


def client(url: str, token: str) -> gitlab.Gitlab:
    return gitlab.Gitlab(url, private_token=token, retry_transient_errors=False)


@pytest.fixture
def gl(emulator: tuple[GitLabEmulator, str]) -> gitlab.Gitlab:
    emu, url = emulator
    return client(url, emu.admin_token)


def as_dict(answer: Any) -> dict[str, Any]:
    assert isinstance(answer, dict)
    return answer


def variable_value(project: Any, key: str) -> str:
    return str(project.variables.get(key).value)


# -- auth and users ---------------------------------------------------------


def test_admin_token_authenticates(gl: gitlab.Gitlab) -> None:
    gl.auth()

    assert gl.user is not None
    assert gl.user.username == "root"
    assert gl.user.is_admin is True


def test_unknown_token_is_401(emulator: tuple[GitLabEmulator, str]) -> None:
    _, url = emulator

    with pytest.raises(gitlab.GitlabAuthenticationError) as err:
        client(url, "glpat-nope").auth()

    assert err.value.response_code == 401


def test_read_api_token_cannot_write(emulator: tuple[GitLabEmulator, str]) -> None:
    emu, url = emulator
    token = emu.create_token_for_user("alice", ["read_api"])
    alice = client(url, token)

    group = alice.groups.get("administrators")
    with pytest.raises(gitlab.GitlabCreateError) as err:
        group.labels.create({"name": "x", "color": "#FFF"})

    assert err.value.response_code == 403
    assert "insufficient_scope" in err.value.error_message


def test_users_lookup_by_username(gl: gitlab.Gitlab) -> None:
    found = gl.users.list(username="alice")

    assert [u.username for u in found] == ["alice"]
    assert gl.users.get(found[0].id).name == "Alice"


def test_personal_access_token_self(gl: gitlab.Gitlab) -> None:
    me = gl.personal_access_tokens.get("self")

    assert "create_runner" in me.scopes
    assert me.active is True
    assert me.last_used_at is not None


# -- groups and members ------------------------------------------------------


def test_create_subgroup_and_get_by_encoded_path(gl: gitlab.Gitlab) -> None:
    parent = gl.groups.get("administrators")

    gl.groups.create({"name": "Infra", "path": "infra", "parent_id": parent.id})
    sub = gl.groups.get("administrators/infra")

    assert sub.full_path == "administrators/infra"
    assert sub.parent_id == parent.id
    assert sub.web_url.endswith("/groups/administrators/infra")


def test_group_path_unique_case_insensitively(gl: gitlab.Gitlab) -> None:
    gl.groups.create({"name": "Team A", "path": "team-a"})

    with pytest.raises(gitlab.GitlabCreateError) as err:
        gl.groups.create({"name": "Team A2", "path": "Team-A"})

    assert err.value.response_code == 400
    assert "has already been taken" in err.value.error_message


def test_group_path_rules_and_visibility(gl: gitlab.Gitlab) -> None:
    with pytest.raises(gitlab.GitlabCreateError):
        gl.groups.create({"name": "bad", "path": "-bad"})
    parent = gl.groups.get("developers")

    with pytest.raises(gitlab.GitlabCreateError) as err:
        gl.groups.create(
            {
                "name": "pub",
                "path": "pub",
                "parent_id": parent.id,
                "visibility": "public",
            }
        )

    assert "not allowed since the parent group" in err.value.error_message


def test_delete_marks_group_and_keeps_path(gl: gitlab.Gitlab) -> None:
    group = gl.groups.create({"name": "contractors", "path": "contractors"})

    group.delete()

    assert gl.groups.get("contractors").marked_for_deletion_on is not None
    with pytest.raises(gitlab.GitlabCreateError):
        gl.groups.create({"name": "contractors", "path": "contractors"})


def test_members_add_duplicate_update_remove(gl: gitlab.Gitlab) -> None:
    group = gl.groups.get("developers")
    erin = gl.users.list(username="erin")[0]

    group.members.create({"user_id": erin.id, "access_level": 30})
    with pytest.raises(gitlab.GitlabCreateError) as err:
        group.members.create({"user_id": erin.id, "access_level": 30})
    member = group.members.get(erin.id)
    member.access_level = 40
    member.save()

    assert err.value.response_code == 409
    assert group.members.get(erin.id).access_level == 40
    group.members.delete(erin.id)
    assert erin.id not in [m.id for m in group.members.list(get_all=True)]


def test_groups_list_pagination_follows_link(gl: gitlab.Gitlab) -> None:
    for number in range(25):
        gl.groups.create({"name": f"g{number:02d}", "path": f"g{number:02d}"})

    first = gl.groups.list(per_page=10, get_all=False)
    every = gl.groups.list(get_all=True, per_page=10)
    iterated = list(gl.groups.list(iterator=True, per_page=10))

    assert len(first) == 10
    assert len(every) == len(iterated) == 27


def test_pagination_headers(emulator: tuple[GitLabEmulator, str]) -> None:
    emu, url = emulator
    answer = requests.get(
        f"{url}/api/v4/groups/administrators/labels",
        params={"per_page": 7, "page": 2},
        headers={"PRIVATE-TOKEN": emu.admin_token},
        timeout=5,
    )

    assert answer.headers["X-Total"] == "30"
    assert answer.headers["X-Total-Pages"] == "5"
    assert answer.headers["X-Next-Page"] == "3"
    assert answer.headers["X-Prev-Page"] == "1"
    assert "administrators/labels?" in answer.links["next"]["url"]


# -- projects, files and commits ----------------------------------------------


def test_project_file_and_branch(gl: gitlab.Gitlab) -> None:
    project = gl.projects.get("administrators/cicd")

    ci = project.files.get(".gitlab-ci.yml", ref="main")
    branch = project.branches.get("main")

    text = base64.b64decode(ci.content).decode()
    assert "$CI_GROUP == null        # the default tenant" in text
    assert ci.last_commit_id == branch.commit["id"]
    assert len(ci.content_sha256) == 64
    assert project.default_branch == "main"


def test_commit_is_atomic_and_recorded(gl: gitlab.Gitlab) -> None:
    project = gl.projects.get("administrators/cicd")
    before = project.commits.list(ref_name="main", get_all=True)

    with pytest.raises(gitlab.GitlabCreateError) as err:
        project.commits.create(
            {
                "branch": "main",
                "commit_message": "two actions",
                "actions": [
                    {"action": "create", "file_path": "new.txt", "content": "x"},
                    {"action": "create", "file_path": ".gitlab-ci.yml", "content": "y"},
                ],
            }
        )
    project.commits.create(
        {
            "branch": "main",
            "commit_message": "Add contractors",
            "actions": [
                {
                    "action": "create",
                    "file_path": ".gitlab-ci/groups/contractors.yml",
                    "content": "# contractors\n",
                }
            ],
        }
    )
    after = project.commits.list(ref_name="main", get_all=True)

    assert err.value.error_message == "A file with this name already exists"
    with pytest.raises(gitlab.GitlabGetError):
        project.files.get("new.txt", ref="main")
    assert len(after) == len(before) + 1
    assert after[0].title == "Add contractors"
    assert len(after[0].id) == 40


def test_commit_rejects_stale_missing_and_identical(gl: gitlab.Gitlab) -> None:
    project = gl.projects.get("administrators/dashboard")
    path = "src/auth/groups.ts"
    current = base64.b64decode(project.files.get(path, ref="main").content).decode()

    def commit(action: dict[str, Any]) -> str:
        with pytest.raises(gitlab.GitlabCreateError) as err:
            project.commits.create(
                {"branch": "main", "commit_message": "m", "actions": [action]}
            )
        return str(err.value.error_message)

    stale = commit(
        {
            "action": "update",
            "file_path": path,
            "content": "x",
            "last_commit_id": "0" * 40,
        }
    )
    missing = commit({"action": "delete", "file_path": "nope.ts"})
    identical = commit({"action": "update", "file_path": path, "content": current})

    assert stale.startswith("You are attempting to update a file that has changed")
    assert missing == "A file with this name doesn't exist"
    assert identical


def test_archive_and_unarchive(gl: gitlab.Gitlab) -> None:
    project = gl.projects.get("administrators/dashboard")

    project.archive()
    archived = gl.projects.get(project.id).archived
    project.unarchive()

    assert archived is True
    assert gl.projects.get(project.id).archived is False


# -- lint -------------------------------------------------------------------


def test_lint_seeded_pipeline_is_valid(gl: gitlab.Gitlab) -> None:
    project = gl.projects.get("administrators/cicd")
    content = base64.b64decode(project.files.get(".gitlab-ci.yml", ref="main").content)

    result = project.ci_lint.create({"content": content.decode()})

    assert result.valid is True, result.errors
    assert "resource_group: issue-$ISSUE_IID" in result.merged_yaml


def test_lint_checks_only_includes_whose_rules_match(gl: gitlab.Gitlab) -> None:
    project = gl.projects.get("administrators/cicd")
    content = """
include:
  - local: '.gitlab-ci/groups/contractors.yml'
    rules:
      - if: $CI_GROUP == "contractors"
job:
  script: [echo]
"""
    skipped = project.ci_lint.create({"content": content})
    missing = project.ci_lint.create(
        {"content": content.replace('"contractors"', '"administrators"')}
    )

    assert skipped.valid is True
    assert missing.valid is False
    assert missing.errors == [
        "Local file `.gitlab-ci/groups/contractors.yml` does not exist!"
    ]


def test_lint_reports_bad_yaml_and_scriptless_job(gl: gitlab.Gitlab) -> None:
    project = gl.projects.get("administrators/cicd")

    bad = project.ci_lint.create({"content": "a: [b"})
    scriptless = project.ci_lint.create({"content": "build:\n  stage: build\n"})

    assert bad.valid is False and bad.errors
    assert scriptless.errors == [
        "jobs:build config should implement a script: or a trigger: keyword"
    ]


# -- variables ------------------------------------------------------------------


def test_variables_rules(gl: gitlab.Gitlab) -> None:
    group = gl.groups.get("developers")

    errors = {}
    for key, value, masked in (
        ("bad-key", "x", False),
        ("SHORT", "abc", True),
        ("GL_TOKEN", "glpat-abcdefghij", False),
    ):
        with pytest.raises(gitlab.GitlabCreateError) as err:
            group.variables.create({"key": key, "value": value, "masked": masked})
        errors[key] = err.value.error_message

    assert "key" in str(errors["bad-key"])
    assert "is invalid" in str(errors["SHORT"])
    assert "(GL_TOKEN) has already been taken" in str(errors["GL_TOKEN"])


def test_masked_and_hidden_value_never_returned(gl: gitlab.Gitlab) -> None:
    project = gl.projects.get("administrators/dashboard")

    project.variables.create(
        {
            "key": "GITLAB_TOKEN_CONTRACTORS",
            "value": "glpat-abcdefghij0123456789",
            "masked_and_hidden": True,
        }
    )
    stored = project.variables.get("GITLAB_TOKEN_CONTRACTORS")

    assert stored.value is None
    assert stored.hidden is True and stored.masked is True


def test_seeded_dashboard_variables_are_working_tokens(
    emulator: tuple[GitLabEmulator, str], gl: gitlab.Gitlab
) -> None:
    _, url = emulator
    dashboard = gl.projects.get("administrators/dashboard")
    dev = client(url, variable_value(dashboard, "GITLAB_TOKEN_DEV"))

    assert dev.groups.get("developers").full_path == "developers"
    with pytest.raises(gitlab.GitlabGetError) as err:
        dev.groups.get("administrators")
    assert err.value.response_code == 404


# -- runners --------------------------------------------------------------


def test_create_group_runner_and_filter(gl: gitlab.Gitlab) -> None:
    gl.auth()
    group = gl.groups.create({"name": "contractors", "path": "contractors"})

    assert gl.user is not None
    created = gl.user.runners.create(
        {
            "runner_type": "group_type",
            "group_id": group.id,
            "tag_list": ["contractors"],
            "run_untagged": False,
            "locked": True,
            "access_level": "ref_protected",
            "description": "contractors runner",
        }
    )
    listed = group.runners.list(get_all=True)
    own = group.runners.list(type="group_type", tag_list="contractors")
    detail = gl.runners.get(created.id)

    assert created.token.startswith("glrt-")
    assert len(listed) == 2  # the instance runner is listed too
    assert [r.id for r in own] == [created.id]
    assert detail.access_level == "ref_protected"
    assert detail.groups[0]["id"] == group.id
    assert detail.status == "never_contacted"


def test_runner_status_and_reset_token(
    emulator: tuple[GitLabEmulator, str], gl: gitlab.Gitlab
) -> None:
    emu, _ = emulator
    runner = gl.groups.get("administrators").runners.list(type="group_type")[0]

    emu.touch_runner(runner.id, 3 * 3600)
    offline = gl.runners.get(runner.id).status
    answer = as_dict(gl.http_post(f"/runners/{runner.id}/reset_authentication_token"))

    assert offline == "offline"
    assert str(answer["token"]).startswith("glrt-")


def test_legacy_registration_is_gone(emulator: tuple[GitLabEmulator, str]) -> None:
    _, url = emulator

    answer = requests.post(f"{url}/api/v4/runners", data={"token": "x"}, timeout=5)

    assert answer.status_code == 410


# -- group access tokens --------------------------------------------------------


def test_group_token_create_defaults_and_bot(gl: gitlab.Gitlab) -> None:
    group = gl.groups.get("developers")

    token = group.access_tokens.create({"name": "ci", "scopes": ["read_api"]})
    bot = gl.users.get(token.user_id)
    member = group.members.get(token.user_id)

    assert token.token.startswith("glpat-")
    assert token.access_level == 40
    assert token.expires_at == (utc_today() + timedelta(days=365)).isoformat()
    assert bot.username.startswith(f"group_{group.id}_bot_")
    assert member.access_level == 40


def test_group_token_expiry_limits(gl: gitlab.Gitlab) -> None:
    group = gl.groups.get("developers")
    far = (utc_today() + timedelta(days=400)).isoformat()
    past = (utc_today() - timedelta(days=1)).isoformat()

    for expires in (far, past):
        with pytest.raises(gitlab.GitlabCreateError) as err:
            group.access_tokens.create(
                {"name": "x", "scopes": ["api"], "expires_at": expires}
            )
        assert err.value.response_code == 400


def test_rotate_revokes_old_and_gives_new_id(
    emulator: tuple[GitLabEmulator, str], gl: gitlab.Gitlab
) -> None:
    _, url = emulator
    group = gl.groups.get("administrators")
    old = group.access_tokens.create({"name": "rot", "scopes": ["api"]})

    old_token = old.token
    group.access_tokens.get(old.id).rotate()
    tokens = {t.id: t for t in group.access_tokens.list(get_all=True)}
    newest = max(tokens)
    with pytest.raises(gitlab.GitlabAuthenticationError):
        client(url, old_token).auth()
    with pytest.raises(gitlab.GitlabHttpError) as again:
        gl.http_post(f"/groups/{group.id}/access_tokens/{old.id}/rotate")

    assert newest != old.id
    assert tokens[old.id].revoked is True
    assert tokens[newest].expires_at == (utc_today() + timedelta(days=7)).isoformat()
    assert again.value.response_code == 400


def test_revoked_token_used_to_rotate_revokes_chain(
    emulator: tuple[GitLabEmulator, str], gl: gitlab.Gitlab
) -> None:
    _, url = emulator
    group = gl.groups.get("administrators")
    first = group.access_tokens.create({"name": "chain", "scopes": ["api"]})
    rotated = as_dict(
        gl.http_post(f"/groups/{group.id}/access_tokens/{first.id}/rotate")
    )

    with pytest.raises(gitlab.GitlabAuthenticationError):
        client(url, first.token).http_post(
            f"/groups/{group.id}/access_tokens/{rotated['id']}/rotate"
        )

    assert group.access_tokens.get(rotated["id"]).revoked is True


def test_group_token_scope_and_reach(
    emulator: tuple[GitLabEmulator, str], gl: gitlab.Gitlab
) -> None:
    _, url = emulator
    group = gl.groups.get("developers")
    created = group.access_tokens.create(
        {"name": "dev", "scopes": ["api"], "access_level": 30}
    )
    bot = client(url, created.token)

    with pytest.raises(gitlab.GitlabGetError) as hidden:
        bot.projects.get("administrators/cicd")
    with pytest.raises(gitlab.GitlabCreateError) as write:
        bot.groups.get("developers").variables.create({"key": "K", "value": "v"})
    with pytest.raises(gitlab.GitlabCreateError) as mint:
        bot.groups.get("developers").access_tokens.create(
            {"name": "x", "scopes": ["api"]}
        )

    assert hidden.value.response_code == 404
    assert write.value.response_code == 403
    assert mint.value.response_code == 400


def test_token_expires_at_midnight_utc(
    emulator: tuple[GitLabEmulator, str], gl: gitlab.Gitlab
) -> None:
    emu, url = emulator
    group = gl.groups.get("developers")
    tomorrow = (utc_today() + timedelta(days=1)).isoformat()
    created = group.access_tokens.create(
        {"name": "short", "scopes": ["read_api"], "expires_at": tomorrow}
    )

    emu.clock.advance(2 * 86400)

    with pytest.raises(gitlab.GitlabAuthenticationError):
        client(url, created.token).auth()
    assert group.access_tokens.get(created.id).active is False


# -- labels ---------------------------------------------------------------------


def test_labels_inherited_and_conflicts(gl: gitlab.Gitlab) -> None:
    parent = gl.groups.get("administrators")
    sub = gl.groups.create({"name": "infra", "path": "infra", "parent_id": parent.id})

    with_parent = sub.labels.list(get_all=True)
    own = sub.labels.list(get_all=True, include_ancestor_groups=False)
    with pytest.raises(gitlab.GitlabCreateError) as dup:
        sub.labels.create({"name": "type::bug", "color": "#000000"})
    with pytest.raises(gitlab.GitlabDeleteError) as inherited:
        sub.labels.delete("type::bug")

    assert len(with_parent) == 30
    assert own == []
    assert dup.value.response_code == 409
    assert inherited.value.response_code == 404


def test_label_colors_titles_and_encoded_names(gl: gitlab.Gitlab) -> None:
    group = gl.groups.get("developers")

    named = group.labels.create({"name": "Bug", "color": "red"})
    short = group.labels.create({"name": "bug", "color": "#abc"})
    with pytest.raises(gitlab.GitlabCreateError) as bad:
        group.labels.create({"name": "x", "color": "reddish"})
    with pytest.raises(gitlab.GitlabCreateError) as comma:
        group.labels.create({"name": "a,b", "color": "#FFF"})
    fetched = group.labels.get("comp:Flat Export")

    assert named.color == "#FF0000"
    assert short.color == "#abc"
    assert str(bad.value.error_message) == str(
        {"color": ["must be a valid color code"]}
    )
    assert comma.value.response_code == 400
    assert fetched.description == "The flat export component"


def test_label_rename_keeps_and_delete_removes_from_issues(gl: gitlab.Gitlab) -> None:
    group = gl.groups.get("administrators")

    before = group.labels.get("type::bug", with_counts=True)
    label = group.labels.get("comp:Runner")
    label.new_name = "comp:Runners"
    label.save()
    renamed = group.issues.list(labels="comp:Runners", get_all=True)
    group.labels.delete("type::bug")
    after_delete = group.issues.list(labels="type::bug", get_all=True)

    assert before.open_issues_count == 2
    assert len(renamed) == 1
    assert after_delete == []


def test_label_counts_and_merge_requests(gl: gitlab.Gitlab) -> None:
    group = gl.groups.get("administrators")
    project = gl.projects.get("administrators/cicd")

    issue = project.issues.create({"title": "New", "labels": ["security"]})
    issue.state_event = "close"
    issue.save()
    labels = {lb.name: lb for lb in group.labels.list(with_counts=True, get_all=True)}
    mrs = group.mergerequests.list(labels="comp:Pipeline", get_all=True)

    assert labels["security"].closed_issues_count == 1
    assert labels["workflow::in review"].open_merge_requests_count == 1
    assert [mr.source_branch for mr in mrs] == ["serialise-jobs"]


def test_seed_label_drift(gl: gitlab.Gitlab) -> None:
    admins = {lb.name: lb.color for lb in gl.groups.get(1).labels.list(get_all=True)}
    devs = {lb.name: lb.color for lb in gl.groups.get(2).labels.list(get_all=True)}

    assert len(admins) == 30
    assert set(admins) - set(devs) == {"agent::approved"}
    assert set(devs) - set(admins) == {"frontend"}
    assert sum(1 for n in devs if n in admins and devs[n] != admins[n]) == 2


def test_label_every_css_color_name_and_hex_as_sent(gl: gitlab.Gitlab) -> None:
    group = gl.groups.get("developers")

    slate = group.labels.create({"name": "slate", "color": " DarkSlateGray "})
    papaya = group.labels.create({"name": "papaya", "color": "papayawhip"})
    mixed = group.labels.create({"name": "mixed", "color": "#aBc"})
    group.labels.update("mixed", {"color": "MediumSeaGreen"})
    updated = group.labels.get("mixed")

    assert slate.color == "#2F4F4F"
    assert papaya.color == "#FFEFD5"
    assert mixed.color == "#aBc"
    assert updated.color == "#3CB371"


def test_label_inherited_update_is_404_and_ancestor_title_409(
    gl: gitlab.Gitlab,
) -> None:
    parent = gl.groups.get("administrators")
    sub = gl.groups.create({"name": "infra", "path": "infra", "parent_id": parent.id})
    bug = next(lb for lb in parent.labels.list(get_all=True) if lb.name == "type::bug")

    with pytest.raises(gitlab.GitlabUpdateError) as by_name:
        sub.labels.update("type::bug", {"color": "#000000"})
    with pytest.raises(gitlab.GitlabHttpError) as by_id:
        gl.http_put(f"/groups/{sub.id}/labels/{bug.id}", post_data={"color": "#000"})
    with pytest.raises(gitlab.GitlabCreateError) as dup:
        sub.labels.create({"name": "type::bug", "color": "#FF0000"})
    own = sub.labels.list(get_all=True, include_ancestor_groups=False)

    assert by_name.value.response_code == 404
    assert by_id.value.response_code == 404
    assert dup.value.response_code == 409
    assert own == []
    assert parent.labels.get("type::bug").color == "#FF0000"


# -- rate limits, faults and state -----------------------------------------------


def test_rate_limit_429_with_retry_after(emulator: tuple[GitLabEmulator, str]) -> None:
    emu, url = emulator
    requests.post(
        f"{url}/_sandbox/gitlab/rate_limit", json={"per_minute": 3}, timeout=5
    )
    headers = {"PRIVATE-TOKEN": emu.admin_token}

    answers = [
        requests.get(f"{url}/api/v4/user", headers=headers, timeout=5) for _ in range(4)
    ]

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[0].headers["RateLimit-Remaining"] == "2"
    assert 1 <= int(answers[3].headers["Retry-After"]) <= 60


def test_date_header_follows_the_clock(emulator: tuple[GitLabEmulator, str]) -> None:
    emu, url = emulator
    headers = {"PRIVATE-TOKEN": emu.admin_token}
    emu.clock.advance(30 * 86400)

    answer = requests.get(f"{url}/api/v4/user", headers=headers, timeout=5)

    dated = parsedate_to_datetime(answer.headers["Date"])
    assert abs(dated.timestamp() - emu.clock.now()) < 5
    assert len(answer.headers["Date"].split(",")) == 2  # one header, not two


def test_state_round_trips(emulator: tuple[GitLabEmulator, str]) -> None:
    emu, _ = emulator

    copy = GitLabEmulator()
    copy.load_state(emu.dump_state())

    assert copy.dump_state() == emu.dump_state()
    assert copy.admin_token == emu.admin_token


def test_a_delay_alone_slows_a_request_but_lets_it_through(
    emulator: tuple[GitLabEmulator, str], gl: gitlab.Gitlab
) -> None:
    """A slow server, not a failing one: the request is answered, late."""
    emu, _ = emulator
    emu.faults.append(Fault(method="POST", path=r"/access_tokens\?", delay=0.3))
    group = gl.groups.get("developers")

    started = time.monotonic()
    made = group.access_tokens.create({"name": "slow", "scopes": ["read_api"]})
    waited = time.monotonic() - started

    assert waited >= 0.3
    assert emu.faults[0].hits == 1
    assert group.access_tokens.get(made.id).name == "slow"
